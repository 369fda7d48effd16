"""Rewind's memory over a long run: a real trainer takes 100,000 steps (the default sine model,
or another size by flag) and the kept snapshots' count and bytes are printed as it goes, with
the process's resident memory, against the bounds of :mod:`rnn_core.rewind`.

    PYTHONPATH=. python benchmarks/rewind_bench.py [--steps 100000] [--hidden 32] [--cell rnn]
"""

from __future__ import annotations

import argparse
import resource
import time

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.rewind import MAX_BYTES, MAX_SNAPSHOTS
from rnn_core.trainer import Trainer


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--hidden", type=int, default=32)
    ap.add_argument("--cell", default="rnn")
    args = ap.parse_args()
    tr = Trainer(sine_dataset(), ModelConfig(cell=args.cell, hidden_size=args.hidden), TrainConfig())
    print(f"bounds: {MAX_SNAPSHOTS} snapshots, {MAX_BYTES / 2**20:.0f} MB; {args.cell} {args.hidden} units")
    print(f"{'step':>8} {'kept':>5} {'MB kept':>8} {'peak kept':>9} {'RSS MB':>7} {'steps/s':>8}")
    peak, t0, done = 0, time.perf_counter(), 0
    every = max(args.steps // 10, 1)
    while done < args.steps:
        n = min(every, args.steps - done)
        for _ in range(n):
            tr.step()
            peak = max(peak, len(tr.snapshots))
        done += n
        s = tr.rewind_summary
        rate = done / (time.perf_counter() - t0)
        kept, mb = len(s["steps"]), s["bytes"] / 2**20
        print(f"{done:>8,} {kept:>5} {mb:>8.2f} {peak:>9} {rss_mb():>7.1f} {rate:>8.0f}")
    s = tr.rewind_summary
    within = peak <= MAX_SNAPSHOTS and s["bytes"] <= MAX_BYTES
    print(f"kept steps: {s['steps']}")
    print(f"within bounds over the whole run: {'yes' if within else 'NO'}")


if __name__ == "__main__":
    main()
