"""Headless training speed: optimizer steps per second of ``Trainer.step()`` with no UI.

The dashboard's browser benchmark compares its live steps/s against these figures, so the
setups are the command line's defaults (``rnn_core.cli.make_trainer``): the sine task, and the
same model on the standard-library docstrings text. Each setup is timed in several short
repetitions after a warm-up; the median is reported, with the spread, because the machine is
shared.

Usage: ``.venv/bin/python benchmarks/headless_bench.py [--json] [--seconds 1.0] [--reps 5]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core import cli
from rnn_core.data import load_dataset

SETUPS = {
    "sine (CLI defaults)": ("sine", {}),
    "docstrings text (CLI defaults)": ("docstrings", {}),
    "sine, LSTM 64": ("sine", {"cell": "lstm", "hidden_size": 64}),
}


def rate(trainer, seconds: float) -> float:
    """Steps per second over about ``seconds`` of stepping."""
    n = 0
    t0 = time.perf_counter()
    while True:
        trainer.step()
        n += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds per repetition")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    results = {}
    trainers = {}
    for name, (spec, settings) in SETUPS.items():
        trainers[name] = cli.make_trainer(load_dataset(spec), settings)
        rate(trainers[name], 0.2)  # warm-up
        results[name] = []
    for _ in range(args.reps):  # interleaved so that a busy moment hits every setup alike
        for name, trainer in trainers.items():
            results[name].append(rate(trainer, args.seconds))
    out = {}
    for name, rates in results.items():
        t = trainers[name]
        out[name] = {
            "steps_per_s": statistics.median(rates),
            "min": min(rates),
            "max": max(rates),
            "batch_size": t.train_config.batch_size,
            "seq_len": int(t.dataset.seq_len),
            "hidden_size": t.config.hidden_size,
            "cell": t.config.cell,
        }
    if args.json:
        print(json.dumps(out))
    else:
        for name, r in out.items():
            print(
                f"{name:34s} {r['steps_per_s']:8.1f} steps/s  (min {r['min']:.1f}, max {r['max']:.1f}; "
                f"{r['cell']} H={r['hidden_size']} T={r['seq_len']} B={r['batch_size']})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
