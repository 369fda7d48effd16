"""The test period: rows held out at the end that nothing reads until a user asks for them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from data_helpers import csv_bytes
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.config import TrainConfig
from rnn_core.data import build_series_dataset, csv_dataset, sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer


def _series(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.column_stack([np.sin(t / 5) + 0.1 * rng.normal(size=n), np.cos(t / 7)])


def test_the_last_rows_are_held_out_and_the_rest_is_the_whole_dataset():
    values = _series(200)
    ds = build_series_dataset(values, name="s", columns=["a", "b"], seq_len=10, test_fraction=0.15)
    n_test = math.ceil(200 * 0.15)  # 30
    assert ds.test.start == 200 - n_test and ds.test.length == n_test
    held, x = ds.test.rows()
    np.testing.assert_array_equal(held, values[-n_test:])
    np.testing.assert_array_equal(x, np.arange(200 - n_test, 200, dtype=float))
    np.testing.assert_array_equal(ds.raw, values[: 200 - n_test])
    # the same dataset as one built from the first rows alone: windows, split, statistics, baselines
    alone = build_series_dataset(values[: 200 - n_test], name="s", columns=["a", "b"], seq_len=10)
    assert alone.test is None
    for name in (
        "train_X",
        "val_X",
        "train_y",
        "val_y",
        "train_idx",
        "val_idx",
        "input_shift",
        "input_scale",
    ):
        np.testing.assert_array_equal(getattr(ds, name), getattr(alone, name), err_msg=name)
    assert ds.baselines == alone.baselines
    assert "held out as a test period" in ds.report["split"]


def test_a_test_period_is_at_least_its_minimum_and_a_short_series_keeps_none():
    ds = build_series_dataset(_series(60), name="s", columns=["a", "b"], seq_len=5, test_fraction=0.05,
                              test_min_rows=12)  # fmt: skip
    assert ds.test.length == 12  # ceil(60 * 0.05) = 3 is below the minimum
    # 13 rows less ceil(13 * 0.15) = 2 would leave 11, below the 12 one window of each kind needs
    short = build_series_dataset(_series(13), name="s", columns=["a", "b"], seq_len=10, test_fraction=0.15)
    assert short.test is None and short.raw.shape[0] == 13
    assert any("too short to hold out a test period" in n for n in short.report["notes"])


@pytest.mark.parametrize("bad", [-0.1, 0.6, float("nan"), "0.2", True])
def test_an_absurd_test_fraction_is_refused_clearly(bad):
    with pytest.raises(PlaygroundError, match="test fraction must be from 0"):
        build_series_dataset(_series(100), name="s", columns=["a", "b"], seq_len=5, test_fraction=bad)


def test_a_csv_holds_out_fifteen_percent_by_default_and_sine_nothing():
    rows = [["day", "v"]] + [[f"2021-01-{1 + i % 28:02d}", f"{i * 0.5}"] for i in range(100)]
    ds = csv_dataset(csv_bytes(rows), seq_len=5)
    assert ds.test.length == 15 and ds.raw.shape[0] == 85
    assert sine_dataset().test is None


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(40, 160),
    fraction=st.floats(0.05, 0.4),
    seed=st.integers(0, 2**16),
)
def test_changing_the_test_period_changes_nothing_before_it_is_asked_for(n, fraction, seed):
    values = _series(n, seed)
    other = values.copy()
    n_test = max(math.ceil(n * fraction), 1)
    if n - n_test < 12:
        return
    other[-n_test:] = np.random.default_rng(seed + 1).normal(1e3, 1e3, size=(n_test, 2))
    kw = {"name": "s", "columns": ["a", "b"], "seq_len": 5, "test_fraction": fraction}
    a, b = build_series_dataset(values, **kw), build_series_dataset(other, **kw)
    for name in ("raw", "train_X", "val_X", "train_y", "val_y", "input_shift", "input_scale"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.baselines == b.baselines
    # a model trained on each takes the same steps to the last bit, and predicts the same
    train = TrainConfig(seed=seed % 100, batch_size=8)
    ta, tb = (Trainer.create(d, hidden_size=4, train=train) for d in (a, b))
    la = [r["loss"] for r in ta.run(5)]
    lb = [r["loss"] for r in tb.run(5)]
    assert la == lb
    assert ta.evaluate() == tb.evaluate()
    np.testing.assert_array_equal(ta.forecast(4)[1], tb.forecast(4)[1])
