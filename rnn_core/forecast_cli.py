"""The forecast flags of ``python -m rnn_core train`` and the figures ``--json`` gains from them.

``--test-fraction`` holds out the end of a series (:mod:`rnn_core.data.windows`); ``--horizon``,
``--level`` and ``--season`` shape the errors by horizon (:mod:`rnn_core.forecasting.report`);
``--score-test`` scores the held-out period once training ends, which marks it used
(``test_scored`` in the JSON).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting import report
from rnn_core.forecasting.report import DEFAULT_HORIZON, DEFAULT_LEVEL
from rnn_core.forecasting.transforms import TRANSFORMS


def add_data_flags(add) -> None:
    """Flags that shape the data of any series command (train, sweep, backtest)."""
    add(
        "--test-fraction",
        type=float,
        help="series: share of rows held out at the end as a test period, scored only with "
        "--score-test (default: 0.15 for a CSV, at least 12 rows; 0 for sine)",
    )
    add(
        "--transform",
        choices=TRANSFORMS,
        help="series: what the model learns instead of the target (fitted on the training rows, "
        "inverted for every prediction): log, diff, seasonal_diff (lag --season or detected), detrend",
    )


def data_options(args: argparse.Namespace, kind: str) -> dict[str, Any]:
    """Builder keywords from the data flags, refusing them for data they do not apply to."""
    given = {
        "test_fraction": getattr(args, "test_fraction", None),
        "transform": getattr(args, "transform", None),
    }
    if given["transform"] == "seasonal_diff" and kind == "csv":
        given["season"] = getattr(args, "season", None)
    given = {k: v for k, v in given.items() if v is not None}
    if given and kind not in ("csv", "sine"):
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise PlaygroundError(f"{flags} only apply to series data (sine or CSV); remove them")
    return given


def _whole(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 10000; got {text}")
    return value


def _level(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (e.g. 0.8); got {text}")
    return value


def add_train_flags(add) -> None:
    """The forecast-scoring flags of ``train``."""
    add("--horizon", type=_whole, default=DEFAULT_HORIZON, help="series: steps ahead scored (default 12)")
    add("--level", type=_level, default=DEFAULT_LEVEL, help="series: nominal interval coverage (default 0.8)")
    add("--season", type=_whole, help="series: rows per season for seasonal naive and MASE (default: found)")
    add("--score-test", action="store_true", help="series: score the held-out test period at the end")
    add("--keep-best", action="store_true", help="end on the weights of the best validation score")
    add("--out", metavar="FOLDER", help="series: write predictions.csv, forecast.csv (the next --horizon "
        "values with their intervals) and errors_by_horizon.csv into this folder")  # fmt: skip


def _plain(value: Any) -> Any:
    """JSON-ready: arrays as lists, nested."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "residuals"}
    if isinstance(value, np.generic):
        return value.item()
    return value


def check(args: argparse.Namespace, dataset: Any) -> None:
    """Refuse, before training, a ``--score-test`` or ``--out`` the data cannot honour."""
    if args.score_test and getattr(dataset, "test", None) is None:
        raise PlaygroundError(
            "--score-test: this data has no test period; give a series and --test-fraction above 0"
        )
    if args.out is not None:
        if not getattr(dataset, "forecastable", False):
            raise PlaygroundError("--out writes forecasts, which need series data (sine or CSV)")
        if not Path(args.out).is_dir():
            raise PlaygroundError(f"--out: folder {args.out} does not exist; create it first")


def summary(trainer: Any, dataset: Any, args: argparse.Namespace, steps_done: int) -> dict[str, Any]:
    """``best`` (the best validation score, its step, whether a patience stopped the run and
    whether it ended on the best weights) and, for a series that can be forecast,
    ``forecast`` (errors by horizon on the validation period and, with ``--score-test``, the
    test period) with ``test_scored``. ``steps_done`` is where the step loop ended."""
    best = trainer.best_summary
    stopped = trainer.train_config.patience is not None and not trainer.diverged
    stopped = stopped and steps_done < int(trainer.train_config.steps)
    restored = bool(args.keep_best) and trainer.step_count != steps_done
    head = {"best": {**best, "early_stopped": stopped, "restored": restored}}
    return head | _forecast(trainer, dataset, args)


def _forecast(trainer: Any, dataset: Any, args: argparse.Namespace) -> dict[str, Any]:
    if getattr(dataset, "kind", None) != "regression" or not getattr(dataset, "forecastable", False):
        return {}
    if trainer.diverged:
        return {"forecast": None}
    out: dict[str, Any] = {}
    periods = ("val", "test") if args.score_test else ("val",)
    for period in periods:
        try:
            out[period] = _plain(trainer.forecast_report(period, args.horizon, args.level, args.season))
        except PlaygroundError as exc:  # e.g. a period shorter than the horizon: say so, keep the run
            out[period] = {"error": str(exc)}
    if args.out is not None:
        write_files(trainer, out, Path(args.out), args.horizon)
    return {"forecast": out, "test_scored": bool(args.score_test)}


def write_files(trainer: Any, reports: dict[str, Any], folder: Path, horizon: int) -> None:
    """``predictions.csv`` (every one-step validation prediction), ``forecast.csv`` (``horizon``
    values beyond the data with the validation-calibrated interval) and ``errors_by_horizon.csv``
    (each scored period, method and horizon)."""
    x, pred, actual = trainer.predictions("val")
    _csv(folder / "predictions.csv", ["x", "predicted", "actual"], zip(_axis(x), pred, actual, strict=True))
    xf, values = trainer.forecast(horizon)
    widths = reports.get("val", {}).get("halfwidths")
    lower, upper = report.forecast_band(values, widths) if widths is not None else (values * np.nan,) * 2
    blank = [["" if not np.isfinite(v) else v for v in b] for b in (lower, upper)]  # beyond H: none
    _csv(
        folder / "forecast.csv",
        ["x", "forecast", "lower", "upper"],
        zip(_axis(xf), values, *blank, strict=True),
    )
    rows = []
    for period, rep in reports.items():
        for method, by_h in rep.get("errors", {}).items():
            rows += [(period, method, h + 1, by_h["mae"][h], by_h["rmse"][h], by_h["mase"][h])
                     for h in range(len(by_h["mae"]))]  # fmt: skip
    _csv(folder / "errors_by_horizon.csv", ["period", "method", "horizon", "mae", "rmse", "mase"], rows)


def _axis(x) -> list:
    x = np.asarray(x)
    if np.issubdtype(x.dtype, np.datetime64):
        return [str(np.datetime_as_string(v, unit="s")).removesuffix("T00:00:00") for v in x]
    return x.tolist()


def _csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
