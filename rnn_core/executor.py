"""Where runs execute: stateful trainers living in Dask worker processes, training on their own.

A live run is a :class:`TrainerActor`, a Dask actor holding one :class:`~rnn_core.trainer.Trainer`
in a worker. Training does not wait for the page: told to train (:meth:`TrainerActor.poll` with
``until``), the run joins its worker's :class:`~rnn_core.turns.TrainingLoop`, one thread per
worker that trains the moving runs there in turns of :data:`~rnn_core.turns.TURN_SECONDS` each,
round and round, until each reaches its target step, diverges, stops after its patience or is
told to stop. A refresh is a cheap question, "what happened since I last asked, and the small
arrays the open charts need"; it waits at most one turn for the trainer, and a Pause takes
effect by the end of the turn under way.

A question never waits a whole turn: the turn under way ends after the step in progress as soon as
a question for its run arrives (:meth:`TrainerActor._hold`). A worker answers its actors' calls
one at a time, so on a busy server the Pauses of several runs on one worker would otherwise queue
for a turn each.

Equal turns are equal shares of the worker's core, whatever a step costs. The loop thread runs at
a lower CPU priority (:mod:`rnn_core.priority`) than the rest of the machine, so pages and
Pauses come first; the worker's own threads (its network, the actor calls) keep theirs.

:class:`Executor` owns the Dask client: by default a ``LocalCluster`` of single-threaded worker
processes, one per core, listening on loopback with no dashboard; with an address, an existing
cluster (whose workers must be able to import ``rnn_core``). Every worker warms up first
(:mod:`rnn_core.warm`). It places each new run on the worker with the fewest runs and caps the
number of runs. Actors are not resilient to the loss of their worker; a ``RemoteRun`` recovers
from its last snapshot on another worker.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import weakref
from typing import Any

from rnn_core.errors import PlaygroundError
from rnn_core.turns import training_loop

TURN_WALL = 4
"""A turn ends after this many times :data:`~rnn_core.turns.TURN_SECONDS` of wall time even if its thread got
less CPU than that meanwhile, so that a Pause waits little on a busy machine."""

FOREVER = 2**62
"""A target step no run reaches: "train until told to stop"."""

MAX_REJECTED = 100
"""Rejected steps in a row (non-finite loss or gradient) after which a run stops as diverged."""

WORKERS_TTL = 2.0
"""Seconds a list of the cluster's workers is reused before the scheduler is asked again."""

MALLOC_THRESHOLD = 16 * 2**20
"""glibc's trim and mmap thresholds in local workers. Dask's 64 KiB trim threshold pins the mmap
threshold at 128 KiB, so a step's arrays are mapped afresh each time (an LSTM-128 step: +15%)."""

DEFAULT_MAX_RUNS = 48
"""Live runs one web server accepts before saying it is full (``RNN_PLAYGROUND_MAX_RUNS``)."""

CALLS = frozenset(
    {
        "evaluate", "predictions", "forecast", "sample", "next_char_probs", "internals", "save",
        "apply_live", "roll_back", "divergence_advice", "run", "step", "history_csv", "params",
        "optimizer_settings", "snapshot", "through_time", "forecast_report", "restore_best",
        "gradient_check", "slow_motion", "view_at", "continue_from",
    }
)  # fmt: skip
"""The trainer operations a caller may ask of an actor (no other attribute is reachable)."""


