"""``python -m rnn_core backtest``: the command line of :mod:`rnn_core.forecasting.backtest`.

It takes every flag of ``train`` (the data and the settings each fold's run uses, ``--steps``
included) plus the folds, the horizon, the interval level, the season and the cluster. A
progress bar on stderr counts the folds; stdout gets the error by horizon (mean ± standard
deviation over the folds) of the RNN and each simple method and the intervals' coverage, or
with ``--json`` one JSON object on the last line. The cluster is the sweeps' one
(:mod:`rnn_core.sweep_cli`): ``--scheduler`` or ``RNN_PLAYGROUND_SCHEDULER``, else a local
cluster for the backtest.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from typing import Any, TextIO

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.backtest import NAMES, check_series, fold_season, plan, run_backtest
from rnn_core.forecasting.folds import MODES
from rnn_core.forecasting.metrics import check_level
from rnn_core.forecasting.report import DEFAULT_HORIZON, DEFAULT_LEVEL
from rnn_core.sweep_cli import add_cluster_arguments, cluster_executor

SHOWN_HORIZONS = (1, 2, 3, 6, 12, 24)
"""Horizons the table shows (with the last one); ``--json`` has every horizon."""


def add_parser(sub, add_run_arguments) -> None:
    p = sub.add_parser(
        "backtest",
        help="retrain on rolling-origin folds of a series and score forecasts by horizon",
        description="Cut the end of a series into --folds scoring periods, retrain the network from "
        "scratch before each with the given settings, and report its error by horizon next to the "
        "simple methods (mean and spread over the folds) with sequential conformal interval coverage. "
        "The held-out test period is never read.",
        allow_abbrev=False,
    )
    add_run_arguments(p.add_argument)
    add = p.add_argument
    add("--folds", type=int, default=5, metavar="K", help="scoring periods (default 5)")
    add("--horizon", type=int, default=DEFAULT_HORIZON, metavar="H", help="steps ahead scored (default 12)")
    add("--mode", choices=MODES, default="expanding", help="training window: expanding (default) or sliding")
    add("--level", type=float, default=DEFAULT_LEVEL, help="nominal interval coverage (default 0.8)")
    add("--season", type=int, metavar="M", help="rows per season (default: detected before the first fold)")
    add_cluster_arguments(add)
    add("--json", action="store_true", help="print the results as one JSON object on the last line")
    add("--no-progress", action="store_true", help="no progress bar on stderr")


def backtest_command(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``backtest``; returns the exit status (0, also when some folds diverged or failed)."""
    from rnn_core.cli import Progress, data_kind, load_data, resolve_settings

    started = time.perf_counter()
    settings = resolve_settings(args)
    if args.data and data_kind(args.data) not in ("sine", "csv"):
        raise PlaygroundError(f"--data {args.data}: a backtest forecasts a series; use sine or a .csv file")
    if args.workers is not None and args.workers < 1:
        raise PlaygroundError(f"--workers must be at least 1; got {args.workers}")
    dataset = load_data(args)
    check_series(dataset)
    # every mistake is found before a cluster starts
    check_level(args.level)
    fold_season(dataset, plan(dataset, folds=args.folds, horizon=args.horizon, mode=args.mode), args.season)
    progress = Progress(args.folds, err, enabled=not args.no_progress)
    executor = cluster_executor(args)
    try:
        result = run_backtest(
            dataset, settings, folds=args.folds, horizon=args.horizon, mode=args.mode, level=args.level,
            season=args.season, client=executor.client, on_fold=functools.partial(_shown_fold, progress),
        )  # fmt: skip
    finally:
        progress.close()
        executor.close()
    test = getattr(dataset, "test", None)
    result = {
        "data": dataset.name,
        "rows": int(dataset.raw.shape[0]),
        "test_rows": test.length if test is not None else 0,
        "seq_len": int(dataset.seq_len),
        "steps": int(settings["steps"]),
        **result,
        "seconds": time.perf_counter() - started,
    }
    out.write((json.dumps(result) if args.json else _table(result)) + "\n")
    if result["finished"] < result["planned"]:
        done = f"{result['finished']} of {result['planned']}"
        err.write(f"warning: the backtest stopped early; {done} folds finished\n")
    return 0


def _pm(spread: dict[str, Any]) -> str:
    mean, std = spread["mean"], spread["std"]
    if mean is None:
        return "-"
    return f"{mean:.4g}" if std is None else f"{mean:.4g}±{std:.2g}"


def _by_h(spread: dict[str, Any], hs: list[int]) -> list[str]:
    """``mean ± sd`` at each horizon ``h`` of ``hs`` (1-based) of a ``{"mean", "std"}`` of lists."""
    return [_pm({k: None if v is None else v[h - 1] for k, v in spread.items()}) for h in hs]


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for row in rows:
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        out.append("  ".join(cells))
    return out


def _table(r: dict[str, Any]) -> str:
    """Error by horizon per method (mean ± sd over the folds), then the intervals' coverage."""
    H = r["horizon"]
    hs = sorted({h for h in SHOWN_HORIZONS if h <= H} | {H})
    test = f", its {r['test_rows']} test rows not read" if r["test_rows"] else ""
    lines = [
        f"backtest of {r['data']}: {r['planned']} {r['mode']} folds over rows 0..{r['rows'] - 1}{test}; "
        f"{r['steps']} steps each, horizon {H}, season {r['season']['length']} ({r['season']['how']})",
        f"folds scored: {r['finished'] - r['failed']} of {r['planned']}"
        + "".join(f"; fold {f['index']}: {f['error']}" for f in r["folds"] if f["error"]),
    ]
    for measure in ("mae", "mase"):
        head = [f"{measure.upper()} by horizon", *(f"h={h}" for h in hs), "all"]
        body = [[name, *_by_h(r["by_horizon"][name][measure], hs), _pm(r["overall"][name][measure])]
                for name in NAMES]  # fmt: skip
        lines += ["", *_aligned([head, *body])]
    cov = r["coverage"]
    lines.append("")
    if cov is None:
        lines.append(
            "intervals: at least two scored folds are needed (each calibrates on the folds before it)"
        )
    else:
        by = " ".join(f"h={h} {cov['by_horizon'][h - 1]:.0%}" for h in hs)
        winkler = "n/a" if cov["winkler"] is None else f"{cov['winkler']:.4g}"
        lines.append(
            f"{r['level']:.0%} intervals (calibrated on earlier folds, {cov['folds']} fold(s), "
            f"{cov['origins']} origins): coverage {cov['overall']:.1%} ({by}), Winkler {winkler}"
        )
    return "\n".join(lines)


def _shown_fold(progress, result: dict[str, Any], done: int, total: int) -> None:
    """The backtest's bar: folds finished, time so far and the last fold's result."""
    if result["error"]:
        what = result["error"]
    else:
        what = f"fold {result['index']} RNN MAE {result['overall']['RNN']['mae']:.4g}"
    progress.show(done, f"folds {progress.seconds():.0f}s  last: {what[:40]:<40}", force=done == total)
