"""Stage 5, row order: rows without a date dropped, rows sorted by time (stable), repeats counted.

Without a time axis the rows keep the file order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnn_core.errors import PlaygroundError


def order_rows(frame: pd.DataFrame, date_column: str | None) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` in time order by ``date_column``, and notes on what was dropped or moved.

    Parameters
    ----------
    frame : pandas.DataFrame
        The typed table, the time axis (datetime64 with NaT, or numeric) in ``date_column``.
    date_column : str | None
        The time axis; ``None`` leaves the rows as they are.

    Returns
    -------
    frame : pandas.DataFrame
        Undated rows dropped, sorted by time (ties keep file order), index ``0..N-1``.
    notes : list[str]
        Rows dropped, repeated times, and whether the rows had to be sorted, in that order.

    Raises
    ------
    PlaygroundError
        When no row has a readable date.
    """
    notes: list[str] = []
    if date_column is None:
        return frame, notes
    if np.issubdtype(frame[date_column].dtype, np.datetime64):
        undated = np.isnat(frame[date_column].to_numpy())
        if undated.any():
            notes.append(f"{int(undated.sum())} row(s) without a readable '{date_column}' were dropped")
            frame = frame.loc[~undated]
    if len(frame) == 0:
        raise PlaygroundError(f"no row has a readable '{date_column}'; check the date column")
    xs = frame[date_column].to_numpy()
    unsorted = not np.all(xs[1:] >= xs[:-1])
    if unsorted:
        frame = frame.iloc[np.argsort(xs, kind="stable")]
    frame = frame.reset_index(drop=True)
    xs = frame[date_column].to_numpy()
    dups = int(np.count_nonzero(xs[1:] == xs[:-1]))
    if dups:
        notes.append(f"{dups} repeated value(s) in '{date_column}'")
    if unsorted:
        notes.append(f"rows were not in time order; sorted by '{date_column}'")
    return frame, notes
