"""The live charts in the browser: updated in place while training, zooms kept, no errors.

Every chart of the app is drawn by its own chart element (``dashboard.plot``), which keeps one
plotly plot per chart and updates it with ``Plotly.react``. These tests read the plots through
plotly's own state on the chart's ``<div>`` (``_fullLayout``) and zoom through plotly's own
``relayout`` or a real mouse drag, as a user would. The ``page`` fixture fails a test on any
console error or uncaught page error.
"""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect
from test_app_browser import button, step_count, wait_until

CHARTS_JS = """() => [...document.querySelectorAll('.rnn-chart')].map(d => {
  const full = d._fullLayout;
  const svg = d.querySelector('.main-svg');
  const box = svg ? svg.getBoundingClientRect() : null;
  return {
    title: full ? full.title.text : null,
    x: full ? full.xaxis.range.slice() : null,
    y: full ? full.yaxis.range.slice() : null,
    revision: d.dataset.revision || null,
    error: d.dataset.error || null,
    drawn: !!(box && box.width > 50 && box.height > 50),
  };
})"""
"""Each chart on the page: title, axis ranges, the revision of the figure shown, any error."""

TRAIN_CHARTS = 4


def charts(page: Page) -> list[dict]:
    return page.evaluate(CHARTS_JS)


def chart(page: Page, title_part: str) -> dict:
    [found] = [c for c in charts(page) if c["title"] and title_part in c["title"]]
    return found


def relayout(page: Page, title_part: str, update: dict) -> None:
    page.evaluate(
        """([part, update]) => {
          const d = [...document.querySelectorAll('.rnn-chart')]
            .find(d => d._fullLayout && d._fullLayout.title.text.includes(part));
          return window.Plotly.relayout(d, update);
        }""",
        [title_part, update],
    )


def wait_charts(page: Page, n: int = TRAIN_CHARTS) -> None:
    wait_until(lambda: sum(c["drawn"] for c in charts(page)) >= n, 30, f"{n} charts drawn")


def wait_updates(page: Page, title_part: str, times: int, timeout: float = 30) -> None:
    """Wait until the chart titled ``title_part`` has shown ``times`` new figures."""
    seen = {chart(page, title_part)["revision"]}

    def more():
        seen.add(chart(page, title_part)["revision"])
        return len(seen) > times

    wait_until(more, timeout, f"{times} updates of the {title_part!r} chart")


def test_a_zoom_survives_training_stepping_and_pausing(page: Page, goto):
    goto()
    wait_charts(page)
    x0, x1 = chart(page, "predictions")["x"]
    zoom = [x0 + 0.25 * (x1 - x0), x0 + 0.5 * (x1 - x0)]
    relayout(page, "predictions", {"xaxis.range": zoom})
    assert chart(page, "predictions")["x"] == zoom

    button(page, "Start").click()
    start = wait_until(lambda: step_count(page) > 0 and step_count(page), 30, "training to start")
    wait_until(lambda: step_count(page) >= start + 30, 60, "30 more steps")
    wait_updates(page, "predictions", 2)
    assert chart(page, "predictions")["x"] == zoom

    button(page, "Pause").click()
    sidebar = page.get_by_test_id("stSidebar")
    wait_until(lambda: "paused" in sidebar.inner_text(), 30, "the pause")
    expect(button(page, "Step")).to_be_enabled()
    before = step_count(page)
    shown = chart(page, "predictions")["revision"]
    button(page, "Step").click()
    wait_until(lambda: step_count(page) > before, 30, "the step")
    wait_until(lambda: chart(page, "predictions")["revision"] != shown, 30, "the step's predictions")
    assert chart(page, "predictions")["x"] == zoom


def test_while_training_every_chart_stays_drawn_takes_hover_and_drag_and_keeps_a_zoom(
    page: Page, goto, console_errors
):
    goto()
    wait_charts(page)
    button(page, "Start").click()
    wait_updates(page, "Loss", 1)

    # Every chart is on the page at every moment of training...
    first = {c["title"]: c["revision"] for c in charts(page)}
    missing, revisions = [], set()
    for i in range(100):
        now = charts(page)
        drawn = [c for c in now if c["drawn"]]
        if len(drawn) < TRAIN_CHARTS:
            missing.append((i, [c["title"] for c in drawn]))
        revisions.update((c["title"], c["revision"]) for c in now)
        time.sleep(0.05)
    assert missing == []
    # ...and they were updating meanwhile, not frozen
    assert len(revisions) > len(first) + 3, revisions

    # Hovering and dragging every chart while updates arrive throws nothing.
    areas = page.locator(".rnn-chart .nsewdrag")
    assert areas.count() >= TRAIN_CHARTS
    for i in range(areas.count()):
        box = areas.nth(i).bounding_box()
        if box is None:
            continue
        left, mid = box["x"] + 0.2 * box["width"], box["y"] + box["height"] / 2
        for k in range(6):  # hover across the plot while updates arrive
            page.mouse.move(left + k * 0.1 * box["width"], mid)
            time.sleep(0.08)
        page.mouse.down()
        page.mouse.move(left + 0.5 * box["width"], mid + 0.1 * box["height"], steps=6)
        page.mouse.up()
        page.mouse.dblclick(left + 0.3 * box["width"], mid)  # reset the zoom just taken
    wait_updates(page, "Loss", 2)
    assert [c["error"] for c in charts(page) if c["error"]] == []
    assert console_errors == []

    # A drag zoom on the loss chart takes and stays while training goes on.
    area = page.locator(".rnn-chart").filter(has_text="Loss").locator(".nsewdrag").first
    box = area.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.3 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], y, steps=10)
    page.mouse.up()
    zoomed = wait_until(lambda: chart(page, "Loss")["x"], 5, "the zoom")
    wait_updates(page, "Loss", 3)
    # The loss chart's x-axis grows with every step unless the user's zoom holds it.
    assert chart(page, "Loss")["x"] == zoomed


def test_a_chart_leaving_the_page_is_not_resized(page: Page, goto, console_errors: list[str]):
    """A page switch or a rerun takes a drawn chart off the page, and its size drops to nothing
    on the way out: resizing it then makes plotly reject, an uncaught error in the console."""
    goto()
    wait_charts(page)
    page.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll('.rnn-chart')].filter(d => d._fullLayout);
          boxes[0].remove();
          boxes[1].parentElement.style.display = 'none';
        }"""
    )
    page.wait_for_timeout(600)
    assert console_errors == []
