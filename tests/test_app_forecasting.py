"""The Predict page's forecast honesty through streamlit.testing: errors by horizon next to the
simple methods, the interval band, and the test period scored only when asked."""

from __future__ import annotations

import math
import time

import numpy as np
from app_helpers import (
    array_len,
    array_values,
    chart_titled,
    click,
    go,
    metric,
    open_app,
    session,
    trainer,
    upload,
)

from dashboard.session import key

METHODS = {"RNN", "persistence", "seasonal naive", "drift", "training mean", "linear AR"}


def series_csv(n: int = 240) -> bytes:
    """Monthly data with a yearly season and a trend."""
    rng = np.random.default_rng(3)
    lines = ["month,sales"]
    for i in range(n):
        month = np.datetime64("2000-01") + i
        lines.append(f"{month}-01,{50 + 0.2 * i + 8 * np.sin(2 * np.pi * i / 12) + rng.normal():.3f}")
    return ("\n".join(lines) + "\n").encode()


def subheaders(at) -> list[str]:
    return [h.value for h in at.subheader]


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def test_errors_by_horizon_and_the_band_on_the_default_sine():
    at = open_app()
    trainer(at).run(30)
    go(at, "predict")
    assert not at.exception
    assert "Accuracy by horizon" in subheaders(at) and "Test period" in subheaders(at)
    fig = chart_titled(at, "Error by horizon (validation)")
    assert {t["name"] for t in fig["data"]} == METHODS
    assert all(array_len(t["x"]) == 12 for t in fig["data"])  # the default horizon
    tables = [d.value for d in at.dataframe]
    acc = next(t for t in tables if "MASE h=1" in t.columns)
    assert set(acc.index) == METHODS
    assert list(acc["MASE"]) == sorted(acc["MASE"])  # best first
    forecast = chart_titled(at, "forecast")
    band = [t for t in forecast["data"] if "interval" in (t.get("name") or "")]
    assert len(band) == 1 and "80% interval" in band[0]["name"]
    assert array_len(band[0]["x"]) == 12  # the calibrated horizons only
    assert "No test period is held out" in captions(at)

    at.number_input(key=key("fc_horizon")).set_value(5).run()
    at.slider(key=key("fc_level")).set_value(0.9).run()
    assert not at.exception
    fig = chart_titled(at, "Error by horizon (validation)")
    assert all(array_len(t["x"]) == 5 for t in fig["data"])
    band = [t for t in chart_titled(at, "forecast")["data"] if "interval" in (t.get("name") or "")]
    assert "90% interval" in band[0]["name"]


def test_a_csv_test_period_waits_until_scored_and_stays_used():
    at = open_app("data")
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "sales.csv", series_csv())
    click(at, "Use this data")
    assert not at.exception
    ds = session(at).dataset
    assert ds.test.length == math.ceil(0.15 * 240)
    trainer(at).run(40)
    go(at, "predict")
    assert "last **36 rows** are held out" in captions(at)
    forecast = chart_titled(at, "forecast")
    assert not [t for t in forecast["data"] if t.get("name") == "actual (test period)"]

    click(at, "Score on test")
    assert not at.exception
    cov = metric(at, "Interval coverage")
    assert cov.endswith("%") and 0 <= float(cov[:-1]) <= 100
    assert math.isfinite(float(metric(at, "RNN MASE (test)")))
    test_fig = chart_titled(at, "Error by horizon (test)")
    assert {t["name"] for t in test_fig["data"]} == METHODS
    coverage = chart_titled(at, "Interval coverage (test)")
    assert array_len(coverage["data"][0]["y"]) == 12
    # the held-out values appear on the forecast chart, exactly the rows held out
    forecast = chart_titled(at, "forecast")
    [actual] = [t for t in forecast["data"] if t.get("name") == "actual (test period)"]
    held, _ = ds.test.rows()
    np.testing.assert_allclose(array_values(actual["y"]), held[:, 0].astype(np.float32), rtol=1e-6)

    # used stays used: other pages, another validation share, a new model
    go(at, "data")
    at.slider(key=key("csv_val")).set_value(0.3).run()
    click(at, "Use this data")
    go(at, "predict")
    assert not at.exception
    assert "have been scored for this data already" in captions(at)


def test_a_trending_csv_gets_a_transform_suggested_and_the_model_learns_in_it():
    at = open_app("data")
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "sales.csv", series_csv())
    click(at, "Use this data")
    advice = " ".join(i.value for i in at.info)
    assert "Try the target transform" in advice
    at.selectbox(key=key("csv_transform")).set_value("diff").run()
    click(at, "Use this data")
    assert not at.exception
    ds = session(at).dataset
    assert ds.transform.name == "diff" and "change of the target from row to row" in ds.report["split"]
    trainer(at).run(30)
    go(at, "predict")
    assert not at.exception
    # predictions come back in original units: near the series, not near its row-to-row changes
    forecast = chart_titled(at, "forecast")
    [one_step] = [t for t in forecast["data"] if t.get("name") == "one-step (validation)"]
    assert np.median(array_values(one_step["y"])) > 50


def test_downloads_and_a_backtest_from_the_predict_page():
    at = open_app("data")
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "sales.csv", series_csv())
    click(at, "Use this data")
    trainer(at).run(20)
    go(at, "predict")
    labels = {d.label for d in at.get("download_button")}
    assert {"Predictions (CSV)", "Forecast (CSV)", "Errors by horizon (CSV)"} <= labels
    at.number_input(key=key("bt_folds")).set_value(3).run()
    at.number_input(key=key("bt_steps")).set_value(20).run()
    click(at, "Run backtest")
    assert not at.exception
    deadline = time.monotonic() + 90
    while not session(at).backtest.over and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    at.run()
    job = session(at).backtest
    assert job.over and job.done == 3
    fig = chart_titled(at, "Error by horizon (backtest)")
    assert {t["name"] for t in fig["data"]} == METHODS
    assert chart_titled(at, "Interval coverage (backtest)")  # folds 2 and 3, calibrated on the ones before
    table = next(
        d.value for d in at.dataframe if "MASE h=1" in d.value.columns and "±" in str(d.value.iloc[0, 0])
    )
    assert set(table.index) == METHODS
    assert "Download the backtest (CSV)" in {d.label for d in at.get("download_button")}
