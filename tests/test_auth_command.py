"""`publisher auth CHANNEL` against the fake platforms."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from click.testing import CliRunner

from publisher.cli import main
from publisher.store.database import Store, open_workspace_store
from publisher.store.deliveries import HELD_BY_PORTAL, utcnow
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.facebook import PAGE_ID, PAGE_NAME, TOKEN, FakeFacebook, FakeToken
from .fakes.telegram import FakeTelegram
from .fakes.wordpress import FakeWordPress
from .fakes.zalo import APP_ID, APP_SECRET, ZaloFake

BOT_TOKEN = "7000000001:AAFakeTokenForTests_0123456789abcdef"


def consent(url: str) -> str:
    """The officer opens the consent address and allows the app: the callback's code."""
    answer = requests.get(url, allow_redirects=False, timeout=10)
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def workspace_with(tmp_path: Path, channel: str, settings: str) -> Path:
    root = copy_sample(tmp_path / "ws")
    path = root / "channels" / f"{channel}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("mode: outbox", "mode: live") + settings
    )
    return root


def test_telegram_credentials_are_checked(tmp_path: Path) -> None:
    with FakeTelegram(BOT_TOKEN) as fake:
        root = workspace_with(tmp_path, "telegram", f"api_base: {fake.base_url}\n")
        good = CliRunner().invoke(
            main, ["--root", str(root), "auth", "telegram"], env={"TELEGRAM_BOT_TOKEN": BOT_TOKEN}
        )
        assert good.exit_code == 0, good.output
        assert "telegram: credentials work" in good.output and "can post" in good.output
        wrong = "7000000001:AAWrongToken_abcdefghijklmnopqrstuvwx"
        bad = CliRunner().invoke(
            main, ["--root", str(root), "auth", "telegram"], env={"TELEGRAM_BOT_TOKEN": wrong}
        )
        assert bad.exit_code == 1
        assert "credentials not working" in bad.output and wrong not in bad.output


