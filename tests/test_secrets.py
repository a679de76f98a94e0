"""Secrets never leave the environment: a whole rehearsal and preview with known token
values set, then every log line, outbox file, state database and preview page is searched."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from publisher.cli import main

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
