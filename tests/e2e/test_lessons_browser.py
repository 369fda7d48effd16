"""Lessons on a projector: each lesson's link, opened in a fresh browser context at 1024×768,
shows the lesson's banner, the sidebar closed, Start/Pause/Step/Reset and the lesson's own
settings only, Start within the first screen and nothing cut; each is photographed under
``artifacts/screenshots/`` (``lesson-<id>.png``)."""

from __future__ import annotations

from playwright.sync_api import expect
from test_app_browser import button, wait_until
from test_layout_browser import START_REACHABLE_JS, _check

from dashboard.lessons import LESSONS, number
from rnn_core.settings import SCHEMA
from tests.e2e.conftest import IDLE_APP, SCREENSHOTS

PROJECTOR = {"width": 1024, "height": 768}
HIDDEN = {
    "tutorial": "Hidden size",
    "exploding": "Hidden size",
    "vanishing": "Learning rate",
    "learning-rate": "Clip norm",
    "persistence": "Learning rate",
    "words": "Cell",
}
"""A setting of the full Train page that each lesson leaves out."""


def test_each_lesson_link_opens_on_a_projector_with_its_own_controls_only(browser, app_url, console_errors):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tabs = {}
    try:
        # All six load at once (each its own session and run), then each is checked in turn.
        for lesson_id in LESSONS:
            context = browser.new_context(viewport=PROJECTOR)
            tab = context.new_page()
            tab.set_default_timeout(20_000)
            tab.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
            tab.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
            tab.goto(f"{app_url}/?lesson={lesson_id}", wait_until="commit")
            tabs[lesson_id] = tab
        for lesson_id, tab in tabs.items():
            lesson = LESSONS[lesson_id]
            main = tab.get_by_test_id("stMain")
            labels = main.get_by_test_id("stWidgetLabel")
            # The banner comes first and the settings after the live panels; on a busy machine the
            # six sessions take a while to draw their first pages.
            heading = f"Lesson {number(lesson_id)}: {lesson.title}"
            expect(main.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)
            for name in lesson.controls:
                expect(labels.get_by_text(SCHEMA[name].label, exact=True)).to_be_visible(timeout=30_000)
            tab.wait_for_selector(IDLE_APP, state="attached")
            expect(main.get_by_role("heading", name="Train", level=1)).to_be_hidden()  # the banner's
            expect(labels.get_by_text(HIDDEN[lesson_id], exact=True)).to_have_count(0)
            for label in ("Start", "Pause", "Step", "Reset"):
                expect(button(tab, label)).to_be_visible()
            expect(button(tab, "Step ×N")).to_have_count(0)
            expect(button(tab, "Load preset")).to_have_count(0)
            assert tab.get_by_test_id("stSidebar").get_attribute("data-collapsed") == "true"
            expect(tab.locator(".rnn-chart .main-svg").first).to_be_visible(timeout=20_000)
            wait_until(lambda t=tab: t.evaluate(START_REACHABLE_JS) == "ok", 10, "Start on the first screen")
            _check(tab, f"lesson {lesson_id} at 1024x768")
            tab.screenshot(path=str(SCREENSHOTS / f"lesson-{lesson_id}.png"))
    finally:
        for tab in tabs.values():
            tab.context.close()
    assert not console_errors, f"browser console errors: {console_errors}"
