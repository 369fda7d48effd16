"""Rolling-origin backtests: the model retrained from scratch on each fold and scored per horizon
next to the simple methods, with sequential conformal intervals (Tashman, 2000).

Each fold of :func:`~rnn_core.forecasting.folds.backtest_folds` becomes a dataset of its own
(:func:`fold_dataset`), cut from the scored rows ``dataset.raw`` -- never the held-out test
period -- over rows ``train_start .. score_end``. The windows whose targets are training rows
train and the rest validate, so the normalisation statistics, the linear AR and the training
mean come from the fold's training rows alone, and the validation period of
:func:`~rnn_core.forecasting.report.evaluate` is exactly the fold's scoring period and origins.
:func:`run_fold` trains a fresh trainer there with the settings and steps ``train`` would use.

Folds are independent runs: :class:`BacktestJob` sends one Dask task per fold through the
cluster of :class:`~rnn_core.executor.Executor`, as sweeps do (:mod:`rnn_core.sweep`), and a
fold that diverges or fails is a result that says why, never the end of the backtest.

Intervals are sequential split conformal: fold ``k``'s half-widths come from the model's
residuals on folds ``0 .. k-1`` stacked (:func:`~rnn_core.forecasting.intervals.conformal_halfwidths`),
and their coverage and Winkler score are measured on fold ``k``'s own origins; fold 0 has none.
No fold's interval rests on its own residuals or later ones, so the coverage is out of sample.

The season is found once, on the rows before the first scoring period, unless given: every fold
uses the same seasonal naive method and MASE lag, and no scoring row chooses it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnn_core.data.windows import build_series_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.folds import Fold, backtest_folds
from rnn_core.forecasting.horizon import check_whole
from rnn_core.forecasting.intervals import conformal_halfwidths, interval_report
from rnn_core.forecasting.metrics import check_level
from rnn_core.forecasting.report import DEFAULT_HORIZON, DEFAULT_LEVEL, METHODS, MODEL, season_of
from rnn_core.forecasting.season import Season, season_length
from rnn_core.priority import lower_priority

NAMES = (MODEL, *METHODS.values())
"""Every method a backtest scores, the model first, by display name."""

MEASURES = ("mae", "rmse", "mase")

ROWS = ("index", "train_start", "train_end", "score_start", "score_end")
"""A fold's place: its number and its training and scoring rows in ``dataset.raw``."""

Result = dict[str, Any]


def check_series(dataset: Any) -> None:
    """Refuse data a backtest cannot forecast (text, memory tasks)."""
    if getattr(dataset, "kind", None) != "regression" or not getattr(dataset, "forecastable", False):
        what = getattr(dataset, "name", "this data")
        raise PlaygroundError(
            f"a backtest forecasts a series (sine or a CSV column); {what} is not one: "
            "use --data sine or a .csv file"
        )


def plan(dataset: Any, *, folds: int, horizon: int, mode: str = "expanding") -> list[Fold]:
    """The folds over a series dataset's scored rows ``dataset.raw`` (the test period is not
    among them); see :func:`~rnn_core.forecasting.folds.backtest_folds`."""
    check_series(dataset)
    n = int(np.asarray(dataset.raw).shape[0])
    return backtest_folds(n, folds=folds, horizon=horizon, seq_len=int(dataset.seq_len), mode=mode)


def fold_season(dataset: Any, folds: list[Fold], season: int | None = None) -> Season:
    """The season every fold uses: ``season`` if given, else the one detected on the rows before
    the first scoring period (:func:`~rnn_core.forecasting.report.season_of` of the first fold),
    so that no scoring row chooses it; refused when longer than a fold's training part."""
    if season is None:
        found = season_of(fold_dataset(dataset, folds[0]))
    else:
        found = Season(season_length(season), f"set: {season}")
    shortest = min(f.train_rows for f in folds)
    if found.length > shortest:
        raise PlaygroundError(
            f"a season of {found.length} rows is longer than a fold's training part ({shortest} rows), "
            "so seasonal naive has no season to repeat; give a shorter season"
        )
    return found


