"""The generated memory tasks: targets by their definition, markers, seeds, split, normalisation,
baselines, the ``--data`` specs and bad ones, training on them and the command line."""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from data_helpers import loop_rmse_mae

from rnn_core.data import MemoryDataset, load_dataset, memory_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def windows_of(ds):
    """Every window in original units as a list of (T, C) arrays, window by window."""
    return [np.asarray(ds.inputs[:, w, :]) for w in range(ds.inputs.shape[1])]


def test_echo_target_is_the_input_k_steps_before_the_last_step():
    ds = memory_dataset("echo", seq_len=12, k=4, windows=50, seed=3)
    assert isinstance(ds, MemoryDataset) and ds.kind == "regression"
    assert ds.inputs.shape == (12, 50, 1) and ds.targets.shape == (50,)
    for w, window in enumerate(windows_of(ds)):
        last = len(window) - 1
        assert ds.targets[w] == window[last - 4, 0]
    # the far end: k = T - 1 echoes the first step
    first = memory_dataset("echo", seq_len=12, k=11, windows=50, seed=3)
    np.testing.assert_array_equal(first.targets, first.inputs[0, :, 0])
    # the lag only picks the target: the same seed gives the same noise
    np.testing.assert_array_equal(first.inputs, ds.inputs)


def test_echo_input_is_white_noise():
    ds = memory_dataset("echo", seq_len=40, k=30, windows=2500, seed=0)
    x = ds.inputs[:, :, 0].ravel()
    assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
    # neighbouring steps are uncorrelated
    a, b = ds.inputs[:-1, :, 0].ravel(), ds.inputs[1:, :, 0].ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02


@pytest.mark.parametrize("seq_len", [2, 7, 60])
def test_adding_markers_two_per_window_one_in_each_half_and_target_is_their_sum(seq_len):
    ds = memory_dataset("adding", seq_len=seq_len, windows=300, seed=1)
    assert ds.columns == ["value", "marker"] and ds.inputs.shape == (seq_len, 300, 2)
    half = seq_len // 2
    firsts = []
    for w, window in enumerate(windows_of(ds)):
        values, marker = window[:, 0], window[:, 1]
        assert set(np.unique(marker)) <= {0.0, 1.0}
        marked = [t for t in range(seq_len) if marker[t] == 1.0]
        assert len(marked) == 2
        assert marked[0] < half <= marked[1]
        assert all(0.0 <= v < 1.0 for v in values)
        assert ds.targets[w] == pytest.approx(values[marked[0]] + values[marked[1]], abs=1e-15)
        firsts.append(marked[0])
    if seq_len == 60:  # the first marker takes every place of the first half
        assert set(firsts) == set(range(half))


def test_same_seed_same_windows_other_seed_other_windows():
    for task, kw in (("echo", {"k": 5}), ("adding", {})):
        a = memory_dataset(task, seq_len=20, windows=100, seed=7, **kw)
        b = memory_dataset(task, seq_len=20, windows=100, seed=7, **kw)
        c = memory_dataset(task, seq_len=20, windows=100, seed=8, **kw)
        np.testing.assert_array_equal(a.inputs, b.inputs)
        np.testing.assert_array_equal(a.targets, b.targets)
        np.testing.assert_array_equal(a.train_X, b.train_X)
        assert a.baselines == b.baselines
        assert not np.array_equal(a.inputs, c.inputs)


def test_split_training_windows_first_then_validation():
    ds = memory_dataset("adding", seq_len=30)
    assert (ds.train_windows, ds.val_windows) == (2000, 500)  # the default 2,500 windows, 20% validate
    assert list(ds.train_idx) == list(range(2000)) and list(ds.val_idx) == list(range(2000, 2500))
    np.testing.assert_array_equal(ds.x_axis, np.arange(2500.0))
    assert ds.train_X.shape == (30, 2000, 2) and ds.val_X.shape == (30, 500, 2)
    assert ds.train_y.shape == (2000, 1) and ds.val_y.shape == (500, 1)
    # the normalised windows and targets are the generated ones, in the same order
    np.testing.assert_allclose(ds.train_X * ds.input_scale + ds.input_shift, ds.inputs[:, :2000], atol=1e-12)
    np.testing.assert_allclose(ds.val_X * ds.input_scale + ds.input_shift, ds.inputs[:, 2000:], atol=1e-12)
    np.testing.assert_allclose(ds.to_raw(ds.val_y[:, 0]), ds.targets[2000:], atol=1e-12)
    # the series task reads a window's target as raw[idx, 0]
    np.testing.assert_array_equal(ds.raw[ds.val_idx, 0], ds.targets[2000:])
    other = memory_dataset("echo", seq_len=30, k=3, windows=1000, val_fraction=0.3)
    assert (other.train_windows, other.val_windows) == (700, 300)
    fixed = memory_dataset("echo", seq_len=30, k=3, windows=1000, n_train=900)
    assert (fixed.train_windows, fixed.val_windows) == (900, 100)


