"""A read CSV table -> a windowed :class:`SeriesDataset`: target, extra inputs and missing values.

Gaps are filled by interpolation in time (``np.interp`` on the timestamps, or on row positions
without a usable time axis; leading/trailing gaps take the nearest value) or rows with a gap are
dropped; the windows come from :func:`rnn_core.data.windows.build_series_dataset`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from rnn_core.data.csv.decode import MAX_BYTES
from rnn_core.data.csv.sniff import MAX_ROWS
from rnn_core.data.csv.table import CsvTable, read_csv_table
from rnn_core.data.datasets import FutureInputs, SeriesDataset
from rnn_core.data.windows import build_series_dataset, check_seq_len
from rnn_core.errors import PlaygroundError


def csv_dataset(
    source,
    *,
    target: str | None = None,
    inputs=(),
    seq_len: int = 50,
    val_fraction: float = 0.2,
    test_fraction: float = 0.15,
    test_min_rows: int = 12,
    transform: str = "none",
    season: int | None = None,
    missing: str = "interpolate",
    name: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> SeriesDataset:
    """A CSV time series as a windowed :class:`SeriesDataset`.

    Parameters
    ----------
    source : bytes | str | Path | CsvTable
        Anything :func:`read_csv_table` reads, or its result.
    target : str, optional
        Column to predict; default the first numeric column.
    inputs : sequence of str
        Extra input columns; the model sees the target's own past (column 0) plus these.
    seq_len : int
        Window length; the cleaned series needs at least ``seq_len + 2`` rows.
    val_fraction : float
        Share of the windows, at the end in time, used for validation.
    test_fraction, test_min_rows : float, int
        The test period held out after them: this share of the rows, at least ``test_min_rows``
        (the longest horizon the Predict page scores by default); 0 holds out nothing.
    transform, season : str, int
        The target transform the model learns in (see :func:`build_series_dataset`).
    missing : {"interpolate", "drop"}
        Fill gaps by interpolation in time (nearest value at the ends) or drop incomplete rows.
    """
    seq_len = check_seq_len(seq_len)
    if missing not in ("interpolate", "drop"):
        raise PlaygroundError(f"missing must be 'interpolate' or 'drop'; got {missing!r}")
    table = (
        source
        if isinstance(source, CsvTable)
        else read_csv_table(source, max_bytes=max_bytes, max_rows=max_rows)
    )
    notes = list(table.report["notes"])
    target, extra = _choose_columns(table, target, inputs, notes)
    columns = [target, *extra]
    values = table.frame[columns].to_numpy(dtype=np.float64, copy=True)  # (N, C)
    x = (
        table.frame[table.date_column].to_numpy()
        if table.date_column
        else np.arange(len(values), dtype=np.float64)
    )
    values, x, future = _future_rows(values, x, columns, notes)
    values, x, filled, dropped = _clean_gaps(values, x, columns, missing, table.date_column, notes)
    n = len(values)
    if n < seq_len + 2:
        raise PlaygroundError(
            f"CSV has {n} usable row(s) after cleaning; need at least {seq_len + 2} "
            f"(sequence length {seq_len} + 2): upload a longer series or lower the sequence length"
        )
    report = {
        "rows": n,
        "missing_filled": filled,
        "missing_dropped": dropped,
        "infinite": sum(table.report["infinite_by_column"].get(c, 0) for c in columns),
        "encoding": table.report["encoding"],
        "notes": notes,
        "unusable_columns": list(table.unusable_columns),
        "date_column": table.date_column,
        "target": target,
        "inputs": extra,
        "delimiter": table.report["delimiter"],
        "decimal": table.report["decimal"],
        "header": table.report["header"],
    }
    ds = build_series_dataset(
        values,
        name=name or table.name,
        columns=columns,
        seq_len=seq_len,
        x_axis=x,
        x_label=table.date_column or "row",
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        test_min_rows=test_min_rows,
        transform=transform,
        season=season,
        report=report,
    )
    return ds if future is None else dataclasses.replace(ds, future=future)


def _future_rows(values: np.ndarray, x: np.ndarray, columns: list[str], notes: list[str]):
    """The trailing rows without a target, cut from the series (a value there could only be
    made up): when they hold every extra input, they are the inputs' known future values
    (``(values, x, FutureInputs or None)``)."""
    n = len(values)
    k = n
    while k > 0 and np.isnan(values[k - 1, 0]):
        k -= 1
    if k == n or k == 0:
        return values, x, None
    ahead = values[k:, 1:]
    if values.shape[1] < 2 or np.isnan(ahead).any():
        notes.append(
            f"the last {n - k} row(s) have no {columns[0]}: they are left out, as a value there could "
            "only be made up"
        )
        return values[:k], x[:k], None
    notes.append(
        f"the last {n - k} row(s) have no {columns[0]} but every extra input: they are the inputs' "
        "known future values, used by the forecast"
    )
    return values[:k], x[:k], FutureInputs(x[k:].copy(), ahead.copy())


def _choose_columns(table: CsvTable, target, inputs, notes: list[str]) -> tuple[str, list[str]]:
    """The target and the distinct extra inputs; a target also named as an input is noted."""
    target = table.numeric_columns[0] if target is None else _pick(table, target, "target")
    if isinstance(inputs, str):
        inputs = [inputs]
    extra: list[str] = []
    for col in inputs or ():
        col = _pick(table, col, "input")
        if col == target:
            notes.append(f"'{col}' is the target; its own past is always an input")
        elif col not in extra:
            extra.append(col)
    return target, extra


def _pick(table: CsvTable, column, role: str) -> str:
    if not isinstance(column, str):
        raise PlaygroundError(f"{role} must be a column name; got {column!r}")
    choices = ", ".join(table.numeric_columns)
    if column in table.numeric_columns:
        return column
    if column == table.date_column:
        raise PlaygroundError(f"column '{column}' is the time axis; pick a {role} from: {choices}")
    if column in table.unusable_columns:
        why = table.report["unusable_reasons"].get(column, "not numeric")
        raise PlaygroundError(f"column '{column}' cannot be the {role} ({why}); pick one of: {choices}")
    raise PlaygroundError(f"unknown column '{column}' for the {role}; numeric columns: {choices}")


def _clean_gaps(
    values: np.ndarray, x: np.ndarray, columns: list[str], missing: str, date_column, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Gaps (NaN) in ``values`` ``(N, C)`` filled or their rows dropped, with the x axis ``(N,)``.

    Returns ``(values, x, filled, dropped)``; the notes say what was done. A column without any
    value is an error.
    """
    gaps = np.isnan(values)  # (N, C)
    for j in np.flatnonzero(gaps.all(axis=0)):
        raise PlaygroundError(f"column '{columns[j]}' has no values left; pick another column")
    if not gaps.any():
        return values, x, 0, 0
    if missing == "drop":
        keep = ~gaps.any(axis=1)
        dropped = int((~keep).sum())
        notes.append(f"{dropped} row(s) with missing values dropped")
        return values[keep], x[keep], 0, dropped
    pos = x.astype("datetime64[ns]").astype(np.int64).astype(np.float64) if x.dtype.kind == "M" else x
    if np.any(np.diff(pos) <= 0):
        pos = np.arange(len(values), dtype=np.float64)  # repeated times: fall back to rows
        notes.append("repeated times: missing values interpolated by row position")
    for j in np.flatnonzero(gaps.any(axis=0)):
        known = ~gaps[:, j]
        values[:, j] = np.interp(pos, pos[known], values[known, j])
    filled = int(gaps.sum())
    how = "in time" if date_column else "by row position"
    notes.append(f"{filled} missing value(s) filled by interpolation {how}")
    return values, x, filled, 0