class TrainerActor:
    """One trainer in a worker. Built fresh, from a saved model file, or from a snapshot.

    Every method that touches the trainer holds its lock: the worker's training loop holds it for
    a turn, a question holds it while it reads.
    """

    def __init__(self, dataset: Any, model: Any, train: Any, snapshot: dict | None = None,
                 model_file: bytes | None = None) -> None:  # fmt: skip
        from rnn_core.trainer import Trainer

        if model_file is not None:
            self.trainer = Trainer.load(model_file, dataset)
        else:
            self.trainer = Trainer(dataset, model, train)
            if snapshot is not None:
                self.trainer.restore(snapshot)
        self._lock = threading.Lock()
        self._asking = 0  # questions waiting for the lock: the turn under way ends for them
        self._asking_lock = threading.Lock()
        self._until = 0  # train while step_count < this
        self._rejected = 0
        self._taken = 0
        self._busy = 0.0
        self._divergence: dict | None = None
        self._early_stop: dict | None = None
        self._started = 0  # the step training last started at (a patience counts from there too)
        self._failure: str | None = None
        self._loop = training_loop()

    # ------------------------------------------------------------------ training, in the loop

    def turn(self, seconds: float) -> bool:
        """Train for ``seconds`` of this thread's CPU time (one step at least; at most
        :data:`TURN_WALL` times that in wall time, when the machine is busy); whether the run
        still moves afterwards. Counting CPU time makes equal turns equal shares even while
        other threads of the worker (answers to questions) or of the machine take the core."""
        if not self._lock.acquire(timeout=seconds):
            return True  # a long question holds the trainer: its turn comes next round
        tr = self.trainer
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            while tr.step_count < self._until:
                before = tr.step_count
                m = tr.step()
                self._taken += tr.step_count - before
                self._rejected = self._rejected + 1 if tr.step_count == before else 0
                if m["diverged"] or self._rejected >= MAX_REJECTED:
                    self._divergence = {k: m[k] for k in ("loss", "grad_norm")} | {"step": int(m["step"])}
                    self._until = 0
                    break
                if tr.early_stop_due(self._started):
                    best = tr.best_summary
                    self._early_stop = {
                        "at": tr.step_count,
                        "best_step": best["step"],
                        "score": best["score"],
                    }
                    self._until = 0
                    break
                if time.thread_time() - c0 >= seconds or time.perf_counter() - t0 >= TURN_WALL * seconds:
                    break
                if self._asking:  # a question waits: it comes before the rest of the turn
                    break
        except Exception as exc:  # a step that fails stops this run, never the loop
            self._failure = f"a step failed ({type(exc).__name__}: {exc})"
            self._until = 0
        finally:
            self._busy += time.thread_time() - c0
            self._lock.release()
        return tr.step_count < self._until

    # ------------------------------------------------------------------ the refresh

    def poll(self, wants: dict[str, Any], until: int | None = None) -> dict[str, Any]:
        """What happened since the last poll and what ``wants`` asks for, and (``until`` given)
        the new target: train while the step count is below ``until`` (0: stop now; the turn
        under way ends first, so the state returned is final).

        ``wants`` may ask for ``eval`` ("exact" or "estimate"), ``curves`` (points per curve),
        ``pred`` (points per split), ``internals`` ((split, index)), ``sample`` ((characters,
        temperature)), ``through_time`` ((split, index, layer)) and
        ``snapshot`` (True). The result has ``taken`` (accepted steps since the
        last poll), ``busy`` (seconds trained since then), ``divergence`` (None, or where it
        happened), ``failure`` (None, or why training stopped with an error), ``moving`` and
        ``state``, ``early_stop`` (None, or the step a patience stopped training at and the best
        score's step), and what was asked for."""
        if until is not None and int(until) <= 0:
            self._until = 0  # stop at the end of the step under way, before the lock is ours
        with self._hold():
            if until is not None:
                if self.trainer.step_count >= self._until:  # not moving: training starts here
                    self._started = self.trainer.step_count
                self._until = int(until)
                self._rejected = 0
            out: dict[str, Any] = {"taken": self._taken, "busy": self._busy, "divergence": self._divergence,
                                   "early_stop": self._early_stop, "failure": self._failure}  # fmt: skip
            self._taken, self._busy, self._divergence, self._failure = 0, 0.0, None, None
            self._early_stop = None
            moving = self.trainer.step_count < self._until
            out.update(self._extras(wants))
            out["moving"] = moving
            out["state"] = self._state()
        if moving:
            self._loop.add(self)
        return out

    def _extras(self, wants: dict[str, Any]) -> dict[str, Any]:
        tr = self.trainer
        out: dict[str, Any] = {}
        if wants.get("eval"):
            exact = wants["eval"] == "exact"
            windows = None if exact else int(wants.get("eval_windows", 3000))
            t0 = time.perf_counter()
            # While training runs, the validation split only: the training loss shown then is
            # the recent minibatches' (it comes with the curves), which costs nothing to know.
            out["eval"] = tr.evaluate(train=exact, max_windows=windows)
            out["eval_seconds"] = time.perf_counter() - t0
        if wants.get("curves"):
            out["curves"] = tr.history.curves(int(wants["curves"]))
        if wants.get("pred") and tr.kind != "text":
            k = int(wants["pred"])
            out["pred"] = {(s, k): tr.predictions(s, max_points=k) for s in ("train", "val")}
        if wants.get("internals"):
            split, index = wants["internals"]
            out["internals"] = {(split, int(index)): tr.internals(split, int(index))}
        if wants.get("sample") and tr.kind == "text":
            n, temperature = wants["sample"]
            out["sample"] = tr.sample(n=int(n), temperature=float(temperature))
        if wants.get("through_time"):
            split, index, layer = wants["through_time"]
            out["through_time"] = {
                (split, int(index), int(layer)): tr.through_time(split, int(index), int(layer))
            }
        if wants.get("snapshot"):
            out["snapshot"] = tr.snapshot()
        return out

    def _view_at(self, step: int, wants: dict[str, Any]) -> dict[str, Any]:
        """The model of the kept ``step``: an exact evaluation (``eval``, not recorded) and the
        arrays ``wants`` asks for (``pred``, ``internals``, ``sample``, ``through_time``), as a
        poll brings them for the current weights."""
        tr = self.trainer
        arrays = {k: v for k, v in wants.items() if k in ("pred", "internals", "sample", "through_time")}
        with tr.viewing(step):
            out = self._extras(arrays)
            if wants.get("eval"):
                out["eval"] = {**tr.evaluate(record=False), "step": int(step)}
                out["epoch"] = tr.task.epoch(tr.snapshots.get(step)["samples_seen"])
        return out

    @contextlib.contextmanager
    def _hold(self):
        """The trainer's lock, for a question: the training loop's turn ends for it."""
        with self._asking_lock:
            self._asking += 1
        try:
            self._lock.acquire()
        finally:
            with self._asking_lock:
                self._asking -= 1
        try:
            yield
        finally:
            self._lock.release()

    def state(self) -> dict[str, Any]:
        with self._hold():
            return self._state()

    def _state(self) -> dict[str, Any]:
        tr = self.trainer
        return {
            "step_count": tr.step_count,
            "epoch": tr.epoch,
            "diverged": tr.diverged,
            "healthy_step": tr.healthy_step,
            "best": tr.best_summary,
            "train_config": tr.train_config,
            "config": tr.config,
            "n_params": tr.network.n_params(),
            "history_rows": len(tr.history),
            "rewind": tr.rewind_summary,
        }

    # ------------------------------------------------------------------ everything else

    def call(self, name: str, *args: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
        """``(result, state)`` of one of :data:`CALLS` on the trainer."""
        if name not in CALLS:
            raise PlaygroundError(f"a run cannot be asked for {name!r}")
        with self._hold():
            return self._call(name, *args, **kw)

    def _call(self, name: str, *args: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
        tr = self.trainer
        if name == "history_csv":
            result: Any = tr.history.to_csv()
        elif name == "params":
            result = {k: v.copy() for k, v in tr.network.params.items()}
        elif name == "optimizer_settings":
            result = {"lr": tr.optimizer.lr, "weight_decay": getattr(tr.optimizer, "weight_decay", 0.0)}
        elif name == "view_at":
            result = self._view_at(*args, **kw)
        else:
            result = getattr(tr, name)(*args, **kw)
        return result, self._state()


# ---------------------------------------------------------------------------------- executor


class Executor:
    """The Dask client runs execute on, and the bookkeeping of this process's runs.

    Parameters
    ----------
    address : str, optional
        A scheduler address (``tcp://host:8786``); ``None`` starts a ``LocalCluster``.
    workers : int, optional
        Worker processes of the local cluster (default: one per core).
    processes : bool
        ``False`` runs the local cluster's workers as threads of this process (the same code
        path, used by fast tests).
    max_runs : int
        Live runs accepted at once.
    """

    def __init__(self, address: str | None = None, *, workers: int | None = None, processes: bool = True,
                 max_runs: int = DEFAULT_MAX_RUNS) -> None:  # fmt: skip
        self.address = address
        self.max_runs = int(max_runs)
        self._workers = workers or max(os.cpu_count() or 1, 1)
        self._processes = processes
        self._client = None
        self._cluster = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._runs: weakref.WeakSet = weakref.WeakSet()
        self._workers_seen: tuple[float, list[str]] | None = None
        threading.Thread(target=self._connect, name="rnn-playground-dask", daemon=True).start()

    def _connect(self) -> None:
        # The client becomes the process's default one: actor handles find their client by it.
        try:
            from distributed import Client, LocalCluster

            if self.address:
                self._client = Client(self.address, timeout="20s")
            else:
                # Loopback only, no dashboard: nobody outside this machine reaches the workers,
                # which run whatever pickled code they are sent. In-process workers talk inproc.
                import dask

                where = {"host": "127.0.0.1"} if self._processes else {}
                env = "distributed.nanny.pre-spawn-environ.MALLOC_"
                with dask.config.set({f"{env}{k}_THRESHOLD_": MALLOC_THRESHOLD for k in ("TRIM", "MMAP")}):
                    self._cluster = LocalCluster(
                        n_workers=self._workers, threads_per_worker=1, processes=self._processes,
                        dashboard_address=None, silence_logs=40, **where,
                    )  # fmt: skip
                self._client = Client(self._cluster)
            from rnn_core.warm import WarmWorker

            self._client.register_plugin(WarmWorker())
        except BaseException as exc:  # kept and raised to the first caller that needs the client
            self._error = exc
        finally:
            self._ready.set()

    @property
    def client(self):
        if not self._ready.wait(60):
            raise PlaygroundError("the training engine did not start within a minute; try again shortly")
        if self._error is not None:
            raise PlaygroundError(f"the training engine could not start: {self._error}")
        return self._client

    def workers(self) -> list[str]:
        """The cluster's worker addresses, asked of the scheduler at most every
        :data:`WORKERS_TTL` seconds: every refresh and chart reads the load, and a round trip to
        the scheduler for each would sit on the page's path."""
        now = time.monotonic()
        if self._workers_seen is None or now - self._workers_seen[0] > WORKERS_TTL:
            self._workers_seen = (now, sorted(self.client.scheduler_info()["workers"]))
        return list(self._workers_seen[1])

    def live_runs(self) -> list[Any]:
        return [r for r in list(self._runs) if not r.closed]

    def runs_on(self, worker: str) -> int:
        return sum(1 for r in self.live_runs() if r.worker == worker)

    def training(self) -> int:
        """Runs of this process that train now (paused ones cost the workers nothing)."""
        return sum(1 for r in self.live_runs() if r.moving)

    def busy(self) -> bool:
        """More runs training than worker cores: each gets a share of a core, not a whole one."""
        return self.training() > len(self.workers())

    def start(self, dataset: Any, model: Any = None, train: Any = None, *, snapshot: dict | None = None,
              model_file: bytes | None = None, avoid: str | None = None):  # fmt: skip
        """A new :class:`~rnn_core.remote.RemoteRun` on the least loaded worker."""
        from rnn_core.remote import RemoteRun

        with self._lock:
            if len(self.live_runs()) >= self.max_runs:
                raise PlaygroundError(
                    f"the server is training its limit of {self.max_runs} runs at once; "
                    "try again in a minute, when someone else's session has ended"
                )
            workers = [w for w in self.workers() if w != avoid] or self.workers()
            if not workers:
                raise PlaygroundError("the training engine has no workers; try again shortly")
            worker = min(workers, key=self.runs_on)
            key = f"run-{secrets.token_hex(16)}"  # unguessable: no other session can address it
            future = self.client.submit(
                TrainerActor, dataset, model, train, snapshot, model_file,
                actor=True, workers=[worker], allow_other_workers=False, key=key, pure=False,
            )  # fmt: skip
            with self.client.as_current():  # the actor handle binds to this client, not another
                actor = future.result(timeout=120)
            run = RemoteRun(self, future, actor, worker, dataset)
            self._runs.add(run)
        return run

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