def test_normalisation_uses_the_training_windows_only():
    ds = memory_dataset("adding", seq_len=16, windows=400, seed=2)
    train = ds.inputs[:, :320]  # (T, 320, 2)
    for c in range(2):
        rows = [float(v) for v in train[:, :, c].ravel()]
        mean = sum(rows) / len(rows)
        std = math.sqrt(sum((v - mean) ** 2 for v in rows) / len(rows))
        assert ds.input_shift[c] == pytest.approx(mean, rel=1e-12)
        assert ds.input_scale[c] == pytest.approx(std, rel=1e-12)
    targets = [float(v) for v in ds.targets[:320]]
    mean = sum(targets) / len(targets)
    assert ds.target_shift == pytest.approx(mean, rel=1e-12)
    assert ds.target_scale == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in targets) / 320), rel=1e-12)
    # echo draws window by window, so more validation windows leave the training ones and their
    # statistics exactly as they were
    a = memory_dataset("echo", seq_len=16, k=5, windows=400, n_train=300, seed=4)
    b = memory_dataset("echo", seq_len=16, k=5, windows=900, n_train=300, seed=4)
    np.testing.assert_array_equal(a.inputs[:, :300], b.inputs[:, :300])
    assert not np.array_equal(a.inputs[:, 300:400].std(), b.inputs[:, 300:].std())
    np.testing.assert_array_equal(a.input_shift, b.input_shift)
    np.testing.assert_array_equal(a.input_scale, b.input_scale)
    assert (a.target_shift, a.target_scale) == (b.target_shift, b.target_scale)


def test_a_column_constant_over_the_training_windows_is_not_scaled():
    ds = memory_dataset("adding", seq_len=2, windows=20)  # two steps: both are always marked
    assert ds.input_scale[1] == 1.0
    assert any("'marker' is constant" in note for note in ds.report["notes"])


