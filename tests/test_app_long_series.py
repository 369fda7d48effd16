"""A long uploaded series on the Train page: while training runs, the live metric and the
predictions chart score an evenly spaced sample of windows; paused, the metric is exact again."""

import numpy as np
from app_helpers import array_len, chart_titled, click, go, metric_element, open_app, press, session, upload

from dashboard import live
from dashboard.charts import LIVE_PRED_MAX
from dashboard.session import key
from rnn_core.data import csv_dataset

ROWS = 100_000


def long_csv() -> bytes:
    rng = np.random.default_rng(0)
    y = np.sin(0.05 * np.arange(ROWS)) + 0.1 * rng.standard_normal(ROWS)
    return ("value\n" + "\n".join(f"{v:.5f}" for v in y) + "\n").encode()


def test_live_training_on_a_long_series_scores_a_sample_and_pausing_scores_all():
    content = long_csv()
    expected = csv_dataset(content, seq_len=50)  # what the page should build with the defaults
    n_val, n_train = expected.val_windows, expected.train_windows
    assert n_val > 5 * live.LIVE_EVAL_WINDOWS and n_train > 5 * LIVE_PRED_MAX

    at = open_app("data", timeout=120)
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "long.csv", content)
    click(at, "Use this data")
    assert not at.exception
    tr = session(at).trainer
    assert tr.dataset.val_windows == n_val and tr.dataset.train_windows == n_train

    go(at, "train")
    press(at, "start")
    # Evaluations come with the answers to polls now and then, and the chart arrays with them.
    evals = []
    for _ in range(40):
        at.run()
        ev = session(at).run.last_eval
        if ev and ev["step"] > 0 and ev not in evals:
            evals.append(ev)
        if len(evals) >= 2 and tr.answer("pred", "val", LIVE_PRED_MAX) is not None:
            break
    assert not at.exception
    assert session(at).state.mode == "running" and tr.step_count > 0

    # Every evaluation while running was capped, and so were the predictions the chart drew.
    assert evals
    for out in evals:
        assert out["val_windows"] == live.LIVE_EVAL_WINDOWS and out["val_estimate"] is True
    for split in ("train", "val"):
        x, pred, actual = tr.answer("pred", split, LIVE_PRED_MAX) or tr.predictions(split, LIVE_PRED_MAX)
        assert len(x) == len(pred) == len(actual) == LIVE_PRED_MAX, split
    # The chart draws those points, and the metric says that it is an estimate.
    chart = chart_titled(at, "predictions")
    lengths = [array_len(trace["x"]) for trace in chart["data"] if "x" in trace]
    assert lengths and max(lengths) <= LIVE_PRED_MAX
    rmse = metric_element(at, "Validation RMSE")
    assert rmse.value.startswith("≈")
    assert f"{live.LIVE_EVAL_WINDOWS:,} evenly spaced windows of {n_val:,}" in rmse.proto.help

    # Paused: the metric is exact, over every validation window, without the estimate mark.
    press(at, "pause")
    assert not at.exception and session(at).state.mode == "paused"
    last = session(at).run.last_eval
    assert last["step"] == tr.step_count
    assert last["val_windows"] == n_val and last["val_estimate"] is False
    rmse = metric_element(at, "Validation RMSE")
    assert not rmse.value.startswith("≈") and "estimate" not in rmse.proto.help