def fold_dataset(dataset: Any, fold: Fold) -> Any:
    """The dataset of one fold: rows ``fold.train_start .. fold.score_end`` of ``dataset.raw``.

    Parameters
    ----------
    dataset : SeriesDataset
    fold : Fold
        Row numbers in ``dataset.raw``.

    Returns
    -------
    SeriesDataset
        Named ``"<name> fold <index>"``, same columns, ``seq_len`` and x-axis rows; its local row
        ``r`` is row ``fold.train_start + r`` of ``dataset.raw``. The windows whose targets are
        at or before ``fold.train_end`` train, the others validate; statistics and baselines come
        from the training rows ``fold.train_start .. fold.train_end`` alone. No test period.
    """
    check_series(dataset)
    raw = np.asarray(dataset.raw, dtype=np.float64)
    T = int(dataset.seq_len)
    if not 0 <= fold.train_start <= fold.train_end < fold.score_end < raw.shape[0]:
        raise PlaygroundError(
            f"fold {fold.index} (rows {fold.train_start}..{fold.score_end}) does not lie inside the "
            f"{raw.shape[0]} scored rows; plan the folds on this dataset"
        )
    rows = slice(fold.train_start, fold.score_end + 1)
    where = (
        f"backtest fold {fold.index}: trains on rows {fold.train_start}..{fold.train_end}, "
        f"scores rows {fold.score_start}..{fold.score_end}"
    )
    return build_series_dataset(
        raw[rows],
        name=f"{dataset.name} fold {fold.index}",
        columns=list(dataset.columns),
        seq_len=T,
        x_axis=np.asarray(dataset.x_axis)[rows],
        x_label=dataset.x_label,
        n_train=fold.train_rows - T,  # the windows whose target is a training row
        report={"date_column": (dataset.report or {}).get("date_column"), "notes": [where]},
    )


def _plain(value: Any) -> Any:
    """JSON-ready: arrays as lists, NumPy scalars as Python ones, non-finite floats as None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _blank(fold: Fold, error: str | None = None) -> Result:
    """A fold's result before (or without) any score."""
    out: Result = {k: int(getattr(fold, k)) for k in ROWS}
    out.update(origins=0, errors=None, overall=None, residuals=None, scale_note=None)
    out.update(steps=0, seconds=0.0, diverged=False, error=error)
    return out


def run_fold(
    dataset: Any, fold: Fold, settings: dict[str, Any], *, horizon: int, season: int | None
) -> Result:
    """Train a fresh model on one fold, as ``python -m rnn_core train`` would, and score it.

    Runs in a Dask worker; never raises for a bad fold.

    Returns
    -------
    dict
        ``index, train_start, train_end, score_start, score_end`` (rows of ``dataset.raw``),
        ``origins`` (how many were scored), ``errors`` (``{method: {"mae", "rmse", "mase":
        list (H,)}}``, the model under ``"RNN"``), ``overall`` (``{method: {"mae", "rmse",
        "mase", "smape"}}`` over every horizon), ``residuals`` (the model's ``actual -
        forecast``, a ``(B, H)`` list, for the later folds' intervals), ``scale_note``,
        ``steps``, ``seconds`` (training and scoring), ``diverged`` and ``error`` (None, or why
        the fold has no scores). Non-finite figures are None.
    """
    from rnn_core.cli import fit, make_trainer
    from rnn_core.sweep import _in_worker

    if _in_worker():  # on a cluster that also trains live runs, those come first
        lower_priority()
    t0 = time.perf_counter()
    out = _blank(fold)
    try:
        trainer = make_trainer(fold_dataset(dataset, fold), settings)
        steps, _ = fit(trainer)
        out.update(steps=int(steps), diverged=bool(trainer.diverged))
        if trainer.diverged:
            out["error"] = "diverged (a non-finite loss or gradient)"
        else:
            rep = trainer.forecast_report("val", horizon, DEFAULT_LEVEL, season)
            residuals = np.asarray(rep["residuals"], dtype=np.float64)  # (B, H)
            out.update(origins=int(rep["origins"]), errors=rep["errors"], overall=rep["overall"])
            out["scale_note"] = rep["scale"]["note"]
            if np.all(np.isfinite(residuals)):
                out["residuals"] = residuals
            else:
                out["error"] = "the model's forecasts are not finite (they overflow)"
    except Exception as exc:  # a fold that fails is a result that says why, not the end
        out["error"] = f"{type(exc).__name__}: {exc}"
    out["seconds"] = time.perf_counter() - t0
    return _plain(out)


def _scored(results: list[Result]) -> list[Result]:
    return sorted((r for r in results if r["error"] is None), key=lambda r: r["index"])


