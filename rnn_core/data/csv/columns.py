"""Stage 3, raw fields -> typed columns: numbers (decimal point or comma, thousands), text, missing.

Rules: one decimal style for the whole file, chosen by the tokens only one of the two can read
("1,5" or "1.234,5" vs "1.5" or "1,234.5"); ties go to the point in a ``,``-delimited file, then
to the only separator that occurs in numbers, then to the comma when the delimiter is ``;``. A
column that the other style reads completely uses that style and is noted. Thousands separators
(``,`` ``.`` space, narrow space, ``'``) are accepted in consistent groups of three. Missing
markers (empty, NA, N/A, NaN, null, -, ?) count as missing; ``inf``/``-inf``/``Infinity`` and
overflowing values count as infinite and become missing. A column with any other text is text
(a time-axis candidate, else *unusable* with an example), never coerced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnn_core.data.csv.tokens import INF_TOKENS, MISSING_TOKENS, NUMBER, THOUSANDS_SPACES
from rnn_core.errors import PlaygroundError


@dataclass(frozen=True)
class TypedColumns:
    """Every column of a file, typed.

    Attributes
    ----------
    decimal : str
        The file's decimal style, ``"."`` or ``","``.
    data : dict[str, numpy.ndarray | pandas.Series]
        Per column in file order: float64 values (NaN for missing and infinite cells) for numeric
        columns, the stripped text otherwise.
    numeric : list[str]
        Columns of numbers with at least one finite value.
    text : list[str]
        Columns with text in them (time-axis candidates).
    unusable : list[str]
        Columns neither numeric nor text: all missing, or only infinite values.
    reasons : dict[str, str]
        Why each text or unusable column cannot be an input.
    infinite : dict[str, int]
        Infinite cells per numeric column that has any.
    notes : list[str]
        Columns read in the other decimal style.
    """

    decimal: str
    data: dict = field(default_factory=dict)
    numeric: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    unusable: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)
    infinite: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def type_columns(names: list[str], rows: list[list[str]], lines: list[int], delimiter: str) -> TypedColumns:
    """Type each column of ``rows`` (equal-width rows of raw fields; ``lines`` for examples)."""
    raw_cols = [pd.Series(list(c), dtype=object) for c in zip(*rows, strict=True)]
    decimal = decimal_style(raw_cols, delimiter)
    typed = TypedColumns(decimal)
    for name, col in zip(names, raw_cols, strict=True):
        kind, data, reason, n_inf, note = type_column(name, col, decimal, lines)
        typed.data[name] = data
        {"numeric": typed.numeric, "text": typed.text, "unusable": typed.unusable}[kind].append(name)
        if reason:
            typed.reasons[name] = reason
        if n_inf:
            typed.infinite[name] = n_inf
        if note:
            typed.notes.append(note)
    return typed


def type_column(
    name: str, col: pd.Series, decimal: str, lines: list[int]
) -> tuple[str, np.ndarray | pd.Series, str | None, int, str | None]:
    """One column -> ``(kind, data, reason, infinite cells, note)``.

    ``kind`` is ``"numeric"`` (``data`` float64 ``(N,)``, NaN where missing or infinite),
    ``"text"`` or ``"unusable"`` (``data`` the stripped text, ``reason`` why it is no input).
    The other decimal style is used, with a ``note``, when it reads every token ``decimal`` cannot.
    """
    values, miss, inf, bad = parse_numbers(col, decimal)
    note = None
    if bad.any() and not (miss | inf).all():
        other = "," if decimal == "." else "."
        alt = parse_numbers(col, other)
        if not alt[3].any():
            values, miss, inf, bad = alt
            note = f"column '{name}' uses a decimal {'comma' if other == ',' else 'point'}"
    present = ~miss
    if not present.any():
        return "unusable", col.str.strip(), "all values missing", 0, note
    if bad.any():
        example = _example(col, bad, lines)
        n_bad = int(bad.sum())
        reason = (
            f"{n_bad} non-numeric value(s), e.g. {example}; correct them or leave those cells empty"
            if n_bad < int(present.sum())
            else f"text, e.g. {example}"
        )
        return "text", col.str.strip(), reason, 0, note
    if not np.isfinite(values).any():
        reason = f"no finite values (all {int(inf.sum())} present are infinite)"
        return "unusable", col.str.strip(), reason, 0, note
    return "numeric", values, None, int(inf.sum()), note


def settle_roles(typed: TypedColumns, names: list[str], date_column: str | None) -> TypedColumns:
    """The columns once the time axis is known: it is neither an input nor unusable.

    Text columns other than the time axis become unusable (file order kept). With no numeric
    column left this is the error that lists every column and why it cannot be used.
    """
    numeric = [n for n in typed.numeric if n != date_column]
    unusable = [n for n in names if n in typed.unusable or (n in typed.text and n != date_column)]
    reasons = {n: r for n, r in typed.reasons.items() if n != date_column}
    if not numeric:
        found = ", ".join(names)
        why = "; ".join(f"{n}: {reasons[n]}" for n in names if n in reasons)
        raise PlaygroundError(
            f"CSV has no numeric column; found: {found}" + (f" ({why})" if why else "") + ". "
            "Upload a file with at least one column of numbers (decimal point or comma)"
        )
    return TypedColumns(
        decimal=typed.decimal,
        data=typed.data,
        numeric=numeric,
        text=[n for n in typed.text if n != date_column],
        unusable=unusable,
        reasons=reasons,
        infinite=typed.infinite,
        notes=typed.notes,
    )


def decimal_style(columns: list[pd.Series], delimiter: str) -> str:
    """``"."`` or ``","`` for the whole file, from the tokens only one style can read.

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
        reads = {d: s.str.fullmatch(p.pattern) | s.str.fullmatch(q.pattern) for d, (p, q) in NUMBER.items()}
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


def parse_numbers(col: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tokens -> (values with NaN for missing/infinite, missing mask, infinite mask, unreadable mask).

    All four are ``(N,)`` for ``N = len(col)``; ``decimal`` is ``"."`` or ``","``.
    """
    n = len(col)
    if decimal != "." or n == 0:
        return parse_tokens(col, decimal)
    # fast path: pandas' C parser reads plain decimal-point numbers; it accepts nothing finite
    # that the patterns reject, so only the tokens it cannot read take the slow path
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
    values[idx], missing[idx], inf[idx], bad[idx] = parse_tokens(col.iloc[idx], decimal)
    return values, missing, inf, bad


def parse_tokens(col: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pattern-based reader behind :func:`parse_numbers` (any style, separators, markers)."""
    s = col.str.strip().str.replace("\u2212", "-", regex=False)
    low = s.str.lower()
    missing = low.isin(MISSING_TOKENS).to_numpy()
    inf = low.isin(INF_TOKENS).to_numpy()
    plain, grouped = NUMBER[decimal]
    rest = ~(missing | inf)
    ok = np.zeros(len(s), dtype=bool)
    values = np.full(len(s), np.nan)
    if rest.any():
        cand = s[rest]
        readable = (cand.str.fullmatch(plain.pattern) | cand.str.fullmatch(grouped.pattern)).to_numpy()
        ok[np.flatnonzero(rest)[readable]] = True
        clean = cand[readable].str.replace(THOUSANDS_SPACES, "", regex=True)
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


def _example(col: pd.Series, mask: np.ndarray, lines: list[int]) -> str:
    k = int(np.flatnonzero(mask)[0])
    token = col.iloc[k].strip()
    if len(token) > 30:
        token = token[:27] + "..."
    return f"{token!r} (line {lines[k]})"
