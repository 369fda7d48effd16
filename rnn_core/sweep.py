"""Sweeps: a grid of one to three settings times seeds, each run trained headless on Dask.

``python -m rnn_core sweep --data sine --grid cell=rnn,lstm --grid lr=1e-3,3e-3 --seeds 3``
plans one run per combination and seed (:func:`plan`), sends each as a Dask task to the
cluster of :class:`~rnn_core.executor.Executor`, the one the app trains on (a ``LocalCluster``
of single-threaded worker processes by default, an existing cluster with ``--scheduler``), and
collects a row per run as it finishes (:func:`run_sweep`). A run is exactly what
``python -m rnn_core train`` does with the same settings and seed (:func:`train_one`), so its
numbers are the same bit for bit. A run that diverges or fails is a row with its reason, never
the end of the sweep; a task whose worker is lost is run again elsewhere by Dask. Rows are
summarised per combination (mean and standard deviation over the seeds, :func:`summarise`).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Iterable
from typing import Any

from rnn_core.config import RunSettings
from rnn_core.errors import PlaygroundError
from rnn_core.priority import lower_priority
from rnn_core.settings import SCHEMA, defaults

DEFAULTS = defaults("model", "data", "train")

MAX_GRID = 3
"""Settings a sweep varies at most (their product times the seeds is the number of runs)."""

MAX_RUNS = 500
"""Runs one sweep may plan: beyond this a typo in a grid is more likely than a wish."""

METRICS = ("train_loss", "val_loss", "val_rmse", "val_mae", "val_bpc", "val_accuracy")
"""The figures a row carries from the run's final evaluation, where the data has them."""


