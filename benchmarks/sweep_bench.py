"""How much faster a sweep trains on two Dask workers than the same runs one after another.

One invocation: a 12-run sweep (RNN, LSTM and GRU at two learning rates, two seeds, on the
default sine) trained first one run after another in this process with the very function the
workers run (:func:`rnn_core.sweep.train_one`), then as a sweep on a ``LocalCluster`` of two
single-threaded worker processes (started and warmed up before the clock starts, as a server
or a long-lived cluster would be), then serially again; the speed-up is the mean serial time
over the sweep's. It also checks that both gave the same rows. Target: at least 1.6x on a
2-core machine.

Usage: ``.venv/bin/python benchmarks/sweep_bench.py [--steps 400] [--json]``. A measurement,
not a test: the figures depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GRID = {"cell": ["rnn", "lstm", "gru"], "lr": [0.003, 0.01]}
SEEDS = 2


def main() -> int:
    from rnn_core.data import sine_dataset
    from rnn_core.executor import Executor
    from rnn_core.sweep import DEFAULTS, plan, run_sweep, train_one

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="steps per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    ds = sine_dataset()
    names = list(GRID)
    runs = plan({**DEFAULTS, "steps": args.steps}, GRID, SEEDS)

    def serial() -> tuple[float, list]:
        t0 = time.perf_counter()
        rows = [train_one(ds, r, names) for r in runs]
        return time.perf_counter() - t0, rows

    first, rows_serial = serial()
    ex = Executor(workers=2)
    try:
        client = ex.client
        client.wait_for_workers(2, timeout=60)
        t0 = time.perf_counter()
        rows_sweep = run_sweep({ds.seq_len: ds}, runs, names, client)
        swept = time.perf_counter() - t0
    finally:
        ex.close()
    second, _ = serial()
    same = [{k: v for k, v in r.items() if k != "seconds"} for r in rows_sweep] == [
        {k: v for k, v in r.items() if k != "seconds"} for r in rows_serial
    ]
    alone = (first + second) / 2
    result = {
        "runs": len(runs),
        "steps_per_run": args.steps,
        "serial_seconds": [round(first, 2), round(second, 2)],
        "sweep_seconds": round(swept, 2),
        "speedup": round(alone / swept, 2),
        "same_rows": same,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{len(runs)} runs of {args.steps} steps on the default sine")
        print(f"one after another, in this process  {first:6.2f} s, again {second:6.2f} s")
        print(f"as a sweep on 2 worker processes     {swept:6.2f} s")
        print(f"speed-up                             {alone / swept:6.2f}x  (target >= 1.6x)")
        print(f"rows identical to the serial runs    {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
