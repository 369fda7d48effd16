"""Split-conformal prediction intervals, one half-width per horizon, and how well they cover.

Split conformal (Vovk et al., 2005; Lei et al., 2018): forecast a calibration period the model
was not fitted on, take the absolute errors ``|a - f|`` of its ``n`` origins at horizon ``h``,
and use the ``k``-th smallest with ``k = ceil((n + 1) * level)`` as the half-width at that
horizon. When calibration and test errors are exchangeable, a new forecast plus or minus that
half-width covers the actual value with probability at least ``level`` -- the ``+ 1`` is the
finite-sample correction, the test point being one more in the ranking. With ``k > n`` no
calibration error is large enough to promise that, and the half-width is infinite.

Errors of a time series are not exchangeable when the series drifts, and neighbouring origins
share most of their horizon, so the guarantee holds only approximately; the empirical coverage
of :func:`interval_report` on a later period is the honest check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.metrics import check_level, coverage, winkler


@dataclass(frozen=True, eq=False)
class ConformalWidths:
    """Half-widths of split-conformal intervals and what they rest on.

    Attributes
    ----------
    halfwidths : ndarray, shape (H,)
        Per horizon, in the units of the residuals; inf where ``n`` is too small.
    level : float
        Nominal coverage.
    n : int
        Calibration origins.
    rank : int
        ``k = ceil((n + 1) * level)``, the rank of the absolute residual used.
    note : str or None
        Says so when the intervals are infinite; None otherwise.
    """

    halfwidths: np.ndarray
    level: float
    n: int
    rank: int
    note: str | None = None


def calibration_rank(n: int, level: float) -> int:
    """``ceil((n + 1) * level)``, with ``level`` read as the decimal it was written as (0.55 is
    11/20), so that a whole product is not pushed over by float rounding."""
    # in floats 100 * 0.55 is 55.00000000000001, which ceil would make 56
    return math.ceil((n + 1) * Fraction(repr(float(level))))


def min_calibration(level: float) -> int:
    """The fewest calibration origins that give finite half-widths at ``level``.

    ``ceil((n + 1) * level) <= n`` exactly when ``n >= level / (1 - level)``.
    """
    lv = Fraction(repr(float(level)))
    return max(1, math.ceil(lv / (1 - lv)))


def conformal_halfwidths(residuals, level: float) -> ConformalWidths:
    """Half-widths per horizon from calibration residuals.

    Parameters
    ----------
    residuals : array-like, shape (n, H)
        ``actual - forecast`` for ``n`` calibration origins (signs do not matter).
    level : float
        Nominal coverage in (0, 1), e.g. 0.8.

    Returns
    -------
    ConformalWidths
        ``halfwidths`` of shape ``(H,)``: the ``k``-th smallest ``|residual|`` of each column,
        ``k = ceil((n + 1) * level)``; all inf, with a ``note``, when ``k > n``.
    """
    level = check_level(level)
    r = np.asarray(residuals, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] == 0:
        raise PlaygroundError(f"residuals must be a (origins, horizon) matrix; got shape {r.shape}")
    if np.isnan(r).any():
        raise PlaygroundError("calibration residuals contain NaN; calibrate on finite forecasts only")
    n, H = r.shape
    k = calibration_rank(n, level)
    if k > n:
        need = min_calibration(level)
        note = (
            f"{n} calibration origin(s) are too few for {level:.0%} intervals (at least {need} are "
            "needed), so they are infinite; calibrate on a longer period or lower the level"
        )
        return ConformalWidths(np.full(H, np.inf), level, n, k, note)
    widths = np.partition(np.abs(r), k - 1, axis=0)[k - 1]  # (H,): k-th smallest per horizon
    return ConformalWidths(widths, level, n, k)


def band(forecast, halfwidths) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric intervals around forecasts.

    Parameters
    ----------
    forecast : array-like, shape (B, H) or (H,)
    halfwidths : array-like, shape (H,)
        E.g. ``conformal_halfwidths(...).halfwidths``.

    Returns
    -------
    lower, upper : ndarray, shape of ``forecast``
    """
    f = np.asarray(forecast, dtype=np.float64)
    w = np.asarray(halfwidths, dtype=np.float64)
    if w.ndim != 1 or f.shape[-1:] != w.shape:
        raise PlaygroundError(
            f"forecasts of shape {f.shape} need one half-width per horizon ({f.shape[-1:]}); got {w.shape}"
        )
    if np.isnan(w).any() or (w < 0).any():
        raise PlaygroundError(
            "half-widths must be zero or positive (inf allowed); rebuild them from residuals"
        )
    return f - w, f + w


def interval_report(actual, lower, upper, level: float) -> dict:
    """Empirical coverage and mean Winkler score of intervals, per horizon and overall.

    Parameters
    ----------
    actual, lower, upper : array-like, shape (B, H)
    level : float
        The nominal coverage the intervals were built for.

    Returns
    -------
    dict
        ``level``, ``origins`` (B), ``coverage`` (float, share of all B·H values inside),
        ``coverage_by_horizon`` ``(H,)``, ``winkler`` (float, mean over all B·H),
        ``winkler_by_horizon`` ``(H,)`` (mean over the B origins).
    """
    a = np.asarray(actual, dtype=np.float64)
    if a.ndim != 2:
        raise PlaygroundError(f"actual values must be a (origins, horizon) matrix; got shape {a.shape}")
    return {
        "level": check_level(level),
        "origins": int(a.shape[0]),
        "coverage": coverage(a, lower, upper),
        "coverage_by_horizon": coverage(a, lower, upper, axis=0),
        "winkler": winkler(a, lower, upper, level),
        "winkler_by_horizon": winkler(a, lower, upper, level, axis=0),
    }