def test_zalo_consent_then_code_exchange_stores_the_tokens(tmp_path: Path) -> None:
    with ZaloFake() as fake:
        settings = f"api_base: {fake.base_url}\noauth_base: {fake.base_url}\n"
        root = workspace_with(tmp_path, "zalo", settings)
        env = {"ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET, "ZALO_REFRESH_TOKEN": ""}

        printed = CliRunner().invoke(
            main, ["--root", str(root), "auth", "zalo"], env=env, input="\n"
        )
        url = next(line for line in printed.output.splitlines() if "/v4/oa/permission?" in line)
        assert f"app_id={APP_ID}" in url and "code_challenge=" in url
        code = consent(url.strip())
        result = CliRunner().invoke(
            main, ["--root", str(root), "auth", "zalo", "--code", code], env=env
        )
        assert result.exit_code == 0, result.output
        assert "zalo: credentials work" in result.output
        assert not (root / ".publisher" / "zalo-pkce.json").exists()
        assert APP_SECRET not in result.output


def test_zalo_dead_refresh_token_leads_to_consent(tmp_path: Path) -> None:
    with ZaloFake() as fake:
        settings = f"api_base: {fake.base_url}\noauth_base: {fake.base_url}\n"
        root = workspace_with(tmp_path, "zalo", settings)
        env = {"ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET, "ZALO_REFRESH_TOKEN": ""}
        store = workspace_store(root)
        spent = "fake-zalo-refresh-spent-0000"  # already used once: Zalo refuses it
        store.tokens("zalo").put_many({"refresh_token": (spent, None)})
        store.close()

        printed = CliRunner().invoke(
            main, ["--root", str(root), "auth", "zalo"], env=env, input="\n"
        )
        lines = [line.strip() for line in printed.output.splitlines()]
        url = next((line for line in lines if "/v4/oa/permission?" in line), None)
        assert url is not None, printed.output
        assert "refresh token is invalid or already used" in printed.output
        code = consent(url)
        result = CliRunner().invoke(
            main, ["--root", str(root), "auth", "zalo", "--code", code], env=env
        )
        assert result.exit_code == 0, result.output
        again = CliRunner().invoke(main, ["--root", str(root), "auth", "zalo"], env=env)
        assert again.exit_code == 0 and "/v4/oa/permission?" not in again.output


def test_zalo_code_without_a_started_consent_is_explained(tmp_path: Path) -> None:
    with ZaloFake() as fake:
        settings = f"api_base: {fake.base_url}\noauth_base: {fake.base_url}\n"
        root = workspace_with(tmp_path, "zalo", settings)
        env = {"ZALO_APP_ID": APP_ID, "ZALO_APP_SECRET": APP_SECRET}
        result = CliRunner().invoke(
            main, ["--root", str(root), "auth", "zalo", "--code", "code-from-elsewhere"], env=env
        )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "run `publisher auth zalo` without --code first" in result.output
    assert "Traceback" not in result.output and "FileNotFoundError" not in result.output


USER_TOKEN = "EAAFakeUserToken0123456789abcdefSECRET"
OTHER_PAGE_TOKEN = "EAAFakeOtherPageToken0123456789SECRET"
MUTE_PAGE_TOKEN = "EAAFakePageTokenWithoutPostingSECRET"
FACEBOOK_CASES = [  # (the token in .env, what the failure must say)
    (USER_TOKEN, ["user access token", "Nguyễn Văn An", "fields=access_token"]),
    (OTHER_PAGE_TOKEN, ["another Page", "BHXH huyện", "100064000000777", f"page_id: {PAGE_ID}"]),
    (MUTE_PAGE_TOKEN, ["cannot post", "pages_manage_posts", "Create content", "(#200)"]),
    (TOKEN, ["has expired", "System User"]),
]


def test_facebook_check_proves_the_token_may_post_to_the_page(tmp_path: Path) -> None:
    with FakeFacebook() as fake:
        assert isinstance(fake, FakeFacebook)
        root = workspace_with(tmp_path, "facebook", f"api_base: {fake.base_url}\n")

        def auth(token: str) -> str:
            env = {"FACEBOOK_PAGE_TOKEN": token}
            result = CliRunner().invoke(main, ["--root", str(root), "auth", "facebook"], env=env)
            assert result.exit_code == (0 if "credentials work" in result.output else 1)
            assert token not in result.output
            return " ".join(result.output.split())

        good = auth(TOKEN)
        assert f"facebook: credentials work (Page '{PAGE_NAME}' (id {PAGE_ID}))" in good
        fake.add_token(USER_TOKEN, FakeToken("100001234567890", "Nguyễn Văn An", kind="user"))
        fake.add_token(OTHER_PAGE_TOKEN, FakeToken("100064000000777", "BHXH huyện"))
        fake.add_token(MUTE_PAGE_TOKEN, FakeToken(PAGE_ID, PAGE_NAME, can_post=False))
        fake.expire_token(TOKEN)
        for token, words in FACEBOOK_CASES:
            output = auth(token)
            assert "credentials not working" in output
            assert [word for word in words if word not in output] == [], output
        assert fake.posts == []


def test_static_portal_needs_no_credentials(tmp_path: Path) -> None:
    root = copy_sample(tmp_path / "ws")
    result = CliRunner().invoke(main, ["--root", str(root), "auth", "portal"])
    assert result.exit_code == 0 and "static site mode needs no credentials" in result.output


def workspace_store(root: Path) -> Store:
    return open_workspace_store(open_workspace(root, {}))


def test_working_credentials_lift_the_pause_and_wake_the_runner(tmp_path: Path) -> None:
    user, password = "bientap", "abcd EFGH 1234 ijkl MNOP 5678"
    with FakeWordPress(user, password) as fake:
        root = workspace_with(tmp_path, "portal", f"wordpress_url: {fake.base_url}\n")
        now = utcnow()
        store = workspace_store(root)
        store.deliveries.announce([("a", "portal", "c", now), ("a", "facebook", "c", now)], now)
        store.deliveries.pause("portal", "WordPress refused the credentials", now)
        held = store.deliveries.find("a", "facebook")
        assert held is not None
        later = now + dt.timedelta(hours=1)
        store.deliveries.change(held, "held", now, error_kind=HELD_BY_PORTAL, due_at=later)
        store.close()
        wake = root / ".publisher" / "wake"

        def auth(secret: str) -> int:
            env = {"WORDPRESS_USERNAME": user, "WORDPRESS_APP_PASSWORD": secret}
            result = CliRunner().invoke(main, ["--root", str(root), "auth", "portal"], env=env)
            return result.exit_code

        assert auth("wrong password") == 1
        store = workspace_store(root)
        assert "portal" in store.deliveries.pauses()
        store.close()
        assert not wake.exists()

        assert auth(password) == 0
        store = workspace_store(root)
        released = store.deliveries.find("a", "facebook")
        assert store.deliveries.pauses() == {}
        store.close()
        assert released is not None and released.error_kind is None
        assert released.due_at <= utcnow()
        assert wake.is_file()
        os.utime(wake, (0, 0))
        assert auth(password) == 0
        assert wake.stat().st_mtime > 0
