"""The app as a user sees it, in headless Chromium: train live, pause, upload a CSV, sample text.

Each test gets a fresh browser context, i.e. a fresh Streamlit session, from the fixtures in
``conftest.py``; navigation inside a test uses the sidebar (a new URL would be a new session).
Conditions are polled with deadlines rather than fixed sleeps, and no test asserts on speed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
README_SHOT = ROOT / "docs" / "screenshot.png"
# The README's picture is refreshed only on request, so a test run leaves the work tree clean.
UPDATE_README_SHOT = os.environ.get("UPDATE_README_SCREENSHOT") == "1"


def metric_value(page: Page, label: str) -> str:
    box = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").filter(has_text=re.compile(f"^{re.escape(label)}$"))
    )
    # While a run replaces the page's elements the old tile may still show beside the new one:
    # read the number once there is one tile again (two that stay are a failure).
    wait_until(lambda: box.count() == 1, 10, f"one {label!r} tile")
    return box.get_by_test_id("stMetricValue").inner_text().strip()


def step_count(page: Page) -> int:
    return int(metric_value(page, "Step").replace(",", ""))


def number(text: str) -> float:
    return float(text.replace(",", "").replace("−", "-"))


def wait_until(condition, timeout: float, what: str, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def button(page: Page, label: str):
    return page.get_by_role("button", name=label, exact=True)


def nav(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()


def test_start_trains_live_and_pause_stops(page: Page, goto, shot):
    goto()
    expect(page.get_by_role("heading", name="Train", level=1)).to_be_visible()
    expect(button(page, "Start")).to_be_enabled()
    assert step_count(page) == 0
    first_loss = number(metric_value(page, "Training loss"))
    shot("landing")

    button(page, "Start").click()
    wait_until(lambda: step_count(page) >= 60, 30, "the Step metric to pass 60")
    seen = [step_count(page)]
    wait_until(lambda: step_count(page) > seen[0], 10, "the Step metric to keep rising")
    wait_until(
        lambda: number(metric_value(page, "Training loss")) < first_loss / 3,
        30,
        f"the training loss to fall well below its start ({first_loss})",
    )
    shot("training")

    button(page, "Pause").click()
    expect(button(page, "Start")).to_be_enabled()
    time.sleep(1.0)  # let the last tick land
    stopped = step_count(page)
    time.sleep(1.5)
    assert step_count(page) == stopped, "steps kept coming after Pause"
    assert stopped > 0
    status = page.get_by_test_id("stSidebar").inner_text()
    assert f"Step {stopped:,}" in status and "paused" in status

    # The README's picture: the whole Train page with all four live panels.
    page.set_viewport_size({"width": 1440, "height": 1480})
    page.mouse.move(5, 990)  # away from the charts, so no tool bar or hover label shows
    time.sleep(0.5)
    picture = shot("paused")
    if UPDATE_README_SHOT:
        shutil.copyfile(picture, README_SHOT)


def test_the_first_page_fetches_its_chart_code_ahead(page: Page, goto):
    """The page's HTML names plotly's bundle for preloading, and the browser fetched it from that
    link, not from the chart's own import (which comes after the page's script has run)."""
    goto()
    expect(page.locator(".rnn-chart .main-svg").first).to_be_visible()
    fetched = page.evaluate(
        "performance.getEntriesByType('resource')"
        ".filter(e => /[/]PlotlyChart[.][^/]*[.]js$/.test(e.name)).map(e => e.initiatorType)"
    )
    # One fetch, from the link (the chart's import took the preloaded module; Chromium reports a
    # module preload as "other", an import as "script").
    assert len(fetched) == 1 and fetched[0] != "script", fetched


CUT_TEXT = """els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""
"""Texts among the given elements that the page cuts short (ellipsis or overflow)."""


