"""The dashboard in a real headless browser: Playwright driving Debian's chromium.

No browser is downloaded: the Makefile's set-up installs the ``chromium`` package when it
is missing, and these tests launch ``/usr/bin/chromium``. They skip only outside CI when
it is absent (``CI=true`` makes a missing browser a failure). The server is a real
uvicorn port on loopback with a virtual clock; every request the page makes is watched
and one to any other host fails the test. Screenshots land in ``.artifacts/ui/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mock_server.runtime.config import Config
from mock_server.testing.embedded import ServerThread
from mock_server.testing.receiver import Receiver, Script

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ARTIFACTS = Path(__file__).resolve().parent.parent / ".artifacts" / "ui"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
BODY = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://example.com/ref.mp4"],
}
WAIT_MS = 15_000
WIDE_ELEMENTS = """width => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > width)
  .slice(0, 8).map(e => `${e.tagName}#${e.id}.${e.className} ${e.getBoundingClientRect().right}`)"""

if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: `make install-browser` installs it", pytrace=False)
    pytest.skip(
        "Debian's chromium is not installed (make install-browser)", allow_module_level=True
    )

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def server(media_dir: Path) -> Iterator[ServerThread]:
    thread = ServerThread(Config(db=":memory:", clock="virtual", media_dir=str(media_dir)))
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Page:
    """One browser tab on the dashboard, with every request it made."""

    def __init__(self, browser: Any, server: ServerThread, viewport: dict[str, int]) -> None:
        self.server = server
        self.context = browser.new_context(viewport=viewport)
        self.page = self.context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(f"{server.base_url}/_mock/ui")

    def foreign(self) -> list[str]:
        return [u for u in self.requests if urlsplit(u).hostname not in LOCAL_HOSTS | {None}]

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def task(self, task_id: str) -> Any:
        return self.page.locator(f"article[id='task-{task_id}']")


@pytest.fixture
def tab(browser: Any, server: ServerThread) -> Iterator[Page]:
    server.reset()
    page = Page(browser, server, DESKTOP)
    yield page
    page.context.close()
    assert page.foreign() == [], f"the page reached other hosts: {page.foreign()}"
    assert page.errors == [], f"script errors: {page.errors}"


def create(server: ServerThread, **fields: Any) -> dict[str, Any]:
    answer = httpx.post(
        f"{server.base_url}/v1/videos/generations",
        json={**BODY, **fields},
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    task: dict[str, Any] = answer.json()
    return task


def status_of(tab: Page, task_id: str) -> Any:
    return tab.task(task_id).locator(".task-status")


def wait_video(tab: Page, task_id: str) -> None:
    """Open the task's result and wait until its video has loaded its metadata."""
    tab.task(task_id).locator("summary").click()
    video = tab.task(task_id).locator("video")
    video.wait_for()
    tab.page.wait_for_function(
        "v => v.readyState >= 1 && v.videoWidth > 0", arg=video.element_handle(), timeout=60_000
    )


def test_dashboard_shows_a_new_task_without_reload(tab: Page) -> None:
    tab.page.locator("#tasks-h").wait_for()
    task = create(tab.server, prompt="A heron fishing at dawn")
    tab.task(task["id"]).wait_for()
    assert "pending" in status_of(tab, task["id"]).inner_text()
    assert "A heron fishing at dawn" in tab.task(task["id"]).inner_text()
    assert len([u for u in tab.requests if u.endswith("/_mock/ui")]) == 1  # no reload
    tab.shot("task-appears-desktop")


def test_dashboard_advance_by_keyboard_completes_the_task(tab: Page) -> None:
    task = create(tab.server)
    tab.task(task["id"]).wait_for()
    seconds = tab.page.locator("#advance-seconds")
    seconds.focus()  # reached by Tab like any field; typed, then Enter submits
    tab.page.keyboard.press("Control+A")
    tab.page.keyboard.type("600")
    tab.page.keyboard.press("Enter")
    status_of(tab, task["id"]).get_by_text("completed").wait_for()
    tab.page.locator("#live").get_by_text("Advanced 600 s").wait_for()
    summary = tab.task(task["id"]).locator("summary")
    summary.focus()
    tab.page.keyboard.press("Enter")  # opens the result, by keyboard too
    video = tab.task(task["id"]).locator("video")
    tab.page.wait_for_function(
        "v => v.readyState >= 1 && v.videoWidth > 0", arg=video.element_handle(), timeout=60_000
    )
    tab.shot("advanced-by-keyboard-desktop")


def test_dashboard_advance_by_tab_key_alone_with_visible_focus(tab: Page) -> None:
    task = create(tab.server)
    tab.task(task["id"]).wait_for()
    tab.page.locator("body").focus()
    for _ in range(40):  # from the top of the page, Tab until the +1 h button
        tab.page.keyboard.press("Tab")
        if tab.page.evaluate("document.activeElement.textContent") == "+1 h":
            break
    else:
        pytest.fail("Tab never reached the +1 h button")
    outline = tab.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    tab.shot("keyboard-focus-desktop")
    tab.page.keyboard.press("Enter")
    status_of(tab, task["id"]).get_by_text("completed").wait_for()


def test_dashboard_advance_by_click_completes_the_task_and_loads_its_video(tab: Page) -> None:
    task = create(tab.server)
    tab.task(task["id"]).wait_for()
    for _ in range(2):
        tab.page.get_by_role("button", name="+5 min").click()
    status_of(tab, task["id"]).get_by_text("completed").wait_for()
    wait_video(tab, task["id"])
    assert "charge" in tab.task(task["id"]).inner_text()
    tab.shot("completed-with-video-desktop")


