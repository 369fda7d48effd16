"""Rolling-origin backtests: no fold's training reaches its scoring period, the test period is
never read, intervals are calibrated on earlier folds only, folds on a real two-process
LocalCluster equal the same folds run here, and the command line."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import statistics

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rnn_core.cli import DEFAULTS, main, make_trainer
from rnn_core.data import sine_dataset
from rnn_core.data.datasets import HeldOut
from rnn_core.data.windows import build_series_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.executor import Executor
from rnn_core.forecasting.backtest import (
    BacktestJob,
    fold_dataset,
    fold_season,
    plan,
    run_backtest,
    run_fold,
    sequential_intervals,
    summarise,
)
from rnn_core.forecasting.benchmarks import fit_linear_ar_rows
from rnn_core.forecasting.folds import backtest_folds
from rnn_core.forecasting.report import evaluate, season_of
from rnn_core.forecasting.season import Season

SMALL = {**DEFAULTS, "steps": 25, "hidden_size": 6, "batch_size": 8}


@pytest.fixture(scope="module")
def cluster():
    ex = Executor(workers=2)
    yield ex
    ex.close()


def _series(seed: int, n: int, columns: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 5 + np.sin(t / 3) + np.cumsum(rng.normal(0, 0.3, n))
    extra = rng.normal(0, 1, (n, columns - 1)) * 10 + 100
    return np.column_stack([y, extra])  # (n, columns)


def _dataset(raw: np.ndarray, seq_len: int, **kw):
    cols = ["y", *(f"x{i}" for i in range(1, raw.shape[1]))]
    return build_series_dataset(raw, name="r", columns=cols, seq_len=seq_len, **kw)


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, (list, tuple)):
        return [_without_seconds(v) for v in value]
    return value


# ------------------------------------------------------------------ leakage


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(30, 140),
    columns=st.integers(1, 2),
    seq_len=st.integers(2, 8),
    k=st.integers(1, 4),
    horizon=st.integers(1, 5),
    mode=st.sampled_from(["expanding", "sliding"]),
    pick=st.integers(0, 3),
)
def test_no_fold_trains_on_or_normalises_with_its_scoring_period(
    seed, n, columns, seq_len, k, horizon, mode, pick
):
    raw = _series(seed, n, columns)
    try:
        folds = backtest_folds(n, folds=k, horizon=horizon, seq_len=seq_len, mode=mode)
    except PlaygroundError:
        assume(False)
    fold = folds[pick % len(folds)]
    a, e, T = fold.train_start, fold.train_end, seq_len
    ds = fold_dataset(_dataset(raw, T), fold)

    # every training window row and target is a training row; every later target validates
    targets = ds.train_idx + a
    assert targets.max() == e and targets.min() == a + T
    assert (targets[:, None] - np.arange(1, T + 1) >= a).all()
    np.testing.assert_array_equal(ds.val_idx + a, np.arange(e + 1, fold.score_end + 1))

    # statistics of rows a..e alone (population std), by sums written out here
    rows = raw[a : e + 1]
    mean = np.array([math.fsum(rows[:, c]) / len(rows) for c in range(columns)])
    std = np.array([math.sqrt(math.fsum((rows[:, c] - mean[c]) ** 2) / len(rows)) for c in range(columns)])
    np.testing.assert_allclose(ds.input_shift, mean, rtol=1e-12)
    np.testing.assert_allclose(ds.input_scale, std, rtol=1e-12)
    for j in (0, len(targets) - 1):
        t = targets[j]
        np.testing.assert_allclose(ds.train_X[:, j], (raw[t - T : t] - mean) / std, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ds.train_y[j, 0], (raw[t, 0] - mean[0]) / std[0], rtol=1e-9, atol=1e-12)

    # the fold scores exactly its origins, against the mean of its own training rows
    r = evaluate(ds, lambda X: np.zeros(X.shape[1]), period="val", horizon=horizon, season=1)
    o = fold.origins
    assert r["origins"] == o.size
    actual = raw[o[:, None] + np.arange(1, horizon + 1), 0]  # (B, H)
    np.testing.assert_allclose(r["residuals"], actual - mean[0], rtol=1e-9, atol=1e-9)

    # whatever follows the training rows, the training arrays and the trained weights are the same
    changed = raw.copy()
    changed[e + 1 :] = np.random.default_rng(seed + 1).normal(50, 30, changed[e + 1 :].shape)
    other = fold_dataset(_dataset(changed, T), fold)
    for name in ("train_X", "train_y", "train_idx", "input_shift", "input_scale"):
        np.testing.assert_array_equal(getattr(other, name), getattr(ds, name), err_msg=name)
    w1, _ = fit_linear_ar_rows(ds.raw, 0, e - a, T, normalise=ds.normalise)
    w2, _ = fit_linear_ar_rows(other.raw, 0, e - a, T, normalise=other.normalise)
    np.testing.assert_array_equal(w1, w2)
    trained = []
    for d in (ds, other):
        tr = make_trainer(d, {**SMALL, "steps": 3})
        tr.run(3)
        trained.append(tr.network.params)
    for name, p in trained[0].items():
        np.testing.assert_array_equal(trained[1][name], p, err_msg=name)


def test_the_season_is_chosen_before_the_first_scoring_period():
    rng = np.random.default_rng(5)
    calm = np.cumsum(rng.normal(0, 1, 100))  # no season
    flat = _dataset(np.concatenate([calm, calm[-1] + np.zeros(100)])[:, None], 8)
    folds = plan(flat, folds=2, horizon=4)
    assert folds[0].train_end == 99
    cycle = calm[-1] + 20 * np.sin(2 * np.pi * np.arange(100) / 8)  # a strong 8-row season after it
    later = _dataset(np.concatenate([calm, cycle])[:, None], 8)
    assert season_of(later).length == 8  # the whole training part would choose it
    assert fold_season(later, folds) == fold_season(flat, folds) and fold_season(flat, folds).length != 8


class _Sealed(HeldOut):
    """A test period that fails the test when anything reads it."""

    def rows(self):
        raise AssertionError("the backtest read the test period")


def test_the_test_period_is_never_read():
    n, held = 150, 30
    raw = _series(3, n + held, 1)
    huge = raw.copy()
    huge[n:] = 1e12
    with_test = _dataset(huge, 8, test_fraction=0.01, test_min_rows=held)
    assert with_test.test is not None and with_test.test.start == n and with_test.test.length == held
    t = with_test.test
    sealed = dataclasses.replace(with_test, test=_Sealed(t.start, t.length, t._raw, t._x_axis))
    alone = _dataset(raw[:n], 8)
    results = []
    for ds in (sealed, alone):
        folds = plan(ds, folds=3, horizon=4)
        season = fold_season(ds, folds)
        got = [run_fold(ds, f, SMALL, horizon=4, season=season.length) for f in folds]
        assert all(r["error"] is None for r in got), [r["error"] for r in got]
        results.append(
            (season, got, summarise(got, planned=3, horizon=4, level=0.8, season=season, mode="expanding"))
        )
    assert _without_seconds(results[0]) == _without_seconds(results[1])


# ------------------------------------------------------------------ sequential intervals


def _winkler(a, lo, hi, alpha):
    if a < lo:
        return (hi - lo) + 2 / alpha * (lo - a)
    if a > hi:
        return (hi - lo) + 2 / alpha * (a - hi)
    return hi - lo


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=5),
    horizon=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    failed=st.integers(-1, 4),
)
def test_each_fold_is_calibrated_on_the_folds_before_it_only(sizes, horizon, seed, failed):
    rng = np.random.default_rng(seed)
    results = [
        {"index": i, "error": "boom" if i == failed else None,
         "residuals": (rng.standard_t(3, (b, horizon)) * (i + 1)).tolist()}
        for i, b in enumerate(sizes)
    ]  # fmt: skip
    shuffled = [results[i] for i in rng.permutation(len(results))]
    got = sequential_intervals(shuffled, 0.8)
    scored = [r for r in results if r["error"] is None]
    assert [g["index"] for g in got] == [r["index"] for r in scored]
    for pos, (g, r) in enumerate(zip(got, scored, strict=True)):
        earlier = scored[:pos]
        assert g["calibrated_on"] == [x["index"] for x in earlier]
        if not earlier:
            assert g["halfwidths"] is None and "coverage" not in g
            continue
        calib = np.abs(np.concatenate([np.asarray(x["residuals"]) for x in earlier]))  # (n, H)
        n = calib.shape[0]
        rank = -(-(n + 1) * 4 // 5)  # ceil((n + 1) * 0.8) in integers
        want = [np.inf if rank > n else sorted(calib[:, h])[rank - 1] for h in range(horizon)]
        np.testing.assert_array_equal(g["halfwidths"], want)
        own = np.asarray(r["residuals"])
        inside = [abs(own[b, h]) <= want[h] for b in range(own.shape[0]) for h in range(horizon)]
        assert g["coverage"] == pytest.approx(sum(inside) / len(inside))
        scores = [
            _winkler(own[b, h], -want[h], want[h], 0.2) for b in range(own.shape[0]) for h in range(horizon)
        ]
        assert g["winkler"] == pytest.approx(sum(scores) / len(scores))
    # the later folds' residuals may be anything: an earlier fold's interval does not move
    for r in results[len(results) // 2 :]:
        r["residuals"] = (np.asarray(r["residuals"]) * 1000 + 7).tolist()
    again = sequential_intervals(results, 0.8)
    for g, h in zip(got, again, strict=True):
        if g["index"] <= len(results) // 2 and g["halfwidths"] is not None:
            np.testing.assert_array_equal(g["halfwidths"], h["halfwidths"])


def _fake(index, mae, mase, residuals, error=None):
    m = {"mae": [mae, 2 * mae], "rmse": [mae + 1, mae + 2], "mase": [mase, mase]}
    per = dict.fromkeys(("RNN", "persistence", "seasonal naive", "drift", "training mean", "linear AR"), m)
    overall = {"mae": 1.5 * mae, "rmse": mae, "mase": mase, "smape": None}
    return {"index": index, "train_start": 0, "train_end": 9 + index, "score_start": 10 + index,
            "score_end": 11 + index, "origins": len(residuals or []), "errors": None if error else per,
            "overall": None if error else dict.fromkeys(per, overall), "residuals": residuals, "steps": 5,
            "seconds": 0.1, "diverged": False, "error": error}  # fmt: skip


def test_the_summary_averages_over_the_scored_folds_and_pools_the_later_folds_coverage():
    r0 = [[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6], [0.7, -0.8], [0.9, 1.0]]
    r2 = [[0.2, 0.9], [-1.0, 0.5]]
    r3 = [[0.05, 3.0]]
    results = [
        _fake(3, 4.0, 1.0, r3),
        _fake(0, 1.0, None, r0),
        _fake(1, 9.0, 9.0, None, error="diverged"),
        _fake(2, 2.0, 3.0, r2),
    ]
    s = summarise(results, planned=5, horizon=2, level=0.8, season=Season(1, "none"), mode="expanding")
    assert (s["planned"], s["finished"], s["failed"]) == (5, 4, 1)
    maes = [1.0, 2.0, 4.0]
    want = {"mean": [statistics.fmean(maes), statistics.fmean([2 * m for m in maes])],
            "std": [statistics.stdev(maes), statistics.stdev([2 * m for m in maes])]}  # fmt: skip
    for k in ("mean", "std"):
        assert s["by_horizon"]["RNN"]["mae"][k] == pytest.approx(want[k])
    assert s["by_horizon"]["linear AR"]["mase"]["mean"] == pytest.approx([2.0, 2.0])  # fold 0's None left out
    assert s["overall"]["drift"]["mae"]["mean"] == pytest.approx(1.5 * statistics.fmean(maes))
    # fold 2: 5 calibration origins, rank ceil(6 * 0.8) = 5, the largest: 0.9 and 1.0
    # fold 3: 7 origins, rank ceil(8 * 0.8) = 7, the largest again: 1.0 and 1.0
    inside = [0.2 <= 0.9, 0.9 <= 1.0, 1.0 <= 0.9, 0.5 <= 1.0, 0.05 <= 1.0, 3.0 <= 1.0]
    cov = s["coverage"]
    assert (cov["folds"], cov["origins"]) == (2, 3)
    assert cov["overall"] == pytest.approx(sum(inside) / 6)
    assert cov["by_horizon"] == pytest.approx([2 / 3, 2 / 3])
    assert [f["index"] for f in s["folds"]] == [0, 1, 2, 3]
    assert s["folds"][0]["coverage"] is None and s["folds"][1]["error"] == "diverged"


# ------------------------------------------------------------------ on the cluster


def test_folds_on_the_workers_equal_the_same_folds_run_here(cluster):
    ds = sine_dataset()
    seen = []
    summary = run_backtest(ds, SMALL, folds=3, horizon=4, client=cluster.client,
                           on_fold=lambda r, done, total: seen.append((r["index"], done, total)))  # fmt: skip
    assert sorted(i for i, _, _ in seen) == [0, 1, 2] and [d for _, d, _ in seen] == [1, 2, 3]
    folds = backtest_folds(200, folds=3, horizon=4, seq_len=50)  # sine: 200 rows, windows of 50
    season = fold_season(ds, folds)
    serial = [run_fold(ds, f, SMALL, horizon=4, season=season.length) for f in folds]
    want = summarise(serial, planned=3, horizon=4, level=0.8, season=season, mode="expanding")
    assert _without_seconds(summary) == _without_seconds(want)
    assert [(f["train_end"], f["score_start"], f["score_end"]) for f in summary["folds"]] == [
        (f.train_end, f.score_start, f.score_end) for f in folds
    ]
    assert summary["failed"] == 0 and summary["coverage"]["folds"] == 2
    assert all(f["steps"] == SMALL["steps"] for f in summary["folds"])


def test_a_diverging_backtest_reports_each_fold_and_a_job_can_be_polled_and_cancelled(cluster):
    ds = sine_dataset()
    blowup = {**SMALL, "optimizer": "sgd", "lr": 3.0, "clip_norm": None, "nonlinearity": "relu",
              "lr_schedule": "constant"}  # fmt: skip
    job = BacktestJob(ds, blowup, folds=2, horizon=3, client=cluster.client)
    while not job.over:
        job.collect()
    s = job.summary()
    assert s["finished"] == s["failed"] == 2 and s["coverage"] is None
    assert all(f["diverged"] and "diverged" in f["error"] for f in s["folds"])
    assert s["by_horizon"]["RNN"]["mae"] == {"mean": None, "std": None}
    slow = BacktestJob(ds, {**SMALL, "steps": 5000}, folds=3, horizon=3, client=cluster.client)
    slow.cancel()
    assert slow.over and slow.summary()["finished"] == len(slow.results) <= 3


# ------------------------------------------------------------------ command line


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bt") / "monthly.csv"
    rng = np.random.default_rng(0)
    dates = np.arange("2000-01", "2017-01", dtype="datetime64[M]")  # 204 months
    y = 10 + 0.02 * np.arange(dates.size) + 2 * np.sin(2 * np.pi * np.arange(dates.size) / 12)
    y += rng.normal(0, 0.3, dates.size)
    path.write_text("month,sales\n" + "".join(f"{d}-01,{v:.4f}\n" for d, v in zip(dates, y, strict=True)))
    return path


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    return main(["backtest", *args], out, err), out.getvalue(), err.getvalue()


def test_the_backtest_command_prints_one_json_line(cluster, csv_file):
    address = cluster.client.scheduler.address
    common = ["--data", str(csv_file), "--seq-len", "12", "--steps", "20", "--hidden-size", "6",
              "--folds", "3", "--horizon", "6", "--scheduler", address, "--no-progress"]  # fmt: skip
    status, out, err = _run(*common, "--json", "--mode", "sliding", "--level", "0.7")
    assert status == 0 and err == "", err
    r = json.loads(out.strip().splitlines()[-1])
    held = max(math.ceil(204 * 0.15), 12)  # a CSV holds out 15% of its rows, at least 12
    assert (r["rows"], r["test_rows"]) == (204 - held, held)
    assert (r["planned"], r["finished"], r["failed"], r["mode"], r["horizon"], r["level"]) == (
        3, 3, 0, "sliding", 6, 0.7,
    )  # fmt: skip
    assert r["season"]["length"] == 12 and r["methods"][0] == "RNN"
    want = backtest_folds(204 - held, folds=3, horizon=6, seq_len=12, mode="sliding")
    assert [(f["train_start"], f["train_end"], f["score_end"]) for f in r["folds"]] == [
        (f.train_start, f.train_end, f.score_end) for f in want
    ]
    assert [f["origins"] for f in r["folds"]] == [f.origins.size for f in want]
    for method in r["methods"]:
        assert len(r["by_horizon"][method]["mae"]["mean"]) == 6 and r["overall"][method]["rmse"]["std"] >= 0
    assert r["coverage"]["folds"] == 2 and len(r["coverage"]["by_horizon"]) == 6
    assert r["coverage"]["origins"] == sum(f.origins.size for f in want[1:])
    status, out, err = _run(*common)
    assert status == 0 and "MAE by horizon" in out and "seasonal naive" in out
    assert "80% intervals" in out and "h=6" in out


def test_backtest_mistakes_end_in_one_error_line(csv_file):
    for args, says in [
        (["--data", "zen"], "a backtest forecasts a series"),
        (["--data", "echo:5", "--seq-len", "10"], "a backtest forecasts a series"),
        (["--data", str(csv_file), "--folds", "40"], "fold(s) of a 12-step horizon"),
        (["--data", str(csv_file), "--level", "1.5"], "interval level"),
        (["--data", str(csv_file), "--season", "500"], "longer than a fold's training part"),
        (["--mode", "up"], "invalid choice"),
    ]:
        status, _, err = _run(*args)
        assert status == 2 and says in err and err.count("\n") == 1 and err.startswith("error: "), err
