"""The Predict page's forecast honesty in Chromium: errors by horizon, the interval band, Score on
test and a real download of the forecast with its interval."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from playwright.sync_api import Page, expect
from test_app_browser import button, metric_value, nav, step_count, wait_until
from test_charts_browser import charts

MONTHS = 240


def _monthly(path: Path) -> Path:
    rng = np.random.default_rng(4)
    lines = ["month,sales"]
    for i in range(MONTHS):
        month = np.datetime64("2000-01") + i
        lines.append(f"{month}-01,{50 + 0.1 * i + 8 * np.sin(2 * np.pi * i / 12) + rng.normal():.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_errors_by_horizon_the_band_and_the_test_period_in_the_browser(page: Page, goto, shot, tmp_path):
    goto()
    nav(page, "Data")
    page.get_by_text("CSV time series", exact=True).click()
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        str(_monthly(tmp_path / "sales.csv"))
    )
    expect(page.get_by_text("Parsed sales.csv", exact=False)).to_be_visible()
    button(page, "Use this data").click()
    expect(page.get_by_text("Now using CSV: sales.csv")).to_be_visible()
    nav(page, "Train")
    button(page, "Start").click()
    wait_until(lambda: step_count(page) >= 150, 60, "150 steps")
    button(page, "Pause").click()
    wait_until(lambda: "paused" in page.get_by_test_id("stSidebar").inner_text(), 30, "the pause")

    nav(page, "Predict")
    titles = lambda: [c["title"] or "" for c in charts(page) if c["drawn"]]  # noqa: E731
    wait_until(lambda: any("Error by horizon (validation)" in t for t in titles()), 30, "the horizon chart")
    band = page.evaluate(
        """() => { const d = [...document.querySelectorAll('.rnn-chart')]
              .find(d => d._fullLayout && d._fullLayout.title.text.includes('forecast'));
            return d.data.filter(t => (t.name || '').includes('interval')).map(t => t.name); }"""
    )
    assert band == ["80% interval (conformal, first 12 steps)"]
    expect(page.get_by_text("last 36 rows", exact=False)).to_be_visible()  # ceil(0.15 * 240) held out

    button(page, "Score on test").click()
    wait_until(lambda: any("Interval coverage (test)" in t for t in titles()), 30, "the test charts")
    coverage = metric_value(page, "Interval coverage")
    assert coverage.endswith("%") and 0 <= float(coverage[:-1]) <= 100
    shot("predict-test")
    forecast = page.evaluate(
        """() => { const d = [...document.querySelectorAll('.rnn-chart')]
              .find(d => d._fullLayout && d._fullLayout.title.text.includes('forecast'));
            return d.data.map(t => t.name); }"""
    )
    assert "actual (test period)" in forecast

    with page.expect_download(timeout=20_000) as info:
        page.get_by_role("button", name="Forecast (CSV)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    with path.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 50  # the default forecast length
    inside = [float(r["lower"]) < float(r["forecast"]) < float(r["upper"]) for r in rows[:12]]
    assert all(inside) and rows[12]["lower"] == ""  # no interval beyond the calibrated horizons
