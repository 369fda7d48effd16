"""Stage 4, the time axis: which column it is, and its dates parsed (day first or not).

Rules: the first text column whose present values (at least two, and 90 %) look like and parse
as dates/times becomes the x axis; day-first is assumed for ``;``-delimited or decimal-comma
files unless most values start with a four-digit year; parsing tries the assumed order, the
other order and pandas' mixed formats and keeps the one that reads the most values. Without
such a column, a whole-number column named like a time (``year``, ``date``, ``time``, ...) with
distinct values becomes the x axis, provided another numeric column is left as an input.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.data.csv.columns import TypedColumns
from rnn_core.data.csv.tokens import DATE, MISSING_TOKENS

TIME_NAMES = frozenset({"year", "years", "yr", "date", "time", "timestamp", "datetime", "epoch"})


@dataclass(frozen=True, eq=False)
class TimeAxis:
    """The x axis of a table.

    Attributes
    ----------
    column : str | None
        The column holding it; ``None`` when the file has no time axis.
    values : numpy.ndarray | None
        ``(N,)`` datetime64[ns] with NaT where unreadable, or float64 for a numeric column.
    notes : tuple[str, ...]
        What a user should know (a numeric column taken as the axis).
    """

    column: str | None = None
    values: np.ndarray | None = None
    notes: tuple[str, ...] = ()


def choose_time_axis(typed: TypedColumns, delimiter: str) -> TimeAxis:
    """The time axis among ``typed``'s columns: dates in a text column, else a numeric time."""
    dayfirst = delimiter == ";" or typed.decimal == ","
    for name in typed.text:
        parsed = date_values(typed.data[name], dayfirst)
        if parsed is not None:
            return TimeAxis(name, parsed)
    for name in typed.numeric:
        v = typed.data[name]
        if name.strip().lower() in TIME_NAMES and len(typed.numeric) > 1 and _distinct_whole(v):
            return TimeAxis(name, v, (f"column '{name}' is used as the time axis, not as an input",))
    return TimeAxis()


def _distinct_whole(v: np.ndarray) -> bool:
    return bool(np.isfinite(v).all() and np.all(v == np.round(v)) and np.unique(v).size == v.size)


def date_values(col: pd.Series, dayfirst: bool) -> np.ndarray | None:
    """``col`` (stripped text) parsed as dates when it is a date column, else ``None``.

    A date column has at least two, and 90 % of its present (not missing) values shaped like
    dates, and as many readable by pandas; missing markers become NaT.
    """
    present = ~col.str.lower().isin(MISSING_TOKENS).to_numpy()
    need = max(2, 0.9 * present.sum())
    looks = col[present].str.fullmatch(DATE.pattern).to_numpy()
    if looks.sum() < need:
        return None
    parsed = parse_dates(col.where(present, ""), dayfirst)
    return parsed if np.count_nonzero(~np.isnat(parsed)) >= need else None


def parse_dates(col: pd.Series, dayfirst: bool) -> np.ndarray:
    """Tokens -> ``(N,)`` datetime64[ns] with NaT where unreadable (format inferred, then mixed).

    Time zones are converted to UTC and dropped. ``dayfirst`` is ignored when most tokens start
    with a four-digit year.
    """
    s = col.str.strip()
    # day-first only makes sense for day.month.year shapes; ISO dates are year first
    if s[s != ""].str.match(r"\d{4}[-/.]").mean() > 0.5:
        dayfirst = False
    best = None
    attempts = [{"dayfirst": dayfirst}, {"dayfirst": not dayfirst}]
    if len(s) <= 50_000:
        attempts.append({"format": "mixed", "dayfirst": dayfirst})
    for kw in attempts:
        arr = _to_datetime(s, kw)
        if arr is None:
            continue
        if best is None or np.count_nonzero(~np.isnat(arr)) > np.count_nonzero(~np.isnat(best)):
            best = arr
        if not np.isnat(best[s != ""]).any():
            break
    return best if best is not None else np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")


def _to_datetime(s: pd.Series, kw: dict) -> np.ndarray | None:
    """One pandas parsing attempt as naive UTC datetime64[ns]; ``None`` when pandas refuses."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(s, errors="coerce", **kw)
        except (ValueError, TypeError, OverflowError):
            try:
                parsed = pd.to_datetime(s, errors="coerce", utc=True, **kw).dt.tz_localize(None)
            except (ValueError, TypeError, OverflowError):
                return None
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.to_numpy(dtype="datetime64[ns]")
