"""Target transforms: what the network models instead of the target column, and the way back.

A transform is fitted on the training rows ``0 .. train_end`` only, applied to the whole target
column ``y`` (``N`` rows, original units) before windowing, and inverted for every prediction and
forecast so that everything reported stays in original units. ``z = apply(y)`` has ``N`` rows like
``y``; its first ``lag`` rows are NaN, so row ``t`` of ``z`` still belongs to row ``t`` of ``y``.

A forecast from origin ``o`` (the last known row) covers rows ``o+1 .. o+H``; ``invert`` turns the
transformed predictions ``z_hat[o+h]`` into ``y_hat[o+h]`` reading ``y`` at rows ``<= o`` only.
One-step predictions are the case ``H = 1`` with origin ``t - 1``. Equations (``m`` the season):

- ``none``:    ``z[t] = y[t]``;                   ``y_hat[t] = z_hat[t]``.
- ``log``:     ``z[t] = ln y[t]`` (every ``y > 0``); ``y_hat[t] = exp(z_hat[t])`` (the median,
  not the mean, if the errors in ``z`` are symmetric).
- ``diff``:    ``z[t] = y[t] - y[t-1]`` for ``t >= 1``; ``y_hat[o+h] = y[o] + z_hat[o+1] + ... +
  z_hat[o+h]``: each horizon builds on the previous *predicted* value.
- ``seasonal_diff``: ``z[t] = y[t] - y[t-m]`` for ``t >= m`` (``m >= 2``); ``y_hat[t] = y_ref[t-m] +
  z_hat[t]`` where ``y_ref`` is the known ``y`` when ``t - m <= o`` and ``y_hat`` otherwise. ``diff``
  is the case ``m = 1``, and both share one loop.
- ``detrend``: ``z[t] = y[t] - (a + b t)`` with ``a, b`` the least-squares line through the training
  rows ``(t, y[t]), t = 0 .. train_end``, extrapolated beyond them; ``y_hat[t] = z_hat[t] + a + b t``.

:func:`suggest` proposes one from the training rows alone (its docstring states the rule).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from rnn_core.errors import PlaygroundError

TRANSFORMS = ("none", "log", "diff", "seasonal_diff", "detrend")

_DESCRIPTIONS = {
    "none": "Model the series as it is.",
    "log": "Model the natural logarithm of the series, which turns steady percentage growth into a "
    "straight line (every value must be above 0).",
    "diff": "Model the change from one row to the next, so that a trend becomes a constant level; "
    "forecasts add the predicted changes to the last known value.",
    "seasonal_diff": "Model the change from the same point one season earlier, which removes a "
    "repeating pattern and its drift; forecasts add the predicted changes to the last known season.",
    "detrend": "Subtract the straight line fitted to the training rows and model what is left; "
    "forecasts add the line, extrapolated, back.",
}

TREND_R2 = 0.5  # share of the training variance a line must explain to count as a trend


def describe(name: str) -> str:
    """One sentence for the UI saying what transform ``name`` models."""
    return _DESCRIPTIONS[_check_name(name)]


@dataclass(frozen=True, kw_only=True)
class Transform:
    """A fitted target transform (build it with :func:`fit` or :meth:`from_dict`).

    Attributes
    ----------
    name : str
        One of :data:`TRANSFORMS`.
    lag : int
        Rows lost at the start of ``apply``: 1 for ``diff``, the season for ``seasonal_diff``,
        0 otherwise.
    train_end : int
        Last training row; every parameter comes from rows ``0 .. train_end``.
    intercept, slope : float
        ``detrend``'s line ``a + b t`` over row indices ``t``; 0 for the other transforms.
    """

    name: str
    lag: int = 0
    train_end: int
    intercept: float = 0.0
    slope: float = 0.0

    def describe_fit(self) -> str:
        """What the model learns, in a few words (e.g. "changes over 12 rows")."""
        return {
            "none": "series as it is",
            "log": "logarithm of the target",
            "diff": "change of the target from row to row",
            "seasonal_diff": f"change of the target over {self.lag} rows (one season)",
            "detrend": f"target less its training trend line ({self.intercept:.4g} + {self.slope:.4g} t)",
        }[self.name]

    def trend(self, t) -> np.ndarray:
        """The detrend line ``a + b t`` at row indices ``t`` (any shape; zeros unless detrend)."""
        return self.intercept + self.slope * np.asarray(t, dtype=np.float64)

    def apply(self, y) -> np.ndarray:
        """Transform the target column.

        Parameters
        ----------
        y : array-like, shape (N,)
            Target in original units from row 0 (detrend's line is indexed by row).

        Returns
        -------
        z : ndarray, shape (N,)
            Transformed target; rows ``0 .. lag-1`` are NaN.
        """
        y = _as_series(y)
        if self.name == "log":
            _check_positive(y)
            return np.log(y)
        if self.name == "detrend":
            return y - self.trend(np.arange(y.size))
        z = np.full(y.size, np.nan)
        if self.name == "none":
            z[:] = y
        else:  # diff, seasonal_diff
            m = self.lag
            z[m:] = y[m:] - y[:-m]
        return z

    def invert(self, z_hat, origins, y) -> np.ndarray:
        """Original-unit values of rows ``o+1 .. o+H`` from their transformed predictions.

        Parameters
        ----------
        z_hat : array-like, shape (B, H)
            ``z_hat[b, h-1]`` is the transformed prediction for row ``origins[b] + h``.
        origins : array-like of int, shape (B,)
            Last known row of each forecast, from ``max(0, lag - 1)`` to ``N - 1``.
        y : array-like, shape (N,)
            Target in original units; only rows ``o - lag + 1 .. o`` of each origin are read, so
            values after an origin may be anything (NaN included).

        Returns
        -------
        y_hat : ndarray, shape (B, H)
            Predictions in original units; differenced forecasts build on earlier predictions.
        """
        z_hat = np.asarray(z_hat, dtype=np.float64)
        origins = np.asarray(origins)
        y = np.asarray(y, dtype=np.float64)
        if y.ndim != 1:
            raise PlaygroundError(f"the target series must be one column of values; got shape {y.shape}")
        if z_hat.ndim != 2 or origins.shape != z_hat.shape[:1]:
            raise PlaygroundError(
                f"transformed predictions must have shape (forecasts, horizon) with one origin per "
                f"forecast; got predictions {z_hat.shape} and origins {origins.shape}"
            )
        if origins.size and not np.issubdtype(origins.dtype, np.integer):
            raise PlaygroundError(f"forecast origins must be row numbers (integers); got {origins.dtype}")
        origins = origins.astype(np.int64)
        lo, hi = max(0, self.lag - 1), y.size - 1
        bad = origins[(origins < lo) | (origins > hi)]
        if bad.size:
            raise PlaygroundError(
                f"forecast origins must be rows {lo} to {hi} (the last known row; a {self.name} transform "
                f"needs {self.lag} known row(s) up to it); got {int(bad[0])}: choose a later origin"
            )
        B, H = z_hat.shape
        if self.name == "none":
            return z_hat.copy()
        if self.name == "log":
            with np.errstate(over="ignore"):  # a diverging forecast becomes inf, not an error
                return np.exp(z_hat)
        if self.name == "detrend":
            return z_hat + self.trend(origins[:, None] + np.arange(1, H + 1))  # (B, H)
        m = self.lag
        path = np.empty((B, m + H))  # column j holds row o - m + 1 + j
        path[:, :m] = y[origins[:, None] + np.arange(1 - m, 1)]  # (B, m): known rows o-m+1 .. o
        for h in range(H):
            # row o+1+h builds on row o+1+h-m: known while h < m, this forecast's own value after
            path[:, m + h] = path[:, h] + z_hat[:, h]
        return path[:, m:]

    def to_dict(self) -> dict:
        """Plain JSON-ready fields, saved with a model."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Transform:
        """Rebuild a transform saved by :meth:`to_dict`, checking that its fields fit together."""
        fields = {f.name for f in dataclasses.fields(cls)}
        if not isinstance(d, dict) or set(d) != fields:
            got = ", ".join(sorted(d)) if isinstance(d, dict) else type(d).__name__
            raise PlaygroundError(
                f"saved target transform must have the fields {', '.join(sorted(fields))}; got {got}: "
                "the model file is damaged or from another version"
            )
        name = _check_name(d["name"])
        lag, train_end = d["lag"], d["train_end"]
        a, b = d["intercept"], d["slope"]
        lag_ok = _is_int(lag) and (lag >= 2 if name == "seasonal_diff" else lag == _FIXED_LAG.get(name))
        numbers_ok = all(isinstance(v, (int, float)) and math.isfinite(v) for v in (a, b))
        line_ok = name == "detrend" or a == b == 0
        if not (lag_ok and _is_int(train_end) and train_end >= 0 and numbers_ok and line_ok):
            raise PlaygroundError(
                f"saved target transform {name!r} has inconsistent fields ({d}): "
                "the model file is damaged; fit the transform again"
            )
        return cls(name=name, lag=int(lag), train_end=int(train_end), intercept=float(a), slope=float(b))


_FIXED_LAG = {"none": 0, "log": 0, "diff": 1, "detrend": 0}


def fit(name: str, y, *, train_end: int, season: int = 1) -> Transform:
    """Fit transform ``name`` on rows ``0 .. train_end`` of ``y``.

    Parameters
    ----------
    name : str
        One of :data:`TRANSFORMS`.
    y : array-like, shape (N,)
        The whole target column in original units, finite. ``log`` checks every row (it is
        applied to all of them); every other check and parameter uses the training rows only.
    train_end : int
        Last training row, ``0 .. N - 1``.
    season : int
        Rows per season, the lag of ``seasonal_diff`` (at least 2); ignored by the others.

    Returns
    -------
    Transform
    """
    name = _check_name(name)
    y = _as_series(y)
    if not np.all(np.isfinite(y)):
        raise PlaygroundError("series contains missing or infinite values; fill or drop them first")
    if not _is_int(train_end) or not 0 <= train_end < y.size:
        raise PlaygroundError(
            f"the last training row must be a row number from 0 to {y.size - 1}; got {train_end!r}"
        )
    train_end = int(train_end)
    n_train = train_end + 1
    if name == "log":
        _check_positive(y)
    if name == "seasonal_diff":
        if not _is_int(season) or season < 2:
            raise PlaygroundError(
                f"a seasonal difference needs a season of at least 2 rows; got {season!r}: set the "
                "season length (e.g. 12 for monthly data with a yearly cycle) or use 'diff'"
            )
        season = int(season)
        if n_train < 2 * season:
            raise PlaygroundError(
                f"a seasonal difference with season {season} needs at least {2 * season} training rows "
                f"(two seasons); the training part has {n_train}: use a shorter season, a longer "
                "training part or another transform"
            )
        return Transform(name=name, lag=season, train_end=train_end)
    if name in ("diff", "detrend") and n_train < 2:
        raise PlaygroundError(
            f"a {name} transform needs at least 2 training rows; the training part has {n_train}: "
            "use a longer training part or no transform"
        )
    if name == "detrend":
        a, b = _line(y[:n_train])
        return Transform(name=name, train_end=train_end, intercept=a, slope=b)
    return Transform(name=name, lag=_FIXED_LAG[name], train_end=train_end)


def suggest(y_train, *, season: int = 1) -> tuple[str | None, str]:
    """Suggest a transform for the training rows, with the reason as a sentence for the user.

    The rule, on the ``n`` training rows (``r`` the residual of their least-squares line):

    1. fewer than 8 rows, or a constant series: ``None``;
    2. no trend (the line explains less than :data:`TREND_R2` of the variance): ``None``;
    3. ``season >= 2``, at least two seasons of rows, and the season dominates what the line
       leaves (``var(r[t] - r[t-m]) < var(r) / 2`` and ``< var(r[t] - r[t-1])``): ``seasonal_diff``;
    4. every value above 0 and a line fits ``ln y`` much better (it leaves at most half the
       unexplained share it leaves of ``y``): growth is multiplicative, ``log``;
    5. the rows stay near the line (``var(r) <= 4 var(y[t] - y[t-1])``, a deterministic trend):
       ``detrend``; otherwise they wander away from it (a stochastic trend): ``diff``.

    Parameters
    ----------
    y_train : array-like, shape (n,)
        Training rows of the target in original units, finite.
    season : int
        Rows per season; 1 when the series has none.

    Returns
    -------
    (name or None, reason)
    """
    y = _as_series(y_train)
    if not np.all(np.isfinite(y)):
        raise PlaygroundError("series contains missing or infinite values; fill or drop them first")
    if not _is_int(season) or season < 1:
        raise PlaygroundError(f"season must be a whole number of rows, at least 1 (1: none); got {season!r}")
    n, m = y.size, int(season)
    if n < 8:
        return None, f"the training part has only {n} rows, too few to judge a trend; no transform suggested"
    if np.ptp(y) <= 1e-12 * max(1.0, float(np.max(np.abs(y)))):
        return None, "the training part is constant; there is no trend to remove"
    r2, r = _r2(y)
    if r2 < TREND_R2:
        return None, (
            f"no clear trend: a straight line explains {r2:.0%} of the training variance "
            f"(a trend needs {TREND_R2:.0%}); the series can be modelled as it is"
        )
    trend = f"a straight line explains {r2:.1%} of the training variance"
    if m >= 2 and n >= 2 * m:
        seasonal, step = np.var(r[m:] - r[:-m]), np.var(np.diff(r))
        if seasonal < 0.5 * np.var(r) and seasonal < step:
            return "seasonal_diff", (
                f"{trend} and a season of {m} rows repeats around it: modelling the change from one "
                "season earlier removes both"
            )
    if np.all(y > 0):
        r2_log, _ = _r2(np.log(y))
        if 1 - r2_log <= 0.5 * (1 - r2):
            return "log", (
                f"the training part grows by a factor of {y.max() / y.min():.3g} and a line fits its "
                f"logarithm better ({r2_log:.1%} of the variance against {r2:.1%}): the growth is "
                "multiplicative, so model the logarithm"
            )
    if np.var(r) <= 4 * np.var(np.diff(y)):
        return "detrend", f"{trend} and the rows stay close to it: model the distance from the line"
    return "diff", (
        f"{trend} but the rows wander away from it (a stochastic trend): model the change from one "
        "row to the next"
    )


def _line(v: np.ndarray) -> tuple[float, float]:
    """Least-squares ``(a, b)`` of ``v[t] ~ a + b t`` over ``t = 0 .. n-1``; ``n >= 2``."""
    t = np.arange(v.size, dtype=np.float64)
    tc = t - t.mean()  # centred: no cancellation between a and b on long series
    b = float(tc @ (v - v.mean()) / (tc @ tc))
    return float(v.mean() - b * t.mean()), b


def _r2(v: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of ``var(v)`` explained by its least-squares line, and the residual ``(n,)``."""
    a, b = _line(v)
    r = v - (a + b * np.arange(v.size))
    total = np.var(v)
    return (float(1 - np.var(r) / total) if total > 0 else 0.0), r


def _check_name(name) -> str:
    if name not in TRANSFORMS:
        raise PlaygroundError(f"unknown target transform {name!r}; choose one of: {', '.join(TRANSFORMS)}")
    return name


def _as_series(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise PlaygroundError(f"the target series must be one column of values; got shape {y.shape}")
    return y


def _check_positive(y: np.ndarray) -> None:
    low = y[y <= 0]
    if low.size:
        raise PlaygroundError(
            f"a log transform needs every value above 0; the series has {low.size} value(s) ≤ 0 "
            f"(smallest {low.min():g}): choose another transform"
        )


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)
