"""The publishing framework: steps resumed, placeholders, redaction, outbox, the store."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from publisher.adapters.base import Call, Post
from publisher.cli import main
from publisher.errors import StoreError
from publisher.publishing.errors import PublishError, redact
from publisher.publishing.executor import publish_post
from publisher.publishing.model import MemoryStepLog, StepLog
from publisher.publishing.placeholders import MissingStepResult, resolve
from publisher.store import schema
from publisher.store.database import open_store

from .conftest import WorkspaceBuilder

SECRET = "EAAB-very-secret-page-token-123456"


class ScriptedClient:
    """Answers each step from a script; a step scripted with an exception raises it."""

    platform = "facebook"

    def __init__(self, script: dict[str, Any]) -> None:
        self.script = script
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run(self, call: Call, payload: dict[str, Any], steps: StepLog) -> dict[str, Any]:
        self.calls.append((call.step, payload))
        answer = self.script[call.step]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def receipt(self, post: Post, results: Mapping[str, dict[str, Any]]) -> tuple[str, str | None]:
        return results["feed"]["id"], f"https://facebook.example/{results['feed']['id']}"

    def find_existing(self, post: Post, results: Mapping[str, dict[str, Any]]) -> None:
        return None


def photo_post(tmp_path: Path) -> Post:
    image = tmp_path / "a.jpg"
    image.write_bytes(b"\xff\xd8")
    uploads = tuple(
        Call(f"photo_{i}", "POST", "/photos", {"published": "false"}, {"source": str(image)})
        for i in range(2)
    )
    feed = Call(
        "feed",
        "POST",
        "/feed",
        {
            "message": "Xin chào",
            "attached_media[0]": '{"media_fbid": "$photo_0.id"}',
            "attached_media[1]": '{"media_fbid": "$photo_1.id"}',
        },
    )
    return Post("facebook", "a", "hash", (*uploads, feed))


def test_steps_are_resumed_not_repeated(tmp_path: Path) -> None:
    post = photo_post(tmp_path)
    steps = MemoryStepLog()
    failing = ScriptedClient(
        {"photo_0": {"id": "p0"}, "photo_1": PublishError("retryable", "busy", platform="facebook")}
    )
    with pytest.raises(PublishError):
        publish_post(post, failing, steps, mode="live")
    assert steps.results == {"photo_0": {"id": "p0"}}
    client = ScriptedClient({"photo_1": {"id": "p1"}, "feed": {"id": "page_post"}})
    receipt = publish_post(post, client, steps, mode="live")
    assert [step for step, _ in client.calls] == ["photo_1", "feed"]
    assert client.calls[1][1]["attached_media[1]"] == '{"media_fbid": "p1"}'
    assert receipt.remote_id == "page_post" and receipt.steps["photo_0"] == {"id": "p0"}


def test_secrets_are_scrubbed_and_unexpected_errors_are_unknown(tmp_path: Path) -> None:
    post = photo_post(tmp_path)
    leaky = ScriptedClient(
        {"photo_0": PublishError("auth", f"token {SECRET} expired", platform="facebook")}
    )
    with pytest.raises(PublishError) as caught:
        publish_post(post, leaky, MemoryStepLog(), mode="live", secrets=[SECRET])
    assert SECRET not in str(caught.value) and "***" in str(caught.value)
    crashing = ScriptedClient({"photo_0": ValueError(f"boom {SECRET}")})
    with pytest.raises(PublishError) as caught:
        publish_post(post, crashing, MemoryStepLog(), mode="live", secrets=[SECRET])
    assert caught.value.kind == "unknown" and SECRET not in caught.value.message


def test_posts_with_errors_or_missing_media_are_refused(tmp_path: Path) -> None:
    post = photo_post(tmp_path)
    broken = Post("facebook", "a", "h", post.calls, errors=("image corrupt",))
    with pytest.raises(PublishError, match="image corrupt") as caught:
        publish_post(broken, ScriptedClient({}), MemoryStepLog(), mode="live")
    assert caught.value.kind == "permanent"
    (tmp_path / "a.jpg").unlink()
    with pytest.raises(PublishError, match="media file missing"):
        publish_post(post, ScriptedClient({}), MemoryStepLog(), mode="live")


def test_placeholders_inside_strings_lists_and_dicts() -> None:
    results = {"create": {"token": "t1"}, "verify": {"id": 42}}
    assert resolve({"a": ["$verify.id", "x $create.token y"], "b": 3}, results) == {
        "a": [42, "x t1 y"],
        "b": 3,
    }
    with pytest.raises(MissingStepResult):
        resolve("$nothing.id", results)


def test_redact_covers_url_encoded_secrets() -> None:
    assert redact("a=abc%2Fdef&b=abc/def", ["abc/def"]) == "a=***&b=***"


def test_error_text_leaves_out_a_missing_http_status() -> None:
    def text(status: int | None, code: str | int | None) -> str:
        return str(
            PublishError(
                "auth", "refused", platform="youtube", http_status=status, platform_code=code
            )
        )

    assert text(None, "invalid_grant") == "youtube: auth: refused (invalid_grant)"
    assert text(400, "invalid_grant") == "youtube: auth: refused (HTTP 400 invalid_grant)"
    assert text(503, None) == "youtube: auth: refused (HTTP 503)"
    assert text(None, None) == "youtube: auth: refused"


def test_store_keeps_steps_and_tokens_across_reopen(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.steps("facebook:a").record("photo_0", {"id": "p0"})
    store.tokens("zalo").put_many({"access_token": ("A", None), "refresh_token": ("R", None)})
    store.close()
    again = open_store(tmp_path)
    assert again.steps("facebook:a").get("photo_0") == {"id": "p0"}
    assert again.steps("facebook:a").all() == {"photo_0": {"id": "p0"}}
    assert again.steps("facebook:b").get("photo_0") is None
    token = again.tokens("zalo").get("refresh_token")
    assert token is not None and token.value == "R"
    with again.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
    assert (mode, synchronous) == ("wal", 2)  # 2 = FULL


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with store.engine.begin() as connection:
        connection.execute(schema.meta.update().values(value=str(schema.SCHEMA_VERSION + 1)))
    store.close()
    newer = r"state\.db: .*newer than this publisher .*upgrade publisher"
    with pytest.raises(StoreError, match=newer):
        open_store(tmp_path)


def test_publishing_every_sample_item_in_outbox_mode_writes_what_render_shows(
    sample_copy: Path,
) -> None:
    runner = CliRunner()
    items = json.loads(runner.invoke(main, ["--root", str(sample_copy), "check", "--json"]).stdout)
    secrets = {"FACEBOOK_PAGE_TOKEN": SECRET}  # set, but the channel is in outbox mode
    for item in items["items"]:
        if item["status"] == "draft":
            continue
        rendered = json.loads(
            runner.invoke(main, ["--root", str(sample_copy), "render", item["id"], "--json"]).stdout
        )
        for channel in item["channels"]:
            command = ["publish", item["id"], "--channel", channel, "--force"]
            # --force: the sample's dates are not today's
            result = runner.invoke(main, ["--root", str(sample_copy), *command], env=secrets)
            assert result.exit_code == 0, result.output
            folder = sample_copy / ".publisher/outbox" / channel / item["id"]
            post = json.loads((folder / "post.json").read_text(encoding="utf-8"))
            assert post == rendered["posts"][channel]
            receipt = json.loads((folder / "receipt.json").read_text(encoding="utf-8"))
            assert receipt["mode"] == "outbox" and receipt["item"] == item["id"]
            for call in post["requests"]:
                if call["method"] == "HOST":  # hosted by the portal: a file, not a request
                    hosted = sample_copy / ".publisher/site/media" / Path(call["files"]["file"])
                    assert hosted.with_name(Path(call["files"]["file"]).name).is_file()
                    continue
                document = json.loads((folder / f"{call['step']}.request.json").read_text("utf-8"))
                assert (document["step"], document["method"]) == (call["step"], call["method"])
                filled = document["endpoint"] + json.dumps(document["payload"], ensure_ascii=False)
                assert not re.search(r"\$[a-z][a-z0-9_]*\.[a-z_]+", filled)  # all filled in
                for path in call["files"].values():
                    assert (folder / Path(path).name).is_file()
    site = sample_copy / ".publisher/site"
    assert (site / "index.html").is_file() and any(site.glob("tin-tuc/*/index.html"))
    for path in (sample_copy / ".publisher").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".html", ".db", ".log"):
            assert SECRET not in path.read_text(encoding="utf-8", errors="ignore"), path


def test_publishing_twice_does_not_send_again(sample_copy: Path) -> None:
    runner = CliRunner()
    args = ["--root", str(sample_copy), "publish", "nuoc-rut-2026/infographic/ket-qua-10-thang"]
    portal = runner.invoke(main, [*args, "--channel", "portal", "--force"])
    first = runner.invoke(main, [*args, "--channel", "telegram", "--force"])
    request = next((sample_copy / ".publisher/outbox/telegram").rglob("photo.request.json"))
    request.unlink()
    second = runner.invoke(main, [*args, "--channel", "telegram", "--force"])
    assert portal.exit_code == first.exit_code == second.exit_code == 0, second.output
    assert not request.exists()  # the delivery is published: nothing was sent again
    assert "already published" in second.output and "nothing was sent" in second.output


def test_dry_run_sends_nothing(sample_copy: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "--root",
            str(sample_copy),
            "publish",
            "nuoc-rut-2026/ket-qua-10-thang-2026",
            "--channel",
            "facebook",
            "--dry-run",
        ],
    )
    assert result.exit_code == 0
    assert "dry run: nothing sent" in result.output
    assert not (sample_copy / ".publisher/outbox").exists()


def test_the_database_url_setting_chooses_the_store(tmp_path: Path, workspace) -> None:
    from publisher.store.database import open_workspace_store
    from publisher.workspace import open_workspace

    elsewhere = tmp_path / "elsewhere.db"
    ws = open_workspace(workspace.root, {"PUBLISHER_DATABASE_URL": f"sqlite:///{elsewhere}"})
    open_workspace_store(ws).close()
    assert elsewhere.exists() and not (ws.state_dir / "state.db").exists()


def test_tokens_are_sealed_at_rest_with_the_key_from_the_environment(tmp_path: Path) -> None:
    from publisher.store.sealing import SealError, new_key

    key = new_key()
    store = open_store(tmp_path, secret_key=key)
    store.tokens("zalo").put("refresh_token", SECRET)
    store.close()
    raw = (tmp_path / "state.db").read_bytes()
    wal = tmp_path / "state.db-wal"
    assert SECRET.encode() not in raw + (wal.read_bytes() if wal.exists() else b"")
    reopened = open_store(tmp_path, secret_key=key)
    token = reopened.tokens("zalo").get("refresh_token")
    assert token is not None and token.value == SECRET
    reopened.close()
    with pytest.raises(SealError, match="PUBLISHER_SECRET_KEY"):
        open_store(tmp_path).tokens("zalo").get("refresh_token")
    with pytest.raises(SealError, match="cannot be opened"):
        open_store(tmp_path, secret_key=new_key()).tokens("zalo").get("refresh_token")


def test_a_new_item_never_takes_over_a_published_static_page(
    workspace: WorkspaceBuilder,
) -> None:
    """Last week's notice went out at /tin-tuc/thong-bao-quan-trong/ and its file was
    archived; this week's notice has the same title: it gets its own address."""
    cli = CliRunner()
    root = ["--root", str(workspace.root)]
    workspace.article("old.md", "title: Thông báo quan trọng\n", "Nội dung tuần trước.\n")
    assert cli.invoke(main, [*root, "publish", "old", "--channel", "portal"]).exit_code == 0
    (workspace.root / "content/old.md").unlink()
    workspace.article("new.md", "title: Thông báo quan trọng\n", "Nội dung tuần này.\n")

    result = cli.invoke(main, [*root, "publish", "new", "--channel", "portal"])

    assert result.exit_code == 0, result.output
    site = workspace.root / ".publisher/site/tin-tuc"
    old_page = (site / "thong-bao-quan-trong/index.html").read_text(encoding="utf-8")
    new_page = (site / "thong-bao-quan-trong-2/index.html").read_text(encoding="utf-8")
    assert "tuần trước" in old_page and "tuần này" in new_page
    assert "thong-bao-quan-trong-2/" in new_page  # its own canonical address
    published = json.loads(cli.invoke(main, [*root, "status", "--json"]).stdout)["published"]
    urls = {d["item"]: d["url"] for d in published}
    assert urls["new"] == "https://bhxh.example.gov.vn/tin-tuc/thong-bao-quan-trong-2/"


def test_a_damaged_cached_image_is_never_uploaded(workspace: WorkspaceBuilder) -> None:
    """`check` made the variant; then its bytes were damaged, keeping size and signature:
    the upload checks them against the digest it was made with, and makes it again."""
    workspace.image("content/a/anh.png", (800, 600))
    front = "title: Bài có ảnh\nchannels: [facebook]\n"
    workspace.article("a/index.md", front, "![Ảnh](anh.png)\n")
    cli = CliRunner()
    root = ["--root", str(workspace.root)]
    assert cli.invoke(main, [*root, "check"]).exit_code == 0
    [variant] = [
        p for p in (workspace.root / ".publisher/cache/media").rglob("*.jpg") if "tmp" not in p.name
    ]
    good = variant.read_bytes()
    variant.write_bytes(good[:3] + bytes(len(good) - 3))

    result = cli.invoke(main, [*root, "publish", "a", "--channel", "facebook"])

    assert result.exit_code == 0, result.output
    [uploaded] = (workspace.root / ".publisher/outbox/facebook/a").glob("*.jpg")
    assert uploaded.read_bytes() == good
