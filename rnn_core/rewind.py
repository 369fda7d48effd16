"""Snapshots of a run at spaced steps, to look back at the model as it was and to branch from it.

A trainer offers its state after every accepted step (:meth:`Snapshots.offer`); a state is
captured only on every :data:`EVERY`-th step, and when more are kept than the bounds allow, the
one whose two neighbours lie closest together for their age goes. The steps kept then thin out
with age: the last few hundred steps are close together, the start of a long run far apart
(gaps grow roughly in proportion to how long ago they were), and the first state is always
kept. A capture is what the next steps depend on (weights, optimizer state, generators, batch
position, step): going back to one and training on is the same as having paused there.

The bounds are a number of snapshots (:data:`MAX_SNAPSHOTS`) and their bytes
(:data:`MAX_BYTES`), whichever binds first; a model whose one capture exceeds the bytes keeps
none, and says so.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from rnn_core.errors import PlaygroundError

MAX_SNAPSHOTS = 50
"""Most snapshots a run keeps."""

MAX_BYTES = 20 * 2**20
"""Most bytes the kept snapshots of one run hold (weights and optimizer state)."""

EVERY = 10
"""Steps between the captures offered to the store (the newest are this close together)."""


def capture_bytes(capture: dict[str, Any]) -> int:
    """Bytes of the arrays in a capture (its weights and optimizer state; the rest is small)."""
    total = 0
    stack: list[Any] = [capture]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            total += item.nbytes
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return total


class Snapshots:
    """Captures of one run by step, thinned to stay within ``max_count`` and ``max_bytes``."""

    def __init__(
        self, max_count: int = MAX_SNAPSHOTS, max_bytes: int = MAX_BYTES, every: int = EVERY
    ) -> None:
        self.max_count, self.max_bytes, self.every = int(max_count), int(max_bytes), max(int(every), 1)
        self._kept: dict[int, dict[str, Any]] = {}  # step -> capture, in step order
        self._bytes: dict[int, int] = {}
        self.too_big: int | None = None  # bytes of one capture, when it alone exceeds the bytes

    def __len__(self) -> int:
        return len(self._kept)

    @property
    def steps(self) -> list[int]:
        return list(self._kept)

    @property
    def nbytes(self) -> int:
        return sum(self._bytes.values())

    def capacity(self) -> int:
        """How many snapshots fit, at the size of the ones kept (``max_count`` before any)."""
        if not self._bytes:
            return self.max_count
        size = max(self._bytes.values())
        return max(min(self.max_count, self.max_bytes // max(size, 1)), 0)

    def offer(self, step: int, capture: Callable[[], dict[str, Any]]) -> bool:
        """Keep ``capture()`` as the state at ``step`` when a capture is due there (step 0 and
        every :attr:`every`-th step); whether it was kept. Newer steps than ``step`` are
        forgotten first (the run went back)."""
        step = int(step)
        if step % self.every and step != 0 and self._kept:
            return False
        if self._kept and step <= max(self._kept):
            self.forget_after(step - 1)
        snap = capture()
        size = capture_bytes(snap)
        if size > self.max_bytes:
            self.too_big = size
            self._kept.clear()
            self._bytes.clear()
            return False
        self.too_big = None
        self._kept[step] = snap
        self._bytes[step] = size
        self._thin(step)
        return step in self._kept

    def _thin(self, now: int) -> None:
        """Drop snapshots until within bounds: each time the one whose neighbours are closest
        together for their age (never the first or the newest)."""
        while len(self._kept) > max(self.capacity(), 1) or self.nbytes > self.max_bytes:
            steps = list(self._kept)
            if len(steps) > 2:
                # the gap dropping steps[i] would leave, against the age of its newer neighbour
                gap = [
                    (steps[i + 1] - steps[i - 1]) / (now - steps[i + 1] + self.every)
                    for i in range(1, len(steps) - 1)
                ]
                drop = steps[1 + int(np.argmin(gap))]
            elif self.nbytes > self.max_bytes:
                drop = steps[0]
            else:
                return
            del self._kept[drop], self._bytes[drop]

    def forget_after(self, step: int) -> None:
        """Drop the snapshots after ``step`` (the run went back to it)."""
        for s in [s for s in self._kept if s > step]:
            del self._kept[s], self._bytes[s]

    def get(self, step: int) -> dict[str, Any]:
        snap = self._kept.get(int(step))
        if snap is None:
            raise PlaygroundError(
                f"no snapshot of step {int(step):,} is kept; the kept steps are "
                f"{', '.join(f'{s:,}' for s in self.steps) or 'none'}"
            )
        return snap

    def summary(self) -> dict[str, Any]:
        """``steps`` kept, their ``bytes``, the bounds, and ``too_big`` (a capture's bytes when
        one alone exceeds the bytes bound, else None), for a page or JSON."""
        return {
            "steps": self.steps,
            "bytes": self.nbytes,
            "max_count": self.max_count,
            "max_bytes": self.max_bytes,
            "every": self.every,
            "too_big": self.too_big,
        }


class Rewinding:
    """Mixin of :class:`~rnn_core.trainer.Trainer`: look at the model of a kept step, or go back to
    it and train on from there (needs ``snapshots``, ``network``, ``step_count`` and
    ``_back_to``)."""

    snapshots: Snapshots
    step_count: int
    network: Any

    @property
    def rewind_summary(self) -> dict[str, Any]:
        """What :meth:`Snapshots.summary` says, and the ``step`` the run is at."""
        return {**self.snapshots.summary(), "step": self.step_count}

    @contextlib.contextmanager
    def viewing(self, step: int) -> Iterator[None]:
        """The weights of the kept ``step`` in place for the ``with`` block, the current ones
        again after it. Only the weights change: whatever reads them (an evaluation, the
        predictions, the hidden states) shows the model as it was, and training is untouched."""
        snap = self.snapshots.get(step)
        params = self.network.params
        now = {k: p.copy() for k, p in params.items()}
        try:
            for k, p in params.items():
                np.copyto(p, snap["params"][k])
            yield
        finally:
            for k, p in params.items():
                np.copyto(p, now[k])

    def continue_from(self, step: int) -> int:
        """Go back to the kept ``step`` (weights, optimizer state, generators, batch position,
        step count, the history up to it) and forget every later snapshot; the settings stay.
        Training on gives the same steps as a run paused at that step and continued."""
        return self._back_to(self.snapshots.get(step))

    _back_to: Callable[[dict[str, Any]], int]