def test_dashboard_force_failure_shows_status_and_code(tab: Page) -> None:
    task = create(tab.server)
    tab.page.locator(f"#force-task option[value='{task['id']}']").wait_for(state="attached")
    tab.page.get_by_label("Task", exact=True).select_option(task["id"])
    tab.page.get_by_label("Failure code").select_option("content_policy_violation")
    tab.page.get_by_role("button", name="Fail with code").click()
    failed = status_of(tab, task["id"])
    failed.get_by_text("failed").wait_for()
    assert "content_policy_violation" in failed.inner_text()
    assert "✗" in failed.inner_text()  # a symbol and words, not colour alone
    tab.shot("forced-failure-desktop")


def test_dashboard_scenario_form_adds_a_rule_that_applies(tab: Page) -> None:
    tab.page.get_by_label("Start from an example").select_option(index=1)
    rule = tab.page.get_by_label("Rule (JSON")
    assert "forbidden" in rule.input_value()
    tab.page.get_by_role("button", name="Add rule").click()
    listed = tab.page.locator("#scenarios-body article").first
    listed.get_by_text("content_policy_violation").wait_for()
    task = create(tab.server, prompt="something forbidden")
    tab.page.get_by_role("button", name="+1 h").click()
    status = status_of(tab, task["id"])
    status.get_by_text("content_policy_violation").wait_for()
    tab.page.locator("#scenarios-body").get_by_text("Used").wait_for()
    assert tab.server.control("GET", "/scenarios")["rules"][0]["used"] == 1
    tab.shot("scenario-applied-desktop")


def test_dashboard_on_a_phone_shows_every_section(browser: Any, server: ServerThread) -> None:
    server.reset()
    task = create(server)
    server.complete(task["id"])
    create(server, prompt="still running")
    tab = Page(browser, server, PHONE)
    try:
        tab.task(task["id"]).wait_for()
        for heading in ("Clock", "Tasks", "Callbacks", "Ledger", "Scenarios", "Journal"):
            assert tab.page.get_by_role("heading", name=heading, exact=True).is_visible()
        width = tab.page.evaluate("document.documentElement.scrollWidth")
        wide = tab.page.evaluate(WIDE_ELEMENTS, PHONE["width"])
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone: {wide}"
        tab.shot("dashboard-phone")
        assert tab.foreign() == []
    finally:
        tab.context.close()


def test_dashboard_asks_for_the_control_token_once(browser: Any, media_dir: Path) -> None:
    config = Config(
        db=":memory:", clock="virtual", media_dir=str(media_dir), control_token="s3cret"
    )
    server = ServerThread(config)
    tab = None
    try:
        task = create(server)
        tab = Page(browser, server, DESKTOP)
        tab.page.get_by_label("Control token").fill("s3cret")
        tab.page.get_by_label("Control token").press("Enter")
        tab.task(task["id"]).wait_for()
        tab.page.reload()
        tab.task(task["id"]).wait_for()
        assert tab.page.locator("#token-form").is_hidden()
        assert tab.foreign() == [] and tab.errors == []
    finally:
        if tab is not None:
            tab.context.close()
        server.close()


def test_dashboard_shows_callback_attempts_and_retries_to_come(
    browser: Any, media_dir: Path
) -> None:
    with Receiver(Script.always_fail(status=500)) as receiver:
        config = Config(
            db=":memory:",
            clock="virtual",
            media_dir=str(media_dir),
            allow_callback_host=("127.0.0.1",),
            callback_ca_file=receiver.ca_file,
            callback_wall_timeout=0.3,
        )
        server = ServerThread(config)
        tab = None
        try:
            task = create(server, callback_url=receiver.url)
            tab = Page(browser, server, DESKTOP)
            tab.page.get_by_label("Task", exact=True).select_option(task["id"])
            tab.page.get_by_role("button", name="Complete").click()
            delivery = tab.page.locator(f"article[id='cb-{task['id']}']")
            delivery.get_by_text("3 of 4 still to come").wait_for()
            assert "HTTP 500" in delivery.inner_text()
            tab.page.get_by_role("button", name="+10 s").click()
            delivery.get_by_text("No retries to come").wait_for()
            assert "exhausted" in delivery.inner_text()
            assert delivery.locator("tbody tr").count() == 4
            tab.shot("callbacks-desktop")
            assert tab.foreign() == [] and tab.errors == []
        finally:
            if tab is not None:
                tab.context.close()
            server.close()


def test_dashboard_journal_filters_by_task(tab: Page) -> None:
    one, two = create(tab.server, prompt="one"), create(tab.server, prompt="two")
    for task in (one, two):
        httpx.get(
            f"{tab.server.base_url}/v1/tasks/{task['id']}",
            headers={"Authorization": f"Bearer {tab.server.api_key}"},
        )
    journal = tab.page.locator("#journal-body")
    journal.get_by_text(f"/v1/tasks/{two['id']}").wait_for()  # written within a second
    tab.page.get_by_label("Task id").fill(one["id"])
    tab.page.get_by_label("Task id").press("Enter")
    tab.page.wait_for_function(
        "id => !document.querySelector('#journal-body').textContent.includes(id)", arg=two["id"]
    )
    assert f"/v1/tasks/{one['id']}" in journal.inner_text()
    assert tab.page.url.endswith(f"/_mock/ui?task={one['id']}")  # a link that keeps the filter


def test_dashboard_labels_every_control(tab: Page) -> None:
    create(tab.server)
    tab.page.locator("#tasks-body article").first.wait_for()
    unlabelled = tab.page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.name)"""
    )
    assert unlabelled == []
    nameless = tab.page.evaluate(
        """() => Array.from(document.querySelectorAll('button'))
            .filter(b => !b.textContent.trim()).map(b => b.outerHTML)"""
    )
    assert nameless == []
