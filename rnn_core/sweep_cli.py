"""``python -m rnn_core sweep``: the command line of :mod:`rnn_core.sweep`.

It takes every flag of ``train`` (the data and the settings every run shares) plus the grid,
the seeds, the cluster and where to write the rows. A progress bar on stderr counts the runs;
stdout gets a table per combination, or with ``--json`` one JSON object on the last line.
``--scheduler`` (or ``RNN_PLAYGROUND_SCHEDULER``, as for the app) names an existing Dask
cluster; without one a local cluster of one single-threaded worker process per core starts
for the sweep and stops after it.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, TextIO

from rnn_core.errors import PlaygroundError
from rnn_core.sweep import METRICS, metric_of, parse_grid, plan, run_sweep, summarise

SCHEDULER_ENV = "RNN_PLAYGROUND_SCHEDULER"


def add_cluster_arguments(add) -> None:
    """``--scheduler`` and ``--workers``: where the runs of a sweep or backtest execute."""
    add(
        "--scheduler",
        metavar="ADDRESS",
        help=f"an existing Dask scheduler (default ${SCHEDULER_ENV}, else local)",
    )
    add(
        "--workers",
        type=int,
        metavar="N",
        help="worker processes of the local cluster (default: one per core)",
    )


def cluster_executor(args: argparse.Namespace):
    """The :class:`~rnn_core.executor.Executor` the cluster flags (or ``$RNN_PLAYGROUND_SCHEDULER``) name."""
    from rnn_core.executor import Executor

    # Dask's notice that its HTTP port was taken would break the one-line error promise.
    warnings.filterwarnings("ignore", message="Port .* is already in use")
    return Executor(args.scheduler or os.environ.get(SCHEDULER_ENV) or None, workers=args.workers)


def add_parser(sub, add_run_arguments) -> None:
    p = sub.add_parser(
        "sweep",
        help="train a grid of settings times seeds on Dask workers and compare them",
        description="Train every combination of the --grid values with --seeds seeds, headless, on "
        "a Dask cluster, and report each combination's validation metric (mean and spread over seeds).",
        allow_abbrev=False,
    )
    add_run_arguments(p.add_argument)
    add = p.add_argument
    add("--grid", action="append", metavar="NAME=V1,V2", help="a setting and its values (repeat, up to 3)")
    add("--seeds", type=int, default=1, metavar="N", help="seeds per combination: --seed, --seed+1, ...")
    add_cluster_arguments(add)
    add("--out", metavar="PATH.csv", help="write one row per run to this CSV file")
    add("--json", action="store_true", help="print the results as one JSON object on the last line")
    add("--no-progress", action="store_true", help="no progress bar on stderr")


def _datasets(args: argparse.Namespace, runs: list[dict[str, Any]]) -> dict[int, Any]:
    """The data at every sequence length the runs use (windows depend on it)."""
    from rnn_core.cli import load_data

    out = {}
    for seq_len in sorted({int(r["seq_len"]) for r in runs}):
        args.seq_len = seq_len
        out[seq_len] = load_data(args)
    return out


def sweep_command(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``sweep``; returns the exit status (0, also when some runs diverged or failed)."""
    from rnn_core.cli import Progress, resolve_settings

    started = time.perf_counter()
    grid = parse_grid(args.grid or [])
    names = list(grid)
    runs = plan(resolve_settings(args), grid, args.seeds)
    if args.out is not None and not Path(args.out).resolve().parent.is_dir():
        raise PlaygroundError(f"--out: folder {Path(args.out).parent} does not exist")
    datasets = _datasets(args, runs)
    metric = metric_of(next(iter(datasets.values())))
    progress = Progress(len(runs), err, enabled=not args.no_progress)
    executor = cluster_executor(args)
    try:
        rows = run_sweep(
            datasets, runs, names, executor.client, on_row=functools.partial(_shown_row, progress)
        )
    finally:
        progress.close()
        executor.close()
    lines = summarise(rows, names, metric)
    if args.out is not None:
        write_csv(args.out, rows, names)
    result = {
        "runs": len(runs),
        "finished": len(rows),
        "failed": sum(1 for r in rows if r["error"]),
        "grid": grid,
        "seeds": args.seeds,
        "metric": metric,
        "summary": lines,
        "best": _best(lines, metric),
        "seconds": time.perf_counter() - started,
        "out": args.out,
    }
    out.write((json.dumps(result) if args.json else _table(lines, names, metric)) + "\n")
    if len(rows) < len(runs):
        err.write(f"warning: the sweep stopped early; {len(rows)} of {len(runs)} runs finished\n")
    return 0


def _best(lines: list[dict[str, Any]], metric: str) -> dict[str, Any] | None:
    scored = [x for x in lines if x[f"{metric}_mean"] is not None]
    return min(scored, key=lambda x: x[f"{metric}_mean"]) if scored else None


def write_csv(path: str, rows: list[dict[str, Any]], names: list[str]) -> None:
    columns = [*names, "seed", *METRICS, "baseline", "steps", "seconds", "diverged", "error"]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _table(lines: list[dict[str, Any]], names: list[str], metric: str) -> str:
    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    head = [*names, "runs", "failed", f"{metric} mean", "std"]
    body = [[fmt(x[n]) for n in names] + [fmt(x["runs"]), fmt(x["failed"]), fmt(x[f"{metric}_mean"]),
             fmt(x[f"{metric}_std"])] for x in lines]  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in [head, *body])


def _shown_row(progress, row: dict[str, Any], done: int, total: int) -> None:
    """The sweep's bar: runs finished, time so far and the last run's result."""
    what = row["error"] or next((f"{k} {row[k]:.4g}" for k in ("val_rmse", "val_bpc") if row.get(k)), "")
    progress.show(done, f"runs {progress.seconds():.0f}s  last: {what[:40]:<40}", force=done == total)
