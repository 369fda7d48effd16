"""The training loop of a worker: one thread that trains the worker's moving runs in equal turns.

Each run (a :class:`~rnn_core.executor.TrainerActor`) gets a turn of :data:`TURN_SECONDS` of
CPU time, round and round, until it reaches its target, diverges or is told to stop; the
thread runs at a lower CPU priority (:mod:`rnn_core.priority`) so that pages and Pauses come
first.
"""

from __future__ import annotations

import sys
import threading
import weakref
from typing import Any

from rnn_core.priority import lower_priority

TURN_SECONDS = 0.05
"""Training CPU seconds of one run's turn in its worker's loop (at least one step). A question
to a run waits for at most the turn under way; a round of turns over N runs takes N times this."""

SWITCH_SECONDS = 0.02
"""The interpreter's thread switch interval in a process that trains (Python's default: 5 ms)."""


class TrainingLoop:
    """The thread of one worker that trains its moving runs, a turn each, round and round.

    It holds the runs weakly: a run whose actor the worker has dropped (its session ended) leaves
    the loop with it. While no run moves, the thread sleeps.
    """

    def __init__(self) -> None:
        self._moving: weakref.WeakSet = weakref.WeakSet()
        self._wake = threading.Condition()
        self.turns = 0
        threading.Thread(target=self._serve, name="rnn-playground-training", daemon=True).start()

    def add(self, run: Any) -> None:  # a TrainerActor
        with self._wake:
            self._moving.add(run)
            self._wake.notify()

    def moving(self) -> int:
        return len(self._moving)

    def _serve(self) -> None:
        lower_priority()
        # Fewer forced hand-overs of the interpreter lock between this thread and the worker's
        # own (each one waits for a core on a busy machine); an answer waits at most this long.
        sys.setswitchinterval(SWITCH_SECONDS)
        while True:
            with self._wake:
                while not self._moving:
                    self._wake.wait()
                runs = list(self._moving)
            for run in runs:
                self.turns += 1
                if not run.turn(TURN_SECONDS):
                    self._moving.discard(run)
            runs = run = None  # no strong reference outlives the round


_loops: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_loops_lock = threading.Lock()
_process_loop: list[TrainingLoop] = []


def training_loop() -> TrainingLoop:
    """The loop of the worker this is called in (one per worker, even with several workers in one
    process, as in the tests' in-process cluster)."""
    try:
        from distributed import get_worker

        owner: Any = get_worker()
    except (ImportError, ValueError):
        owner = None
    with _loops_lock:
        if owner is None:
            if not _process_loop:
                _process_loop.append(TrainingLoop())
            return _process_loop[0]
        loop = _loops.get(owner)
        if loop is None:
            loop = _loops[owner] = TrainingLoop()
        return loop


def moving_runs(dask_worker: Any) -> int:
    """Runs training in ``dask_worker``'s loop now (for ``Client.run``: benchmarks and tests)."""
    loop = _loops.get(dask_worker)
    return loop.moving() if loop is not None else 0
