"""The caller's handle on a run that trains in a Dask worker (see :mod:`rnn_core.executor`).

A :class:`RemoteRun` looks like a :class:`~rnn_core.trainer.Trainer` to the dashboard (the same
attributes and operations), but holds only the dataset, the last state the actor reported and
the small arrays of the last poll. The run trains in its worker on its own once told a target
step; :meth:`RemoteRun.begin_poll` asks what happened since the last poll without waiting, and
:meth:`RemoteRun.collect` picks the answer up when it is there; :meth:`RemoteRun.halt` stops
training and takes the final state. Operations the last poll already answered (predictions,
internals of the chosen window) come from that answer; the others are calls to the actor.

If the worker is lost, the run comes back on another worker from its last snapshot (taken now
and then during refreshes) and :attr:`RemoteRun.notice` says so.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
import weakref
from typing import Any

import numpy as np

from rnn_core.errors import PlaygroundError

SNAPSHOT_SECONDS = 10.0
"""How often a training run sends its snapshot along with a refresh (for recovery)."""

CALL_TIMEOUT = 60.0

STOPS = frozenset({"roll_back", "step", "run", "continue_from"})
"""Calls that stop training first (they change the weights or train themselves)."""


def _worker_lost(exc: BaseException) -> bool:
    if isinstance(exc, PlaygroundError):
        return False
    name = type(exc).__name__
    return name in {"CommClosedError", "KilledWorker", "FutureCancelledError", "CancelledError",
                    "StreamClosedError", "OSError", "ConnectionError"} or "orker" in str(exc)  # fmt: skip


class _View:
    """Part of a run's interface that reads from the worker; holds the run weakly."""

    def __init__(self, run: RemoteRun) -> None:
        self._ref = weakref.ref(run)  # no cycle: a dropped run is freed (and its actor) at once

    @property
    def _run(self) -> RemoteRun:
        run = self._ref()
        if run is None:
            raise PlaygroundError("this run has ended")
        return run


class HistoryView(_View):
    """The loss and gradient curves of the last refresh, in the shape the charts read."""

    def __init__(self, run: RemoteRun) -> None:
        super().__init__(run)
        self._curves: dict[str, Any] = {"steps": {}, "evals": {}, "grad_norm_columns": []}

    def update(self, curves: dict[str, Any]) -> None:
        self._curves = curves

    def __len__(self) -> int:
        return int(self._run.state.get("history_rows", 0))

    def downsample(self, n: int = 400, columns=None) -> dict[str, np.ndarray]:
        steps = self._curves["steps"]
        names = ["step", *(columns or [c for c in steps if c != "step"])]
        empty = np.zeros(0)
        return {c: steps.get(c, empty) for c in names}

    @property
    def evals(self) -> _Columns:
        return _Columns(self._curves["evals"])

    @property
    def grad_norm_columns(self) -> list[str]:
        return list(self._curves["grad_norm_columns"])

    def to_csv(self) -> str:
        return self._run.call("history_csv")


class _Columns:
    """A few named columns of equal length (the evaluations of the last refresh)."""

    def __init__(self, data: dict[str, np.ndarray]) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data.get("step", ()))

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __getitem__(self, name: str) -> np.ndarray:
        return self._data[name]

    @property
    def columns(self) -> list[str]:
        return list(self._data)


class _NetworkView(_View):
    @property
    def params(self) -> dict[str, np.ndarray]:
        """A copy of the weights as they are now in the worker."""
        return self._run.call("params")

    def n_params(self) -> int:
        return int(self._run.state["n_params"])


class _OptimizerView(_View):
    @property
    def lr(self) -> float:
        return float(self._run.call("optimizer_settings")["lr"])

    @property
    def weight_decay(self) -> float:
        return float(self._run.call("optimizer_settings")["weight_decay"])


