"""Multi-step forecasts from many origins at once, and their errors by horizon.

An origin ``o`` is the index of the last known row; a forecast from it covers rows
``o + 1 .. o + H`` (horizon ``h = 1 .. H``). Its window is the ``seq_len`` rows ``o - T + 1 .. o``
ending at the origin, as in :mod:`rnn_core.data.windows` (window ``k`` ends at row ``k + T - 1``
and predicts row ``k + T``), so an origin needs ``o >= T - 1``.

The closed loop is the one :meth:`rnn_core.tasks.series.SeriesTask.forecast` runs beyond the data:
each one-step prediction becomes the target column of the next input row and the window slides
on; extra input columns have no forecast of their own and are held at the origin row's value,
unless their future values are known and supplied. Here every origin advances together: one
call of the model per horizon step with all ``B`` windows as the batch.

No row after an origin is read when forecasting from it (apart from supplied future extras),
which the tests check by poisoning those rows with NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.metrics import mae, mase, rmse

Predict = Callable[[np.ndarray], np.ndarray]  # normalised windows (T, B, C) -> next target (B,)


def check_whole(name: str, value, lowest: int) -> int:
    """``value`` as int, refusing non-integers and values below ``lowest``; ``name`` is for the user."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lowest:
        raise PlaygroundError(f"{name} must be a whole number, at least {lowest}; got {value!r}")
    return int(value)


def check_origins(origins, n_rows: int, *, first: int = 0) -> np.ndarray:
    """Origins as a 1-D int64 array, each a row in ``first .. n_rows - 1``.

    Parameters
    ----------
    origins : array-like of int, shape (B,)
    n_rows : int
        ``N``, the rows that exist.
    first : int
        The earliest allowed origin (e.g. ``seq_len - 1`` for a full window).
    """
    o = np.asarray(origins)
    if o.ndim != 1 or o.size == 0 or not np.issubdtype(o.dtype, np.integer):
        raise PlaygroundError(
            f"origins must be a non-empty list of row numbers; got {o.dtype} of shape {o.shape}"
        )
    o = o.astype(np.int64)
    lo, hi = int(o.min()), int(o.max())
    if lo < first or hi > n_rows - 1:
        raise PlaygroundError(
            f"origins must lie in rows {first}..{n_rows - 1} (a full window before each, a known row "
            f"at each); got {lo}..{hi}: choose origins inside that range"
        )
    return o


def actuals(y, origins, H: int) -> np.ndarray:
    """The values a forecast from each origin should have hit: ``y[o + h]`` for ``h = 1 .. H``.

    Parameters
    ----------
    y : array-like, shape (N,)
        The target in original units.
    origins : array-like of int, shape (B,)
    H : int

    Returns
    -------
    ndarray, shape (B, H)
    """
    v = np.asarray(y, dtype=np.float64).ravel()
    H = check_whole("horizon", H, 1)
    o = check_origins(origins, v.size)
    late = int(o.max())
    if late + H > v.size - 1:
        raise PlaygroundError(
            f"origin {late} with horizon {H} runs past the last row ({v.size - 1}); the last origin "
            f"that can be scored is {v.size - 1 - H}: drop later origins or shorten the horizon"
        )
    return v[o[:, None] + np.arange(1, H + 1)]  # (B, H)


def origins_in(period_start: int, period_end: int, H: int, seq_len: int) -> np.ndarray:
    """Every origin whose horizon lies inside a scoring period and that has a full window.

    Origins ``o`` with ``period_start <= o + 1`` and ``o + H <= period_end`` (every forecast row
    inside the period, both ends included) and ``o >= seq_len - 1`` (the window of ``seq_len``
    rows ending at ``o`` exists).

    Returns
    -------
    ndarray of int64, shape (B,)
        In increasing order; a period that holds none is a :class:`PlaygroundError`.
    """
    start = check_whole("period start", period_start, 0)
    end = check_whole("period end", period_end, 0)
    H = check_whole("horizon", H, 1)
    T = check_whole("sequence length", seq_len, 1)
    first, last = max(start - 1, T - 1), end - H
    if last < first:
        raise PlaygroundError(
            f"rows {start}..{end} hold no origin with a {H}-step horizon inside them and {T} rows "
            f"of window before it; lengthen the period to at least {H} rows, starting at row {T} or "
            "later, or shorten the horizon"
        )
    return np.arange(first, last + 1, dtype=np.int64)


def feed_back(predict: Predict, windows: np.ndarray, H: int, *, next_extras=None) -> np.ndarray:
    """Forecast ``H`` steps by feeding each prediction back as the next input row, normalised.

    Parameters
    ----------
    predict : callable
        ``predict(X)`` with ``X`` of shape ``(T, B, C)`` returns the next normalised target,
        ``(B,)`` or ``(B, 1)``.
    windows : ndarray, shape (T, B, C)
        Normalised windows ending at each origin; column 0 is the target.
    H : int
    next_extras : ndarray, shape (H - 1, B, C - 1), optional
        Normalised extra columns of the input rows ``o + 1 .. o + H - 1`` when they are known
        ahead; by default each is held at its value in the window's last row (the origin).

    Returns
    -------
    ndarray, shape (B, H)
        Normalised forecasts; the target's normalisation is column 0's, so a prediction is fed
        back unchanged.
    """
    H = check_whole("horizon", H, 1)
    X = np.asarray(windows, dtype=np.float64)  # (T, B, C)
    if X.ndim != 3 or 0 in X.shape:
        raise PlaygroundError(f"windows must have shape (seq_len, origins, columns); got {X.shape}")
    _, B, C = X.shape
    if next_extras is not None:
        next_extras = np.asarray(next_extras, dtype=np.float64)
        if next_extras.shape != (H - 1, B, C - 1):
            raise PlaygroundError(
                f"next extras must have shape {(H - 1, B, C - 1)} (input rows after the origin, "
                f"windows, extra columns); got {next_extras.shape}"
            )
    out = np.empty((B, H))
    for h in range(H):
        pred = np.asarray(predict(X), dtype=np.float64)
        if pred.size != B:
            raise ValueError(f"predict must return one value per window ({B}); got shape {pred.shape}")
        out[:, h] = pred.reshape(B)
        if h == H - 1:
            break
        new = X[-1].copy()  # (B, C): the origin row's extras unless known ahead
        new[:, 0] = out[:, h]
        if next_extras is not None:
            new[:, 1:] = next_extras[h]
        # a fresh array each step: the model may hold on to the X it was given
        X = np.concatenate([X[1:], new[None]], axis=0)  # (T, B, C)
    return out


