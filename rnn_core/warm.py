"""Warm a Dask worker before any run arrives: import the trainer and take a few steps of a tiny one.

A worker process starts with nothing imported. Without this, the first run placed on a worker
waits there for the trainer's modules to import and NumPy's first products to set up (a quarter
of a second to most of one, measured on a 2-core machine), on the page of whoever opens the app
first. Registered as a worker plugin, it runs on every worker of the cluster, including workers
that join later.
"""

from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

_warmed: list[bool] = []


def warmed(dask_worker=None) -> bool:
    """Whether :func:`warm_up` has run in this process (for ``Client.run``)."""
    return bool(_warmed)


def warm_up() -> None:
    """Build, train, evaluate and question a tiny trainer on a short sine, once per process."""
    if _warmed:
        return
    from rnn_core.data import sine_dataset
    from rnn_core.executor import TrainerActor  # noqa: F401  (the code a run needs)
    from rnn_core.trainer import Trainer

    tr = Trainer.create(sine_dataset(seq_len=8, length=64), hidden_size=4)
    tr.run(3)
    tr.evaluate()
    tr.predictions("val", max_points=16)
    tr.internals("val", 0)
    _warmed.append(True)


class WarmWorker(WorkerPlugin):
    """Prepares a worker when the plugin is set up on it: moves the process into a CPU session
    of its own (:func:`rnn_core.priority.own_cpu_group`), then calls :func:`warm_up`."""

    name = "rnn-playground-warm-up"

    def setup(self, worker) -> None:
        from rnn_core.priority import own_cpu_group

        own_cpu_group()
        warm_up()
