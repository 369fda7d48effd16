"""What every task gives the trainer: minibatches, a loss, metrics and its batch position.

A task turns one kind of dataset into training material for a
:class:`~rnn_core.network.Network`: it knows the head and the sizes the network needs, draws
minibatches (and owns where it is in the data), scores the network and offers the operations
that only make sense for its kind of data (forecasts for a series, samples for a text). The
trainer owns the optimisation and knows nothing of the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rnn_core.errors import PlaygroundError


@dataclass(frozen=True, eq=False)
class Batch:
    """One minibatch.

    Attributes
    ----------
    x : ndarray
        Inputs, ``(T, B, C)`` floats in the model dtype (series) or ``(T, B)`` integer ids (text).
    y : ndarray
        Targets, ``(B, 1)`` normalised values (series) or ``(T, B)`` integer ids (text).
    state : ndarray, tuple of ndarray or None
        Initial hidden state (carried from the previous chunk), ``None`` for zeros.
    consumed : int
        Training samples this batch uses up: windows (series) or positions (text).
    """

    x: np.ndarray
    y: np.ndarray
    state: Any
    consumed: int


class Task(Protocol):
    """The trainer's view of a task; :mod:`rnn_core.tasks.series` and ``.text`` implement it.

    Operations only one kind of task has (``forecast``, ``sample``, ...) take the network as
    their first argument; the trainer finds them by name.
    """

    kind: str
    """"series" or "text"."""
    noun: str
    """The data in a sentence: "a numeric series (sine or CSV)", "text"."""
    head: str
    input_size: int
    output_size: int

    def batch(self, rng: np.random.Generator) -> Batch: ...

    def loss(self, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]: ...

    def after_step(self, state: Any, accepted: bool) -> None: ...

    def epoch(self, samples_seen: int) -> float: ...

    def evaluate(self, network: Any, *, train: bool = True, max_windows: int | None = None) -> dict: ...

    def internals(self, network: Any, split: str = "val", index: int = 0) -> dict[str, np.ndarray]: ...

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, snap: dict[str, Any]) -> None: ...


def check_split(split: str) -> None:
    if split not in ("train", "val"):
        raise PlaygroundError(f"split must be 'train' or 'val'; got {split!r}")


def check_index(index: int, n: int) -> None:
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise PlaygroundError(f"window index must be from 0 to {n - 1}; got {index!r}")


def window_internals(network: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Per-time-step hidden states and gates of one sequence ``x`` (``(T, 1, C)`` or ``(T, 1)``)
    read from a zero state, each ``(T, H)``; keys as :meth:`Network.internals`."""
    with np.errstate(over="ignore", invalid="ignore"):
        _, _, cache = network.forward(x, None, cache=True)
        return network.internals(cache, 0)
