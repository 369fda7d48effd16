"""One entry point from a short spec (the CLI's ``--data``) or an upload to a dataset.

Specs understood by :func:`load_dataset`:

- ``"sine"``: the tutorials' sine task; ``"sine:<preset>"`` one of :data:`SINE_PRESETS`
  (e.g. ``"sine:noisy sine"``); keyword arguments override the generator settings;
- ``"echo"``, ``"echo:<k>"`` or ``"adding"``, with ``seed=``/``windows=`` options after the colon
  (``"adding:seed=1"``): a generated memory task, :func:`memory_dataset` (see
  :mod:`rnn_core.data.memory`); the window length is ``seq_len``;
- a path ending in ``.csv`` or ``.tsv``: :func:`csv_dataset`;
- a path ending in ``.txt``: :func:`text_dataset` on the file's bytes;
- ``"text:<sample>"`` or a sample's label or short name (``zen``, ``grammar``, ``counting``,
  ``docstrings``): a built-in text from :data:`TEXT_SAMPLES`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from rnn_core.data.csv import MAX_BYTES, csv_dataset
from rnn_core.data.datasets import MemoryDataset, SeriesDataset, TextDataset
from rnn_core.data.memory import MEMORY_TASKS, memory_dataset, parse_memory_spec
from rnn_core.data.sine import SINE_PRESETS, sine_dataset
from rnn_core.data.text import TEXT_SAMPLES, text_dataset
from rnn_core.errors import PlaygroundError

CSV_SUFFIXES = (".csv", ".tsv")
TEXT_SUFFIXES = (".txt", ".text", ".md")
SHORT_NAMES = {
    "zen": "Zen of Python",
    "grammar": "Generated sentences (toy grammar)",
    "counting": "Counting 0 to 3999",
    "docstrings": "Python standard library docstrings",
}


def _call(fn, what: str, *args, **kw):
    """Call a dataset builder, turning unknown settings into a PlaygroundError.

    Settings given as ``None`` that the builder does not take are dropped, so a caller (the CLI)
    can pass e.g. ``target=None`` to every kind of data.
    """
    params = inspect.signature(fn).parameters
    unknown = [k for k in kw if k not in params]
    bad = [k for k in unknown if kw[k] is not None]
    if bad:
        allowed = ", ".join(p for p in params if params[p].kind is inspect.Parameter.KEYWORD_ONLY)
        raise PlaygroundError(f"unknown setting(s) {', '.join(bad)} for {what}; settings: {allowed}")
    return fn(*args, **{k: v for k, v in kw.items() if k not in unknown})


def _sample_label(key: str) -> str | None:
    low = key.strip().lower()
    if low in SHORT_NAMES:
        return SHORT_NAMES[low]
    for label in TEXT_SAMPLES:
        if label.lower() == low:
            return label
    return None


def _check_text_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise PlaygroundError(
            f"text file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit; use a shorter text"
        )


def _read_text_file(path: Path, max_bytes: int) -> bytes:
    _check_text_size(path.stat().st_size, max_bytes)
    return path.read_bytes()


def load_dataset(spec: str | Path, **kw) -> SeriesDataset | MemoryDataset | TextDataset:
    """Build a dataset from a spec (see the module docstring); ``kw`` go to the builder."""
    if isinstance(spec, Path):
        spec = str(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise PlaygroundError(
            f"data must be 'sine', 'echo:<k>', 'adding', a .csv or .txt path, or a text sample; got {spec!r}"
        )
    low = spec.strip().lower()
    if low == "sine":
        return _call(sine_dataset, "sine data", **kw)
    if low.startswith("sine:"):
        preset = spec.split(":", 1)[1].strip()
        match = next((p for p in SINE_PRESETS if p.lower() == preset.lower()), None)
        if match is None:
            raise PlaygroundError(f"unknown sine preset '{preset}'; presets: {', '.join(SINE_PRESETS)}")
        return _call(sine_dataset, "sine data", **{**SINE_PRESETS[match], **kw})
    memory = parse_memory_spec(spec)
    if memory is not None:
        task, options = memory
        twice = sorted(set(options) & {k for k, v in kw.items() if v is not None})
        if twice:
            raise PlaygroundError(f"{', '.join(twice)} given both in '{spec}' and as a setting; give it once")
        return _call(memory_dataset, f"the {MEMORY_TASKS[task]}", task, **{**kw, **options})
    label = _sample_label(spec.split(":", 1)[1] if low.startswith("text:") else spec)
    if label is not None:
        kw.setdefault("name", label)
        return _call(text_dataset, "text", TEXT_SAMPLES[label](), **kw)
    if low.startswith("text:"):
        raise PlaygroundError(
            f"unknown text sample '{spec[5:]}'; samples: {', '.join(TEXT_SAMPLES)} "
            f"(short: {', '.join(SHORT_NAMES)})"
        )
    path = Path(spec).expanduser()
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + TEXT_SUFFIXES:
        raise PlaygroundError(
            f"unknown data '{spec}': use 'sine', 'sine:<preset>', 'echo:<k>', 'adding', a .csv or .txt "
            f"file, or a text sample ({', '.join(SHORT_NAMES)})"
        )
    if not path.is_file():
        raise PlaygroundError(f"data file not found: {path}; check the path")
    if suffix in CSV_SUFFIXES:
        return _call(csv_dataset, "CSV data", path, **kw)
    max_bytes = kw.pop("max_bytes", None) or MAX_BYTES
    kw.setdefault("name", path.name)
    return _call(text_dataset, "text", _read_text_file(path, max_bytes), **kw)
