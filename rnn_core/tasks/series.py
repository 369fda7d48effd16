"""Regression on a numeric series: a window of ``seq_len`` rows predicts the next target value.

Minibatches: the training windows are shuffled once per epoch and cut into batches of
``batch_size`` (the last batch of an epoch may be smaller). The loss is the MSE of normalised
values, mean over the B windows (:func:`rnn_core.losses.mse`); metrics are RMSE and MAE in the
data's original units, ``raw = normalised * target_scale + target_shift``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnn_core import losses
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting import report
from rnn_core.history import downsample_indices
from rnn_core.tasks.base import Batch, check_index, check_split, window_internals

EVAL_BATCH = 2048  # windows per forward pass when evaluating, bounds memory on long series
MAX_TRAIN_EVAL_WINDOWS = 8192  # train metrics on an evenly spaced subset beyond this


def window_subset(n: int, cap: int | None) -> np.ndarray | None:
    """Evenly spaced window indices (first and last included) when ``n`` exceeds ``cap``, else
    ``None`` for all windows."""
    if cap is None:
        return None
    cap = int(cap)
    if cap < 1:
        raise PlaygroundError(f"the number of windows to evaluate must be at least 1; got {cap}")
    if n <= cap:
        return None
    if cap == 1:
        return np.array([n - 1], dtype=np.int64)
    return downsample_indices(n, cap)


class SeriesTask:
    """Window -> next value on a :class:`~rnn_core.data.SeriesDataset`, or window -> its own
    target on a :class:`~rnn_core.data.MemoryDataset` (which has no forecast).

    Parameters
    ----------
    dataset : SeriesDataset
        ``train_X`` ``(T, Btr, C)``, ``train_y`` ``(Btr,)``, ``val_X``, ``val_y`` likewise.
    batch_size : int
    dtype : str or np.dtype
        The model's dtype; minibatches are cast to it.
    """

    kind = "series"
    noun = "a numeric series (sine or CSV)"
    head = "regression"
    output_size = 1

    def __init__(self, dataset: Any, *, batch_size: int, dtype: Any = "float64", **_: Any) -> None:
        ds = self.dataset = dataset
        self.dtype = np.dtype(dtype)
        self.batch_size = int(batch_size)
        self.input_size = int(ds.input_size)
        # The dataset's windows are strided views of one array; minibatches are gathered from
        # them (and cast to the model dtype) rather than copying every window up front.
        self._train_X = ds.train_X  # (T, Btr, C)
        self._val_X = ds.val_X  # (T, Bva, C)
        self._train_y = np.asarray(ds.train_y, dtype=self.dtype).reshape(-1, 1)  # (Btr, 1)
        self._val_y = np.asarray(ds.val_y, dtype=self.dtype).reshape(-1, 1)  # (Bva, 1)
        if self._train_X.shape[1] == 0:
            raise PlaygroundError("the data has no training windows; use a longer series or a shorter window")
        self._order: np.ndarray | None = None
        self._pos = 0

    # ------------------------------------------------------------------ training

    def batch(self, rng: np.random.Generator) -> Batch:
        """The next ``batch_size`` windows of this epoch's shuffle: x ``(T, B, C)``, y ``(B, 1)``."""
        n = self._train_X.shape[1]
        if self._order is None or self._pos >= n:
            self._order = rng.permutation(n)
            self._pos = 0
        idx = self._order[self._pos : self._pos + self.batch_size]
        self._pos += len(idx)
        x = np.asarray(self._train_X[:, idx], dtype=self.dtype)  # (T, B, C)
        return Batch(x, self._train_y[idx], None, len(idx))

    def loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """MSE over the B windows of ``out`` ``(B, 1)`` against ``y`` ``(B, 1)``, and its gradient."""
        return losses.mse(out, y)

    def after_step(self, state: Any, accepted: bool) -> None:
        """Windows start from a zero state: nothing is carried."""

    def epoch(self, samples_seen: int) -> float:
        return samples_seen / max(self._train_X.shape[1], 1)

    def snapshot(self) -> dict[str, Any]:
        return {"order": None if self._order is None else self._order.copy(), "pos": self._pos}

    def restore(self, snap: dict[str, Any]) -> None:
        self._order = None if snap["order"] is None else snap["order"].copy()
        self._pos = int(snap["pos"])

    # ------------------------------------------------------------------ evaluation

    def _split(self, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Windows ``(T, B, C)``, normalised targets ``(B, 1)`` and target row indices ``(B,)``."""
        ds = self.dataset
        if split == "train":
            return self._train_X, self._train_y, np.asarray(ds.train_idx)
        return self._val_X, self._val_y, np.asarray(ds.val_idx)

    def _forward_windows(self, network: Any, X: np.ndarray) -> np.ndarray:
        """Normalised one-step predictions ``(B,)`` for windows ``X`` of shape ``(T, B, C)``."""
        outs = []
        for s in range(0, X.shape[1], EVAL_BATCH):
            x = np.asarray(X[:, s : s + EVAL_BATCH], dtype=self.dtype)  # (T, b, C)
            out, _, _ = network.forward(x, None, cache=False)
            outs.append(out[:, 0])  # (b,)
        return np.concatenate(outs) if outs else np.zeros(0, dtype=self.dtype)

    def _to_raw(self, y_norm: np.ndarray) -> np.ndarray:
        ds = self.dataset
        return np.asarray(y_norm, dtype=np.float64) * float(ds.target_scale) + float(ds.target_shift)

    def _original(self, y_norm: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """One-step predictions ``(B,)`` of rows ``idx`` in original units (a target transform
        inverted from the known row before each)."""
        ds = self.dataset
        model = self._to_raw(y_norm)
        if ds.transform is None:
            return model
        y = np.asarray(ds.raw, dtype=np.float64)[:, 0]
        return ds.to_original(model[:, None], np.asarray(idx) - 1, y)[:, 0]

    def _metrics(self, network: Any, split: str, max_windows: int | None) -> dict[str, float]:
        X, y, idx = self._split(split)
        if X.shape[1] == 0:
            return {"loss": math.nan, "rmse": math.nan, "mae": math.nan, "windows": 0}
        cap = max_windows
        if split == "train":
            cap = MAX_TRAIN_EVAL_WINDOWS if cap is None else min(int(cap), MAX_TRAIN_EVAL_WINDOWS)
        pick = window_subset(X.shape[1], cap)
        if pick is not None:
            X, y, idx = X[:, pick], y[pick], idx[pick]
        pred = self._forward_windows(network, X).astype(np.float64)  # (B,)
        loss = float(np.mean((pred - y[:, 0]) ** 2))
        err = self._original(pred, idx) - np.asarray(self.dataset.raw, dtype=np.float64)[idx, 0]
        return {
            "loss": loss,
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mae": float(np.mean(np.abs(err))),
            "windows": int(X.shape[1]),
        }

    def evaluate(self, network: Any, *, train: bool = True, max_windows: int | None = None) -> dict[str, Any]:
        """``train_loss``, ``val_loss`` (MSE, normalised), ``train_rmse``, ``val_rmse``,
        ``train_mae``, ``val_mae`` (original units), ``val_windows`` and ``val_estimate``.

        ``max_windows`` scores at most that many evenly spaced windows of each split (an
        estimate: ``val_estimate`` is then True); training metrics use at most 8192 windows.
        ``train=False`` leaves out the ``train_*`` keys.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            va = self._metrics(network, "val", max_windows)
            tr = self._metrics(network, "train", max_windows) if train else None
        result: dict[str, Any] = {}
        for key in ("loss", "rmse", "mae"):
            if tr is not None:
                result[f"train_{key}"] = tr[key]
            result[f"val_{key}"] = va[key]
        result["val_windows"] = va["windows"]
        result["val_estimate"] = va["windows"] < self._val_X.shape[1]
        return result

    # ------------------------------------------------------------------ series-only operations

    def predictions(
        self, network: Any, split: str = "val", max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One-step-ahead predictions for the windows of a split, in original units.

        Parameters
        ----------
        split : {"train", "val"}
        max_points : int, optional
            Predict at most this many evenly spaced windows (the first and the last always among
            them), e.g. for a chart of a long series; ``None`` predicts every window.

        Returns
        -------
        x_axis : ndarray (B,)
            ``dataset.x_axis`` at each window's target row (floats or datetime64).
        predicted : ndarray (B,) float64
        actual : ndarray (B,) float64
            B is the split's number of windows, or ``min(B, max_points)``.
        """
        check_split(split)
        X, _, idx = self._split(split)
        pick = window_subset(X.shape[1], max_points)
        if pick is not None:
            X, idx = X[:, pick], idx[pick]
        with np.errstate(over="ignore", invalid="ignore"):
            pred = self._original(self._forward_windows(network, X), idx)
        actual = np.asarray(self.dataset.raw, dtype=np.float64)[idx, 0]
        return np.asarray(self.dataset.x_axis)[idx], pred, actual

    def _future_axis(self, n: int) -> np.ndarray:
        """``n`` x-axis values after the data's last, ``(n,)``, at its median spacing."""
        xa = np.asarray(self.dataset.x_axis)
        datetime = np.issubdtype(xa.dtype, np.datetime64)
        zero = np.timedelta64(0, "ns") if datetime else 0.0
        step = zero
        if len(xa) >= 2:
            diffs = np.sort(np.diff(xa[-min(len(xa), 101) :]))
            step = diffs[len(diffs) // 2]  # median spacing; works for datetime64 too
            if not step > zero:  # mostly repeated time stamps: the average spacing instead
                step = (xa[-1] - xa[0]) / (len(xa) - 1)
        if not step > zero:  # one row, or one time stamp throughout
            step = np.timedelta64(1, "D") if datetime else 1.0
        return xa[-1] + step * np.arange(1, n + 1)

    def forecast(self, network: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Closed-loop forecast of ``n`` values beyond the end of the data, in original units.

        The last ``seq_len`` rows of the whole series (training and validation) form the first
        window; each prediction is appended as the next target value and the window slides on.
        Extra input columns (multivariate CSV) take their known future values where the data
        supplies some and are held at their last value elsewhere
        (:meth:`~rnn_core.data.datasets.SeriesDataset.forecast_inputs`). Errors compound.

        Returns
        -------
        x_axis_future : ndarray (n,)
            Continues ``dataset.x_axis`` with its median spacing (numbers or datetime64).
        values : ndarray (n,) float64
        """
        n = int(n)
        if n < 1 or n > 100_000:
            raise PlaygroundError(f"forecast length must be from 1 to 100000; got {n}")
        ds = self.dataset
        if not ds.forecastable:
            raise PlaygroundError(
                f"a forecast beyond the data does not apply to a memory task ({ds.name}): its windows "
                "are independent and a target is not the next row of a series, so there is nothing "
                "to feed back; use the predictions for each window instead"
            )
        raw = np.asarray(ds.raw, dtype=np.float64)  # (N, C)
        seen = ds.model_values(raw)  # the model's units
        t = int(ds.seq_len)
        window = np.asarray(ds.normalise(seen[-t:]), dtype=self.dtype)  # (T, C)
        last_row = seen[-1].copy()
        extras, _ = ds.forecast_inputs(n)  # (n, C - 1)
        values = np.empty(n)
        with np.errstate(over="ignore", invalid="ignore"):
            for i in range(n):
                out, _, _ = network.forward(window[:, None, :], None, cache=False)  # (1, 1)
                values[i] = self._to_raw(out[0, 0])
                last_row[0] = values[i]
                last_row[1:] = extras[i]
                new = np.asarray(ds.normalise(last_row[None, :]), dtype=self.dtype)  # (1, C)
                window = np.concatenate([window[1:], new], axis=0)
            values = ds.to_original(values[None, :], [raw.shape[0] - 1], raw[:, 0])[0]
        return self._future_axis(n), values

    def forecast_report(
        self,
        network: Any,
        period: str = "val",
        horizon: int = 12,
        level: float = 0.8,
        season: int | None = None,
    ) -> dict[str, Any]:
        """Errors by horizon of the model's closed-loop forecasts and the simple methods over the
        validation or test period, with conformal intervals
        (:func:`rnn_core.forecasting.report.evaluate`; ``"test"`` reads the held-out rows)."""
        ds = self.dataset
        if not ds.forecastable:
            raise PlaygroundError(
                f"errors by horizon do not apply to a memory task ({ds.name}): its windows are "
                "independent, so there is nothing to forecast several steps ahead"
            )
        return report.evaluate(ds, lambda X: self._forward_windows(network, X), period=period,
                               horizon=horizon, level=level, season=season)  # fmt: skip

    def internals(self, network: Any, split: str = "val", index: int = 0) -> dict[str, np.ndarray]:
        """Hidden states (and gates) of window ``index`` of the split, each ``(T, H)``."""
        check_split(split)
        X, _, _ = self._split(split)
        check_index(index, X.shape[1])
        return window_internals(network, np.asarray(X[:, index : index + 1], dtype=self.dtype))  # (T, 1, C)
