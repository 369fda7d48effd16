"""The season length ``m`` a seasonal naive forecast and MASE use, found from dates or the data.

- With dates: the calendar season of the median spacing between rows (hourly 24, daily 7,
  weekly 52, monthly 12, quarterly 4). Other spacings (yearly, minutes, irregular) carry no
  calendar season worth assuming, so the data decides.
- Otherwise the autocorrelation of the training part after removing a least-squares line (a
  trend would make every lag look alike), at lags ``2 .. n // 2``: the highest local maximum that
  is positive and above a significance band. The band is the textbook ``2 / sqrt(n)`` made
  honest in two ways. Its standard error is Bartlett's, ``sqrt((1 + 2 sum r_j**2) / n)`` over the
  short-memory lags before the autocorrelation first reaches zero, so that an autocorrelated but
  seasonless series (AR(1), a random walk), whose long lags wobble far more than white noise's,
  does not find a season in the wobbles. And the multiplier 2 grows to ``sqrt(2 ln L)`` -- about
  where the largest of ``L`` white-noise autocorrelations lands -- when ``L`` lags are searched,
  since noise crosses a 2-sigma band at a few of many lags. A peak must also stand a band above
  the autocorrelation at half its lag (a cycle dips between its repeats).
  A cycle repeats at multiples of its length and the estimator's ``1 - k/n`` decay leaves those
  nearly as high, so a peak at about a ``q``-th of the highest one's lag (within ``q`` lags, as
  a cycle of non-whole length rounds) that is nearly as high (90 %) is preferred: the
  fundamental, not its echo.
- 1 when nothing qualifies (no season).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn_core.errors import PlaygroundError

# (name, season, lowest and highest median spacing in seconds)
_CALENDAR = (
    ("hourly", 24, 0.9 * 3600, 1.1 * 3600),
    ("daily", 7, 0.9 * 86400, 1.1 * 86400),
    ("weekly", 52, 6.5 * 86400, 7.5 * 86400),
    ("monthly", 12, 27 * 86400, 32 * 86400),
    ("quarterly", 4, 88 * 86400, 93 * 86400),
)
FUNDAMENTAL_SHARE = 0.9  # a divisor peak this close to the highest one wins (see module doc)


@dataclass(frozen=True)
class Season:
    """A season length and how it was found.

    Attributes
    ----------
    length : int
        ``m >= 1``; 1 means no season.
    how : str
        A short sentence for the user, e.g. ``"monthly dates: 12"``.
    """

    length: int
    how: str


def season_length(season) -> int:
    """A season given as a :class:`Season` or a plain int, checked, as int ``m >= 1``."""
    m = getattr(season, "length", season)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise PlaygroundError(f"season length must be a whole number of rows, at least 1; got {season!r}")
    return int(m)


def detect_season(y_train, *, dates=None) -> Season:
    """Season length of a training part (see the module docstring for the rules).

    Parameters
    ----------
    y_train : array-like, shape (n,)
        The training part of the target in original units, finite.
    dates : array-like, shape (n,), optional
        ``datetime64`` time stamps of those rows. Numeric positions (a series' ``x_axis``
        without a date column) carry no calendar and are treated as absent.

    Returns
    -------
    Season
    """
    y = np.asarray(y_train, dtype=np.float64).ravel()
    if not np.all(np.isfinite(y)):
        raise PlaygroundError(
            "the training part contains missing or infinite values; fill or drop them first"
        )
    prefix = ""
    if dates is not None:
        d = np.asarray(dates)
        if np.issubdtype(d.dtype, np.datetime64):
            if d.shape != y.shape:
                raise PlaygroundError(
                    f"dates must have one time stamp per training row ({y.size}); got shape {d.shape}"
                )
            found = _calendar_season(d)
            if isinstance(found, Season):
                return found
            prefix = found
    return _acf_season(y, prefix)


def _calendar_season(d: np.ndarray) -> Season | str:
    """The calendar season of the median spacing, or a sentence saying why there is none."""
    if d.size < 2:
        return "one time stamp gives no spacing; "
    steps = np.diff(d.astype("datetime64[s]").astype(np.int64)).astype(np.float64)
    step = float(np.median(steps))
    for name, m, lo, hi in _CALENDAR:
        if lo <= step <= hi:
            return Season(m, f"{name} dates: {m}")
    if 360 * 86400 <= step <= 370 * 86400:
        return "yearly dates have no season within a year; "
    return f"dates {_spacing(step)} apart match no calendar season; "


def _spacing(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds:.3g} seconds"


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation ``r_k = sum x_t x_{t+k} / sum x_t**2`` of a centred series.

    The biased (``1/n``) estimator: it is a proper autocorrelation function and shrinks long
    lags, which have fewer pairs. Computed by FFT, ``O(n log n)``.

    Parameters
    ----------
    x : ndarray, shape (n,)
        Already centred (and detrended).
    max_lag : int

    Returns
    -------
    r : ndarray, shape (max_lag + 1,)
        ``r[0] = 1``; all zeros for a series with no variation.
    """
    n = x.size
    size = 1 << (2 * n - 1).bit_length()  # zero padding so the circular product is linear
    f = np.fft.rfft(x, size)
    acov = np.fft.irfft(f * np.conj(f), size)[: max_lag + 1]
    if acov[0] <= 0:
        return np.zeros(max_lag + 1)
    return acov / acov[0]


def _acf_season(y: np.ndarray, prefix: str) -> Season:
    n = y.size
    max_lag = n // 2
    if max_lag < 3:  # a local maximum needs lags on both sides within 2 .. n/2
        return Season(1, f"{prefix}no season found ({n} rows are too few to look): 1")
    t = np.arange(n, dtype=np.float64)
    slope, intercept = np.polyfit(t, y, 1)
    resid = y - (slope * t + intercept)
    r = autocorrelation(resid, max_lag + 1)  # (max_lag + 2,): lag max_lag needs a right neighbour
    searched = max_lag - 1  # lags 2 .. max_lag
    z = max(2.0, math.sqrt(2.0 * math.log(searched)))
    first_zero = np.flatnonzero(r[1:] <= 0)
    short = int(first_zero[0]) + 1 if first_zero.size else max_lag + 1  # lags 1 .. short - 1
    band = z * math.sqrt((1.0 + 2.0 * float(np.sum(r[1:short] ** 2))) / n)
    k = np.arange(2, max_lag + 1)  # lags 2 .. n // 2
    peak = (r[k] > r[k - 1]) & (r[k] >= r[k + 1]) & (r[k] > band)
    peak &= r[k] > r[k // 2] + band  # a cycle dips between its repeats; noise wobbles need not
    lags = k[peak]
    if lags.size == 0:
        return Season(1, f"{prefix}no season found: 1")
    best = int(lags[np.argmax(r[lags])])
    for lag in lags[lags < best]:
        multiple = round(best / lag)
        if multiple >= 2 and abs(best - multiple * lag) <= multiple and r[lag] >= FUNDAMENTAL_SHARE * r[best]:
            best = int(lag)
            break
    return Season(best, f"{prefix}autocorrelation peak at lag {best}")
