"""Target transforms inside a series dataset: the model learns in the transform's units and every
prediction, forecast and metric comes back in original units."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.data import build_series_dataset
from rnn_core.forecasting import report
from rnn_core.trainer import Trainer

TRANSFORMS = ("log", "diff", "seasonal_diff", "detrend")


def _series(n: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 10 + 0.05 * t + np.sin(2 * np.pi * t / 12) + 0.2 * rng.normal(size=n)  # positive, trending


def _dataset(y, transform, **kw):
    return build_series_dataset(y, name="s", columns=["y"], seq_len=12, transform=transform, season=12, **kw)


def _reference_z(y: np.ndarray, transform: str, ds) -> np.ndarray:
    """The transformed target, computed here from its definition."""
    if transform == "log":
        return np.log(y)
    if transform == "diff":
        return np.concatenate([[np.nan], y[1:] - y[:-1]])
    if transform == "seasonal_diff":
        return np.concatenate([np.full(12, np.nan), y[12:] - y[:-12]])
    # detrend: least squares through the training rows, by the normal equations
    t = np.arange(int(ds.train_idx[-1]) + 1, dtype=float)
    A = np.column_stack([np.ones_like(t), t])
    a, b = np.linalg.solve(A.T @ A, A.T @ y[: t.size])
    return y - (a + b * np.arange(y.size))


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_the_model_sees_the_transformed_target_normalised_by_its_training_rows(transform):
    y = _series()
    ds = _dataset(y, transform)
    z = _reference_z(y, transform, ds)
    train_rows = z[: int(ds.train_idx[-1]) + 1]
    train_rows = train_rows[np.isfinite(train_rows)]
    assert ds.target_shift == pytest.approx(train_rows.mean(), rel=1e-12)
    assert ds.target_scale == pytest.approx(train_rows.std(), rel=1e-12)
    np.testing.assert_allclose(ds.to_raw(ds.val_y[:, 0]), z[ds.val_idx], rtol=1e-12, atol=1e-12)
    # the first window starts after the rows the transform cannot produce
    lag = {"diff": 1, "seasonal_diff": 12}.get(transform, 0)
    assert int(ds.train_idx[0]) == lag + 12
    np.testing.assert_array_equal(ds.raw[:, 0], y)  # the series itself stays in original units


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_perfect_transformed_predictions_map_back_to_the_original_values(transform):
    y = _series()
    ds = _dataset(y, transform)
    tr = Trainer.create(ds, hidden_size=4)
    task = tr.task
    # the true normalised transformed targets as predictions: back in original units, exactly y
    np.testing.assert_allclose(task._original(ds.val_y[:, 0], ds.val_idx), y[ds.val_idx], rtol=1e-11)
    np.testing.assert_allclose(task._original(ds.train_y[:, 0], ds.train_idx), y[ds.train_idx], rtol=1e-11)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_closed_loop_forecasts_invert_along_their_own_path(transform):
    """A model that always predicts normalised 0 (the training mean of the transformed target)
    forecasts, in original units, what that mean implies step after step."""
    y = _series()
    ds = _dataset(y, transform)
    z = _reference_z(y, transform, ds)
    mean_z = np.nanmean(z[: int(ds.train_idx[-1]) + 1])
    H, o = 15, y.size - 1
    ref = np.empty(H)
    path = list(y)
    for h in range(1, H + 1):  # build the forecast forward, row by row
        t = o + h
        if transform == "log":
            path.append(np.exp(mean_z))
        elif transform == "diff":
            path.append(path[t - 1] + mean_z)
        elif transform == "seasonal_diff":
            path.append(path[t - 12] + mean_z)
        else:
            t_train = np.arange(int(ds.train_idx[-1]) + 1, dtype=float)
            b, a = np.polyfit(t_train, y[: t_train.size], 1)
            path.append(mean_z + a + b * t)
        ref[h - 1] = path[t]
    tr = Trainer.create(ds, hidden_size=4)
    zero = lambda X: np.zeros(X.shape[1])  # noqa: E731
    got = report.closed_loop(
        zero, ds.model_values(ds.raw), [o], 12, H, normalise=ds.normalise, to_raw=ds.to_raw
    )
    np.testing.assert_allclose(ds.to_original(got, [o], y), ref[None, :], rtol=1e-9)
    # the task's own forecast beyond the data agrees with the batched one
    tr.network.params["head.weight"][:] = 0
    tr.network.params["head.bias"][:] = 0
    np.testing.assert_allclose(tr.forecast(H)[1], ref, rtol=1e-9)


def test_transform_parameters_come_from_the_training_rows_only():
    y = _series()
    a = _dataset(y, "detrend")
    later = y.copy()
    later[int(a.train_idx[-1]) + 1 :] += 100.0
    b = _dataset(later, "detrend")
    assert a.transform == b.transform
    np.testing.assert_array_equal(a.train_X, b.train_X)


def test_a_model_of_the_differences_beats_persistence_on_a_trend_where_the_plain_one_cannot():
    rng = np.random.default_rng(0)
    y = 0.05 * np.arange(400) + 0.3 * rng.normal(size=400)
    rmse = {}
    for transform in ("none", "diff"):
        ds = build_series_dataset(
            y, name="trend", columns=["y"], seq_len=20, val_fraction=0.25, transform=transform
        )
        tr = Trainer.create(ds, hidden_size=16, train=TrainConfig(steps=600, seed=0))
        tr.run(600)
        rmse[transform] = tr.evaluate()["val_rmse"]
        persistence = ds.baselines["persistence_rmse"]
        # the metric is in original units: recompute it from the predictions and the series
        _, pred, actual = tr.predictions("val")
        assert rmse[transform] == pytest.approx(np.sqrt(np.mean((pred - actual) ** 2)), rel=1e-9)
        np.testing.assert_array_equal(actual, y[ds.val_idx])
    # the validation targets lie above every training value: untransformed, the network cannot reach them
    assert rmse["none"] > 2 * persistence
    assert rmse["diff"] < persistence