def sequential_intervals(results: list[Result], level: float) -> list[dict[str, Any]]:
    """Each scored fold's interval half-widths, calibrated on the scored folds before it only.

    Parameters
    ----------
    results : list of :func:`run_fold` results
        Any order; folds with an ``error`` are left out (they neither calibrate nor are scored).
    level : float

    Returns
    -------
    list of dict, in fold order
        ``index``, ``calibrated_on`` (the indices of the folds whose residuals were stacked),
        ``halfwidths`` ``(H,)`` ndarray (None for the first scored fold), ``note`` and, where
        there are half-widths, ``coverage``, ``coverage_by_horizon``, ``winkler`` and
        ``winkler_by_horizon`` on the fold's own origins.
    """
    level = check_level(level)
    out = []
    before: list[np.ndarray] = []
    used: list[int] = []
    for r in _scored(results):
        res = np.asarray(r["residuals"], dtype=np.float64)  # (B, H)
        row: dict[str, Any] = {"index": r["index"], "calibrated_on": list(used), "halfwidths": None}
        row["note"] = "the first fold has no earlier residuals to calibrate on" if not before else None
        if before:
            widths = conformal_halfwidths(np.concatenate(before), level)
            w = widths.halfwidths  # (H,)
            # residual = actual - forecast, so [f - w, f + w] around a = f + r is [-w, w] around r
            row.update(
                interval_report(res, np.broadcast_to(-w, res.shape), np.broadcast_to(w, res.shape), level)
            )
            row.update(halfwidths=w, note=widths.note)
        out.append(row)
        before.append(res)
        used.append(r["index"])
    return out


