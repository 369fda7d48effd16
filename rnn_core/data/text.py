"""Character-level text datasets and the built-in samples.

The text is split by position: the first ``1 - val_fraction`` of the characters train, the rest
validate (at least 2 characters, so there is one prediction to score). Batching into streams or
random windows is the trainer's job; a dataset only holds the two id streams.

Built-in samples come from this Python installation or are generated here; the project ships
no copied prose: the Zen of Python (decoded from the standard library's ``this`` module), a
seeded toy grammar, counting patterns, and docstrings of standard-library modules.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import math
from collections import Counter
from collections.abc import Callable

import numpy as np

from rnn_core.data.baselines import ngram_bpc
from rnn_core.data.datasets import UNKNOWN_CHAR, TextDataset
from rnn_core.data.windows import check_fraction, check_seq_len
from rnn_core.errors import PlaygroundError

MAX_CHARS = 20_000_000


def _decode_text(source: str | bytes) -> tuple[str, int, list[str]]:
    """(text, number of undecodable byte sequences replaced by U+FFFD, notes)."""
    if isinstance(source, str):
        return source, 0, []
    if not isinstance(source, (bytes, bytearray, memoryview)):
        raise PlaygroundError(f"text must be a string or bytes; got {type(source).__name__}")
    data = bytes(source)
    if data.count(b"\x00") > 0.001 * len(data):  # text never holds NULs; UTF-16 and binaries do
        raise PlaygroundError(
            "the file does not look like UTF-8 text (it contains many NUL bytes: binary, or "
            "UTF-16); save it as UTF-8 text"
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8", errors="replace")
    # U+FFFD already present as valid UTF-8 is text, not an error
    bad = text.count(UNKNOWN_CHAR) - data.count(UNKNOWN_CHAR.encode("utf-8"))
    notes = []
    if bad:
        if bad > 0.3 * max(1, len(text)):
            raise PlaygroundError(
                f"the file does not look like UTF-8 text ({bad} undecodable byte sequences in "
                f"{len(text)} characters); save it as UTF-8 text"
            )
        notes.append(
            f"{bad} undecodable byte sequence(s) replaced by '{UNKNOWN_CHAR}'; save the file as UTF-8"
        )
    return text, bad, notes


def _vocabulary(text: str, max_vocab: int | None) -> tuple[list[str], dict[str, int], int, bool]:
    """(vocab, counts per vocab entry, characters sent to the unknown bucket, capped?)."""
    counts = Counter(text)
    if max_vocab is None or len(counts) <= max_vocab:
        vocab = sorted(counts)
        return vocab, {c: counts[c] for c in vocab}, 0, False
    ranked = sorted((c for c in counts if c != UNKNOWN_CHAR), key=lambda c: (-counts[c], c))
    keep = sorted(ranked[: max_vocab - 1])
    unknown = len(text) - sum(counts[c] for c in keep)
    vocab = [*keep, UNKNOWN_CHAR]
    out = {c: counts[c] for c in keep}
    out[UNKNOWN_CHAR] = unknown
    return vocab, out, unknown, True


def _to_ids(text: str, vocab: list[str], unknown_id: int | None) -> np.ndarray:
    """Characters -> int64 ids, vectorised on code points (long texts)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(
        np.int64
    )  # (N,)
    table = np.array([ord(c) for c in vocab], dtype=np.int64)
    order = np.argsort(table)
    pos = np.clip(np.searchsorted(table[order], points), 0, len(vocab) - 1)
    hit = table[order][pos] == points
    ids = order[pos]
    if unknown_id is not None:
        ids = np.where(hit, ids, unknown_id)
    return ids.astype(np.int64)


