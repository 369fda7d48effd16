"""Where the current data comes from, and the one safe door through which files come in.

A :class:`DataSpec` names a source (sine settings, a parsed CSV with column choices, or a text)
without its window length; :meth:`DataSpec.build` turns it into a dataset for a given window, so
changing the window on the Train page rebuilds the same source. The parsing and windowing are
``rnn_core.data``'s; this module only routes settings to it.

:func:`guarded` is the load boundary: a :class:`PlaygroundError` becomes its own message, any
other exception a generic one (with the traceback in the server log, never on the page).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import rnn_core.data as data
from rnn_core.errors import PlaygroundError

log = logging.getLogger(__name__)
T = TypeVar("T")


def guarded(action: str, fn: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run ``fn``; return ``(result, None)`` or ``(None, message)`` for the user.

    ``action`` completes the sentence "Could not ..." for unexpected errors.
    """
    try:
        return fn(), None
    except PlaygroundError as exc:
        return None, str(exc)
    except MemoryError:
        return None, f"Could not {action}: not enough memory. Try a smaller file or model."
    except Exception as exc:  # the load boundary: whatever happens, no traceback reaches the page
        log.exception("unexpected error while trying to %s", action)
        return None, (
            f"Could not {action}: unexpected {type(exc).__name__}. "
            "Check that the file is what it should be; nothing was changed."
        )


def _require(name: str) -> Any:
    """A function of ``rnn_core.data`` that may not exist in every build."""
    fn = getattr(data, name, None)
    if fn is None:
        raise PlaygroundError(f"this build has no {name.replace('_', ' ')}; use the sine source")
    return fn


def text_samples() -> dict[str, Callable[[], str]]:
    """The built-in texts (name -> function returning the text); empty if unavailable."""
    return dict(getattr(data, "TEXT_SAMPLES", {}) or {})


def digest(payload: bytes | str) -> str:
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else payload
    return hashlib.sha1(raw).hexdigest()[:12]


@dataclass(frozen=True)
class DataSpec:
    """A data source minus the window length.

    ``options`` are the keyword arguments of the builder as sorted ``(name, value)`` pairs, so two
    specs compare equal exactly when they would build the same dataset. ``payload`` (a parsed CSV
    table or a text) is compared through ``payload_id``, a digest of its bytes.
    """

    kind: str  # "sine" | "csv" | "text"
    name: str
    options: tuple[tuple[str, Any], ...] = ()
    payload_id: str = ""
    payload: Any = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return {"sine": "Sine", "csv": "CSV", "text": "Text"}[self.kind] + f": {self.name}"

    def build(self, seq_len: int):
        """The dataset for windows of ``seq_len`` (raises PlaygroundError on bad settings)."""
        kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options}
        if self.kind == "sine":
            if "extra_sines" in kw:
                kw["extra_sines"] = [dict(s) for s in kw["extra_sines"]]
            return data.sine_dataset(seq_len=int(seq_len), **kw)
        if self.kind == "csv":
            return _require("csv_dataset")(self.payload, seq_len=int(seq_len), name=self.name, **kw)
        if self.kind == "text":
            return _require("text_dataset")(self.payload, seq_len=int(seq_len), name=self.name, **kw)
        raise PlaygroundError(f"unknown data source {self.kind!r}")


def sine_spec(kwargs: dict[str, Any], name: str = "sine") -> DataSpec:
    """Spec of a generated sine; ``kwargs`` as ``rnn_core.data.sine_dataset`` takes them."""
    opts = dict(kwargs)
    if "extra_sines" in opts:
        # Kept as tuples of (key, value) pairs so the spec stays hashable; rebuilt in build().
        opts["extra_sines"] = tuple(tuple(sorted(s.items())) for s in opts["extra_sines"])
    return DataSpec("sine", name, tuple(sorted(opts.items())))


def csv_spec(
    table: Any,
    name: str,
    payload_id: str,
    *,
    target: str,
    inputs: tuple[str, ...],
    missing: str,
    val_fraction: float,
) -> DataSpec:
    """Spec of a parsed CSV (a ``CsvTable`` from ``read_csv_table``) with the user's column choices."""
    opts = {
        "target": target,
        "inputs": tuple(inputs),
        "missing": missing,
        "val_fraction": float(val_fraction),
    }
    return DataSpec("csv", name, tuple(sorted(opts.items())), payload_id, table)


def text_spec(
    text: str | bytes, name: str, *, lowercase: bool, val_fraction: float, max_vocab: int
) -> DataSpec:
    """Spec of a text (a str, or uploaded bytes the engine decodes); ``max_vocab = 0``: no cap."""
    opts: dict[str, Any] = {"lowercase": bool(lowercase), "val_fraction": float(val_fraction)}
    if max_vocab:
        opts["max_vocab"] = int(max_vocab)
    return DataSpec("text", name, tuple(sorted(opts.items())), digest(text), text)


def parse_csv(content: bytes, name: str) -> Any:
    """A ``CsvTable`` read by the engine's CSV reader (PlaygroundError on any problem)."""
    return _require("read_csv_table")(content, name=name)
