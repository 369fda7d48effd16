"""Where runs execute: stateful trainers living in Dask worker processes.

A live run is a :class:`TrainerActor`, a Dask actor holding one :class:`~rnn_core.trainer.Trainer`
in a worker. The caller holds a :class:`~rnn_core.remote.RemoteRun`, which asks the actor to
"train for this budget, then return the metrics and the small arrays the open charts need"
(:meth:`TrainerActor.tick`) and forwards the rest (forecast, sampling, files) as calls.

:class:`Executor` owns the Dask client: by default a ``LocalCluster`` of single-threaded worker
processes, one per core, listening on loopback with no dashboard; with an address, an existing
cluster (whose workers must be able to import ``rnn_core``). It places each new run on the worker
with the fewest runs, caps the number of runs, and sizes each run's training budget so that the
runs sharing a worker take equal turns: calls to the actors of one worker run one at a time, so
equal budgets are equal shares of that worker's core.

Actors are not resilient to the loss of their worker; a ``RemoteRun`` recovers from its last
snapshot on another worker.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import weakref
from typing import Any

from rnn_core.errors import PlaygroundError

ROUND_SECONDS = 0.5
"""Seconds one round of turns should take on a busy worker: every run there trains once per
round, so a refresh waits at most about this long for its result."""

MIN_BUDGET, MAX_BUDGET = 0.04, 0.3
"""Bounds of one turn's training budget (seconds)."""

WORKERS_TTL = 2.0
"""Seconds a list of the cluster's workers is reused before the scheduler is asked again."""

DEFAULT_MAX_RUNS = 48
"""Live runs one web server accepts before saying it is full (``RNN_PLAYGROUND_MAX_RUNS``)."""

CALLS = frozenset(
    {
        "evaluate", "predictions", "forecast", "sample", "next_char_probs", "internals", "save",
        "apply_live", "roll_back", "divergence_advice", "run", "step", "history_csv", "params",
        "optimizer_settings", "snapshot",
    }
)  # fmt: skip
"""The trainer operations a caller may ask of an actor (no other attribute is reachable)."""


class TrainerActor:
    """One trainer in a worker. Built fresh, from a saved model file, or from a snapshot."""

    def __init__(self, dataset: Any, model: Any, train: Any, snapshot: dict | None = None,
                 model_file: bytes | None = None) -> None:  # fmt: skip
        from rnn_core.trainer import Trainer

        if model_file is not None:
            self.trainer = Trainer.load(model_file, dataset)
        else:
            self.trainer = Trainer(dataset, model, train)
            if snapshot is not None:
                self.trainer.restore(snapshot)

    # ------------------------------------------------------------------ the refresh

    def tick(self, budget: float, max_steps: int, wants: dict[str, Any]) -> dict[str, Any]:
        """Train for about ``budget`` seconds (at most ``max_steps`` accepted steps, stopping at a
        divergence), then return the state and what ``wants`` asks for: ``eval`` ("exact" or
        "estimate"), ``curves`` (points per curve), ``pred`` (points per split), ``internals``
        ((split, index)), ``sample`` ((characters, temperature)), ``snapshot`` (True)."""
        tr = self.trainer
        t0 = time.perf_counter()
        start = tr.step_count
        divergence = None
        attempts = 0
        while tr.step_count - start < max_steps and attempts < max_steps + 100:
            m = tr.step()
            attempts += 1
            if m["diverged"]:
                divergence = {"step": int(m["step"]), "loss": m["loss"], "grad_norm": m["grad_norm"]}
                break
            if time.perf_counter() - t0 > budget:
                break
        busy = time.perf_counter() - t0
        out: dict[str, Any] = {"taken": tr.step_count - start, "busy": busy, "divergence": divergence}
        out.update(self._extras(wants))
        out["state"] = self.state()
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
            out["curves"] = curves(tr.history, int(wants["curves"]))
        if wants.get("pred") and tr.kind != "text":
            k = int(wants["pred"])
            out["pred"] = {(s, k): tr.predictions(s, max_points=k) for s in ("train", "val")}
        if wants.get("internals"):
            split, index = wants["internals"]
            out["internals"] = {(split, int(index)): tr.internals(split, int(index))}
        if wants.get("sample") and tr.kind == "text":
            n, temperature = wants["sample"]
            out["sample"] = tr.sample(n=int(n), temperature=float(temperature))
        if wants.get("snapshot"):
            out["snapshot"] = tr.snapshot()
        return out

    def state(self) -> dict[str, Any]:
        tr = self.trainer
        return {
            "step_count": tr.step_count,
            "epoch": tr.epoch,
            "diverged": tr.diverged,
            "healthy_step": tr.healthy_step,
            "train_config": tr.train_config,
            "config": tr.config,
            "n_params": tr.network.n_params(),
            "history_rows": len(tr.history),
        }

    # ------------------------------------------------------------------ everything else

    def call(self, name: str, *args: Any, **kw: Any) -> tuple[Any, dict[str, Any]]:
        """``(result, state)`` of one of :data:`CALLS` on the trainer."""
        if name not in CALLS:
            raise PlaygroundError(f"a run cannot be asked for {name!r}")
        tr = self.trainer
        if name == "history_csv":
            result: Any = tr.history.to_csv()
        elif name == "params":
            result = {k: v.copy() for k, v in tr.network.params.items()}
        elif name == "optimizer_settings":
            result = {"lr": tr.optimizer.lr, "weight_decay": getattr(tr.optimizer, "weight_decay", 0.0)}
        else:
            result = getattr(tr, name)(*args, **kw)
        return result, self.state()


def curves(history: Any, n: int) -> dict[str, Any]:
    """What the loss and gradient charts draw: at most ``n`` rows of the steps and evaluations."""
    from rnn_core.history import downsample_indices

    steps = history.downsample(n)
    ev = history.evals
    idx = downsample_indices(len(ev), n)
    evals = {c: ev[c][idx].copy() for c in ev.columns}
    return {"steps": steps, "evals": evals, "grad_norm_columns": list(history.grad_norm_columns)}


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
                where = {"host": "127.0.0.1"} if self._processes else {}
                self._cluster = LocalCluster(
                    n_workers=self._workers, threads_per_worker=1, processes=self._processes,
                    dashboard_address=None, silence_logs=40, **where,
                )  # fmt: skip
                self._client = Client(self._cluster)
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

    def budget(self, worker: str) -> float:
        """One turn's training seconds for a run on ``worker``: a round of turns takes about
        :data:`ROUND_SECONDS` however many runs share it."""
        return min(max(ROUND_SECONDS / max(self.runs_on(worker), 1), MIN_BUDGET), MAX_BUDGET)

    def busy(self) -> bool:
        """More runs than worker cores: each run gets a share of a core, not a whole one."""
        return len(self.live_runs()) > len(self.workers())

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