def closed_loop(
    predict: Predict,
    raw,
    origins,
    seq_len: int,
    H: int,
    *,
    normalise: Callable[[np.ndarray], np.ndarray],
    to_raw: Callable[[np.ndarray], np.ndarray],
    future_extras=None,
) -> np.ndarray:
    """Closed-loop ``H``-step forecasts of a one-step model from every origin, original units.

    Parameters
    ----------
    predict : callable
        ``predict(X (T, B, C) normalised) -> (B,)`` normalised next target; called ``H`` times,
        each with all origins as the batch.
    raw : array-like, shape (N, C) or (N,)
        The series in original units, column 0 the target.
    origins : array-like of int, shape (B,)
        Each in ``seq_len - 1 .. N - 1``.
    seq_len : int
        ``T``.
    H : int
    normalise : callable
        Rows ``(..., C)`` in original units to normalised inputs, column by column (e.g.
        ``dataset.normalise``).
    to_raw : callable
        Normalised target values (any shape) to original units (e.g. ``dataset.to_raw``).
    future_extras : array-like, shape (M, C - 1), optional
        Known future values of the extra columns in original units, indexed like ``raw`` (e.g.
        ``raw[:, 1:]`` for a calendar); rows ``o + 1 .. o + H - 1`` are read, so ``M`` must reach
        ``max(origins) + H - 1``. By default extras are held at the origin row.

    Returns
    -------
    ndarray, shape (B, H)
        Forecasts of rows ``o + 1 .. o + H`` in original units.
    """
    values = np.asarray(raw, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise PlaygroundError(f"the series must have shape (rows, columns); got {values.shape}")
    N, C = values.shape
    T = check_whole("sequence length", seq_len, 1)
    H = check_whole("horizon", H, 1)
    o = check_origins(origins, N, first=T - 1)
    rows = o[:, None] + np.arange(-T + 1, 1)  # (B, T): only rows up to each origin are read
    X = np.asarray(normalise(values[rows]), dtype=np.float64).transpose(1, 0, 2)  # (T, B, C)
    next_extras = None
    if future_extras is not None:
        fut = np.asarray(future_extras, dtype=np.float64)
        if fut.ndim != 2 or fut.shape[1] != C - 1:
            raise PlaygroundError(
                f"future extras must have shape (rows, {C - 1}), one column per extra input; got {fut.shape}"
            )
        if H > 1 and int(o.max()) + H - 1 > fut.shape[0] - 1:
            raise PlaygroundError(
                f"future extras end at row {fut.shape[0] - 1}, but origin {int(o.max())} with horizon "
                f"{H} needs them up to row {int(o.max()) + H - 1}: supply more rows or shorten the horizon"
            )
        ahead = fut[o[None, :] + np.arange(1, H)[:, None]]  # (H - 1, B, C - 1)
        # the target column is a placeholder (normalisation is column by column), never a value read
        rows_ahead = np.concatenate([np.zeros((H - 1, o.size, 1)), ahead], axis=2)
        next_extras = np.asarray(normalise(rows_ahead), dtype=np.float64)[..., 1:]
    norm = feed_back(predict, X, H, next_extras=next_extras)  # (B, H)
    return np.asarray(to_raw(norm), dtype=np.float64)


def errors_by_horizon(actual, forecasts: dict[str, np.ndarray], *, scale) -> dict[str, dict[str, np.ndarray]]:
    """MAE, RMSE and MASE of each method at each horizon, averaged over the origins.

    Parameters
    ----------
    actual : array-like, shape (B, H)
        From :func:`actuals`.
    forecasts : dict[str, array-like of shape (B, H)]
        Method name -> forecasts from the same origins.
    scale : float or MaseScale
        The MASE denominator (:func:`rnn_core.forecasting.metrics.mase_scale`).

    Returns
    -------
    dict[str, dict[str, ndarray of shape (H,)]]
        ``{method: {"mae": ..., "rmse": ..., "mase": ...}}``.
    """
    a = np.asarray(actual, dtype=np.float64)
    if a.ndim != 2:
        raise PlaygroundError(f"actual values must be a (origins, horizon) matrix; got shape {a.shape}")
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, pred in forecasts.items():
        p = np.asarray(pred, dtype=np.float64)
        if p.shape != a.shape:
            raise PlaygroundError(f"forecasts of '{name}' have shape {p.shape}; the actual values {a.shape}")
        if np.isnan(p).any():
            raise PlaygroundError(
                f"forecasts of '{name}' contain NaN (a diverged model?); retrain it or leave it out"
            )
        out[name] = {
            "mae": mae(a, p, axis=0),
            "rmse": rmse(a, p, axis=0),
            "mase": mase(a, p, scale, axis=0),
        }
    return out
