"""CSV time series from users: detection, cleaning and honest reporting. The only pandas user.

What :func:`read_csv_table` works out, in order:

1. bytes: size limit (``max_bytes``) before anything is parsed; empty files; binary files (NUL or
   many control bytes); UTF-16 with a byte-order mark is read, UTF-16 without one is binary here.
2. text: UTF-8 (with or without BOM); anything else is read as Latin-1 and *reported*.
3. delimiter: ``,`` ``;`` tab ``|`` -- the candidate under which the first row has the same number
   of fields as most rows (at least two) and the most fields look like numbers, dates or missing
   markers; when none splits the file it has one column. Rows with another number of fields
   are an error naming their lines ("ragged rows").
4. header: the first row is a header when one of its fields is text above a column of numbers
   or dates, or when all of its fields are distinct text; otherwise names are ``column 1``, ...
5. numbers: decimal point or decimal comma, chosen for the whole file by the tokens only one of
   the two can read ("1,5" or "1.234,5" vs "1.5" or "1,234.5"), ties going to the comma when the
   delimiter is ``;``. Thousands separators (``,`` ``.`` space, narrow space, ``'``) are accepted
   in consistent groups of three. Missing markers (empty, NA, N/A, NaN, null, -, ?) count as
   missing; ``inf``/``-inf``/``Infinity``/overflowing values count as infinite and become missing.
   A column with any other text is *unusable* and listed with an example, never coerced.
6. time axis: the first text column whose values parse as dates/times (or a whole-number column
   named like ``year``/``date``/``time`` with distinct values) becomes the x axis; rows are sorted
   by it (stable) and rows without a date are dropped, both reported.

:func:`csv_dataset` then picks the target and extra inputs, fills missing values by
interpolation in time (``np.interp`` on the timestamps, or on row positions without a usable
time axis; leading/trailing gaps take the nearest value) or drops incomplete rows, and builds the
windows with :func:`rnn_core.data.windows.build_series_dataset`.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnn_core.data.datasets import SeriesDataset
from rnn_core.data.windows import build_series_dataset, check_seq_len
from rnn_core.errors import PlaygroundError

MAX_BYTES = 50_000_000
MAX_ROWS = 1_000_000
DELIMITERS = (",", ";", "\t", "|")
_SINGLE = "\x1f"  # a delimiter no text file uses: reads each line as one field, quotes still honoured
_SAMPLE_CHARS = 65_536
_SAMPLE_ROWS = 200

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "#n/a", "nan", "null", "none", "nil", "-", "--", "?", "missing", "—", "."}
)
INF_TOKENS = frozenset(
    s + w for s in ("", "+", "-") for w in ("inf", "infinity", "∞", "1.#inf", "#inf", "inf.0")
)
TIME_NAMES = frozenset({"year", "years", "yr", "date", "time", "timestamp", "datetime", "epoch"})

_SEP = r"[' \u00a0\u202f]"  # separators both styles allow for thousands
_NUMBER = {
    # decimal point: 1.5, -.5, 1e-3, 1,234.5, 1 234.5
    ".": (
        re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"),
        re.compile(r"[+-]?[1-9]\d{0,2}(,|" + _SEP + r")\d{3}(?:\1\d{3})*(?:\.\d*)?"),
    ),
    # decimal comma: 1,5, -,5, 1,5e3, 1.234,5, 1 234,5
    ",": (
        re.compile(r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?"),
        re.compile(r"[+-]?[1-9]\d{0,2}(\.|" + _SEP + r")\d{3}(?:\1\d{3})*(?:,\d*)?"),
    ),
}
_DATE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?: ?(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
    r"|\d{8}T?\d{0,6}"
    r"|(?:\d{1,2}[ -])?[A-Za-z]{3,9}\.?,?[ -]\d{1,4}(?:,? \d{4})?(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|[A-Za-z]{3},? \d{1,2} [A-Za-z]{3} \d{4}.*"
    r"|\d{4}-?[Qq][1-4]|\d{4}[-/ ]?W\d{2}"
)


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


# ---------------------------------------------------------------------------------------------
# bytes -> text


def _read_source(source, max_bytes: int, name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "uploaded CSV"
    elif isinstance(source, str) and ("\n" in source or "\r" in source):
        # CSV text pasted as a string (a path never contains a line break)
        data = source.encode("utf-8")
        label = name or "pasted CSV"
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise PlaygroundError(f"CSV file not found: {path}; check the path")
        if not path.is_file():
            raise PlaygroundError(f"{path} is not a file; give the path of a .csv file")
        size = path.stat().st_size
        if size > max_bytes:
            raise PlaygroundError(_too_big(size, max_bytes))
        data = path.read_bytes()
        label = name or path.name
    else:
        raise PlaygroundError(f"CSV source must be bytes or a file path; got {type(source).__name__}")
    if len(data) > max_bytes:
        raise PlaygroundError(_too_big(len(data), max_bytes))
    return data, label


def _too_big(size: int, limit: int) -> str:
    return (
        f"file is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit; "
        "upload a smaller file (fewer rows or columns) or raise the size limit"
    )


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    """Bytes -> (text, encoding, notes)."""
    notes: list[str] = []
    if not data.strip():
        raise PlaygroundError(
            "the file is empty; upload a CSV with one row per time step (a header row is optional)"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", ["read as UTF-16 (byte-order mark found)"]
        except UnicodeDecodeError as e:
            raise PlaygroundError(
                f"the file claims UTF-16 but cannot be decoded ({e.reason}); save it as UTF-8"
            ) from e
    if b"\x00" in data:
        raise PlaygroundError(
            "the file does not look like CSV text: it contains NUL bytes (a binary file, or UTF-16 "
            "without a byte-order mark); export or save it as CSV in UTF-8"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8-sig", data[3:]
    else:
        encoding, body = "utf-8", data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        text = data.decode("latin-1")
        encoding = "latin-1"
        notes.append(
            f"the file is not valid UTF-8 (byte {e.start}); it was read as Latin-1: check accented "
            "characters, or save the file as UTF-8"
        )
    controls = sum(
        1 for ch in text[:_SAMPLE_CHARS] if (ord(ch) < 32 and ch not in "\t\n\r\x0b\x0c") or ch == "\x7f"
    )
    if controls > max(2, 0.005 * min(len(text), _SAMPLE_CHARS)):
        raise PlaygroundError(
            f"the file does not look like CSV text ({controls} control bytes in its start; a binary "
            "file?); upload a CSV text file"
        )
    return text, encoding, notes


# ---------------------------------------------------------------------------------------------
# text -> rows


def _rows(
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


def _is_typed(token: str) -> bool:
    t = token.strip()
    low = t.lower()
    if low in MISSING_TOKENS or low in INF_TOKENS:
        return True
    t = t.replace("\u2212", "-")
    return any(p.fullmatch(t) or q.fullmatch(t) for p, q in _NUMBER.values()) or bool(_DATE.fullmatch(t))


def _detect_delimiter(text: str) -> str:
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rfind("\n")]
    best, best_score = _SINGLE, -1.0
    for d in DELIMITERS:
        if d not in sample:
            continue
        rows, _, _ = _rows(sample, d, _SAMPLE_ROWS)
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
        typed = sum(_is_typed(f) for f in fields) / max(1, len(fields))
        score = (n_mode / len(rows)) * typed
        if score > best_score:
            best, best_score = d, score
    return best


def _check_ragged(rows: list[list[str]], lines: list[int], delimiter: str) -> None:
    width = len(rows[0])
    bad = []
    for k, row in enumerate(rows):
        if len(row) > width and not any(f.strip() for f in row[width:]):
            del row[width:]  # trailing delimiters: empty extra fields carry nothing
        if len(row) != width:
            bad.append((lines[k], len(row)))
    if bad:
        shown = ", ".join(f"line {ln} has {n} field{'s' * (n != 1)}" for ln, n in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        sep = {"\t": "tab", _SINGLE: "none"}.get(delimiter, repr(delimiter))
        raise PlaygroundError(
            f"ragged rows: {shown}{more}; expected {width} like line {lines[0]} (delimiter {sep}). "
            "Give every row the same number of fields, or quote values that contain the delimiter"
        )


def _detect_header(rows: list[list[str]]) -> bool:
    first, body = rows[0], rows[1:_SAMPLE_ROWS]
    tokens = [f.strip() for f in first]

    def textual(t: str) -> bool:
        return bool(t) and not _is_typed(t)

    for j, t in enumerate(tokens):
        if textual(t) and any(j < len(r) and r[j].strip() and _is_typed(r[j]) for r in body):
            return True
    return all(textual(t) for t in tokens) and len(set(tokens)) == len(tokens)


def _column_names(first: list[str] | None, width: int) -> list[str]:
    names: list[str] = []
    for j in range(width):
        base = (first[j].strip() if first is not None else "") or f"column {j + 1}"
        name, k = base, 2
        while name in names:
            name, k = f"{base} ({k})", k + 1
        names.append(name)
    return names


# ---------------------------------------------------------------------------------------------
# typing columns


def _decimal_style(columns: list[pd.Series], delimiter: str) -> str:
    """'.' or ',' for the whole file, from the tokens only one style can read.

    Ties (every token readable both ways, like "1.234") go to the point in a ``,``-delimited file
    (a quoted "1,234" is a thousand), otherwise to the only separator that occurs in numbers,
    and then to the comma when the delimiter is ``;``.
    """
    votes = {".": 0, ",": 0}
    seen = {".": 0, ",": 0}
    for col in columns:
        s = col.head(20_000).str.strip()
        s = s[s.str.contains(r"[.,]", regex=True)]
        if s.empty:
            continue
        reads = {d: s.str.fullmatch(p.pattern) | s.str.fullmatch(q.pattern) for d, (p, q) in _NUMBER.items()}
        votes["."] += int((reads["."] & ~reads[","]).sum())
        votes[","] += int((reads[","] & ~reads["."]).sum())
        number = reads["."] | reads[","]
        for d in seen:
            seen[d] += int((number & s.str.contains(d, regex=False)).sum())
    if votes["."] != votes[","]:
        return "." if votes["."] > votes[","] else ","
    if delimiter != "," and bool(seen["."]) != bool(seen[","]):
        return "." if seen["."] else ","
    return "," if delimiter == ";" else "."


def _parse_numbers(col: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens -> (values with NaN for missing/infinite, missing mask, infinite mask, unreadable mask)."""
    n = len(col)
    if decimal != "." or n == 0:
        return _parse_tokens(col, decimal)
    # fast path: pandas' C parser reads plain decimal-point numbers; it accepts nothing finite
    # that the patterns below reject, so only the tokens it cannot read take the slow path
    fast = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    done = np.isfinite(fast)
    if done.all():
        zeros = np.zeros(n, dtype=bool)
        return fast, zeros, zeros.copy(), zeros.copy()
    values = np.where(done, fast, np.nan)
    missing = np.zeros(n, dtype=bool)
    inf = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(~done)
    values[idx], missing[idx], inf[idx], bad[idx] = _parse_tokens(col.iloc[idx], decimal)
    return values, missing, inf, bad