def test_step_reset_and_download(page: Page, goto):
    page.set_viewport_size({"width": 1024, "height": 768})  # a projector
    goto()
    button(page, "Step").click()
    wait_until(lambda: step_count(page) == 1, 10, "one step")
    # every control and number stays readable, not shortened to "S", "P" or "1…"
    main = page.get_by_test_id("stMain")
    labels = main.get_by_role("button").evaluate_all(CUT_TEXT)
    labels += main.get_by_role("button").locator("p").evaluate_all(CUT_TEXT)
    values = main.get_by_test_id("stMetricValue").locator("div").evaluate_all(CUT_TEXT)
    assert not labels and not values, (labels, values)
    button(page, "Step ×N").click()
    wait_until(lambda: step_count(page) == 101, 20, "Step ×100 to finish")
    button(page, "Reset").click()
    wait_until(lambda: step_count(page) == 0, 10, "Reset to bring the step count back to 0")

    # The weights download is built when clicked; it must be a real .npz (a zip archive).
    nav(page, "Model")
    with page.expect_download() as info:
        page.get_by_role("button", name="Weights (.npz)").click()
    path = info.value.path()
    assert info.value.suggested_filename.endswith(".npz")
    assert Path(path).read_bytes()[:2] == b"PK"


def test_upload_csv_and_train_on_it(page: Page, goto, shot, tmp_path: Path):
    rows = ["date,sales,price"]
    for i in range(160):
        day = f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}"
        rows.append(f"{day},{100 + 10 * ((i % 7) - 3)},{2 + (i % 5) / 10}")
    csv = tmp_path / "shop.csv"
    csv.write_text("\n".join(rows) + "\n")

    goto()
    nav(page, "Data")
    page.get_by_text("CSV time series", exact=True).click()
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(csv))
    expect(page.get_by_text("Parsed shop.csv", exact=False)).to_be_visible()
    button(page, "Use this data").click()
    # The sidebar, read in the very frame where the notice first shows, already names the new
    # data (it used to show the previous source until the page's previews were drawn).
    sidebar_then = page.wait_for_function(
        """() => document.body.innerText.includes("Now using CSV: shop.csv")
            && document.querySelector('[data-testid="stSidebar"]').innerText""",
        polling="raf",
    ).json_value()
    assert "CSV: shop.csv" in sidebar_then and "Sine" not in sidebar_then, sidebar_then
    expect(page.get_by_text("Now using CSV: shop.csv")).to_be_visible()
    shot("csv")

    nav(page, "Train")
    button(page, "Step").click()
    wait_until(lambda: step_count(page) == 1, 10, "a step on the CSV data")
    assert "shop.csv" in page.get_by_test_id("stSidebar").inner_text()


def test_bad_csv_is_refused_with_a_message(page: Page, goto, tmp_path: Path):
    bad = tmp_path / "names.csv"
    bad.write_text("name,city\nada,london\nalan,wilmslow\n")
    goto()
    nav(page, "Data")
    page.get_by_text("CSV time series", exact=True).click()
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(bad))
    expect(page.get_by_test_id("stAlertContentError").filter(has_text="names.csv")).to_be_visible()
    assert "Sine" in page.get_by_test_id("stSidebar").inner_text()


def test_switch_to_text_train_and_sample(page: Page, goto, shot):
    goto()
    nav(page, "Data")
    page.get_by_text("Text", exact=True).click()
    button(page, "Use this data").click()
    expect(page.get_by_text(re.compile("^Now using Text"))).to_be_visible()

    nav(page, "Train")
    expect(page.get_by_test_id("stMetricLabel").filter(has_text="Validation bits/char")).to_be_visible()
    button(page, "Step ×N").click()
    wait_until(lambda: step_count(page) >= 100, 30, "100 text steps")
    shot("text-train")

    nav(page, "Predict")
    page.get_by_role("textbox", name="Priming text").fill("The")
    page.get_by_role("textbox", name="Priming text").press("Enter")
    button(page, "Sample").click()
    sample = page.get_by_test_id("stCode").first
    expect(sample).to_contain_text("The")
    assert len(sample.inner_text().strip()) > 50
    shot("text-sample")


def test_each_browser_session_has_its_own_model(page: Page, goto, browser, app_url: str):
    goto()
    button(page, "Start").click()
    wait_until(lambda: step_count(page) > 20, 30, "training in the first session")

    other = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        second = other.new_page()
        second.goto(app_url)
        expect(second.get_by_role("button", name="Start", exact=True)).to_be_enabled(timeout=20_000)
        assert step_count(second) == 0
        assert "paused" in second.get_by_test_id("stSidebar").inner_text()
    finally:
        other.close()
    assert step_count(page) > 20
    button(page, "Pause").click()