def _spread(values: list[Any]) -> dict[str, Any]:
    """Mean and sample standard deviation over folds of scalars or ``(H,)`` lists; None and
    non-finite entries are left out (None where fewer than 1, or 2, folds remain)."""
    if not values:
        return {"mean": None, "std": None}
    rows = [x if isinstance(x, list) else [x] for x in values]
    a = np.array([[np.nan if v is None else v for v in x] for x in rows], dtype=np.float64)  # (folds, H)
    ok = np.isfinite(a)
    n = ok.sum(axis=0)  # (H,)
    mean = np.where(ok, a, 0.0).sum(axis=0) / np.maximum(n, 1)
    var = (np.where(ok, a - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1)
    mean, std = np.where(n > 0, mean, np.nan), np.where(n > 1, np.sqrt(var), np.nan)
    if not isinstance(values[0], list):
        return _plain({"mean": mean[0], "std": std[0]})
    return _plain({"mean": mean, "std": std})


def summarise(results: list[Result], *, planned: int, horizon: int, level: float, season: Season,
              mode: str) -> dict[str, Any]:  # fmt: skip
    """The backtest's figures over the folds scored so far.

    Returns
    -------
    dict
        ``planned, finished, failed, mode, horizon, level, season`` (``{"length", "how"}``),
        ``methods`` (display names, the model first), ``by_horizon`` (``{method: {"mae",
        "rmse", "mase": {"mean", "std": list (H,)}}}``, over the folds without an error),
        ``overall`` (the same of each fold's error over all horizons, scalars), ``coverage``
        (sequential conformal, pooled over every origin of the folds after the first:
        ``{"level", "folds", "origins", "overall", "by_horizon", "winkler",
        "winkler_by_horizon"}``; None before two folds are scored) and ``folds``, one row per
        finished fold in time order (rows, origins, steps, seconds, diverged, error, the
        model's overall MAE and its interval's coverage and Winkler score).
    """
    done = sorted(results, key=lambda r: r["index"])
    scored = _scored(done)
    by_h = {m: {k: _spread([r["errors"][m][k] for r in scored]) for k in MEASURES} for m in NAMES}
    overall = {m: {k: _spread([r["overall"][m][k] for r in scored]) for k in MEASURES} for m in NAMES}
    seq = {s["index"]: s for s in sequential_intervals(done, level)}
    graded = [(r, seq[r["index"]]) for r in scored if seq[r["index"]]["halfwidths"] is not None]
    coverage = None
    if graded:
        res = np.concatenate([np.asarray(r["residuals"], dtype=np.float64) for r, _ in graded])  # (B, H)
        w = np.concatenate([np.broadcast_to(s["halfwidths"], np.shape(r["residuals"])) for r, s in graded])
        rep = interval_report(res, -w, w, level)
        coverage = {"level": rep["level"], "folds": len(graded), "origins": rep["origins"]}
        coverage |= {"overall": rep["coverage"], "by_horizon": rep["coverage_by_horizon"]}
        coverage |= {k: rep[k] for k in ("winkler", "winkler_by_horizon")}
    rows = []
    for r in done:
        s = seq.get(r["index"], {})
        row = {k: r[k] for k in (*ROWS, "origins", "steps", "seconds", "diverged", "error")}
        row["mae"] = r["overall"][MODEL]["mae"] if r["overall"] else None
        row.update({k: s.get(k) for k in ("coverage", "winkler", "note")})
        rows.append(row)
    return _plain({
        "planned": int(planned),
        "finished": len(done),
        "failed": len(done) - len(scored),
        "mode": mode,
        "horizon": int(horizon),
        "level": float(level),
        "season": {"length": season.length, "how": season.how},
        "methods": list(NAMES),
        "by_horizon": by_h,
        "overall": overall,
        "coverage": coverage,
        "folds": rows,
    })  # fmt: skip


class BacktestJob:
    """A backtest under way on a cluster, asked for its folds as they finish (the app's way).

    Parameters
    ----------
    dataset : SeriesDataset
        Its scored rows ``raw`` are cut into folds; the test period is never read.
    settings : dict
        Schema settings of every fold's run (``steps`` included), as ``train`` takes them.
    folds, horizon, mode
        See :func:`~rnn_core.forecasting.folds.backtest_folds`.
    level : float
        Nominal coverage of the sequential conformal intervals.
    season : int, optional
        ``m``; found on the rows before the first scoring period when not given.
    client : distributed.Client
    """

    def __init__(self, dataset: Any, settings: dict[str, Any], *, folds: int, horizon: int = DEFAULT_HORIZON,
                 mode: str = "expanding", level: float = DEFAULT_LEVEL, season: int | None = None,
                 client: Any) -> None:  # fmt: skip
        from rnn_core.cli import DEFAULTS
        from rnn_core.config import RunSettings

        self.horizon = check_whole("horizon", horizon, 1)
        self.level = check_level(level)
        self.mode = mode
        self.folds = plan(dataset, folds=folds, horizon=self.horizon, mode=mode)
        RunSettings(**{**DEFAULTS, **settings})  # a bad setting is an error now, not in every fold
        self.season = fold_season(dataset, self.folds, season)
        self.client = client
        data = client.scatter(dataset, broadcast=True, hash=False)
        k = len(self.folds)
        self.futures = [
            client.submit(run_fold, data, f, dict(settings), horizon=self.horizon, season=self.season.length,
                          pure=False, priority=k - f.index)  # earlier folds first: intervals fill in order
            for f in self.folds
        ]  # fmt: skip
        self._results: list[Result | None] = [None] * k
        self.cancelled = False

    def collect(self) -> list[Result]:
        """The results of the folds finished since the last call."""
        new = []
        for i, future in enumerate(self.futures):
            if self._results[i] is not None:
                continue
            if future.status == "finished":
                self._results[i] = future.result()
            elif future.status == "error":  # run_fold never raises; this is the task itself failing
                exc = future.exception()
                self._results[i] = _blank(self.folds[i], f"{type(exc).__name__}: {exc}")
            else:
                continue
            new.append(self._results[i])
        return new

    @property
    def results(self) -> list[Result]:
        return [r for r in self._results if r is not None]

    @property
    def done(self) -> int:
        return sum(r is not None for r in self._results)

    @property
    def over(self) -> bool:
        return self.cancelled or self.done == len(self.folds)

    def cancel(self) -> None:
        """Stop the folds not finished; the finished ones stay."""
        self.cancelled = True
        self.client.cancel([f for f, r in zip(self.futures, self._results, strict=True) if r is None])

    def summary(self) -> dict[str, Any]:
        """:func:`summarise` over the folds finished so far."""
        return summarise(self.results, planned=len(self.folds), horizon=self.horizon, level=self.level,
                         season=self.season, mode=self.mode)  # fmt: skip


def run_backtest(
    dataset: Any,
    settings: dict[str, Any],
    *,
    folds: int,
    horizon: int = DEFAULT_HORIZON,
    mode: str = "expanding",
    level: float = DEFAULT_LEVEL,
    season: int | None = None,
    client: Any,
    on_fold: Callable[[Result, int, int], None] | None = None,
) -> dict[str, Any]:
    """Run a backtest on the cluster of ``client`` and return its :meth:`BacktestJob.summary`.

    ``on_fold(result, done, total)`` is called as each fold finishes. Interrupted (Ctrl-C), the
    folds left are cancelled and the summary covers the folds finished so far."""
    from distributed import as_completed

    job = BacktestJob(dataset, settings, folds=folds, horizon=horizon, mode=mode, level=level,
                      season=season, client=client)  # fmt: skip
    try:
        for _ in as_completed(job.futures):
            new = job.collect()
            for i, result in enumerate(new, start=job.done - len(new) + 1):
                if on_fold is not None:
                    on_fold(result, i, len(job.folds))
    except KeyboardInterrupt:
        job.cancel()
    job.collect()
    return job.summary()
