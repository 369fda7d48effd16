"""Known future values of the extra inputs: trailing CSV rows without a target feed the forecast."""

from __future__ import annotations

import numpy as np
from data_helpers import csv_bytes

from rnn_core.data import csv_dataset
from rnn_core.forecasting.horizon import closed_loop
from rnn_core.trainer import Trainer


def _rows(n: int = 120, future: int = 10) -> list[list[str]]:
    rows = [["day", "load", "temp"]]
    for i in range(n + future):
        day = str(np.datetime64("2024-01-01") + i)
        temp = f"{20 + 5 * np.sin(i / 9):.3f}"
        load = f"{10 + 0.5 * (20 + 5 * np.sin(i / 9)):.3f}" if i < n else ""
        rows.append([day, load, temp])
    return rows


def test_trailing_rows_with_inputs_only_are_the_known_future():
    ds = csv_dataset(csv_bytes(_rows()), inputs=["temp"], seq_len=10, test_fraction=0)
    assert ds.raw.shape[0] == 120 and ds.future.values.shape == (10, 1)
    np.testing.assert_allclose(ds.future.values[:, 0], 20 + 5 * np.sin(np.arange(120, 130) / 9), atol=1e-3)
    assert any("known future values" in n for n in ds.report["notes"])
    # the forecast reads them: the same as a closed loop given those extras, and not the held one
    tr = Trainer.create(ds, hidden_size=6)
    tr.run(20)
    _, got = tr.forecast(10)
    predict = lambda X: tr.network.forward(X, None, cache=False)[0][:, 0]  # noqa: E731
    fut = np.vstack([ds.raw[:, 1:], ds.future.values])  # extras by row, through the future rows
    ref = closed_loop(
        predict, ds.raw, [119], 10, 10, normalise=ds.normalise, to_raw=ds.to_raw, future_extras=fut
    )
    np.testing.assert_allclose(got, ref[0], rtol=1e-10)
    held = closed_loop(predict, ds.raw, [119], 10, 10, normalise=ds.normalise, to_raw=ds.to_raw)
    assert not np.allclose(got, held[0])


def test_with_a_test_period_the_future_starts_after_it_and_its_inputs_stay_unread():
    ds = csv_dataset(csv_bytes(_rows()), inputs=["temp"], seq_len=10)  # 18 of 120 rows held out
    extras, supplied = ds.forecast_inputs(40)
    assert ds.test.length == 18
    assert not supplied[:18].any() and supplied[18:28].all() and not supplied[28:].any()
    np.testing.assert_array_equal(extras[:18, 0], np.full(18, ds.raw[-1, 1]))  # held through the test
    np.testing.assert_array_equal(extras[18:28], ds.future.values)
    np.testing.assert_array_equal(extras[28:, 0], np.full(12, ds.future.values[-1, 0]))


def test_trailing_rows_without_a_target_are_cut_not_made_up():
    rows = _rows()
    rows[-3][2] = ""  # a future row without its input: not a known future
    ds = csv_dataset(csv_bytes(rows), inputs=["temp"], seq_len=10, test_fraction=0)
    assert ds.future is None and ds.raw.shape[0] == 120
    alone = csv_dataset(csv_bytes(_rows()), seq_len=10, test_fraction=0)  # the target alone
    assert alone.future is None and alone.raw.shape[0] == 120
    assert any("have no load: they are left out" in n for n in alone.report["notes"])
    np.testing.assert_allclose(alone.raw[-1, 0], 10 + 0.5 * (20 + 5 * np.sin(119 / 9)), atol=1e-3)
