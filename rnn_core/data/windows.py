"""Sliding windows, the time-ordered split and normalisation shared by every regression source.

Definitions (the tests check each one):

- Window ``k`` covers rows ``k .. k + T - 1`` of ``raw`` (all columns) and its target is row
  ``k + T``, column 0: every target is the row right after its window. ``N`` rows give
  ``N - T`` windows.
- Split: the first ``n_train`` windows (in time) train, the rest validate, so every validation
  target comes strictly after every training target. Without an explicit ``n_train``,
  ``n_val = round(windows * val_fraction)`` clamped to ``1 .. windows - 1`` and
  ``n_train = windows - n_val``; both are at least 1, so a series needs at least ``T + 2`` rows.
- Normalisation statistics come from the *training rows*: rows ``0 .. train_idx[-1]``, i.e.
  every row that appears in a training window or as a training target and nothing later.
  ``shift`` is their mean and ``scale`` their population standard deviation per column; a
  column that is constant there gets ``scale = 1`` (noted in the report) instead of a division by
  zero. ``raw = normalised * scale + shift``; the target uses column 0's statistics, so a
  prediction can be fed back as the next input unchanged.
- Test period: with ``test_fraction > 0`` the last ``max(ceil(N * test_fraction), test_min_rows)``
  rows are held out *before* any of the above (a :class:`~rnn_core.data.datasets.HeldOut`):
  windows, split, statistics and baselines are those of the first rows alone. A series too short
  to keep ``T + 2`` rows besides gets no test period, and its report says so.
"""

from __future__ import annotations

import math

import numpy as np

from rnn_core.data.baselines import regression_baselines
from rnn_core.data.datasets import HeldOut, SeriesDataset
from rnn_core.errors import PlaygroundError

MAX_SEQ_LEN = 10_000


def check_seq_len(seq_len) -> int:
    """Validate a window length, returning it as int."""
    if (
        isinstance(seq_len, bool)
        or not isinstance(seq_len, (int, np.integer))
        or not 1 <= seq_len <= MAX_SEQ_LEN
    ):
        raise PlaygroundError(
            f"sequence length must be a whole number from 1 to {MAX_SEQ_LEN}; got {seq_len!r}"
        )
    return int(seq_len)


def check_fraction(val_fraction) -> float:
    """Validate a validation fraction in (0, 1)."""
    ok = isinstance(val_fraction, (int, float)) and not isinstance(val_fraction, bool)
    if not ok or not math.isfinite(val_fraction) or not 0 < val_fraction < 1:
        raise PlaygroundError(f"validation fraction must be between 0 and 1 (e.g. 0.2); got {val_fraction!r}")
    return float(val_fraction)


def check_test_fraction(test_fraction) -> float:
    """Validate a test fraction in [0, 0.5] (0: no test period)."""
    ok = isinstance(test_fraction, (int, float)) and not isinstance(test_fraction, bool)
    if not ok or not math.isfinite(test_fraction) or not 0 <= test_fraction <= 0.5:
        raise PlaygroundError(
            f"test fraction must be from 0 (no test period) to 0.5 (e.g. 0.15); got {test_fraction!r}"
        )
    return float(test_fraction)


def held_out_rows(n_rows: int, seq_len: int, test_fraction: float, test_min_rows: int = 1) -> int:
    """Rows held out at the end (see the module docstring); 0 when the series is too short."""
    if check_test_fraction(test_fraction) == 0:
        return 0
    n_test = max(math.ceil(n_rows * test_fraction), int(test_min_rows), 1)
    return n_test if n_rows - n_test >= seq_len + 2 else 0


def split_counts(n_windows: int, *, n_train: int | None = None, val_fraction: float = 0.2) -> tuple[int, int]:
    """Number of training and validation windows (see the module docstring)."""
    if n_train is None:
        # clamped so that any series of T + 2 rows gets one window of each kind
        n_val = min(max(1, round(n_windows * check_fraction(val_fraction))), n_windows - 1)
        n_train = n_windows - n_val
    else:
        if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)):
            raise PlaygroundError(f"number of training windows must be a whole number; got {n_train!r}")
        n_train = int(n_train)
        n_val = n_windows - n_train
    if n_train < 1 or n_val < 1:
        raise PlaygroundError(
            f"{n_windows} window(s) cannot be split into training ({n_train}) and validation ({n_val}); "
            "each needs at least one window: use a longer series, a shorter window or another split"
        )
    return n_train, n_val


