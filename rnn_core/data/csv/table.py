"""The CSV reader: the six stages in order, from a source to a typed :class:`CsvTable`."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from rnn_core.data.csv.columns import settle_roles, type_columns
from rnn_core.data.csv.decode import MAX_BYTES, decode, read_source
from rnn_core.data.csv.order import order_rows
from rnn_core.data.csv.report import build_report
from rnn_core.data.csv.sniff import MAX_ROWS, sniff
from rnn_core.data.csv.timeaxis import choose_time_axis


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed, typed CSV table (not yet windowed).

    Attributes
    ----------
    frame : pandas.DataFrame
        One column per CSV column, rows in time order when there is a time axis. Numeric columns
        are float64 with NaN for missing and infinite cells; the date column is datetime64[ns]
        (or float for a numeric time column such as ``year``); unusable columns hold the text.
    numeric_columns : list[str]
        Usable numeric columns (not the time axis), in file order.
    date_column : str | None
        The time axis, if any.
    unusable_columns : list[str]
        Columns that cannot be used, with reasons in ``report["unusable_reasons"]``.
    report : dict
        ``rows, columns, delimiter, decimal, header, encoding, notes, unusable_columns,
        unusable_reasons, missing (per column), infinite, infinite_by_column, date_column``.
    name : str
        File name, for the dataset's title.
    """

    frame: pd.DataFrame
    numeric_columns: list[str]
    date_column: str | None
    unusable_columns: list[str]
    report: dict
    name: str = "data.csv"


def read_csv_table(
    source, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS, name: str | None = None
) -> CsvTable:
    """Read and type a CSV time series (each stage's module docstring states its rules).

    Parameters
    ----------
    source : bytes | str | pathlib.Path
        File contents (bytes), a path, or CSV text (a str containing a line break).
    max_bytes, max_rows : int
        Limits; exceeding either is a :class:`PlaygroundError` naming the limit.
    name : str, optional
        Label for the data (default: the file name).

    Raises
    ------
    PlaygroundError
        Empty, binary, too large, ragged, header-only or without any numeric column.
    """
    data, label = read_source(source, max_bytes, name)
    decoded = decode(data)
    layout = sniff(decoded.text, max_rows)
    typed = type_columns(layout.names, layout.rows, layout.lines, layout.delimiter)
    axis = choose_time_axis(typed, layout.delimiter)
    columns = settle_roles(typed, layout.names, axis.column)
    frame = pd.DataFrame(columns.data)
    if axis.column is not None:
        frame[axis.column] = axis.values
    frame, order_notes = order_rows(frame, axis.column)
    notes = [*decoded.notes, *layout.notes, *typed.notes, *axis.notes, *order_notes]
    report = build_report(
        frame, layout, columns, encoding=decoded.encoding, date_column=axis.column, notes=notes
    )
    return CsvTable(
        frame=frame,
        numeric_columns=columns.numeric,
        date_column=axis.column,
        unusable_columns=columns.unusable,
        report=report,
        name=label,
    )
