"""Multi-step forecasts from many origins: the simple methods on series they forecast exactly, the
closed loop against a plain per-origin loop (and the network's own forecast), errors by horizon
by hand, and that no forecast from origin ``o`` reads a row after it (poisoned with NaN)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.data import build_series_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.benchmarks import (
    fit_linear_ar_rows,
    linear_ar_closed_loop,
    linear_ar_predictor,
    simple_forecasts,
)
from rnn_core.forecasting.horizon import actuals, closed_loop, errors_by_horizon, origins_in
from rnn_core.forecasting.metrics import MaseScale
from rnn_core.tasks.series import SeriesTask

# ---------------------------------------------------------------- simple methods


def test_seasonal_naive_forecasts_a_repeating_pattern_exactly():
    pattern = np.array([5.0, 1.0, 4.0, 2.0, 8.0, 3.0, 7.0])
    y = np.tile(pattern, 12)  # (84,)
    origins = np.arange(6, 60)
    H = 17  # more than two seasons ahead
    got = simple_forecasts(y, origins, H, season=7, train_end=6)["seasonal_naive"]
    expected = np.array([[y[o + h] for h in range(1, H + 1)] for o in origins])
    np.testing.assert_array_equal(got, expected)


def test_drift_forecasts_a_straight_line_exactly_from_history_start():
    t = np.arange(60, dtype=float)
    y = 3.0 + 0.5 * t
    y[:10] = -99.0  # before history_start: must not be used
    got = simple_forecasts(y, np.arange(20, 50), 5, season=1, history_start=10, train_end=20)
    expected = np.array([[3.0 + 0.5 * (o + h) for h in range(1, 6)] for o in range(20, 50)])
    np.testing.assert_allclose(got["drift"], expected, rtol=0, atol=1e-12)


def test_persistence_mean_and_drift_by_plain_loops():
    y = np.random.default_rng(4).normal(size=40).cumsum()
    origins, H, s, train_end = np.array([12, 20, 33]), 4, 5, 12
    got = simple_forecasts(y, origins, H, season=3, history_start=s, train_end=train_end)
    train_mean = sum(y[s : train_end + 1]) / (train_end + 1 - s)
    for b, o in enumerate(origins):
        for h in range(1, H + 1):
            assert got["persistence"][b, h - 1] == y[o]
            assert got["mean"][b, h - 1] == pytest.approx(train_mean)
            assert got["drift"][b, h - 1] == pytest.approx(y[o] + h * (y[o] - y[s]) / (o - s))
            k = (h - 1) % 3 + 1  # seasonal naive: the same phase of the last full season
            assert got["seasonal_naive"][b, h - 1] == y[o - 3 + k]


def test_simple_forecasts_refuse_origins_that_would_see_the_future_or_lack_history():
    y = np.arange(50.0)
    with pytest.raises(PlaygroundError, match="after the earliest origin"):
        simple_forecasts(y, [10, 20], 3, season=1, train_end=15)
    with pytest.raises(PlaygroundError, match="one season"):
        simple_forecasts(y, [5, 20], 3, season=12, train_end=5)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(30, 80),
    origin_share=st.floats(0.3, 0.95),
    H=st.integers(1, 15),
    m=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_simple_forecasts_never_read_rows_after_the_origin(n, origin_share, H, m, seed):
    y = np.random.default_rng(seed).normal(size=n)
    o = max(int(origin_share * (n - 1)), m + 2)
    s = 2
    clean = simple_forecasts(y, [o], H, season=m, history_start=s, train_end=o - 1)
    poisoned = y.copy()
    poisoned[o + 1 :] = np.nan
    dirty = simple_forecasts(poisoned, [o], H, season=m, history_start=s, train_end=o - 1)
    for name, values in clean.items():
        assert np.all(np.isfinite(dirty[name])), name
        np.testing.assert_array_equal(dirty[name], values, err_msg=name)


# ---------------------------------------------------------------- closed loop


def _linear_model(T, C, seed=0):
    """A one-step model written here: a fixed linear map of the whole normalised window."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(0, 0.3, size=(T, C))
    bias = 0.05

    def predict(X):  # (T, B, C) -> (B,)
        return np.einsum("tbc,tc->b", X, weights) + bias

    return predict


def _normalisers(shift, scale):
    return (lambda rows: (np.asarray(rows) - shift) / scale), (lambda v: np.asarray(v) * scale[0] + shift[0])


