"""The through-time views in Chromium: drawn under the live panels, updated live while training,
closed by their toggle."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from test_app_browser import button, step_count, wait_until
from test_charts_browser import chart, charts, wait_charts, wait_updates

VIEWS = ("Gradient through time", "Gradient reach over training", "Memory: what the prediction looks back at",
         "Recurrent spectrum, layer 0", "State trajectory, layer 0",
         "Spectrum and step Jacobian over training")  # fmt: skip

REACH_ROWS_JS = """() => {
  const d = [...document.querySelectorAll('.rnn-chart')]
    .find(d => d._fullLayout && d._fullLayout.title.text === 'Gradient reach over training');
  return d && d._fullData.length ? d._fullData[0].y.length : 0;
}"""


def test_the_through_time_views_update_live_and_close(page: Page, goto, shot):
    goto()
    wait_charts(page)
    page.get_by_text("Through time: gradients, memory, spectrum").click()
    wait_charts(page, 10)
    titles = [c["title"] for c in charts(page)]
    assert all(v in titles for v in VIEWS), titles
    assert all(c["error"] is None for c in charts(page))
    page.get_by_text("Gradient through time", exact=True).first.scroll_into_view_if_needed()
    shot("paused")

    button(page, "Start").click()
    wait_until(lambda: step_count(page) > 0, 30, "training to start")
    for title in ("Gradient through time", "State trajectory", "Recurrent spectrum"):
        wait_updates(page, title, 2, timeout=40)  # redrawn from new measurements, in place
    wait_until(lambda: page.evaluate(REACH_ROWS_JS) >= 3, 40, "three rows of the reach over training")
    assert chart(page, "Memory: what")["drawn"]
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Memory span")).to_be_visible()
    page.get_by_text("Gradient reach over training", exact=True).first.scroll_into_view_if_needed()
    shot("training")
    button(page, "Pause").click()

    page.get_by_text("Through time: gradients, memory, spectrum").click()
    wait_until(lambda: not any(c["title"] in VIEWS for c in charts(page)), 20, "the views to close")
    assert len([c for c in charts(page) if c["drawn"]]) == 4