def text_dataset(
    source: str | bytes,
    *,
    seq_len: int = 64,
    val_fraction: float = 0.1,
    lowercase: bool = False,
    max_vocab: int | None = None,
    name: str = "text",
    max_chars: int = MAX_CHARS,
) -> TextDataset:
    """A character-level dataset from a string or UTF-8 bytes.

    Parameters
    ----------
    source : str | bytes
        Bytes are decoded as UTF-8 (BOM skipped); undecodable sequences become ``'\\ufffd'`` and
        are counted in ``report["undecodable"]``. Line endings become ``\\n``.
    seq_len : int
        Window length the trainer will use; the training part needs at least ``seq_len + 1``
        characters.
    val_fraction : float
        Share of the characters, at the end, used for validation (at least 2 characters).
    lowercase : bool
        Lowercase the text first (smaller vocabulary).
    max_vocab : int, optional
        Keep the ``max_vocab - 1`` most frequent characters and send the rest to an unknown
        bucket ``'\\ufffd'`` (the last id).
    """
    seq_len = check_seq_len(seq_len)
    val_fraction = check_fraction(val_fraction)
    if max_vocab is not None and (
        isinstance(max_vocab, bool) or not isinstance(max_vocab, (int, np.integer)) or max_vocab < 2
    ):
        raise PlaygroundError(
            f"vocabulary cap must be a whole number of at least 2 (or none); got {max_vocab!r}"
        )
    text, bad, notes = _decode_text(source)
    if len(text) > max_chars:
        raise PlaygroundError(
            f"text has {len(text):,} characters, over the limit of {max_chars:,}; use a shorter text"
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if lowercase:
        text = text.lower()
    n = len(text)
    if not text.strip():
        raise PlaygroundError("the text is empty; paste or upload some text (a few kilobytes or more)")
    n_val = max(2, round(n * val_fraction))
    n_train = n - n_val
    if n_train < seq_len + 1:
        need = seq_len + 1 + max(2, math.ceil((seq_len + 1) * val_fraction / (1 - val_fraction)))
        raise PlaygroundError(
            f"text is too short: {n} characters leave {max(n_train, 0)} for training; need about {need} "
            f"characters for sequence length {seq_len} (training needs seq_len + 1): use a longer text "
            "or a shorter sequence length"
        )

    vocab, counts, unknown, capped = _vocabulary(text, max_vocab)
    ids = _to_ids(text, vocab, len(vocab) - 1 if capped else None)
    if capped:
        notes.append(f"vocabulary capped at {max_vocab}: {unknown} rare character(s) map to '{UNKNOWN_CHAR}'")
    train_ids, val_ids = ids[:n_train], ids[n_train:]
    report = {
        "chars": n,
        "undecodable": bad,
        "lowercased": bool(lowercase),
        "unknown": unknown,
        "notes": notes,
        "capped": capped,
        "train_chars": int(n_train),
        "val_chars": int(n_val),
    }
    return TextDataset(
        name=name,
        vocab=vocab,
        counts=counts,
        train_ids=train_ids,
        val_ids=val_ids,
        seq_len=seq_len,
        baselines=ngram_bpc(train_ids, val_ids, len(vocab)),
        report=report,
    )


# ---------------------------------------------------------------------------------------------
# built-in samples


@functools.cache
def zen_of_python() -> str:
    """The Zen of Python, decoded from the standard library's ``this`` module (ROT13 + table)."""
    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the poem
        this = importlib.import_module("this")
    return "".join(this.d.get(c, c) for c in this.s) + "\n"


_DETERMINERS = ["the", "a", "every", "one", "that", "my", "your", "no"]
_ADJECTIVES = ["small", "red", "quiet", "old", "happy", "bright", "lazy", "clever", "green", "tall", "cold"]
_NOUNS = [
    "cat",
    "dog",
    "bird",
    "tree",
    "river",
    "robot",
    "teacher",
    "child",
    "garden",
    "window",
    "cloud",
    "number",
    "letter",
    "train",
    "house",
    "apple",
]
_NAMES = ["Ada", "Alan", "Grace", "Linus", "Guido", "Edsger", "Barbara", "Donald"]
_VERBS_T = ["sees", "likes", "finds", "follows", "paints", "counts", "builds", "remembers", "watches"]
_VERBS_I = ["sleeps", "sings", "waits", "runs", "laughs", "grows", "falls", "shines"]
_ADVERBS = ["slowly", "quickly", "again", "today", "quietly", "twice", "at night", "in the rain"]
_PREPS = ["near", "under", "behind", "with", "beside", "above"]


@functools.cache
def grammar_sentences(n_chars: int = 40_000, seed: int = 0) -> str:
    """English-like sentences from a small seeded grammar (about ``n_chars`` characters).

    S -> NP VP "." ; NP -> Det [Adj] Noun | Name ; VP -> Vt NP [PP] | Vi [Adv] ; PP -> Prep NP.
    Paragraphs of four to seven sentences.
    """
    rng = np.random.default_rng(seed)

    def pick(words: list[str]) -> str:
        return words[int(rng.integers(len(words)))]

    def noun_phrase() -> str:
        if rng.random() < 0.2:
            return pick(_NAMES)
        words = [pick(_DETERMINERS)]
        if rng.random() < 0.5:
            words.append(pick(_ADJECTIVES))
        words.append(pick(_NOUNS))
        return " ".join(words)

    def sentence() -> str:
        if rng.random() < 0.6:
            parts = [noun_phrase(), pick(_VERBS_T), noun_phrase()]
            if rng.random() < 0.3:
                parts += [pick(_PREPS), noun_phrase()]
        else:
            parts = [noun_phrase(), pick(_VERBS_I)]
            if rng.random() < 0.5:
                parts.append(pick(_ADVERBS))
        s = " ".join(parts)
        return s[0].upper() + s[1:] + "."

    paragraphs: list[str] = []
    total = 0
    while total < n_chars:
        para = " ".join(sentence() for _ in range(int(rng.integers(4, 8))))
        paragraphs.append(para)
        total += len(para) + 2
    return "\n\n".join(paragraphs) + "\n"


@functools.cache
def counting_text(upto: int = 4000) -> str:
    """Numbers 0..upto-1, ten to a line: carries and digit patterns a model can learn exactly."""
    lines = [" ".join(str(k) for k in range(start, min(start + 10, upto))) for start in range(0, upto, 10)]
    return "\n".join(lines) + "\n"


_DOC_MODULES = (
    "string",
    "textwrap",
    "collections",
    "functools",
    "itertools",
    "json",
    "random",
    "statistics",
    "fractions",
    "heapq",
    "bisect",
    "copy",
    "difflib",
    "fnmatch",
    "calendar",
    "shlex",
    "pathlib",
    "dataclasses",
    "enum",
    "contextlib",
    "operator",
    "math",
    "queue",
    "csv",
    "base64",
)


@functools.cache
def stdlib_docstrings(n_chars: int = 40_000) -> str:
    """Docstrings of a fixed list of standard-library modules and their public members.

    They are this Python installation's own documentation strings (so the exact text depends on
    the Python version), cut at a paragraph boundary near ``n_chars`` characters.
    """
    parts: list[str] = []
    total = 0
    for mod_name in _DOC_MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        members = [mod]
        for attr in sorted(getattr(mod, "__all__", None) or dir(mod)):
            if attr.startswith("_"):
                continue
            obj = getattr(mod, attr, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj)) and getattr(
                obj, "__module__", None
            ) in (mod_name, "_" + mod_name):
                members.append(obj)
        for obj in members:
            doc = inspect.getdoc(obj)
            if not doc or len(doc) < 40:
                continue
            parts.append(doc.strip())
            total += len(doc) + 2
            if total >= n_chars:
                return "\n\n".join(parts) + "\n"
    return "\n\n".join(parts) + "\n"


TEXT_SAMPLES: dict[str, Callable[[], str]] = {
    "Zen of Python": zen_of_python,
    "Generated sentences (toy grammar)": grammar_sentences,
    "Counting 0 to 3999": counting_text,
    "Python standard library docstrings": stdlib_docstrings,
}
"""Built-in texts by label; each callable returns the text (cached). None is copied prose:
the Zen comes from the installed ``this`` module, the docstrings from installed modules, the
rest is generated here."""
