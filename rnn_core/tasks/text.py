"""Next-character prediction on a text, as Karpathy's char-rnn trains it.

Minibatches:

- ``"stream"`` mode: the training ids are split into ``batch_size`` contiguous streams that are
  walked in chunks of ``seq_len`` with the hidden state carried from chunk to chunk; at the end
  of the streams the walk wraps around to the start and the state is reset to zero.
- ``"random"`` mode: independent windows at random offsets, each from a zero state.

The loss is the softmax cross-entropy in nats, mean over the T·B positions
(:func:`rnn_core.losses.softmax_cross_entropy`); metrics are bits per character (nats / ln 2)
and next-character accuracy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rnn_core import losses
from rnn_core.errors import PlaygroundError
from rnn_core.tasks.base import Batch, check_index, check_split, window_internals

LN2 = math.log(2.0)
MAX_TRAIN_EVAL_CHARS = 20_000  # train bits/char on the first this many characters
EVAL_STREAMS = 32  # parallel streams when scoring a text split


def _copy_state(state: Any) -> Any:
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(np.array(s, copy=True) for s in state)
    return np.array(state, copy=True)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


class TextTask:
    """Characters -> next character on a :class:`~rnn_core.data.TextDataset`.

    Parameters
    ----------
    dataset : TextDataset
        ``train_ids``/``val_ids`` integer arrays, ``vocab``, ``seq_len``, ``encode``/``decode``.
    batch_size : int
        Streams (fewer when the text is too short for that many full chunks) or random windows.
    text_mode : {"stream", "random"}
    """

    kind = "text"
    noun = "text"
    head = "text"

    def __init__(self, dataset: Any, *, batch_size: int, text_mode: str = "stream", **_: Any) -> None:
        ds = self.dataset = dataset
        self.input_size = self.output_size = int(ds.vocab_size)
        self.batch_size = int(batch_size)
        self.text_mode = text_mode
        self._train_ids = np.asarray(ds.train_ids, dtype=np.int64)
        self._val_ids = np.asarray(ds.val_ids, dtype=np.int64)
        t = int(ds.seq_len)
        n = len(self._train_ids)
        if n < t + 1:
            raise PlaygroundError(
                f"the training text has {n} characters, fewer than a window of {t} plus 1; "
                "paste a longer text or choose a shorter sequence length"
            )
        b = max(1, min(self.batch_size, n // (t + 1)))
        length = n // b
        self._streams = self._train_ids[: b * length].reshape(b, length).T.copy()  # (L, B)
        self._stream_pos = 0
        self._state: Any = None

    # ------------------------------------------------------------------ training

    def batch(self, rng: np.random.Generator) -> Batch:
        """The next chunk of every stream (or random windows): x and y ``(T, B)`` ids."""
        t = int(self.dataset.seq_len)
        if self.text_mode == "random":
            n = len(self._train_ids)
            b = self.batch_size
            starts = rng.integers(0, n - t, size=b)
            pos = starts[None, :] + np.arange(t)[:, None]  # (T, B)
            return Batch(self._train_ids[pos], self._train_ids[pos + 1], None, t * b)
        length = self._streams.shape[0]
        if self._stream_pos + t + 1 > length:
            self._stream_pos = 0
            self._state = None  # wrapped to the start: the carried state belongs elsewhere
        p = self._stream_pos
        x = self._streams[p : p + t]  # (T, B)
        y = self._streams[p + 1 : p + t + 1]  # (T, B)
        self._stream_pos += t
        return Batch(x, y, self._state, x.size)

    def loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """Cross-entropy of logits ``(T, B, V)`` against ids ``(T, B)``, and its gradient."""
        return losses.softmax_cross_entropy(out, y)

    def after_step(self, state: Any, accepted: bool) -> None:
        """Carry the chunk's final state to the next chunk (stream mode); a rejected step's
        state is not to be trusted, so the next chunk starts from zeros."""
        if self.text_mode == "stream":
            self._state = state if accepted else None

    def epoch(self, samples_seen: int) -> float:
        return samples_seen / max(len(self._train_ids), 1)

    def snapshot(self) -> dict[str, Any]:
        return {"stream_pos": self._stream_pos, "state": _copy_state(self._state)}

    def restore(self, snap: dict[str, Any]) -> None:
        self._stream_pos = int(snap["stream_pos"])
        self._state = _copy_state(snap["state"])

    # ------------------------------------------------------------------ evaluation

    def _metrics(self, network: Any, ids: np.ndarray) -> dict[str, float]:
        """Mean cross-entropy (nats), bits/char and accuracy of next-character prediction on ``ids``,
        read as ``EVAL_STREAMS`` contiguous streams with carried state from a zero start."""
        t = int(self.dataset.seq_len)
        n = len(ids) - 1
        if n < 1:
            return {"loss": math.nan, "bpc": math.nan, "accuracy": math.nan}
        b = max(1, min(EVAL_STREAMS, n // t))
        length = n // b
        starts = np.arange(b) * length
        state = None
        total, correct, count = 0.0, 0, 0
        for p in range(0, length, t):
            steps = min(t, length - p)
            pos = starts[None, :] + p + np.arange(steps)[:, None]  # (t, B)
            logits, state, _ = network.forward(ids[pos], state, cache=False)  # (t, B, V)
            target = ids[pos + 1]  # (t, B)
            logp = _log_softmax(logits.astype(np.float64))
            total -= float(np.take_along_axis(logp, target[..., None], axis=-1).sum())
            correct += int((logits.argmax(axis=-1) == target).sum())
            count += target.size
        loss = total / count
        return {"loss": loss, "bpc": loss / LN2, "accuracy": correct / count}

    def evaluate(self, network: Any, *, train: bool = True, max_windows: int | None = None) -> dict[str, Any]:
        """``train_loss``, ``val_loss`` (nats), ``train_bpc``, ``val_bpc``, ``train_accuracy``,
        ``val_accuracy``; training figures on the first 20,000 characters, ``max_windows`` is
        ignored. ``train=False`` leaves out the ``train_*`` keys."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            va = self._metrics(network, self._val_ids)
            tr = self._metrics(network, self._train_ids[:MAX_TRAIN_EVAL_CHARS]) if train else None
        result: dict[str, Any] = {}
        for key in ("loss", "bpc", "accuracy"):
            if tr is not None:
                result[f"train_{key}"] = tr[key]
            result[f"val_{key}"] = va[key]
        return result

    # ------------------------------------------------------------------ text-only operations

    def _unigram(self) -> np.ndarray:
        counts = np.bincount(self._train_ids, minlength=self.output_size).astype(np.float64)
        return counts / counts.sum()

    def _encode(self, text: str) -> np.ndarray:
        return np.asarray(self.dataset.encode(text), dtype=np.int64)

    @staticmethod
    def _run_ids(network: Any, ids: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        logits, state, _ = network.forward(ids.reshape(-1, 1), state, cache=False)  # (t, 1, V)
        return logits[-1, 0].astype(np.float64), state

    def sample(
        self, network: Any, rng: np.random.Generator, n: int = 200, temperature: float = 1.0, prime: str = ""
    ) -> str:
        """Generate text one character at a time, feeding each draw back in.

        Parameters
        ----------
        rng : np.random.Generator
            Draws the characters.
        n : int
            Characters to generate.
        temperature : float
            Divides the logits: below 1 sharper and more repetitive, above 1 more random.
        prime : str
            Text to read first; the result starts with it. Without one, the first character is
            drawn from the training text's character frequencies (and counts towards ``n``).

        Returns
        -------
        str : ``prime`` followed by ``n`` generated characters.
        """
        n = int(n)
        if not 0 <= n <= 100_000:
            raise PlaygroundError(f"sample length must be from 0 to 100000; got {n}")
        if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
            raise PlaygroundError(f"temperature must be a number above 0; got {temperature!r}")
        last = self.output_size - 1
        out: list[int] = []
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if prime:
                logits, state = self._run_ids(network, self._encode(prime), None)
            else:
                if n == 0:
                    return ""
                first = int(np.searchsorted(np.cumsum(self._unigram()), rng.random(), side="right"))
                out.append(min(first, last))
                logits, state = self._run_ids(network, np.array([out[0]]), None)
            while len(out) < n:
                p = losses.softmax(logits, temperature).astype(np.float64)
                cdf = np.cumsum(p)
                nxt = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), last)
                out.append(nxt)
                logits, state = self._run_ids(network, np.array([nxt]), state)
        return prime + self.dataset.decode(np.array(out, dtype=np.int64))

    def next_char_probs(self, network: Any, prefix: str, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` most likely next characters after ``prefix`` with their probabilities.

        An empty prefix gives the training text's character frequencies (the model needs at least
        one character to read).
        """
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if prefix:
                logits, _ = self._run_ids(network, self._encode(prefix), None)
                p = np.asarray(losses.softmax(logits), dtype=np.float64)
            else:
                p = self._unigram()
        order = np.argsort(-p, kind="stable")[: max(int(k), 0)]
        vocab = self.dataset.vocab
        return [(vocab[i], float(p[i])) for i in order]

    def internals(self, network: Any, split: str = "val", index: int = 0) -> dict[str, np.ndarray]:
        """Hidden states (and gates) of the ``index``-th chunk of ``seq_len`` characters of the
        split, read from a zero state, each ``(T, H)``."""
        check_split(split)
        ids = self._train_ids if split == "train" else self._val_ids
        t = int(self.dataset.seq_len)
        check_index(index, max(1, len(ids) // t))
        return window_internals(network, ids[index * t : index * t + t].reshape(-1, 1))  # (T, 1)