def _parse_tokens(col: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pattern-based reader behind :func:`_parse_numbers` (any style, separators, markers)."""
    s = col.str.strip().str.replace("\u2212", "-", regex=False)
    low = s.str.lower()
    missing = low.isin(MISSING_TOKENS).to_numpy()
    inf = low.isin(INF_TOKENS).to_numpy()
    plain, grouped = _NUMBER[decimal]
    rest = ~(missing | inf)
    ok = np.zeros(len(s), dtype=bool)
    values = np.full(len(s), np.nan)
    if rest.any():
        cand = s[rest]
        readable = (cand.str.fullmatch(plain.pattern) | cand.str.fullmatch(grouped.pattern)).to_numpy()
        ok[np.flatnonzero(rest)[readable]] = True
        clean = cand[readable].str.replace(r"[' \u00a0\u202f]", "", regex=True)
        if decimal == ",":
            clean = clean.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        else:
            clean = clean.str.replace(",", "", regex=False)
        values[ok] = pd.to_numeric(clean, errors="coerce").to_numpy(dtype=np.float64)
    overflow = ok & ~np.isfinite(values)  # "1e999" reads as inf: infinite, like the word
    inf = inf | overflow
    values[inf] = np.nan
    bad = rest & ~ok
    return values, missing, inf, bad


def _parse_dates(col: pd.Series, dayfirst: bool) -> np.ndarray:
    """Tokens -> datetime64[ns] with NaT where unreadable (format inferred, then mixed)."""
    s = col.str.strip()
    # day-first only makes sense for day.month.year shapes; ISO dates are year first
    if s[s != ""].str.match(r"\d{4}[-/.]").mean() > 0.5:
        dayfirst = False
    best = None
    attempts = [{"dayfirst": dayfirst}, {"dayfirst": not dayfirst}]
    if len(s) <= 50_000:
        attempts.append({"format": "mixed", "dayfirst": dayfirst})
    for kw in attempts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                parsed = pd.to_datetime(s, errors="coerce", **kw)
            except (ValueError, TypeError, OverflowError):
                try:
                    parsed = pd.to_datetime(s, errors="coerce", utc=True, **kw).dt.tz_localize(None)
                except (ValueError, TypeError, OverflowError):
                    continue
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        arr = parsed.to_numpy(dtype="datetime64[ns]")
        if best is None or np.count_nonzero(~np.isnat(arr)) > np.count_nonzero(~np.isnat(best)):
            best = arr
        if not np.isnat(best[s != ""]).any():
            break
    return best if best is not None else np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")


def _example(col: pd.Series, mask: np.ndarray, lines: list[int]) -> str:
    k = int(np.flatnonzero(mask)[0])
    token = col.iloc[k].strip()
    if len(token) > 30:
        token = token[:27] + "..."
    return f"{token!r} (line {lines[k]})"


def read_csv_table(
    source, *, max_bytes: int = MAX_BYTES, max_rows: int = MAX_ROWS, name: str | None = None
) -> CsvTable:
    """Read and type a CSV time series (see the module docstring for every detection rule).

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
    data, label = _read_source(source, max_bytes, name)
    text, encoding, notes = _decode(data)
    delimiter = _detect_delimiter(text)
    rows, lines, blank = _rows(text, delimiter, max_rows + 2, keep_blank=delimiter == _SINGLE)
    if len(rows) > max_rows + 1:
        raise PlaygroundError(
            f"CSV has more than {max_rows:,} rows, over the row limit; trim the file or raise the row limit"
        )
    if not rows:
        raise PlaygroundError("the file has no rows of values; upload a CSV with one row per time step")
    _check_ragged(rows, lines, delimiter)
    header = _detect_header(rows)
    names = _column_names(rows[0] if header else None, len(rows[0]))
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
    if blank:
        notes.append(f"{blank} blank line(s) skipped")

    raw_cols = [pd.Series(list(c), dtype=object) for c in zip(*rows, strict=True)]
    decimal = _decimal_style(raw_cols, delimiter)
    other = "," if decimal == "." else "."
    columns: dict[str, object] = {}
    numeric: list[str] = []
    unusable: list[str] = []
    reasons: dict[str, str] = {}
    missing_counts: dict[str, int] = {}
    inf_counts: dict[str, int] = {}
    text_cols: list[str] = []
    for name_j, col in zip(names, raw_cols, strict=True):
        values, miss, inf, bad = _parse_numbers(col, decimal)
        if bad.any() and not (miss | inf).all():
            alt = _parse_numbers(col, other)
            if not alt[3].any():
                values, miss, inf, bad = alt
                notes.append(f"column '{name_j}' uses a decimal {'comma' if other == ',' else 'point'}")
        present = ~miss
        if not present.any():
            unusable.append(name_j)
            reasons[name_j] = "all values missing"
            columns[name_j] = col.str.strip()
        elif not bad.any():
            if not np.isfinite(values).any():
                unusable.append(name_j)
                reasons[name_j] = f"no finite values (all {int(inf.sum())} present are infinite)"
                columns[name_j] = col.str.strip()
                continue
            numeric.append(name_j)
            columns[name_j] = values
            missing_counts[name_j] = int(np.isnan(values).sum())
            if inf.any():
                inf_counts[name_j] = int(inf.sum())
        else:
            text_cols.append(name_j)
            columns[name_j] = col.str.strip()
            n_bad = int(bad.sum())
            if n_bad < int(present.sum()):
                reasons[name_j] = (
                    f"{n_bad} non-numeric value(s), e.g. {_example(col, bad, lines)}; "
                    "correct them or leave those cells empty"
                )
            else:
                reasons[name_j] = f"text, e.g. {_example(col, bad, lines)}"

    # time axis: a text column of dates, else a whole-number column named like a time
    date_column = None
    x_values = None
    dayfirst = delimiter == ";" or decimal == ","
    for name_j in text_cols:
        col = columns[name_j]
        present = ~col.str.lower().isin(MISSING_TOKENS).to_numpy()
        looks = col[present].str.fullmatch(_DATE.pattern).to_numpy()
        if looks.sum() < max(2, 0.9 * present.sum()):
            continue
        parsed = _parse_dates(col.where(present, ""), dayfirst)
        if np.count_nonzero(~np.isnat(parsed)) >= max(2, 0.9 * present.sum()):
            date_column, x_values = name_j, parsed
            break
    if date_column is None:
        for name_j in numeric:
            v = columns[name_j]
            if (
                name_j.strip().lower() in TIME_NAMES
                and len(numeric) > 1
                and np.isfinite(v).all()
                and np.all(v == np.round(v))
                and np.unique(v).size == v.size
            ):
                date_column, x_values = name_j, v
                numeric.remove(name_j)
                missing_counts.pop(name_j, None)
                notes.append(f"column '{name_j}' is used as the time axis, not as an input")
                break
    for name_j in text_cols:
        if name_j != date_column:
            unusable.append(name_j)
    unusable = [n for n in names if n in unusable]  # file order
    reasons.pop(date_column, None)

    if not numeric:
        found = ", ".join(names)
        why = "; ".join(f"{n}: {reasons[n]}" for n in names if n in reasons)
        raise PlaygroundError(
            f"CSV has no numeric column; found: {found}" + (f" ({why})" if why else "") + ". "
            "Upload a file with at least one column of numbers (decimal point or comma)"
        )

    frame = pd.DataFrame(columns)
    order_note = None
    if date_column is not None:
        frame[date_column] = x_values
        if np.issubdtype(np.asarray(x_values).dtype, np.datetime64):
            undated = np.isnat(x_values)
            if undated.any():
                notes.append(f"{int(undated.sum())} row(s) without a readable '{date_column}' were dropped")
                frame = frame.loc[~undated]
                for n in numeric:
                    missing_counts[n] = int(frame[n].isna().sum())
        xs = frame[date_column].to_numpy()
        if not np.all(xs[1:] >= xs[:-1]):
            frame = frame.iloc[np.argsort(xs, kind="stable")]
            order_note = f"rows were not in time order; sorted by '{date_column}'"
        frame = frame.reset_index(drop=True)
        xs = frame[date_column].to_numpy()
        dups = int(np.count_nonzero(xs[1:] == xs[:-1]))
        if dups:
            notes.append(f"{dups} repeated value(s) in '{date_column}'")
    if order_note:
        notes.append(order_note)
    if len(frame) == 0:
        raise PlaygroundError(f"no row has a readable '{date_column}'; check the date column")

    total_inf = sum(inf_counts.values())
    if total_inf:
        where = ", ".join(f"{n}: {k}" for n, k in inf_counts.items())
        notes.append(f"{total_inf} infinite value(s) treated as missing ({where})")
    for n in unusable:
        notes.append(f"column '{n}' is not usable: {reasons.get(n, 'text')}")
    report = {
        "rows": len(frame),
        "columns": names,
        "delimiter": {"\t": "tab", _SINGLE: None}.get(delimiter, delimiter),
        "decimal": decimal,
        "header": header,
        "encoding": encoding,
        "notes": notes,
        "unusable_columns": list(unusable),
        "unusable_reasons": {n: reasons.get(n, "text") for n in unusable},
        "missing": missing_counts,
        "infinite": total_inf,
        "infinite_by_column": inf_counts,
        "date_column": date_column,
    }
    return CsvTable(
        frame=frame,
        numeric_columns=numeric,
        date_column=date_column,
        unusable_columns=unusable,
        report=report,
        name=label,
    )


# ---------------------------------------------------------------------------------------------
# table -> dataset


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


def csv_dataset(
    source,
    *,
    target: str | None = None,
    inputs=(),
    seq_len: int = 50,
    val_fraction: float = 0.2,
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
    target = table.numeric_columns[0] if target is None else _pick(table, target, "target")
    if isinstance(inputs, str):
        inputs = [inputs]
    notes = list(table.report["notes"])
    extra: list[str] = []
    for col in inputs or ():
        col = _pick(table, col, "input")
        if col == target:
            notes.append(f"'{col}' is the target; its own past is always an input")
        elif col not in extra:
            extra.append(col)
    columns = [target, *extra]
    values = table.frame[columns].to_numpy(dtype=np.float64, copy=True)  # (N, C)
    gaps = np.isnan(values)
    for j in np.flatnonzero(gaps.all(axis=0)):
        raise PlaygroundError(f"column '{columns[j]}' has no values left; pick another column")
    x = (
        table.frame[table.date_column].to_numpy()
        if table.date_column
        else np.arange(len(values), dtype=np.float64)
    )
    filled = dropped = 0
    if gaps.any():
        if missing == "drop":
            keep = ~gaps.any(axis=1)
            dropped = int((~keep).sum())
            values, x = values[keep], x[keep]
            notes.append(f"{dropped} row(s) with missing values dropped")
        else:
            pos = x.astype("datetime64[ns]").astype(np.int64).astype(np.float64) if x.dtype.kind == "M" else x
            if np.any(np.diff(pos) <= 0):
                pos = np.arange(len(values), dtype=np.float64)  # repeated times: fall back to rows
                notes.append("repeated times: missing values interpolated by row position")
            for j in np.flatnonzero(gaps.any(axis=0)):
                known = ~gaps[:, j]
                values[:, j] = np.interp(pos, pos[known], values[known, j])
            filled = int(gaps.sum())
            how = "in time" if table.date_column else "by row position"
            notes.append(f"{filled} missing value(s) filled by interpolation {how}")
    inf_here = sum(table.report["infinite_by_column"].get(c, 0) for c in columns)
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
        "infinite": inf_here,
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
    return build_series_dataset(
        values,
        name=name or table.name,
        columns=columns,
        seq_len=seq_len,
        x_axis=x,
        x_label=table.date_column or "row",
        val_fraction=val_fraction,
        report=report,
    )