def parse_grid(items: Iterable[str]) -> dict[str, list[Any]]:
    """``["cell=rnn,lstm", "lr=1e-3,3e-3"]`` -> ``{"cell": ["rnn", "lstm"], "lr": [0.001, 0.003]}``.

    Each value is read and checked as the setting's flag is; an unknown setting, a repeated one
    or an empty list is an error that says so."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not values.strip():
            raise PlaygroundError(f"--grid {item!r}: write NAME=V1,V2,... (e.g. cell=rnn,lstm)")
        if name not in SCHEMA or name not in DEFAULTS:
            raise PlaygroundError(f"--grid {item!r}: no setting named {name!r}")
        if name == "seed":
            raise PlaygroundError("--grid seed=...: use --seeds N for seeds")
        if name in grid:
            raise PlaygroundError(f"--grid {name} is given twice; list all its values in one")
        texts = [v.strip() for v in values.split(",") if v.strip()]
        grid[name] = list(dict.fromkeys(SCHEMA[name].parse(t) for t in texts))
    if not grid:
        raise PlaygroundError("a sweep needs at least one --grid NAME=V1,V2,...")
    if len(grid) > MAX_GRID:
        raise PlaygroundError(f"a sweep varies at most {MAX_GRID} settings; got {len(grid)}")
    return grid


def plan(base: dict[str, Any], grid: dict[str, list[Any]], seeds: int) -> list[dict[str, Any]]:
    """Every run's settings: each combination of the grid's values with ``seeds`` seeds
    (``base["seed"]``, ``base["seed"] + 1``, ...), each checked against the schema."""
    if not 1 <= int(seeds) <= 100:
        raise PlaygroundError(f"--seeds must be between 1 and 100; got {seeds}")
    names = list(grid)
    combos = list(itertools.product(*(grid[n] for n in names)))
    if len(combos) * seeds > MAX_RUNS:
        raise PlaygroundError(f"the sweep would train {len(combos) * seeds} runs; at most {MAX_RUNS}")
    runs = []
    for combo in combos:
        for k in range(int(seeds)):
            settings = {**base, **dict(zip(names, combo, strict=True)), "seed": int(base["seed"]) + k}
            try:
                RunSettings(**settings)
            except PlaygroundError as exc:
                raise PlaygroundError(f"{_label(names, combo)}: {exc}") from None
            runs.append(settings)
    return runs


def _label(names: list[str], combo: Iterable[Any]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, combo, strict=True))


def train_one(dataset: Any, settings: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """Train one run of a sweep, as ``python -m rnn_core train`` would, and return its row: the
    varied settings, the seed, the final figures, steps, seconds, and whether it diverged or
    failed (``error``: why). Runs in a Dask worker; never raises for a bad run."""
    from rnn_core.cli import _finite_or_none, fit, make_trainer

    if _in_worker():  # on a cluster that also trains live runs, those come first
        lower_priority()
    row: dict[str, Any] = {n: settings[n] for n in names} | {"seed": settings["seed"]}
    row |= dict.fromkeys(METRICS) | {"baseline": None, "steps": 0, "seconds": 0.0}
    row |= {"diverged": False, "error": None}
    try:
        trainer = make_trainer(dataset, settings)
        steps, seconds = fit(trainer)
        ev = trainer.evaluate()
    except Exception as exc:  # a run that fails is a row that says why, not the end of the sweep
        row["error"] = f"{type(exc).__name__}: {exc}"
        return row
    row.update({k: ev.get(k) for k in METRICS})
    base = ev.get("baselines", {})
    key = dataset.reference_baseline[1] if hasattr(dataset, "reference_baseline") else "unigram_bpc"
    row["baseline"] = base.get(key)
    row.update(steps=int(steps), seconds=float(seconds), diverged=bool(trainer.diverged))
    if trainer.diverged:
        row["error"] = "diverged (a non-finite loss or gradient)"
    return _finite_or_none(row)


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


Row = dict[str, Any]


class SweepJob:
    """A sweep under way on a cluster, asked for its rows as they come (the app's way): the runs
    are sent at once, costliest first (:func:`_cost`), the data to every worker once."""

    def __init__(self, datasets: dict[int, Any], runs: list[Row], names: list[str], client: Any) -> None:
        self.runs, self.names, self.client = runs, names, client
        self.metric = metric_of(next(iter(datasets.values())))  # what the rows are compared by
        data = {n: client.scatter(ds, broadcast=True, hash=False) for n, ds in datasets.items()}
        self.futures = [
            client.submit(train_one, data[int(s["seq_len"])], s, names, pure=False, priority=_cost(s))
            for s in runs
        ]
        self._rows: list[Row | None] = [None] * len(runs)
        self.cancelled = False

    def collect(self) -> list[Row]:
        """The rows of the runs finished since the last call."""
        new = []
        for i, future in enumerate(self.futures):
            if self._rows[i] is None and future.status == "finished":
                self._rows[i] = future.result()
                new.append(self._rows[i])
        return new

    @property
    def rows(self) -> list[Row]:
        return [r for r in self._rows if r is not None]

    @property
    def done(self) -> int:
        return sum(r is not None for r in self._rows)

    @property
    def over(self) -> bool:
        return self.cancelled or self.done == len(self.runs)

    def cancel(self) -> None:
        """Stop the runs not finished; the rows finished stay."""
        self.cancelled = True
        self.client.cancel([f for f, r in zip(self.futures, self._rows, strict=True) if r is None])


def run_sweep(
    datasets: dict[int, Any],
    runs: list[Row],
    names: list[str],
    client: Any,
    *,
    on_row: Callable[[Row, int, int], None] | None = None,
) -> list[Row]:
    """Train ``runs`` on the cluster of ``client``, one task each, and return their rows in plan
    order. ``datasets`` holds the data at each sequence length the runs use. ``on_row(row,
    done, total)`` is called as each run finishes. Interrupted (Ctrl-C), the tasks left are
    cancelled and the rows finished so far are returned."""
    from distributed import as_completed

    job = SweepJob(datasets, runs, names, client)
    try:
        for _ in as_completed(job.futures):
            for row in job.collect():
                if on_row is not None:
                    on_row(row, job.done, len(runs))
    except KeyboardInterrupt:
        job.cancel()
    job.collect()
    return job.rows


def _cost(s: Row) -> float:
    """A run's rough cost, for ordering only: steps x time steps x batch x its recurrent products."""
    from rnn_core.cells import cell_spec

    h, gates = int(s["hidden_size"]), cell_spec(s["cell"]).gates
    return float(s["steps"]) * int(s["seq_len"]) * int(s["batch_size"]) * gates * h * h * int(s["num_layers"])


def summarise(rows: list[dict[str, Any]], names: list[str], metric: str) -> list[dict[str, Any]]:
    """One line per combination: its settings, the runs, how many diverged or failed, and the mean
    and standard deviation of ``metric`` over the seeds that finished."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[n] for n in names), []).append(row)
    out = []
    for combo, group in groups.items():
        values = [r[metric] for r in group if r[metric] is not None and not r["error"]]
        out.append(
            {
                **dict(zip(names, combo, strict=True)),
                "runs": len(group),
                "failed": sum(1 for r in group if r["error"]),
                f"{metric}_mean": statistics.fmean(values) if values else None,
                f"{metric}_std": statistics.stdev(values) if len(values) > 1 else None,
            }
        )
    return out


def metric_of(dataset: Any) -> str:
    """The validation figure a sweep is compared by: RMSE in original units, or bits per char."""
    return "val_bpc" if dataset.kind == "text" else "val_rmse"
