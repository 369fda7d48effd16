"""The Compare page's sweep in Chromium: started from the page, progress, summary, rows."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
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


LOSS_TRACES_JS = """() => {
  const d = [...document.querySelectorAll('.rnn-chart')]
    .find(d => d._fullLayout && d._fullLayout.title.text.startsWith('Loss, run by run'));
  return d ? Object.fromEntries(d._fullData.map(t => [t.name, t.x.length])) : {};
}"""

PRED_TRACES_JS = """() => {
  const d = [...document.querySelectorAll('.rnn-chart')]
    .find(d => d._fullLayout && d._fullLayout.title.text.startsWith('Validation predictions'));
  return d ? d._fullData.map(t => t.name) : [];
}"""


def test_an_rnn_and_an_lstm_train_live_overlaid_and_one_moves_to_train(page: Page, goto, shot, tmp_path):
    import numpy as np

    goto()
    nav(page, "Compare")
    expect(page.get_by_role("combobox", name="Run 2 changes")).to_be_visible()
    button(page, "Start").click()
    expect(button(page, "Pause")).to_be_enabled()

    def trained(n):
        traces = page.evaluate(LOSS_TRACES_JS)
        done = traces.get("Run 1 training", 0) >= n and traces.get("Run 2 training", 0) >= n
        return traces if done else None

    first = wait_until(lambda: trained(10), 60, "both runs' curves")
    later = wait_until(lambda: (t := trained(10)) and t != first and t, 30, "the curves to move")
    assert {"Run 1 validation", "Run 2 validation"} <= set(later)
    assert page.evaluate(PRED_TRACES_JS) == ["actual", "Run 1", "Run 2"]
    shot("training")

    button(page, "Pause").click()
    expect(button(page, "Start")).to_be_enabled()
    # The page's run after Pause draws the buttons again: click once it has ended, as a user would.
    wait_until(lambda: not page.get_by_test_id("stStatusWidgetRunningIcon").count(), 20, "the run")
    download = None
    for _ in range(3):  # a click that lands while a rerun replaces the button is clicked again
        try:
            with page.expect_download(timeout=8_000) as info:
                button(page, "Run 1 weights").click()
            download = info.value
            break
        except PlaywrightTimeoutError:
            wait_until(lambda: not page.get_by_test_id("stStatusWidgetRunningIcon").count(), 20, "the run")
    assert download is not None, "the weights download never arrived"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with np.load(path, allow_pickle=False) as z:
        assert "rnn.weight_hh_l0" in z.files  # a real weights file, not an empty download
    shot("paused")

    button(page, "Use Run 2 on Train").click()
    expect(page.get_by_text("Run 2 (cell lstm) is now the Train page's model")).to_be_visible()
    nav(page, "Train")
    expect(page.get_by_test_id("stSidebar").get_by_text("LSTM", exact=False).first).to_be_visible()
    shot("promoted")