def _reference_loop(predict, raw, o, T, H, shift, scale, future_extras=None):
    """One origin at a time, in original units, re-normalising the whole window every step."""
    rows = [raw[i].copy() for i in range(o - T + 1, o + 1)]
    out = []
    for h in range(1, H + 1):
        window = (np.array(rows[-T:]) - shift) / scale  # (T, C)
        value = float(predict(window[:, None, :])[0]) * scale[0] + shift[0]
        out.append(value)
        row = rows[-1].copy()
        row[0] = value
        if future_extras is not None:
            row[1:] = future_extras[o + h]
        rows.append(row)
    return out


@pytest.mark.parametrize("with_future", [False, True])
def test_closed_loop_equals_a_per_origin_loop(with_future):
    rng = np.random.default_rng(1)
    N, C, T, H = 90, 3, 6, 7
    raw = np.column_stack([10 + rng.normal(size=N).cumsum(), 5 + rng.normal(size=N), rng.normal(size=N)])
    shift, scale = raw[:50].mean(axis=0), raw[:50].std(axis=0)
    normalise, to_raw = _normalisers(shift, scale)
    predict = _linear_model(T, C)
    origins = np.arange(T - 1, N - H)
    future = raw[:, 1:] if with_future else None
    calls = []

    def counted(X):
        calls.append(X.shape)
        return predict(X)

    got = closed_loop(counted, raw, origins, T, H, normalise=normalise, to_raw=to_raw, future_extras=future)
    assert got.shape == (origins.size, H)
    assert calls == [(T, origins.size, C)] * H  # one batched call per horizon step
    expected = np.array([_reference_loop(predict, raw, o, T, H, shift, scale, future) for o in origins])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


class _LinearNetwork:
    """Just enough of a network for SeriesTask.forecast: ``forward(x (T, B, C)) -> (B, 1)``."""

    def __init__(self, predict):
        self.predict = predict

    def forward(self, x, h0, cache=False):
        return self.predict(x)[:, None], None, None


