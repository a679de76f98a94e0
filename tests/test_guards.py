"""Small guards whose loss no other test noticed: the backoff's growth and its give-up
limit, the portal's URL schemes, and Telegram's caption room, counted as Telegram counts."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from publisher.catalog import load_catalog
from publisher.content.model import ContentItem
from publisher.publishing.errors import PublishError
from publisher.publishing.model import Receipt
from publisher.render.portal_html import sanitise
from publisher.render.service import Renderer
from publisher.render.telegram_html import visible_length
from publisher.scheduling.backoff import BASE, CAP, MAX_ATTEMPTS, next_attempt
from publisher.workspace import open_workspace

from .conftest import WorkspaceBuilder, calendar_yaml
from .fakes.telegram import parse_html, utf16
from .test_scheduling import at, runner_for

NOW = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


# -- backoff ----------------------------------------------------------------------------------
def test_the_backoff_doubles_within_its_jitter_up_to_its_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ideal = min(CAP, BASE * 2 ** (attempt - 1))
        wait = next_attempt(NOW, attempt, None, rng) - NOW
        assert ideal * 0.8 <= wait <= ideal * 1.2, (attempt, wait)
    assert next_attempt(NOW, 2, None, random.Random(1)) - NOW < next_attempt(
        NOW, 5, None, random.Random(1)
    ) - NOW


def test_the_backoff_never_comes_before_the_wait_the_platform_asked_for() -> None:
    assert next_attempt(NOW, 1, 7200, random.Random(3)) - NOW >= dt.timedelta(hours=2)


def test_a_delivery_gives_up_after_eight_attempts(small_portal: WorkspaceBuilder) -> None:
    runner = runner_for(small_portal)
    runner.announce(at(1, 0))

    def publish(item: ContentItem, channel: str) -> Receipt:
        raise PublishError("retryable", "busy", platform=channel)

    runner.dispatcher.service.publish = publish  # type: ignore[method-assign]
    moment = at(1, 8)
    for _ in range(40):
        runner.tick(moment)
        delivery = runner.store.deliveries.find("a", "portal")
        assert delivery is not None
        if delivery.state != "scheduled":
            break
        moment = max(moment, delivery.due_at)
    assert MAX_ATTEMPTS == 8
    assert delivery.state == "failed" and delivery.attempts == 8
    assert delivery.error and delivery.error.startswith("gave up after 8 attempts")
    runner.close()


@pytest.fixture
def small_portal(workspace: WorkspaceBuilder) -> WorkspaceBuilder:
    for name in ("facebook", "zalo", "youtube", "telegram"):
        workspace.write(f"channels/{name}.yaml", "enabled: false\n")
    workspace.write("schedules.yaml", calendar_yaml({"portal": ["08:00"]}, end="2026-12-31"))
    workspace.article("a.md", "title: Bài A\ndate: 2026-11-01\n")
    return workspace


# -- the portal's HTML ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dangerous",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="x">',
        '<a href="vbscript:msgbox(1)">x</a>',
    ],
)
def test_the_portal_sanitiser_keeps_no_active_url(dangerous: str) -> None:
    clean = sanitise(f"<p>{dangerous}</p>")
    lowered = clean.lower()
    assert "javascript:" not in lowered and "data:" not in lowered and "vbscript:" not in lowered
    assert sanitise('<a href="https://bhxh.example.gov.vn/">x</a>').count("https://") == 1


# -- Telegram captions ------------------------------------------------------------------------
SENTENCE = "Số người tham gia bảo hiểm xã hội tự nguyện tăng mạnh trong năm nay. "
UNBROKEN = "BHXH-tu-nguyen-" * 300  # no space: the cut lands on the very last unit


def infographic_with_text(workspace: WorkspaceBuilder, characters: int, pattern: str) -> Path:
    workspace.image("content/info/so-lieu.png", (800, 1200))
    text = (pattern * (characters // len(pattern) + 1))[:characters]
    return workspace.write(
        "content/info/so-lieu.md", f"---\ntitle: Số liệu năm 2026\nsummary: {text}\n---\n{text}\n"
    )


@pytest.mark.parametrize("pattern", [SENTENCE, UNBROKEN], ids=["sentences", "unbroken"])
@pytest.mark.parametrize("characters", [1000, 1030, 1500, 3000, 4000])
def test_an_infographic_caption_is_one_telegram_accepts(
    workspace: WorkspaceBuilder, characters: int, pattern: str
) -> None:
    """1,000 to 4,096 characters of text made a 1,025- or 1,610-unit caption, refused by
    Telegram while the render reported nothing."""
    infographic_with_text(workspace, characters, pattern)
    catalog = load_catalog(open_workspace(workspace.root, {}))
    item = catalog.item("info/so-lieu")
    assert item is not None
    post = Renderer(catalog).render(item, "telegram")
    assert post.errors == ()
    photo = next(c for c in post.calls if c.step in ("photo", "album"))
    caption = photo.payload.get("caption") or photo.payload["media"][0]["caption"]
    assert visible_length(caption) <= 1024
    assert utf16(parse_html(caption).strip()) <= 1024  # as the strict fake (Telegram) counts
    messages = [c for c in post.calls if c.step.startswith("message")]
    whole = "".join(parse_html(c.payload["text"]) for c in messages) + parse_html(caption)
    assert pattern[:20].strip() in whole
