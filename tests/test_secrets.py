"""Secrets never leave the environment: a whole rehearsal and preview with known token
values set, then every log line, outbox file, state database and preview page is searched."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.catalog import load_catalog
from publisher.cli import main
from publisher.publishing.errors import PublishError
from publisher.publishing.service import PublishService
from publisher.store.database import open_store
from publisher.workspace import open_workspace

from .conftest import copy_sample
from .fakes.telegram import FakeTelegram

TOKENS = {
    "FACEBOOK_PAGE_TOKEN": "EAAGsecretFacebookPageToken1234567890",
    "ZALO_APP_SECRET": "zalo-app-secret-abcdef123456",
    "ZALO_REFRESH_TOKEN": "zalo-refresh-token-0987654321",
    "YOUTUBE_CLIENT_SECRET": "GOCSPX-youtube-client-secret-42",
    "YOUTUBE_REFRESH_TOKEN": "1//youtube-refresh-token-secret",
    "TELEGRAM_BOT_TOKEN": "7000000001:AAsecretTelegramBotToken_0123456789",
    "WORDPRESS_APP_PASSWORD": "abcd efgh ijkl mnop qrst uvwx",
}


def test_no_secret_in_logs_outbox_state_or_preview(
    sample_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    root = ["--root", str(sample_copy)]
    outputs = [
        runner.invoke(main, [*root, "check"], env=TOKENS),
        runner.invoke(main, [*root, "run", "--rehearse"], env=TOKENS),
        runner.invoke(
            main,
            [
                *root,
                "publish",
                "nuoc-rut-2026/ket-qua-10-thang-2026",
                "--channel",
                "facebook",
                "--dry-run",
            ],
            env=TOKENS,
        ),
        runner.invoke(main, [*root, "status"], env=TOKENS),
        runner.invoke(main, [*root, "preview", "--out", str(tmp_path / "preview")], env=TOKENS),
    ]
    assert all(result.exit_code in (0, 1) for result in outputs)
    texts = [result.output for result in outputs] + [caplog.text]
    files = [
        p
        for folder in (sample_copy / ".publisher", tmp_path / "preview")
        for p in folder.rglob("*")
        if p.is_file()
    ]
    assert any(p.name == "state.db" for p in files) and any(p.suffix == ".html" for p in files)
    blobs = [p.read_bytes() for p in files]
    for secret in TOKENS.values():
        assert not any(secret in text for text in texts), secret
        assert not any(secret.encode() in blob for blob in blobs), secret


NAMES = {
    "WORDPRESS_USERNAME": "admin",
    "ZALO_APP_ID": "3141592653589793",
    "YOUTUBE_CLIENT_ID": "1234-fake.apps.googleusercontent.com",
}


def test_names_are_not_scrubbed_only_secrets(tmp_path: Path) -> None:
    """A WordPress user called "admin" must not turn Telegram's "administrator" into
    "***istrator": user names and app or client ids are no secrets; passwords still are."""
    root = copy_sample(tmp_path / "ws")
    (root / "channels" / "portal.yaml").write_text("enabled: false\n")  # Telegram alone
    telegram = root / "channels" / "telegram.yaml"
    with FakeTelegram(TOKENS["TELEGRAM_BOT_TOKEN"]) as fake:
        text = telegram.read_text(encoding="utf-8").replace("mode: outbox", "mode: live")
        telegram.write_text(text + f"api_base: {fake.base_url}\n", encoding="utf-8")
        fake.set_admin(True, can_post=False)
        item = "nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia"
        result = CliRunner().invoke(
            main,
            ["--root", str(root), "publish", item, "--channel", "telegram", "--force"],
            env={**TOKENS, **NAMES},
        )
    assert result.exit_code == 1, result.output
    assert "make the bot an administrator" in result.output
    assert "***istrator" not in result.output

    store = open_store(tmp_path / "state")
    try:
        service = PublishService(load_catalog(open_workspace(root, {**TOKENS, **NAMES})), store)
        secrets = service.secret_values()
    finally:
        store.close()
    assert set(TOKENS.values()) <= set(secrets)
    assert not set(NAMES.values()) & set(secrets)
    password = TOKENS["WORDPRESS_APP_PASSWORD"]
    refused = PublishError("auth", f"user admin, password {password}", platform="portal")
    assert refused.redacted(secrets).message == "user admin, password ***"
