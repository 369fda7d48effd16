"""What one CSV cell can be: a number in either decimal style, a date, a missing or infinite marker.

Every stage reads cells through these definitions, so "looks like a number" means the same
thing to the delimiter sniffer, the header test, the column typer and the time axis.
"""

from __future__ import annotations

import re

MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "#n/a", "nan", "null", "none", "nil", "-", "--", "?", "missing", "—", "."}
)
INF_TOKENS = frozenset(
    s + w for s in ("", "+", "-") for w in ("inf", "infinity", "∞", "1.#inf", "#inf", "inf.0")
)
THOUSANDS_SPACES = r"[' \u00a0\u202f]"  # group separators both decimal styles allow

NUMBER = {
    # decimal point: 1.5, -.5, 1e-3, 1,234.5, 1 234.5
    ".": (
        re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"),
        re.compile(r"[+-]?[1-9]\d{0,2}(,|" + THOUSANDS_SPACES + r")\d{3}(?:\1\d{3})*(?:\.\d*)?"),
    ),
    # decimal comma: 1,5, -,5, 1,5e3, 1.234,5, 1 234,5
    ",": (
        re.compile(r"[+-]?(?:\d+,?\d*|,\d+)(?:[eE][+-]?\d+)?"),
        re.compile(r"[+-]?[1-9]\d{0,2}(\.|" + THOUSANDS_SPACES + r")\d{3}(?:\1\d{3})*(?:,\d*)?"),
    ),
}
"""Per decimal style: (plain number, number with consistent groups of three)."""

DATE = re.compile(
    r"\d{1,4}[-/.]\d{1,2}(?:[-/.]\d{1,4})?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?: ?(?:Z|UTC|[+-]\d{2}:?\d{2}))?"
    r"|\d{8}T?\d{0,6}"
    r"|(?:\d{1,2}[ -])?[A-Za-z]{3,9}\.?,?[ -]\d{1,4}(?:,? \d{4})?(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|[A-Za-z]{3},? \d{1,2} [A-Za-z]{3} \d{4}.*"
    r"|\d{4}-?[Qq][1-4]|\d{4}[-/ ]?W\d{2}"
)
"""The shapes of dates and times a time axis may hold (pandas does the actual parsing)."""


def is_typed(token: str) -> bool:
    """True when ``token`` is a number (either style), a date, or a missing/infinite marker."""
    t = token.strip()
    low = t.lower()
    if low in MISSING_TOKENS or low in INF_TOKENS:
        return True
    t = t.replace("\u2212", "-")
    return any(p.fullmatch(t) or q.fullmatch(t) for p, q in NUMBER.values()) or bool(DATE.fullmatch(t))
