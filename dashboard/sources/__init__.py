"""The data sources the Data page offers, and :class:`DataSpec`, the name of one chosen source.

Each source is a module of this package with a :class:`Source` registered in :data:`SOURCES`:
its label, the function that draws its controls and returns a spec (or ``None`` while it has
nothing to use yet), and the function that builds the engine's dataset from a spec for a
sequence length. Adding a source is one module here plus its line in :data:`SOURCES`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def digest(payload: bytes | str) -> str:
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    return hashlib.sha1(raw).hexdigest()[:12]


@dataclass(frozen=True)
class DataSpec:
    """A data source minus the sequence length.

    ``options`` are the keyword arguments of the builder as sorted ``(name, value)`` pairs, so two
    specs compare equal exactly when they would build the same dataset. ``payload`` (a parsed CSV
    table or a text) is compared through ``payload_id``, a digest of its bytes.
    """

    kind: str
    name: str
    options: tuple[tuple[str, Any], ...] = ()
    payload_id: str = ""
    payload: Any = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{SOURCES[self.kind].short}: {self.name}"

    def build(self, seq_len: int):
        """The dataset for windows of ``seq_len`` (raises PlaygroundError on bad settings)."""
        return SOURCES[self.kind].build(self, int(seq_len))


@dataclass(frozen=True)
class Source:
    kind: str
    label: str
    short: str
    controls: Callable[[], DataSpec | None]
    build: Callable[[DataSpec, int], Any]


def _registry() -> dict[str, Source]:
    from dashboard.sources import csv, memory, sine, text

    return {s.kind: s for s in (sine.SOURCE, csv.SOURCE, text.SOURCE, memory.SOURCE)}


SOURCES: dict[str, Source] = {}
SOURCES.update(_registry())
