"""The preview in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium).

CI installs Chromium (.ci/run); on a developer machine without it these tests are skipped,
but never in CI. Screenshots land in tests/artifacts/ (git-ignored). Every test runs with the
preview's Content-Security-Policy on and fails on any console error, script error or policy
violation: the policy must never block what a page needs.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from publisher.preview.app import PreviewState, create_app, watch
from publisher.workspace import open_workspace

from .conftest import copy_sample

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
# Reports every policy violation in any frame that runs scripts (frames that run none, like
# the sandboxed portal page, report theirs on the console).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) =>
  window.reportViolation(`${e.violatedDirective} blocked ${e.blockedURI} in ${e.documentURI}`));
"""
FOLDER_ITEM = "nuoc-rut-2026/rui-ro-rut-bhxh-mot-lan"
INFOGRAPHIC = "nuoc-rut-2026/infographic/ket-qua-10-thang"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is missing in CI: .ci/run must install it")
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)


@pytest.fixture(scope="module")
def workspace_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("browser") / "ws")


@pytest.fixture(scope="module")
def server(workspace_root: Path) -> Iterator[str]:
    state = PreviewState(open_workspace(workspace_root, {}))
    observer = watch(state)
    config = uvicorn.Config(create_app(state), host="127.0.0.1", port=0, log_level="warning")
    service = uvicorn.Server(config)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not service.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = service.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    service.should_exit = True
    thread.join(timeout=10)
    observer.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; at the end, no console error, script error or policy violation."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="vi-VN")
    problems: list[str] = []
    context.expose_function("reportViolation", lambda text: problems.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    opened = context.new_page()
    opened.on("console", lambda message: _note_console(message, problems))
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == []


def _note_console(message: ConsoleMessage, problems: list[str]) -> None:
    """Console errors, but the browser's own asking for /favicon.ico (the preview has none)."""
    url = message.location["url"]
    if message.type == "error" and not url.endswith("/favicon.ico"):
        problems.append(f"{message.text} ({url})")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def images_loaded(page: Page, selector: str) -> int:
    """How many images under `selector` really decoded (naturalWidth > 0)."""
    return page.eval_on_selector_all(
        f"{selector} img", "imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length"
    )


def test_index_lists_every_item_with_its_problems(page: Page, server: str) -> None:
    answer = page.goto(server + "/")
    assert answer is not None and "default-src 'none'" in answer.headers["content-security-policy"]
    expect(page.get_by_text("Rút BHXH một lần: nhận ngay một khoản tiền")).to_be_visible()
    expect(page.get_by_text("Infographic: Kết quả thực hiện nhiệm vụ 10 tháng")).to_be_visible()
    assert page.locator("body").inner_text().count("Hướng dẫn cài đặt") >= 1
    shot(page, "index")


def test_item_page_shows_every_mockup_with_text_images_and_warnings(
    page: Page, server: str
) -> None:
    page.goto(f"{server}/items/{FOLDER_ITEM}")
    body = page.locator("body")
    expect(body).to_contain_text("Đừng vội rút BHXH một lần!")  # the Facebook text
    expect(body).to_contain_text("Rút BHXH một lần: nhận ngay")  # Zalo / portal title
    page.wait_for_load_state("networkidle")
    assert images_loaded(page, "body") >= 6  # Facebook grid, Zalo cover and blocks, Telegram album
    widths = page.eval_on_selector_all(
        ".meter span", "bars => bars.map(b => [b.style.width, b.dataset.width + '%'])"
    )
    assert widths and all(set_ == wanted for set_, wanted in widths)  # set by the script
    shot(page, "item-folder")
    page.goto(f"{server}/items/nuoc-rut-2026/bhxh-tu-nguyen-diem-tua-tuoi-gia")
    expect(page.locator("body")).to_contain_text("no cover image")  # the warning is shown
    shot(page, "item-long-article")


def test_portal_mockup_loads_the_article_page(page: Page, server: str) -> None:
    page.goto(f"{server}/items/{INFOGRAPHIC}")
    page.wait_for_load_state("networkidle")
    frame = next(f for f in page.frames if "/portal/" in f.url)
    expect(frame.locator("h1")).to_contain_text("Infographic: Kết quả thực hiện")
    assert images_loaded(frame, "article") >= 1
    expect(frame.locator("h1")).to_have_css("color", "rgb(11, 61, 122)")  # its own <style>


def test_calendar_and_status_pages(page: Page, server: str) -> None:
    page.goto(server + "/calendar")
    expect(page.locator("body")).to_contain_text("12/2026")
    expect(page.locator(".cal-post").first).to_have_css("display", "flex")  # the style sheet
    expect(page.locator("body")).to_contain_text("08:00")
    shot(page, "calendar")
    page.goto(server + "/status")
    expect(page.locator("body")).not_to_be_empty()
    shot(page, "status")


def test_english_is_available(page: Page, server: str) -> None:
    page.goto(server + "/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"


def test_saving_a_file_reloads_the_open_page(page: Page, server: str, workspace_root: Path) -> None:
    page.goto(f"{server}/items/{INFOGRAPHIC}")
    page.wait_for_load_state("networkidle")
    sidecar = workspace_root / "content" / f"{INFOGRAPHIC}.md"
    text = sidecar.read_text(encoding="utf-8")
    sidecar.write_text(text.replace('title: "', 'title: "MỚI SỬA ', 1), encoding="utf-8")
    try:
        expect(page.locator("body")).to_contain_text("MỚI SỬA", timeout=5000)
        shot(page, "after-reload")
    finally:
        sidecar.write_text(text, encoding="utf-8")