class RemoteRun:
    """A run in a worker, seen from the web process."""

    def __init__(self, executor: Any, future: Any, actor: Any, worker: str, dataset: Any) -> None:
        self._lock = threading.RLock()  # a session's fragment and its page may run at once
        self._executor = executor
        self._future = future
        self._actor = actor
        self.worker = worker
        self.dataset = dataset
        self.closed = False
        self.owner: str | None = None
        """The caller's name for who this run belongs to (the web process: a browser session)."""
        self.notice: str | None = None
        self.history = HistoryView(self)
        self.network = _NetworkView(self)
        self.optimizer = _OptimizerView(self)
        self._inflight: collections.deque = collections.deque()
        self._results: list[dict[str, Any]] = []
        self._answers: dict[tuple, tuple[int, Any]] = {}
        self._snapshot: dict | None = None
        self._snapshot_time = time.monotonic()
        self.moving = False
        """Whether the run trains in its worker (as of the last poll, or the target last sent)."""
        self.state: dict[str, Any] = {}
        self.state = self._wait(self._actor.state())

    # ------------------------------------------------------------------ mirrored state

    @property
    def step_count(self) -> int:
        return int(self.state["step_count"])

    @property
    def epoch(self) -> float:
        return float(self.state["epoch"])

    @property
    def diverged(self) -> bool:
        return bool(self.state["diverged"])

    @property
    def healthy_step(self) -> int | None:
        return self.state["healthy_step"]

    @property
    def best_summary(self) -> dict[str, Any]:  # the best validation score so far
        return self.state["best"]

    @property
    def config(self):
        return self.state["config"]

    @property
    def train_config(self):
        return self.state["train_config"]

    @property
    def kind(self) -> str:
        return "text" if self.dataset.kind == "text" else "series"

    @property
    def is_text(self) -> bool:
        return self.kind == "text"

    # ------------------------------------------------------------------ refreshes

    def _begin_poll_unlocked(self, wants: dict[str, Any], until: int | None = None) -> bool:
        """Ask what happened since the last poll, with the arrays in ``wants``, and (``until``
        given) set the step the run trains up to (see :meth:`TrainerActor.poll`). Returns at
        once; False, sending nothing, while the previous poll is still out."""
        if self._inflight or self.closed:
            return False
        wants = dict(wants)
        if time.monotonic() - self._snapshot_time > SNAPSHOT_SECONDS:
            wants["snapshot"] = True
            self._snapshot_time = time.monotonic()
        try:
            future = self._actor.poll(wants, until)
        except Exception as exc:  # the worker is known to be gone: come back elsewhere first
            if not _worker_lost(exc):
                raise
            self._recover(exc)
            future = self._actor.poll(wants, until)
        if until is not None:
            self.moving = int(until) > self.step_count
        self._inflight.append(future)
        return True

    def _collect_unlocked(self, timeout: float) -> dict[str, Any] | None:
        """The result of the poll that is out if it arrives within ``timeout`` seconds."""
        if not self._inflight:
            return None
        future = self._inflight[0]
        try:
            out = future.result(timeout=timeout)
        except BaseException as exc:
            if type(exc).__name__ == "TimeoutError" and not _worker_down(self):
                return None
            self._inflight.clear()
            if isinstance(exc, PlaygroundError):
                raise
            self._recover(exc)
            return None
        self._inflight.popleft()
        self._absorb(out)
        self._results.append(out)
        return out

    def _land_unlocked(self, timeout: float = CALL_TIMEOUT) -> None:
        """Wait for the poll that is out (its answer is older than anything asked after it)."""
        if self._inflight:
            self._collect_unlocked(timeout)

    def _halt_unlocked(self) -> None:
        """Stop training now and take the final state (the turn under way ends first)."""
        self._land_unlocked()
        if self.moving and not self.closed:
            self._begin_poll_unlocked({}, 0)
            self._land_unlocked()

    def _prime_unlocked(self, wants: dict[str, Any]) -> None:
        """Fetch what a first page shows (``wants`` as for a poll) in one call: one wait for the
        worker instead of one per chart."""
        self._land_unlocked()
        self._absorb(self._wait(self._actor.poll(dict(wants))))

    def take_results(self) -> list[dict[str, Any]]:
        """The polls collected since the last call."""
        out, self._results = self._results, []
        return out

    def _absorb(self, out: dict[str, Any]) -> None:
        self.state = out["state"]
        self.moving = bool(out.get("moving", self.moving))
        step = self.step_count
        if "curves" in out:
            self.history.update(out["curves"])
        for name in ("pred", "internals", "through_time"):
            for args, value in out.get(name, {}).items():
                self._answers[(name, *args)] = (step, value)
        if "sample" in out:
            self._answers[("sample_line",)] = (step, out["sample"])
        if "eval" in out:
            self._answers[("eval",)] = (step, out["eval"])
        if "snapshot" in out:
            self._snapshot, self._snapshot_time = out["snapshot"], time.monotonic()

    def answer(self, *key: Any) -> Any:
        """A value the last poll brought for the current weights, or None. While the run trains
        the weights change between any two looks, and the newest answer (a refresh old) is
        the one to draw: asking the worker again would only give one a few steps newer."""
        hit = self._answers.get(key)
        return hit[1] if hit is not None and (hit[0] == self.step_count or self.moving) else None

    # ------------------------------------------------------------------ calls

    def _wait(self, future: Any, timeout: float = CALL_TIMEOUT) -> Any:
        return future.result(timeout=timeout)

    def _call_unlocked(self, name: str, *args: Any, **kw: Any) -> Any:
        if self.closed:
            raise PlaygroundError("this run has ended (it was reset or replaced); use the current one")
        if name in STOPS:
            self._halt_unlocked()
        else:
            self._land_unlocked()
        try:
            result, state = self._wait(self._actor.call(name, *args, **kw))
        except PlaygroundError:
            raise
        except BaseException as exc:
            if not _worker_lost(exc):
                raise
            self._recover(exc)
            result, state = self._wait(self._actor.call(name, *args, **kw))
        self.state = state
        return result

    def evaluate(self, *, train: bool = True, max_windows: int | None = None) -> dict[str, Any]:
        return self.call("evaluate", train=train, max_windows=max_windows)

    def predictions(self, split: str = "val", max_points: int | None = None):
        hit = self.answer("pred", split, max_points)
        return hit if hit is not None else self.call("predictions", split, max_points=max_points)

    def through_time(self, split: str = "val", index: int = 0, layer: int = 0):
        hit = self.answer("through_time", split, int(index), int(layer))
        return hit if hit is not None else self.call("through_time", split, int(index), int(layer))

    def internals(self, split: str = "val", index: int = 0):
        hit = self.answer("internals", split, int(index))
        return hit if hit is not None else self.call("internals", split, int(index))

    def sample_line(self, n: int, temperature: float) -> str:
        hit = self.answer("sample_line")
        return hit if hit is not None else self.call("sample", n=n, temperature=temperature)

    def forecast(self, n: int):
        return self.call("forecast", n)

    def forecast_report(self, period: str = "val", horizon: int = 12, level: float = 0.8, season=None):
        return self.call("forecast_report", period, horizon, level, season)

    def sample(self, n: int = 200, temperature: float = 1.0, prime: str = "") -> str:
        return self.call("sample", n=n, temperature=temperature, prime=prime)

    def next_char_probs(self, prefix: str, k: int = 10):
        return self.call("next_char_probs", prefix, k=k)

    def save(self) -> bytes:
        return self.call("save")

    def apply_live(self, train: Any) -> None:
        self.call("apply_live", train)

    def roll_back(self) -> int:
        self._answers.clear()
        return self.call("roll_back")

    def restore_best(self) -> int:
        self._answers.clear()
        return self.call("restore_best")

    def divergence_advice(self) -> dict[str, Any]:
        return self.call("divergence_advice")

    def step(self) -> dict[str, Any]:
        return self.call("step")

    def run(self, n: int, *, stop_on_divergence: bool = True) -> list[dict[str, Any]]:
        return self.call("run", n, stop_on_divergence=stop_on_divergence)

    # Every operation that touches the turns in flight or the actor holds the run's lock.

    def begin_poll(self, *args: Any, **kw: Any) -> bool:
        with self._lock:
            return self._begin_poll_unlocked(*args, **kw)

    def collect(self, timeout: float) -> dict[str, Any] | None:
        with self._lock:
            return self._collect_unlocked(timeout)

    def prime(self, wants: dict[str, Any]) -> None:
        with self._lock:
            self._prime_unlocked(wants)

    def halt(self) -> None:
        with self._lock:
            self._halt_unlocked()

    def call(self, name: str, *args: Any, **kw: Any) -> Any:
        with self._lock:
            return self._call_unlocked(name, *args, **kw)

    # ------------------------------------------------------------------ lifecycle

    def _recover(self, exc: BaseException) -> None:
        """Start this run again on another worker, from its last snapshot if there is one."""
        lost = self.worker
        snap = self._snapshot
        cfg, train = self.config, self.train_config
        replacement = self._executor.start(self.dataset, cfg, train, snapshot=snap, avoid=lost)
        self._future, self._actor, self.worker = replacement._future, replacement._actor, replacement.worker
        replacement.closed = True  # its actor now belongs to this run
        replacement._future = None
        self.state = self._wait(self._actor.state())
        self.moving = False  # the next refresh that wants training sends its target again
        self._answers.clear()
        back = (
            f"went back to step {self.step_count:,}, its last snapshot"
            if snap
            else "started again from step 0"
        )
        self.notice = f"A training worker stopped ({type(exc).__name__}); this run {back}."

    def close(self) -> None:
        """Release the actor now (it is released anyway when this object is garbage collected)."""
        with self._lock:
            self._close_unlocked()

    def _close_unlocked(self) -> None:
        if self.moving and not self.closed:
            with contextlib.suppress(Exception):  # stop training at once, without waiting for it
                self._actor.poll({}, 0)
        self.closed = True
        self.moving = False
        self._inflight.clear()
        actor, self._actor = self._actor, None
        future, self._future = self._future, None
        # Both the run's future and the actor handle's own one hold the actor's key; released now,
        # the worker drops the trainer at once rather than when a garbage collection gets to them.
        for f in (future, getattr(actor, "_future", None)):
            if f is not None:
                with contextlib.suppress(Exception):  # the client may be closed already at exit
                    f.release()

    def __del__(self) -> None:
        if not getattr(self, "closed", True):
            self.close()


def _worker_down(run: RemoteRun) -> bool:
    """Whether the run's worker has left the cluster (a refresh that timed out is then lost)."""
    try:
        return run.worker not in run._executor.workers()
    except Exception:
        return True
