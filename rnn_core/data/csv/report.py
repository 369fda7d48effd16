"""Stage 6, the report: what was found, counted as missing or infinite, and left out, in one dict.

The dict is what the Data page shows and what :func:`rnn_core.data.csv.csv_dataset` passes on;
its keys are listed on :class:`rnn_core.data.csv.CsvTable`.
"""

from __future__ import annotations

import pandas as pd

from rnn_core.data.csv.columns import TypedColumns
from rnn_core.data.csv.sniff import Sniffed, delimiter_name


def build_report(
    frame: pd.DataFrame,
    layout: Sniffed,
    columns: TypedColumns,
    *,
    encoding: str,
    date_column: str | None,
    notes: list[str],
) -> dict:
    """The report of a read table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The final table (rows dropped and sorted); missing values are counted in it.
    layout : Sniffed
        Delimiter, header and column names.
    columns : TypedColumns
        Typed columns with roles settled (the time axis is not numeric, text is unusable).
    encoding : str
        How the bytes were decoded.
    date_column : str | None
        The time axis.
    notes : list[str]
        Notes of the earlier stages, in order; the infinite and unusable notes follow them.
    """
    inf_counts = dict(columns.infinite)
    total_inf = sum(inf_counts.values())
    notes = list(notes)
    if total_inf:
        where = ", ".join(f"{n}: {k}" for n, k in inf_counts.items())
        notes.append(f"{total_inf} infinite value(s) treated as missing ({where})")
    reasons = {n: columns.reasons.get(n, "text") for n in columns.unusable}
    notes.extend(f"column '{n}' is not usable: {why}" for n, why in reasons.items())
    return {
        "rows": len(frame),
        "columns": layout.names,
        "delimiter": delimiter_name(layout.delimiter),
        "decimal": columns.decimal,
        "header": layout.header,
        "encoding": encoding,
        "notes": notes,
        "unusable_columns": list(columns.unusable),
        "unusable_reasons": reasons,
        "missing": {n: int(frame[n].isna().sum()) for n in columns.numeric},
        "infinite": total_inf,
        "infinite_by_column": inf_counts,
        "date_column": date_column,
    }
