"""Does the default model beat the naive baselines? Prints the figures behind the README's claims.

Rows (all with the command line's default model, ``rnn_core.cli.make_trainer`` + ``cli.fit``,
unless named otherwise):

- the tutorials' sine task with the defaults, and with ``--preset tutorial``;
- yearly sunspot numbers 1700-2008 (bundled with statsmodels) through the CSV reader,
  against persistence, the training mean and a linear autoregression on the same windows;
- the standard-library docstrings text and the generated grammar, in bits per character against
  unigram and bigram models fitted on the training text.

Usage: ``.venv/bin/python benchmarks/baselines_eval.py [--json]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnn_core import cli
from rnn_core.data import csv_dataset, load_dataset
from rnn_core.settings import PRESETS


def _sunspots():
    try:
        from statsmodels.datasets import sunspots
    except ImportError:
        return None
    frame = sunspots.load_pandas().data
    return csv_dataset(frame.to_csv(index=False).encode(), target="SUNACTIVITY", name="sunspots")


def evaluate(name: str, dataset, settings: dict | None = None) -> dict:
    trainer = cli.make_trainer(dataset, settings)
    steps, seconds = cli.fit(trainer)
    ev = trainer.evaluate()
    metric = "val_bpc" if dataset.kind == "text" else "val_rmse"
    return {
        "name": name,
        "metric": metric,
        "value": ev[metric],
        "baselines": ev["baselines"],
        "steps": steps,
        "seconds": seconds,
        "diverged": trainer.diverged,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [
        evaluate("sine, defaults", load_dataset("sine")),
        evaluate("sine, --preset tutorial", load_dataset("sine"), dict(PRESETS["tutorial"].values)),
    ]
    spots = _sunspots()
    if spots is not None:
        rows.append(evaluate("sunspots 1700-2008 (yearly)", spots))
    rows.append(evaluate("stdlib docstrings text", load_dataset("docstrings")))
    rows.append(evaluate("generated grammar text", load_dataset("grammar")))
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        base = ", ".join(f"{k} {v:.4g}" for k, v in r["baselines"].items() if k.endswith(("rmse", "bpc")))
        flag = " DIVERGED" if r["diverged"] else ""
        took = f"({r['steps']} steps, {r['seconds']:.2f} s)"
        print(f"{r['name']:30s} {r['metric']} {r['value']:.4g}{flag}  | {base}  {took}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
