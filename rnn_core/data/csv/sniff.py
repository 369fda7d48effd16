"""Stage 2, text -> rows: the delimiter, ragged rows, the header and the column names.

Rules: the delimiter is the candidate (``,`` ``;`` tab ``|``) under which the first row has the
same number of fields as most rows (at least two) and the most fields look like numbers, dates
or missing markers; when none splits the file it has one column. Rows with another number of
fields are an error naming their lines ("ragged rows"); empty trailing fields are dropped first.
The first row is a header when one of its fields is text above a column of numbers or dates, or
when all of its fields are distinct text; otherwise the names are ``column 1``, ``column 2``, ...
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass

from rnn_core.data.csv.decode import SAMPLE_CHARS
from rnn_core.data.csv.tokens import is_typed
from rnn_core.errors import PlaygroundError

MAX_ROWS = 1_000_000
DELIMITERS = (",", ";", "\t", "|")
SINGLE_FIELD = "\x1f"  # a delimiter no text file uses: each line is one field, quotes still honoured
SAMPLE_ROWS = 200


@dataclass(frozen=True)
class Sniffed:
    """The rows of a CSV file and its layout.

    Attributes
    ----------
    delimiter : str
        One of :data:`DELIMITERS`, or :data:`SINGLE_FIELD` for a one-column file.
    header : bool
        Whether the first row held the column names.
    names : list[str]
        Distinct column names, one per field.
    rows : list[list[str]]
        Data rows (header removed), each with ``len(names)`` fields.
    lines : list[int]
        The file line on which each data row starts (1-based), for messages.
    notes : tuple[str, ...]
        What a user should know (blank lines skipped).
    """

    delimiter: str
    header: bool
    names: list[str]
    rows: list[list[str]]
    lines: list[int]
    notes: tuple[str, ...] = ()


def sniff(text: str, max_rows: int = MAX_ROWS) -> Sniffed:
    """Split CSV text into named columns of raw fields; too many, no or ragged rows are errors."""
    delimiter = detect_delimiter(text)
    rows, lines, blank = split_rows(text, delimiter, max_rows + 2, keep_blank=delimiter == SINGLE_FIELD)
    if len(rows) > max_rows + 1:
        raise PlaygroundError(
            f"CSV has more than {max_rows:,} rows, over the row limit; trim the file or raise the row limit"
        )
    if not rows:
        raise PlaygroundError("the file has no rows of values; upload a CSV with one row per time step")
    rows = check_ragged(rows, lines, delimiter)
    header = detect_header(rows)
    names = column_names(rows[0] if header else None, len(rows[0]))
    if header:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise PlaygroundError(
            f"the CSV has a header ({', '.join(names)}) but no data rows; add rows of values below it"
        )
    if len(rows) > max_rows:
        raise PlaygroundError(
            f"CSV has {len(rows):,} rows, over the limit of {max_rows:,}; "
            "trim the file or raise the row limit"
        )
    notes = (f"{blank} blank line(s) skipped",) if blank else ()
    return Sniffed(delimiter, header, names, rows, lines, notes)


def split_rows(
    text: str, delimiter: str, limit: int | None = None, *, keep_blank: bool = False
) -> tuple[list[list[str]], list[int], int]:
    """Non-blank rows, the line number of each and the number of blank lines skipped.

    With ``keep_blank`` (one-column files, where an empty cell *is* a blank line) interior blank
    lines are kept as ``[""]`` rows, i.e. missing values; leading and trailing ones are dropped.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"', strict=False)
    rows: list[list[str]] = []
    lines: list[int] = []
    blank = 0
    start = 1
    try:
        for row in reader:
            if not row or all(not f.strip() for f in row):
                if keep_blank and rows:
                    rows.append([""])
                    lines.append(start)
                else:
                    blank += 1
            else:
                rows.append(row)
                lines.append(start)
                if limit is not None and len(rows) >= limit:
                    break
            start = reader.line_num + 1
    except csv.Error as e:
        raise PlaygroundError(f"cannot parse the CSV near line {start}: {e}; check its quotes") from e
    while keep_blank and rows and rows[-1] == [""]:
        rows.pop()
        lines.pop()
        blank += 1
    return rows, lines, blank


def detect_delimiter(text: str) -> str:
    """The delimiter of ``text`` (from its first 64 KiB), or :data:`SINGLE_FIELD` for one column."""
    sample = text[:SAMPLE_CHARS]
    if len(text) > SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = SINGLE_FIELD, -1.0
    for d in DELIMITERS:
        if d not in sample:
            continue
        rows, _, _ = split_rows(sample, d, SAMPLE_ROWS)
        if not rows:
            continue
        counts = Counter(len(r) for r in rows)
        mode, n_mode = counts.most_common(1)[0]
        # a delimiter splitting the first row differently from the rest is a decimal comma or
        # text, not the separator (headers rarely contain the delimiter)
        if mode < 2 or len(rows[0]) != mode or n_mode < 0.5 * len(rows):
            continue
        body = rows[1:] or rows
        fields = [f for r in body for f in r]
        typed = sum(is_typed(f) for f in fields) / max(1, len(fields))
        score = (n_mode / len(rows)) * typed
        if score > best_score:
            best, best_score = d, score
    return best


def check_ragged(rows: list[list[str]], lines: list[int], delimiter: str) -> list[list[str]]:
    """``rows`` without empty trailing fields; rows of another width than the first are an error."""
    width = len(rows[0])
    trimmed = [
        row[:width] if len(row) > width and not any(f.strip() for f in row[width:]) else row for row in rows
    ]
    bad = [(lines[k], len(row)) for k, row in enumerate(trimmed) if len(row) != width]
    if bad:
        shown = ", ".join(f"line {ln} has {n} field{'s' * (n != 1)}" for ln, n in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        sep = {"\t": "tab", SINGLE_FIELD: "none"}.get(delimiter, repr(delimiter))
        raise PlaygroundError(
            f"ragged rows: {shown}{more}; expected {width} like line {lines[0]} (delimiter {sep}). "
            "Give every row the same number of fields, or quote values that contain the delimiter"
        )
    return trimmed


def delimiter_name(delimiter: str) -> str | None:
    """How reports show a delimiter: ``"tab"`` for a tab, ``None`` for a one-column file."""
    return {"\t": "tab", SINGLE_FIELD: None}.get(delimiter, delimiter)


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns (see the module docstring)."""
    first, body = rows[0], rows[1:SAMPLE_ROWS]
    tokens = [f.strip() for f in first]

    def textual(t: str) -> bool:
        return bool(t) and not is_typed(t)

    for j, t in enumerate(tokens):
        if textual(t) and any(j < len(r) and r[j].strip() and is_typed(r[j]) for r in body):
            return True
    return all(textual(t) for t in tokens) and len(set(tokens)) == len(tokens)


def column_names(first: list[str] | None, width: int) -> list[str]:
    """Distinct names from a header row (blanks become ``column j``, repeats get `` (2)``)."""
    names: list[str] = []
    for j in range(width):
        base = (first[j].strip() if first is not None else "") or f"column {j + 1}"
        name, k = base, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names
