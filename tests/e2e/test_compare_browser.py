"""The Compare page's sweep in Chromium: started from the page, progress, summary, rows."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from test_app_browser import button, nav, wait_until

TITLES_JS = "() => [...document.querySelectorAll('.rnn-chart')].map(d => d._fullLayout.title.text)"


def test_a_sweep_started_from_the_page_shows_progress_and_its_summary(page: Page, goto, shot):
    goto()
    nav(page, "Compare")
    steps = page.get_by_role("spinbutton", name="Steps per run")
    steps.fill("60")
    steps.press("Enter")
    page.get_by_role("textbox", name="Values 1").fill("rnn, lstm")
    page.get_by_role("textbox", name="Values 1").press("Enter")
    button(page, "Start sweep").click()
    expect(page.get_by_text("runs finished (running)")).to_be_visible()
    wait_until(lambda: page.get_by_text("4 of 4 runs finished (finished)").count() > 0, 120, "the sweep")
    expect(page.locator(".rnn-chart .main-svg").first).to_be_visible()
    titles = page.evaluate(
        "() => [...document.querySelectorAll('.rnn-chart')].map(d => d._fullLayout.title.text)"
    )
    assert titles == ["Sweep: validation RMSE by cell"]
    bars = page.evaluate("() => document.querySelector('.rnn-chart')._fullData.map(t => t.x)")
    assert bars == [["rnn", "lstm"]]
    tables = page.get_by_test_id("stDataFrame")
    wait_until(lambda: tables.count() == 1, 10, "the one table of rows")
    expect(tables).to_be_visible()
    expect(button(page, "Download the rows (CSV)")).to_be_visible()
    expect(button(page, "Start sweep")).to_be_enabled()
    shot("finished")