def window_views(values: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """All windows of ``values`` with the row after each as target.

    Parameters
    ----------
    values : ndarray, shape (N, C)
    seq_len : int
        ``T``.

    Returns
    -------
    X : ndarray, shape (T, N - T, C)
        Read-only strided view (no copy).
    target_idx : ndarray, shape (N - T,)
        Row index of each window's target (``T .. N - 1``).
    """
    n = values.shape[0]
    w = np.lib.stride_tricks.sliding_window_view(values, seq_len, axis=0)  # (N - T + 1, C, T)
    X = w[: n - seq_len].transpose(2, 0, 1)  # (T, N - T, C)
    return X, np.arange(seq_len, n, dtype=np.int64)


def normalisation_stats(raw: np.ndarray, last_train_row: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Per-column mean and std of rows ``0 .. last_train_row``; constant columns get scale 1.

    Returns ``(shift, scale, constant_columns)``.
    """
    rows = raw[: last_train_row + 1]
    with np.errstate(over="ignore", invalid="ignore"):
        shift = rows.mean(axis=0)
        scale = rows.std(axis=0)
    if not (np.all(np.isfinite(shift)) and np.all(np.isfinite(scale))):
        raise PlaygroundError(
            "values are too large to normalise (their spread overflows); rescale the data, "
            "e.g. to thousands or millions"
        )
    # relative threshold: a float "constant" column can have a std of a few ulps, not exactly 0
    flat = scale <= 1e-12 * np.maximum(1.0, np.abs(shift))
    scale = np.where(flat, 1.0, scale)
    return shift, scale, [int(i) for i in np.flatnonzero(flat)]


def build_series_dataset(
    raw,
    *,
    name: str,
    columns: list[str],
    seq_len: int,
    x_axis=None,
    x_label: str = "row",
    n_train: int | None = None,
    val_fraction: float = 0.2,
    test_fraction: float = 0.0,
    test_min_rows: int = 1,
    transform: str = "none",
    season: int | None = None,
    report: dict | None = None,
) -> SeriesDataset:
    """Window, split, normalise and score baselines for a cleaned ``(N, C)`` series.

    Parameters
    ----------
    raw : array-like, shape (N, C) or (N,)
        Finite values in original units; column 0 is the target.
    columns : list[str]
        One name per column.
    x_axis : array-like, shape (N,), optional
        Chart positions; defaults to ``0 .. N-1`` as float.
    n_train, val_fraction
        The split (see the module docstring).
    test_fraction, test_min_rows
        The held-out test period at the end (see the module docstring); 0 holds out nothing.
    transform, season
        A target transform the model learns in (:mod:`rnn_core.forecasting.transforms`), fitted
        on the training rows; ``season`` is ``seasonal_diff``'s lag (detected on the training
        rows when not given).
    report : dict, optional
        Source details merged into the dataset's report (notes are appended to).
    """
    seq_len = check_seq_len(seq_len)
    values = np.asarray(raw, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or values.shape[1] != len(columns) or values.shape[1] < 1:
        raise PlaygroundError(f"series must have shape (rows, {len(columns)}); got {values.shape}")
    values = np.ascontiguousarray(values)
    n = values.shape[0]
    if n < seq_len + 2:
        raise PlaygroundError(
            f"series has {n} usable row(s); need at least {seq_len + 2} (sequence length {seq_len} + 2) "
            "for one training and one validation window: use a longer series or a shorter sequence length"
        )
    if not np.all(np.isfinite(values)):
        raise PlaygroundError("series contains missing or infinite values; fill or drop them first")
    x_all = _x_axis(x_axis, n)
    n_test = held_out_rows(n, seq_len, test_fraction, test_min_rows)
    test = None
    if n_test:
        n -= n_test
        test = HeldOut(n, n_test, values[n:].copy(), x_all[n:].copy())
        test._raw.setflags(write=False)
        values, x = values[:n], x_all[:n]
    else:
        x = x_all
    tf, lag = None, 0
    if transform != "none":
        tf, lag = _fit_transform(transform, values, x, seq_len, season, n_train, val_fraction)
    n_windows = n - lag - seq_len
    if n_windows < 2:
        raise PlaygroundError(
            f"after the {transform} transform drops its first {lag} row(s), {n} rows hold fewer than two "
            "windows: use a longer series, a shorter sequence length or another transform"
        )
    n_tr, n_va = split_counts(n_windows, n_train=n_train, val_fraction=val_fraction)

    idx = np.arange(lag + seq_len, n, dtype=np.int64)
    train_idx, val_idx = idx[:n_tr], idx[n_tr:]
    seen = values if tf is None else _model_values(tf, values)  # the model's units, NaN before lag
    shift, scale, constant = normalisation_stats(seen[lag:], int(train_idx[-1]) - lag)
    norm = (seen - shift) / scale  # (N, C)
    norm.setflags(write=False)
    X, _ = window_views(norm[lag:], seq_len)  # (T, N - lag - T, C)
    train_X, val_X = X[:, :n_tr], X[:, n_tr:]
    y = norm[:, 0]
    train_y = y[train_idx][:, None]  # (Btr, 1)
    val_y = y[val_idx][:, None]  # (Bva, 1)

    target_shift, target_scale = float(shift[0]), float(scale[0])
    if tf is None:
        baselines, ridged = regression_baselines(
            values, train_idx, val_idx, train_X, train_y, val_X, target_shift, target_scale
        )
    else:  # the same baselines on the original series, untouched by the model's transform
        plain_shift, plain_scale, _ = normalisation_stats(values, int(train_idx[-1]))
        plain = (values - plain_shift) / plain_scale
        PX, _ = window_views(plain[lag:], seq_len)
        baselines, ridged = regression_baselines(
            values, train_idx, val_idx, PX[:, :n_tr], plain[train_idx, :1], PX[:, n_tr:],
            float(plain_shift[0]), float(plain_scale[0]),
        )  # fmt: skip

    rep = {
        "rows": n,
        "missing_filled": 0,
        "missing_dropped": 0,
        "infinite": 0,
        "encoding": None,
        "notes": [],
        "unusable_columns": [],
        "date_column": None,
    }
    if report:
        rep.update({k: v for k, v in report.items() if k != "notes"})
        rep["notes"] = list(report.get("notes", []))
    rep["notes"] = list(rep["notes"])
    for c in constant:
        rep["notes"].append(f"column '{columns[c]}' is constant over the training rows; it is not scaled")
    if ridged:
        rep["notes"].append("linear baseline: the training windows are collinear; a small ridge was added")
    rep["split"] = (
        f"{n_tr} training and {n_va} validation windows of {seq_len} rows; "
        f"normalised with rows 0..{int(train_idx[-1])}"
    )
    if tf is not None:
        rep["split"] += f"; the model learns the {tf.describe_fit()}"
    if test is not None:
        rep["split"] += f"; the last {test.length} rows are held out as a test period"
    elif test_fraction:
        rep["notes"].append(
            f"the series is too short to hold out a test period besides {seq_len + 2} rows; none is held out"
        )

    return SeriesDataset(
        name=name,
        columns=list(columns),
        x_axis=x,
        x_label=x_label,
        raw=values,
        seq_len=seq_len,
        train_X=train_X,
        train_y=train_y,
        val_X=val_X,
        val_y=val_y,
        train_idx=train_idx,
        val_idx=val_idx,
        input_shift=shift,
        input_scale=scale,
        target_shift=target_shift,
        target_scale=target_scale,
        baselines=baselines,
        report=rep,
        test=test,
        transform=tf,
    )


def _fit_transform(name, values, x, seq_len, season, n_train, val_fraction):
    """The fitted transform and its lag. Its parameters (and a detected season) come from rows
    no later than the last training target, which a lag can only move later."""
    from rnn_core.forecasting import transforms
    from rnn_core.forecasting.season import detect_season

    lag = 0
    if name == "seasonal_diff":
        if season is None:
            early = seq_len + split_counts(values.shape[0] - seq_len, n_train=n_train,
                                           val_fraction=val_fraction)[0] - 1  # fmt: skip
            dates = x[: early + 1] if np.issubdtype(np.asarray(x).dtype, np.datetime64) else None
            season = detect_season(values[: early + 1, 0], dates=dates).length
        lag = int(season)
    elif name == "diff":
        lag = 1
    windows = values.shape[0] - lag - seq_len
    if windows < 2:
        return transforms.fit(name, values[:, 0], train_end=values.shape[0] - 1, season=season or 1), lag
    n_tr, _ = split_counts(windows, n_train=n_train, val_fraction=val_fraction)
    train_end = lag + seq_len + n_tr - 1
    return transforms.fit(name, values[:, 0], train_end=train_end, season=season or 1), lag


def _model_values(tf, values: np.ndarray) -> np.ndarray:
    """``values`` with the target column in the transform's units (NaN in its first lag rows)."""
    out = values.copy()
    out[:, 0] = tf.apply(values[:, 0])
    return out


def _x_axis(x_axis, n: int) -> np.ndarray:
    """Chart positions ``(n,)``: ``0 .. n-1`` by default, else floats or datetime64 as given."""
    if x_axis is None:
        return np.arange(n, dtype=np.float64)
    x = np.asarray(x_axis)
    if x.shape != (n,):
        raise PlaygroundError(f"x axis must have {n} values; got shape {x.shape}")
    return x if np.issubdtype(x.dtype, np.datetime64) else x.astype(np.float64)
