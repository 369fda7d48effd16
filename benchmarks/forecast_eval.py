"""How the network forecasts a real series against the simple methods, by horizon, with intervals.

The yearly sunspot numbers 1700-2008 (bundled with statsmodels) go through the CSV reader, which
holds out the last 15% of the years as the test period. The network trains with the command
line's settings (``--steps`` and ``--seed`` here, everything else the defaults, window 50), then
the test period is scored: closed-loop forecasts of 1-11 years from every origin in it, for the
RNN, persistence, seasonal naive (11 years, the solar cycle), drift, the training mean and the
linear autoregression, with MAE and MASE per horizon and the 80% conformal interval's coverage.
``--backtest K`` also runs a K-fold rolling-origin backtest on the years before the test period.

Usage: ``.venv/bin/python benchmarks/forecast_eval.py [--steps 500] [--seed 0] [--backtest 5] [--json]``
This is a measurement, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rnn_core.data import csv_dataset  # noqa: E402
from rnn_core.runs import fit, make_trainer  # noqa: E402

HORIZONS = (1, 3, 6, 11)
METHODS = ("RNN", "persistence", "seasonal naive", "linear AR", "drift", "training mean")


def sunspots():
    from statsmodels.datasets import sunspots as data

    frame = data.load_pandas().data  # YEAR, SUNACTIVITY
    return csv_dataset(frame.to_csv(index=False).encode(), target="SUNACTIVITY", name="sunspots")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--backtest", type=int, default=0, metavar="K", help="also a K-fold backtest")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    ds = sunspots()
    trainer = make_trainer(ds, {"steps": args.steps, "seed": args.seed})
    fit(trainer)
    rep = trainer.forecast_report("test", 11, 0.8, 11)
    out = {"rows": ds.report["rows"], "test_rows": ds.test.length, "origins": rep["origins"],
           "steps": trainer.step_count, "seed": args.seed}  # fmt: skip
    out["by_horizon"] = {
        m: {h: {"mae": float(rep["errors"][m]["mae"][h - 1]), "mase": float(rep["errors"][m]["mase"][h - 1])}
            for h in HORIZONS} for m in METHODS
    }  # fmt: skip
    out["coverage"] = {h: float(rep["coverage_by_horizon"][h - 1]) for h in HORIZONS}
    out["coverage_overall"], out["winkler"] = float(rep["coverage"]), float(rep["winkler"])
    if args.backtest:
        from rnn_core.executor import Executor
        from rnn_core.forecasting.backtest import run_backtest

        ex = Executor()
        try:
            bt = run_backtest(ds, {"steps": args.steps, "seed": args.seed}, folds=args.backtest, horizon=11,
                              season=11, client=ex.client)  # fmt: skip
        finally:
            ex.close()
        out["backtest"] = {
            "folds": bt["finished"] - bt["failed"],
            "mase": {m: {h: bt["by_horizon"][m]["mase"]["mean"][h - 1] for h in HORIZONS} for m in METHODS},
            "coverage": None if bt["coverage"] is None else bt["coverage"]["overall"],
        }
    if args.json:
        print(json.dumps(out))
        return
    print(f"sunspots: {out['rows']} years, test period the last {out['test_rows']}, "
          f"{out['origins']} origins; RNN trained {out['steps']} steps, seed {args.seed}")  # fmt: skip
    print(f"{'method':16s}" + "".join(f"  h={h:<2d} MAE  MASE " for h in HORIZONS))
    for m in METHODS:
        row = out["by_horizon"][m]
        print(f"{m:16s}" + "".join(f"  {row[h]['mae']:7.1f} {row[h]['mase']:5.2f}" for h in HORIZONS))
    cov = "  ".join(f"h={h}: {100 * out['coverage'][h]:.0f}%" for h in HORIZONS)
    print(f"80% interval coverage on the test period: {cov}; all horizons "
          f"{100 * out['coverage_overall']:.1f}%, Winkler {out['winkler']:.1f}")  # fmt: skip
    if "backtest" in out:
        bt = out["backtest"]
        print(f"backtest, {bt['folds']} folds, mean MASE:")
        for m in METHODS:
            print(f"  {m:16s}" + "".join(f"  h={h}: {bt['mase'][m][h]:.2f}" for h in HORIZONS))
        if bt["coverage"] is not None:
            print(f"  sequential 80% interval coverage: {100 * bt['coverage']:.1f}%")


if __name__ == "__main__":
    main()
