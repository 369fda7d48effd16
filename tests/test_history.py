"""History: growing columns, downsampling for charts, CSV export."""

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_core.history import History, Table, downsample_indices


def _step_row(i: int) -> dict:
    return {
        "step": i,
        "epoch": i / 4,
        "loss": 1.0 / i,
        "grad_norm": 2.0 * i,
        "clipped": i % 2 == 0,
        "clip_scale": 1.0,
        "update_ratio": 1e-3,
        "seconds": 0.001,
        "lr": 0.01,
        "diverged": False,
        "grad_norms": {"rnn.weight_hh_l0": float(i), "head.bias": 0.5},
    }


def test_table_grows_by_doubling_and_keeps_every_value():
    t = Table(("a",), capacity=2)
    for i in range(37):
        t.append({"a": i})
    assert len(t) == 37
    np.testing.assert_array_equal(t["a"], np.arange(37.0))
    assert t._capacity == 64  # 2 -> 4 -> ... -> 64, amortised growth


def test_new_column_is_nan_in_earlier_rows_and_missing_cells_are_nan():
    t = Table(("a",), capacity=4)
    t.append({"a": 1})
    t.append({"a": 2, "b": 5})
    t.append({"b": 6})
    assert math.isnan(t["b"][0]) and t["b"][1] == 5
    assert math.isnan(t["a"][2])


def test_columns_are_read_only_views():
    t = Table(("a",))
    t.append({"a": 1})
    with pytest.raises(ValueError):
        t["a"][0] = 3


def test_record_step_spreads_grad_norms_and_booleans():
    h = History(capacity=1)
    for i in range(1, 6):
        h.record_step(_step_row(i))
    assert len(h) == 5
    np.testing.assert_allclose(h["loss"], [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    np.testing.assert_array_equal(h["clipped"], [0, 1, 0, 1, 0])
    assert set(h.grad_norm_columns) == {"grad_norm/rnn.weight_hh_l0", "grad_norm/head.bias"}
    np.testing.assert_array_equal(h["grad_norm/rnn.weight_hh_l0"], [1, 2, 3, 4, 5])


def test_record_eval_skips_nested_and_non_numeric():
    h = History()
    h.record_eval(0, {"val_loss": 0.5, "baselines": {"x": 1.0}, "note": "hi", "flag": True})
    assert h.evals.columns == ["step", "val_loss", "flag"]  # booleans are kept, as 0/1
    assert h.evals["val_loss"][0] == 0.5 and h.evals["flag"][0] == 1.0


@given(n_rows=st.integers(0, 3000), n=st.integers(2, 500))
def test_downsample_indices_keep_first_and_last(n_rows, n):
    idx = downsample_indices(n_rows, n)
    assert len(idx) == min(n_rows, n)
    if n_rows:
        assert idx[0] == 0 and idx[-1] == n_rows - 1
        assert np.all(np.diff(idx) > 0)


def test_downsample_returns_step_column_and_at_most_n_points():
    h = History()
    for i in range(1, 1001):
        h.record_step(_step_row(i))
    d = h.downsample(100, columns=["loss"])
    assert set(d) == {"step", "loss"}
    assert len(d["step"]) == 100
    assert d["step"][0] == 1 and d["step"][-1] == 1000
    np.testing.assert_allclose(d["loss"], 1.0 / d["step"])
    assert len(h.downsample(5000)["loss"]) == 1000


def test_to_csv_joins_evaluations_by_step():
    h = History()
    h.record_eval(0, {"val_loss": 0.9})
    for i in range(1, 4):
        h.record_step(_step_row(i))
    h.record_eval(2, {"val_loss": 0.4, "val_rmse": 0.2})
    rows = list(csv.DictReader(io.StringIO(h.to_csv())))
    assert [r["step"] for r in rows] == ["0", "1", "2", "3"]
    assert rows[0]["val_loss"] == "0.9" and rows[0]["loss"] == ""
    assert rows[2]["val_rmse"] == "0.2" and float(rows[2]["loss"]) == pytest.approx(0.5)
    assert rows[3]["val_loss"] == ""
    assert "grad_norm/head.bias" in rows[0]


def test_copy_is_independent_and_truncate_rewinds():
    h = History()
    for i in range(1, 11):
        h.record_step(_step_row(i))
        if i % 5 == 0:
            h.record_eval(i, {"val_loss": i})
    c = h.copy()
    h.truncate_to_step(5)
    assert len(h) == 5 and len(h.evals) == 1
    assert len(c) == 10 and len(c.evals) == 2
    h.record_step(_step_row(6))
    assert h["step"][-1] == 6 and c["loss"][5] == pytest.approx(1 / 6)


def test_a_long_history_stays_bounded_and_keeps_recent_rows_whole():
    from rnn_core.history import Table

    t = Table(("step",), capacity=8, max_rows=100)
    for i in range(1, 1001):
        t.append({"step": i})
    steps = t["step"]
    assert len(t) <= 100
    assert steps[-1] == 1000 and steps[0] == 1  # the first and the newest rows survive
    assert np.all(np.diff(steps) > 0)
    tail = steps[-40:]
    np.testing.assert_array_equal(tail, np.arange(961, 1001))  # the recent rows at full resolution
    assert np.diff(steps[:10]).min() >= 2  # the oldest ones thinned
