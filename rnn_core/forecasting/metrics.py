"""Point and interval errors of forecasts, in the series' original units.

- MAE and RMSE: the mean of ``|a - p|`` and the root of the mean of ``(a - p)**2``.
- MASE (Hyndman & Koehler, 2006): MAE divided by the in-sample MAE of the seasonal naive method
  on the training part, ``mean |y[t] - y[t - m]|``; below 1 the forecast beats that naive method
  on the scale it had in training.
- sMAPE in percent, ``mean 200 |a - p| / (|a| + |p|)`` (the M3/M4 definition); a term whose
  actual and prediction are both 0 counts 0. It is only meaningful far from zero (see
  :func:`smape_applies`).
- Winkler (interval) score (Winkler, 1972): ``(u - l) + (2 / alpha) * (l - a)`` when ``a < l``,
  ``(u - l) + (2 / alpha) * (a - u)`` when ``a > u``, else ``u - l``, with ``alpha = 1 - level``;
  lower is better, and it rewards narrow intervals only while they still cover.

Every reduction is a plain mean over the elements (or over ``axis``). NaN inputs are refused
rather than averaged: a NaN error would hide which forecast failed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.season import season_length

# a sMAPE series must stay this share of its range away from zero (see smape_applies)
SMAPE_ZERO_MARGIN = 0.1


@dataclass(frozen=True)
class MaseScale:
    """The denominator of MASE and how it was obtained.

    Attributes
    ----------
    value : float
        ``mean |y[t] - y[t - season]|`` over the training part; NaN when it cannot be used
        (``note`` says why).
    season : int
        The lag ``m`` actually used (1 after a fallback).
    note : str or None
        A sentence for the user when the scale is not the plain seasonal one; None otherwise.
    """

    value: float
    season: int
    note: str | None = None


def _pair(actual, pred, names: tuple[str, str] = ("actual", "pred")) -> tuple[np.ndarray, np.ndarray]:
    """Two float64 arrays of one shape, refusing NaN (shape ``(...)`` each)."""
    a = np.asarray(actual, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if a.shape != p.shape:
        raise PlaygroundError(
            f"{names[0]} and {names[1]} must have the same shape; got {a.shape} and {p.shape}"
        )
    for name, arr in zip(names, (a, p), strict=True):
        if np.isnan(arr).any():
            raise PlaygroundError(
                f"{name} contains NaN (a diverged model or missing data); score only finite values, "
                "e.g. retrain with a smaller learning rate or fill the gaps first"
            )
    if a.size == 0:
        raise PlaygroundError("nothing to score: the arrays are empty; choose origins inside the data")
    return a, p


def mae(actual, pred, *, axis: int | None = None):
    """Mean absolute error.

    Parameters
    ----------
    actual, pred : array-like, same shape ``(...)``
    axis : int, optional
        Reduce over this axis only (e.g. ``axis=0`` of ``(B, H)`` gives ``(H,)``); all by default.

    Returns
    -------
    float, or ndarray with ``axis`` removed
    """
    a, p = _pair(actual, pred)
    out = np.mean(np.abs(a - p), axis=axis)
    return float(out) if axis is None else out


def rmse(actual, pred, *, axis: int | None = None):
    """Root mean squared error; shapes as :func:`mae`."""
    a, p = _pair(actual, pred)
    out = np.sqrt(np.mean((a - p) ** 2, axis=axis))
    return float(out) if axis is None else out


def mase_scale(y_train, season) -> MaseScale:
    """In-sample MAE of the seasonal naive method, the denominator of MASE.

    Parameters
    ----------
    y_train : array-like, shape (n,)
        The training part of the target in original units.
    season : int or Season
        ``m``; when the training part is shorter than two seasons (``n < 2 m``) there are too
        few seasonal differences to trust, and ``m = 1`` (persistence) is used instead.

    Returns
    -------
    MaseScale
        ``value`` is NaN with a ``note`` when the training part has fewer than 2 rows or its
        naive errors are all (numerically) zero, i.e. it is constant: a ratio to zero would be
        inf or NaN without saying why.
    """
    m = season_length(season)
    y = np.asarray(y_train, dtype=np.float64).ravel()
    if np.isnan(y).any():
        raise PlaygroundError("the training part contains NaN; fill or drop missing values first")
    note = None
    if m > 1 and y.size < 2 * m:
        note = (
            f"the training part has {y.size} rows, fewer than two seasons of {m}; "
            "MASE is scaled by the one-step (persistence) errors instead"
        )
        m = 1
    if y.size <= m:
        return MaseScale(math.nan, m, f"the training part has {y.size} row(s); MASE needs at least {m + 1}")
    value = float(np.mean(np.abs(y[m:] - y[:-m])))
    # relative to the level: a float "constant" series can differ by a few ulps, not exactly 0
    if value <= 1e-12 * max(1.0, float(np.mean(np.abs(y)))):
        return MaseScale(
            math.nan,
            m,
            "the training part does not change (its naive errors are zero), so MASE is undefined; "
            "compare MAE instead or train on a part that varies",
        )
    return MaseScale(value, m, note)


def mase(actual, pred, scale, *, axis: int | None = None):
    """Mean absolute scaled error: ``mae(actual, pred) / scale``.

    Parameters
    ----------
    actual, pred : array-like, same shape ``(...)``
    scale : float or MaseScale
        From :func:`mase_scale`; a NaN scale gives NaN (its note says why).
    axis : int, optional
        As in :func:`mae`.
    """
    s = float(getattr(scale, "value", scale))
    if not math.isnan(s) and not (math.isfinite(s) and s > 0):
        raise PlaygroundError(f"MASE scale must be a positive finite number (from mase_scale); got {s!r}")
    return mae(actual, pred, axis=axis) / s


def smape(actual, pred, *, axis: int | None = None):
    """Symmetric MAPE in percent, ``mean 200 |a - p| / (|a| + |p|)``, from 0 to 200.

    Only meaningful when :func:`smape_applies` says so. Shapes as :func:`mae`.
    """
    a, p = _pair(actual, pred)
    den = np.abs(a) + np.abs(p)
    # 0/0 (both exactly zero) is a perfect forecast, not NaN
    terms = np.divide(200.0 * np.abs(a - p), den, out=np.zeros_like(den), where=den > 0)
    out = np.mean(terms, axis=axis)
    return float(out) if axis is None else out


def smape_applies(y) -> tuple[bool, str]:
    """Whether sMAPE is a fair score for a series, and why (not).

    sMAPE divides by the size of the values, so near zero a small error becomes a large share
    and the score swings towards its 200 % cap. "Near" is relative to the series' own spread:
    the series is refused when it changes sign or when some ``|y|`` is below
    ``SMAPE_ZERO_MARGIN`` (a tenth) of its range ``max(y) - min(y)``, errors being of the order
    of that spread.

    Parameters
    ----------
    y : array-like, shape (N,)
        The target in original units (finite).

    Returns
    -------
    (ok, reason) : (bool, str)
    """
    v = np.asarray(y, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        return False, "sMAPE needs a non-empty series of finite values"
    closest = float(np.min(np.abs(v)))
    spread = float(np.max(v) - np.min(v))
    if closest == 0.0:
        return False, "the series reaches zero, where sMAPE divides by zero; use MASE or MAE instead"
    if np.min(v) < 0 < np.max(v):
        return False, "the series changes sign, so sMAPE's ratios are meaningless; use MASE or MAE instead"
    if closest < SMAPE_ZERO_MARGIN * spread:
        return False, (
            f"the series comes within {closest:.3g} of zero, less than a tenth of its range "
            f"{spread:.3g}, so small errors there dominate sMAPE; use MASE or MAE instead"
        )
    return True, (
        f"the series stays at least {closest:.3g} from zero, over a tenth of its range {spread:.3g}"
    )


def _interval(actual, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, lo = _pair(actual, lower, ("actual", "lower"))
    _, hi = _pair(actual, upper, ("actual", "upper"))
    if np.any(lo > hi):
        raise PlaygroundError("an interval's lower bound is above its upper bound; swap or rebuild them")
    return a, lo, hi


def check_level(level) -> float:
    """An interval level in (0, 1) as float."""
    ok = isinstance(level, (int, float, np.floating)) and not isinstance(level, bool)
    if not ok or not 0 < level < 1:
        raise PlaygroundError(f"interval level must be between 0 and 1 (e.g. 0.8 for 80 %); got {level!r}")
    return float(level)


def winkler(actual, lower, upper, level, *, axis: int | None = None):
    """Mean Winkler score of intervals ``[lower, upper]`` at ``level`` (see the module doc).

    Parameters
    ----------
    actual, lower, upper : array-like, same shape ``(...)``
        Infinite bounds are allowed (an infinitely wide interval scores inf).
    level : float
        Nominal coverage in (0, 1); ``alpha = 1 - level``.
    axis : int, optional
        As in :func:`mae`.
    """
    alpha = 1.0 - check_level(level)
    a, lo, hi = _interval(actual, lower, upper)
    # np.maximum(., 0) rather than a mask: only the side that was missed adds a penalty, and an
    # infinite bound on the other side contributes 0, not inf - inf
    outside = np.maximum(lo - a, 0.0) + np.maximum(a - hi, 0.0)
    out = np.mean((hi - lo) + (2.0 / alpha) * outside, axis=axis)
    return float(out) if axis is None else out


def coverage(actual, lower, upper, *, axis: int | None = None):
    """Share of ``actual`` inside ``[lower, upper]`` (bounds included), from 0 to 1.

    Shapes as :func:`mae`.
    """
    a, lo, hi = _interval(actual, lower, upper)
    out = np.mean((lo <= a) & (a <= hi), axis=axis)
    return float(out) if axis is None else out