def test_closed_loop_from_the_last_row_is_the_networks_forecast():
    rng = np.random.default_rng(2)
    N, T, H = 80, 5, 12
    raw = np.column_stack([np.sin(np.arange(N) / 3) + 0.1 * rng.normal(size=N), rng.normal(size=N)])
    ds = build_series_dataset(raw, name="t", columns=["y", "x"], seq_len=T)
    predict = _linear_model(T, 2, seed=3)
    _, expected = SeriesTask(ds, batch_size=8).forecast(_LinearNetwork(predict), H)
    got = closed_loop(predict, ds.raw, [N - 1], T, H, normalise=ds.normalise, to_raw=ds.to_raw)
    np.testing.assert_allclose(got[0], expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(origin=st.integers(4, 58), H=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_closed_loop_never_reads_rows_after_the_origin(origin, H, seed):
    rng = np.random.default_rng(seed)
    N, T = 60, 5
    raw = rng.normal(size=(N, 2))
    normalise, to_raw = _normalisers(np.array([0.3, -0.2]), np.array([1.5, 0.7]))
    predict = _linear_model(T, 2, seed)
    origins = np.array([T - 1, origin])
    clean = closed_loop(predict, raw, origins, T, H, normalise=normalise, to_raw=to_raw)
    poisoned = raw.copy()
    poisoned[origin + 1 :] = np.nan
    dirty = closed_loop(predict, poisoned, [origin], T, H, normalise=normalise, to_raw=to_raw)
    assert np.all(np.isfinite(dirty))
    np.testing.assert_array_equal(dirty[0], clean[1])
    # with known future extras only the target column after the origin must stay unread
    target_poisoned = raw.copy()
    target_poisoned[origin + 1 :, 0] = np.nan
    future = np.vstack([raw[:, 1:], np.zeros((H, 1))])
    a = closed_loop(predict, raw, [origin], T, H, normalise=normalise, to_raw=to_raw, future_extras=future)
    b = closed_loop(
        predict, target_poisoned, [origin], T, H, normalise=normalise, to_raw=to_raw, future_extras=future
    )
    np.testing.assert_array_equal(a, b)


def test_linear_ar_closed_loop_continues_a_sine_exactly():
    # a sine obeys y[t] = 2 cos(w) y[t-1] - y[t-2], so an AR on two lags fits it exactly
    N, T, H, w = 200, 2, 25, 2 * np.pi / 17
    y = 4 + 3 * np.sin(w * np.arange(N))
    raw = y[:, None]
    shift, scale = y[:120].mean(keepdims=True), y[:120].std(keepdims=True)
    normalise, to_raw = _normalisers(shift, scale)
    weights, _ = fit_linear_ar_rows(raw, 0, 119, T, normalise=normalise)
    origins = np.arange(119, N - H)
    windows = normalise(raw[origins[None, :] + np.arange(-T + 1, 1)[:, None]])  # (T, B, 1)
    got = to_raw(linear_ar_closed_loop(weights, windows, H))
    np.testing.assert_allclose(got, actuals(y, origins, H), atol=1e-6)
    via_loop = closed_loop(
        linear_ar_predictor(weights), raw, origins, T, H, normalise=normalise, to_raw=to_raw
    )
    np.testing.assert_allclose(via_loop, got, rtol=1e-12, atol=1e-12)


def test_linear_ar_fit_is_the_datasets_linear_baseline():
    rng = np.random.default_rng(5)
    N, T = 150, 4
    raw = np.column_stack([np.sin(np.arange(N) / 5) + 0.2 * rng.normal(size=N), rng.normal(size=N)])
    ds = build_series_dataset(raw, name="t", columns=["y", "x"], seq_len=T, val_fraction=0.25)
    last_train = int(ds.train_idx[-1])
    weights, _ = fit_linear_ar_rows(ds.raw, 0, last_train, T, normalise=ds.normalise)
    one_step = closed_loop(
        linear_ar_predictor(weights), ds.raw, ds.val_idx - 1, T, 1, normalise=ds.normalise, to_raw=ds.to_raw
    )
    err = one_step[:, 0] - raw[ds.val_idx, 0]
    assert math.sqrt(np.mean(err**2)) == pytest.approx(ds.baselines["linear_rmse"], rel=1e-9)


def test_closed_loop_refuses_an_origin_without_a_full_window():
    raw = np.zeros((20, 1))
    ident = lambda v: v  # noqa: E731
    with pytest.raises(PlaygroundError, match=r"origins must lie in rows 4\.\.19"):
        closed_loop(lambda X: X[-1, :, 0], raw, [3, 10], 5, 2, normalise=ident, to_raw=ident)


# ---------------------------------------------------------------- actuals, origins, errors


def test_actuals_and_running_past_the_data():
    y = np.arange(10.0) * 10
    np.testing.assert_array_equal(actuals(y, [2, 5], 3), [[30, 40, 50], [60, 70, 80]])
    with pytest.raises(PlaygroundError, match="origin 7 with horizon 3 runs past the last row"):
        actuals(y, [2, 7], 3)


def test_origins_in_by_hand():
    # period rows 20..29, H = 3: o + 1 >= 20 and o + 3 <= 29 -> o in 19..26
    np.testing.assert_array_equal(origins_in(20, 29, 3, 5), np.arange(19, 27))
    # period 2..10, T = 5: a full window needs o >= 4, o + 2 <= 10 -> 4..8
    np.testing.assert_array_equal(origins_in(2, 10, 2, 5), np.arange(4, 9))
    with pytest.raises(PlaygroundError, match="hold no origin"):
        origins_in(20, 22, 4, 5)


def test_errors_by_horizon_by_hand():
    actual = np.array([[1.0, 2.0], [3.0, 5.0]])
    forecasts = {"a": np.array([[2.0, 2.0], [3.0, 1.0]]), "b": actual.copy()}
    got = errors_by_horizon(actual, forecasts, scale=MaseScale(2.0, 1))
    # a: horizon 1 errors 1, 0 -> MAE 0.5, RMSE sqrt(1/2); horizon 2 errors 0, 4 -> MAE 2, RMSE sqrt(8)
    np.testing.assert_allclose(got["a"]["mae"], [0.5, 2.0])
    np.testing.assert_allclose(got["a"]["rmse"], [math.sqrt(0.5), math.sqrt(8.0)])
    np.testing.assert_allclose(got["a"]["mase"], [0.25, 1.0])
    np.testing.assert_array_equal(got["b"]["mae"], [0.0, 0.0])
    with pytest.raises(PlaygroundError, match="forecasts of 'c' contain NaN"):
        errors_by_horizon(actual, {"c": np.full((2, 2), np.nan)}, scale=1.0)