def test_adding_baselines_computed_here():
    ds = memory_dataset("adding", seq_len=20, windows=6000, seed=5)
    train, val = ds.targets[: ds.train_windows], ds.targets[ds.train_windows :]
    rmse, mae = loop_rmse_mae([1.0] * len(val), list(val))
    assert ds.baselines["constant_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["constant_mae"] == pytest.approx(mae, rel=1e-12)
    mean = sum(train) / len(train)
    rmse, mae = loop_rmse_mae([mean] * len(val), list(val))
    assert ds.baselines["mean_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["mean_mae"] == pytest.approx(mae, rel=1e-12)
    # the variance of a sum of two uniform values is 2/12: the constant predictor's MSE
    assert ds.baselines["constant_rmse"] ** 2 == pytest.approx(1 / 6, abs=0.02)
    assert set(ds.baselines) == {"constant_rmse", "constant_mae", "mean_rmse", "mean_mae"}
    assert ds.reference_baseline[1] == "constant_rmse"


def test_echo_baseline_is_the_mean_predictor():
    ds = memory_dataset("echo", seq_len=20, k=10, windows=5000, seed=6)
    train, val = ds.targets[: ds.train_windows], ds.targets[ds.train_windows :]
    mean = sum(train) / len(train)
    rmse, mae = loop_rmse_mae([mean] * len(val), list(val))
    assert ds.baselines["mean_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["mean_mae"] == pytest.approx(mae, rel=1e-12)
    assert ds.baselines["mean_rmse"] == pytest.approx(1.0, abs=0.06)  # unit white noise
    assert set(ds.baselines) == {"mean_rmse", "mean_mae"}
    assert ds.reference_baseline[1] == "mean_rmse"


def test_load_dataset_specs():
    ds = load_dataset("echo:5", seq_len=20)
    assert ds.task == "echo" and ds.lag == 5 and ds.seq_len == 20
    np.testing.assert_array_equal(ds.targets, ds.inputs[14, :, 0])
    assert load_dataset("echo", seq_len=40).lag == 30
    ds = load_dataset("adding", seq_len=24)
    assert ds.task == "adding" and ds.input_size == 2 and ds.train_windows == 2000
    ds = load_dataset("Adding:seed=3,windows=100", seq_len=10)
    assert ds.train_windows + ds.val_windows == 100
    np.testing.assert_array_equal(
        ds.targets, memory_dataset("adding", seq_len=10, windows=100, seed=3).targets
    )
    assert load_dataset("echo:k=4,seed=2", seq_len=10).lag == 4
    assert load_dataset("echo:4", seq_len=10, val_fraction=0.5).val_windows == 1250


@pytest.mark.parametrize(
    ("spec", "seq_len", "needles"),
    [
        ("echo:abc", 40, ["echo lag k", "whole number", "abc"]),
        ("echo:0", 40, ["at least 1"]),
        ("echo:-3", 40, ["at least 1"]),
        ("echo:40", 40, ["sequence length 40", "at most 39"]),
        ("echo:90", 40, ["at most 39"]),
        ("echo:2.5", 40, ["whole number"]),
        ("echo", 20, ["k = 30", "at most 19"]),
        ("adding:k=3", 40, ["not an option", "seed=S, windows=N"]),
        ("adding:5", 40, ["not an option"]),
        ("echo:5,colour=red", 40, ["not an option"]),
        ("echo:5,seed=1,seed=2", 40, ["given twice"]),
        ("adding:windows=1", 40, ["number of windows"]),
        ("adding:windows=200000", 40, ["limit"]),
        ("adding", 1, ["at least 2 steps"]),
    ],
)
def test_bad_specs_are_a_clear_playground_error(spec, seq_len, needles):
    with pytest.raises(PlaygroundError) as err:
        load_dataset(spec, seq_len=seq_len)
    for needle in needles:
        assert needle in str(err.value), str(err.value)


def test_a_setting_given_twice_or_unknown_is_refused():
    with pytest.raises(PlaygroundError, match="given both"):
        load_dataset("echo:5,seed=1", seq_len=20, seed=2)
    with pytest.raises(PlaygroundError, match="lowercase"):
        load_dataset("adding", seq_len=20, lowercase=True)


def test_trains_predicts_by_window_saves_and_has_no_forecast():
    ds = memory_dataset("adding", seq_len=12, windows=200)
    tr = Trainer.create(ds, hidden_size=8, cell="lstm")
    tr.run(5)
    ev = tr.evaluate()
    assert math.isfinite(ev["val_rmse"]) and ev["baselines"] == ds.baselines
    x, pred, actual = tr.predictions("val")
    np.testing.assert_array_equal(x, np.arange(160.0, 200.0))
    np.testing.assert_array_equal(actual, ds.targets[160:])
    assert pred.shape == (40,)
    with pytest.raises(PlaygroundError, match="does not apply"):
        tr.forecast(10)
    assert tr.internals("val", 3)["h0"].shape == (12, 8)
    loaded = Trainer.load(io.BytesIO(tr.save()), ds)
    assert loaded.evaluate()["val_rmse"] == pytest.approx(ev["val_rmse"], rel=1e-12)


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_cli_adding_json():
    r = run_cli("train", "--data", "adding", "--steps", "5", "--json", "--no-progress")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["data"] == "adding problem" and d["steps"] == 5 and d["input_size"] == 2
    assert (d["train_windows"], d["val_windows"], d["seq_len"]) == (2000, 500, 50)
    assert {"constant_rmse", "mean_rmse"} <= set(d["baseline"])
    assert 0.3 < d["baseline"]["constant_rmse"] < 0.5
    assert math.isfinite(d["val_rmse"])


def test_cli_echo_lag_beyond_the_window_is_one_error_line():
    r = run_cli("train", "--data", "echo:60", "--seq-len", "40", "--steps", "5")
    assert r.returncode == 2
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "at most 39" in lines[0], r.stderr
