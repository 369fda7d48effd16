"""The simple forecasts every model must beat, ``H`` steps ahead from many origins at once.

From an origin ``o`` (the last known row), for ``h = 1 .. H``, with ``s`` the first row of history
the methods may use (``history_start``; 0 for an expanding window):

- persistence: ``y[o]``;
- seasonal naive: ``y[o + h - m * ceil(h / m)]``, the same point of the last observed season;
- drift: ``y[o] + h * (y[o] - y[s]) / (o - s)``, the line through the first and last known
  values (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 5.2); with one row
  of history (``o == s``) there is no slope and it is persistence;
- mean: the mean of the training part ``y[s .. train_end]``;
- linear autoregression: the least-squares AR of :mod:`rnn_core.data.baselines` on normalised
  windows, iterated closed-loop exactly as the network is (:func:`rnn_core.forecasting.horizon.feed_back`).

None of them reads a row after its origin: the mean's training part must end at or before the
earliest origin, and the seasonal naive needs a full season of history at each origin.
"""

from __future__ import annotations

import numpy as np

from rnn_core.data.baselines import fit_linear_ar, predict_linear_ar
from rnn_core.data.windows import window_views
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.horizon import Predict, check_origins, check_whole, feed_back
from rnn_core.forecasting.season import season_length


def simple_forecasts(
    y, origins, H: int, *, season, history_start: int = 0, train_end: int
) -> dict[str, np.ndarray]:
    """Persistence, seasonal naive, drift and mean forecasts from every origin.

    Parameters
    ----------
    y : array-like, shape (N,) or (N, C)
        The target in original units (column 0 of a 2-D series).
    origins : array-like of int, shape (B,)
        Each at least ``train_end`` and ``history_start + m - 1``, at most ``N - 1``.
    H : int
        Horizon.
    season : int or Season
        ``m >= 1``.
    history_start : int
        ``s``, the first row any method may read (the start of a sliding training window).
    train_end : int
        Last row of the training part the mean is taken over, ``s <= train_end <= min(origins)``.

    Returns
    -------
    dict[str, ndarray of shape (B, H)]
        ``persistence``, ``seasonal_naive``, ``drift``, ``mean`` in original units.
    """
    v = np.asarray(y, dtype=np.float64)
    v = v[:, 0] if v.ndim == 2 else v.ravel()
    H = check_whole("horizon", H, 1)
    m = season_length(season)
    s = check_whole("history start", history_start, 0)
    o = check_origins(origins, v.size, first=s)
    end = check_whole("training end", train_end, s)
    if end > int(o.min()):
        raise PlaygroundError(
            f"the training part ends at row {end}, after the earliest origin {int(o.min())}: the mean "
            "would use rows the forecast must not know; end training at or before the first origin"
        )
    if int(o.min()) - m + 1 < s:
        raise PlaygroundError(
            f"origin {int(o.min())} has fewer than one season ({m} rows) of history after row {s}; "
            f"start the origins at row {s + m - 1} or later, or use a shorter season"
        )
    h = np.arange(1, H + 1)  # (H,)
    last = v[o]  # (B,)
    persistence = np.repeat(last[:, None], H, axis=1)  # (B, H)
    back = m * -(-h // m)  # m * ceil(h / m) >= h: always a known row, of the last season
    seasonal = v[o[:, None] + h - back]  # (B, H)
    span = o - s
    slope = np.divide(last - v[s], span, out=np.zeros(o.size), where=span > 0)  # (B,)
    drift = last[:, None] + slope[:, None] * h  # (B, H)
    mean = np.full((o.size, H), float(np.mean(v[s : end + 1])))
    return {"persistence": persistence, "seasonal_naive": seasonal, "drift": drift, "mean": mean}


def fit_linear_ar_rows(raw, train_start: int, train_end: int, seq_len: int, *, normalise):
    """Fit the linear AR on the windows inside rows ``train_start .. train_end``.

    Every window and its target lie inside those rows, so a fold's fit sees nothing later.

    Parameters
    ----------
    raw : array-like, shape (N, C) or (N,)
        Original units, column 0 the target.
    train_start, train_end : int
        Training rows, both included; at least ``seq_len + 1`` of them.
    seq_len : int
    normalise : callable
        Rows ``(..., C)`` in original units to normalised inputs (e.g. ``dataset.normalise``).

    Returns
    -------
    w : ndarray, shape (seq_len * C + 1,)
        As :func:`rnn_core.data.baselines.fit_linear_ar`.
    ridged : bool
        Whether a ridge was needed.
    """
    values = np.asarray(raw, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    T = check_whole("sequence length", seq_len, 1)
    start = check_whole("training start", train_start, 0)
    end = check_whole("training end", train_end, start)
    if end >= values.shape[0]:
        raise PlaygroundError(f"training rows end at {end}, past the last row {values.shape[0] - 1}")
    if end - start + 1 < T + 1:
        raise PlaygroundError(
            f"training rows {start}..{end} hold no window of {T} rows with a target after it; "
            f"give at least {T + 1} rows or a shorter sequence length"
        )
    norm = np.asarray(normalise(values[start : end + 1]), dtype=np.float64)  # (n, C)
    X, target_idx = window_views(norm, T)  # (T, n - T, C), (n - T,)
    return fit_linear_ar(X, norm[target_idx, 0])


def linear_ar_predictor(w) -> Predict:
    """The fitted AR as a one-step model: ``predict(X (T, B, C)) -> (B,)``, normalised."""
    weights = np.asarray(w, dtype=np.float64).ravel()

    def predict(X: np.ndarray) -> np.ndarray:
        T, _, C = X.shape
        if weights.size != T * C + 1:
            raise PlaygroundError(
                f"linear AR weights were fitted for {weights.size - 1} inputs, but the windows have "
                f"{T} rows x {C} columns; refit on windows of this shape"
            )
        return predict_linear_ar(weights, X)

    return predict


def linear_ar_closed_loop(w, windows, H: int, *, next_extras=None) -> np.ndarray:
    """Iterate the fitted AR ``H`` steps from normalised windows, as the network's closed loop.

    Parameters
    ----------
    w : ndarray, shape (T * C + 1,)
        From :func:`fit_linear_ar_rows` or :func:`rnn_core.data.baselines.fit_linear_ar`.
    windows : ndarray, shape (T, B, C)
        Normalised windows ending at each origin.
    H : int
    next_extras : ndarray, shape (H - 1, B, C - 1), optional
        Known normalised extras of the rows after the origin; held at the origin row otherwise.

    Returns
    -------
    ndarray, shape (B, H)
        Normalised forecasts (map with ``dataset.to_raw``). For origins in a raw series,
        ``horizon.closed_loop(linear_ar_predictor(w), raw, origins, ...)`` cuts the windows.
    """
    return feed_back(linear_ar_predictor(w), windows, H, next_extras=next_extras)
