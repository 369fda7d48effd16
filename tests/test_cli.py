"""`python -m rnn_core train|bench`: JSON output, one-line errors with status 2, saved models."""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core import cli
from rnn_core.data import sine_dataset
from rnn_core.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "rnn_core", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def main_here(*args):
    """``python -m rnn_core ...`` in this process (no interpreter start): ``(code, out, err)``
    with the same attributes as a finished subprocess."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out, err)
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def assert_one_error_line(stderr: str, *needles: str):
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_short_sine_run_json_fields_and_saved_model(tmp_path):
    path = tmp_path / "sine.npz"
    r = run_cli("train", "--steps", "120", "--json", "--save", str(path))
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    for key in ("steps", "train_loss", "val_loss", "val_rmse", "seconds", "steps_per_s", "diverged"):
        assert key in d
    assert d["steps"] == 120 and d["diverged"] is False
    assert d["steps_per_s"] == pytest.approx(120 / d["seconds"], rel=1e-6)
    assert {"persistence_rmse", "linear_rmse", "mean_rmse"} <= set(d["baseline"])
    assert d["rows"] == 200 and d["missing_filled"] == 0 and d["input_size"] == 1
    assert d["train_windows"] == 100 and d["val_windows"] == 50
    assert 0 < d["val_rmse"] < d["baseline"]["persistence_rmse"]
    assert "120/120" in r.stderr  # the progress bar
    # The saved model reproduces the reported validation RMSE.
    loaded = Trainer.load(path, sine_dataset())
    assert loaded.evaluate()["val_rmse"] == pytest.approx(d["val_rmse"], rel=1e-12)


def test_csv_run_with_target_and_extra_input(tmp_path):
    n = 160
    t = np.arange(n)
    temp = 10 + 5 * np.sin(t / 6)
    hum = 50 + 10 * np.cos(t / 6)
    temp[[20, 21]] = np.nan  # two gaps, filled by interpolation
    lines = ["date,temp,humidity,city"]
    for i in range(n):
        v = "" if math.isnan(temp[i]) else f"{temp[i]:.4f}"
        lines.append(f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,{v},{hum[i]:.4f},Oslo")
    csv = tmp_path / "weather.csv"
    csv.write_text("\n".join(lines) + "\n")
    r = run_cli(
        "train", "--data", str(csv), "--column", "temp", "--inputs", "humidity", "--seq-len", "12",
        "--steps", "40", "--json", "--no-progress",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    assert d["input_size"] == 2 and d["rows"] == n and d["missing_filled"] == 2
    # the last 15% of the rows (24 of 160) are held out as the test period, unscored
    assert d["test_rows"] == 24 and d["test_scored"] is False
    assert d["train_windows"] + d["val_windows"] == n - 24 - 12
    assert math.isfinite(d["val_rmse"])
    assert r.stderr == ""


def test_text_run_reports_bits_per_char(tmp_path):
    txt = tmp_path / "t.txt"
    txt.write_text("to be or not to be, that is the question. " * 40)
    r = run_cli("train", "--data", str(txt), "--seq-len", "20", "--steps", "20", "--json", "--no-progress")
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    assert "val_bpc" in d and "val_rmse" not in d
    assert {"unigram_bpc", "bigram_bpc"} <= set(d["baseline"])
    assert d["input_size"] == len(set("to be or not to be, that is the question. "))


@pytest.mark.parametrize(
    "args, needles",
    [
        (["train", "--cell", "transformer"], ["--cell", "invalid choice"]),
        (["train", "--frobnicate"], ["unrecognized arguments"]),
    ],
)
def test_bad_flags_exit_2_with_one_line_subprocess(args, needles):
    r = run_cli(*args)
    assert r.returncode == 2
    assert_one_error_line(r.stderr, *needles)
    assert r.stdout == ""


def test_bad_csv_and_unknown_column_subprocess(tmp_path):
    binary = tmp_path / "data.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    r = run_cli("train", "--data", str(binary))
    assert r.returncode == 2
    assert_one_error_line(r.stderr)

    good = tmp_path / "good.csv"
    good.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(100)))
    r = run_cli("train", "--data", str(good), "--column", "nope")
    assert r.returncode == 2
    assert_one_error_line(r.stderr, "nope")


def _main(argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv, needle",
    [
        ([], "choose a command"),
        (["train", "--hidden", "abc"], "invalid int value"),
        (["train", "--hidden", "0"], "hidden_size"),
        (["train", "--layers", "9"], "num_layers"),
        (["train", "--lr", "-1"], "learning rate"),
        (["train", "--lr", "nan"], "learning rate"),
        (["train", "--batch", "0"], "batch"),
        (["train", "--steps", "-5"], "--steps"),
        (["train", "--clip-norm", "big"], "--clip-norm"),
        (["train", "--bptt", "0.5"], "--bptt"),
        (["train", "--seq-len", "0"], "sequence length"),
        (["train", "--val-fraction", "1.5"], "fraction"),
        (["train", "--data", "nowhere.csv"], "not found"),
        (["train", "--data", "weights.bin"], "unknown data"),
        (["train", "--column", "y"], "--column only apply to CSV"),
        (["train", "--lowercase"], "--lowercase only apply to text"),
        (["train", "--save", "model.pt"], ".npz"),
        (["train", "--save", "/no/such/folder/m.npz"], "does not exist"),
        (["train", "--hid", "8"], "unrecognized"),  # no silent abbreviations
    ],
)
def test_invalid_settings_give_one_error_line(argv, needle):
    code, out, err = _main(argv)
    assert code == 2
    assert out == ""
    assert_one_error_line(err, needle)


def test_help_exits_zero():
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--help"])
    assert exc.value.code == 0


def test_preset_tutorial_and_explicit_override(tmp_path):
    code, out, _ = _main(["train", "--preset", "tutorial", "--steps", "3", "--json", "--no-progress"])
    assert code == 0
    d = json.loads(out.splitlines()[-1])
    assert d["model"] == {"cell": "rnn", "hidden_size": 100, "num_layers": 1, "nonlinearity": "sigmoid"}
    t = d["train"]
    assert t["optimizer"] == "sgd" and t["lr"] == 1e-4 and t["batch_size"] == 1
    assert t["bptt"] == 5 and t["clip_value"] == 10.0 and t["clip_norm"] is None and t["seed"] == 12161
    assert t["lr_schedule"] == "constant"
    code, out, _ = _main(
        ["train", "--preset", "tutorial", "--hidden", "7", "--clip-norm", "2", "--bptt", "full",
         "--steps", "2", "--json", "--no-progress"]
    )  # fmt: skip
    d = json.loads(out.splitlines()[-1])
    assert d["model"]["hidden_size"] == 7 and d["train"]["clip_norm"] == 2.0 and d["train"]["bptt"] is None


@pytest.mark.parametrize("spelling", ["0", "0.0", "0e0", "off", "none"])
def test_clip_norm_zero_in_any_spelling_switches_clipping_off(spelling):
    code, out, _ = _main(["train", "--clip-norm", spelling, "--steps", "2", "--json", "--no-progress"])
    assert code == 0
    assert json.loads(out.splitlines()[-1])["train"]["clip_norm"] is None


def test_divergence_is_reported_and_nothing_saved(tmp_path):
    path = tmp_path / "m.npz"
    code, out, err = _main(
        ["train", "--activation", "relu", "--optimizer", "sgd", "--lr", "10", "--clip-norm", "none",
         "--lr-schedule", "constant", "--steps", "300", "--json", "--no-progress", "--save", str(path)]
    )  # fmt: skip
    assert code == 0
    d = json.loads(out.splitlines()[-1])
    assert d["diverged"] is True and d["steps"] < 300 and d["saved"] is None
    assert not path.exists()
    assert "diverged" in err


def test_bench_is_delegated(monkeypatch):
    import rnn_core.bench

    seen = []
    monkeypatch.setattr(rnn_core.bench, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--json"]) == 0
    assert seen == [["--json"]]


def test_cosine_schedule_endpoints():
    assert cli.cosine_lr(0.01, 0, 100) == pytest.approx(0.01)
    assert cli.cosine_lr(0.01, 50, 100) == pytest.approx(0.01 * (0.01 + 0.99 * 0.5))
    assert cli.cosine_lr(0.01, 100, 100) == pytest.approx(1e-4)


def test_bench_flag_errors_are_one_line_too():
    r = run_cli("bench", "--bogus")
    assert r.returncode == 2
    assert_one_error_line(r.stderr, "unrecognized arguments")
    assert r.stdout == ""


def _monthly_csv(path: Path, n: int = 180) -> Path:
    rng = np.random.default_rng(5)
    lines = ["month,sales"]
    for i in range(n):
        month = np.datetime64("2001-01") + i
        lines.append(f"{month}-01,{20 + 6 * np.sin(2 * np.pi * i / 12) + rng.normal():.3f}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_json_scores_by_horizon_and_the_test_period_only_when_asked(tmp_path):
    csv = _monthly_csv(tmp_path / "sales.csv")
    base = ["train", "--data", str(csv), "--seq-len", "24", "--steps", "30", "--json", "--no-progress"]
    r = main_here(*base, "--horizon", "6")
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    val = d["forecast"]["val"]
    assert "test" not in d["forecast"] and d["test_scored"] is False
    assert val["season"] == {"length": 12, "how": "monthly dates: 12"}
    assert set(val["errors"]) == {
        "RNN",
        "persistence",
        "seasonal naive",
        "drift",
        "training mean",
        "linear AR",
    }
    assert all(len(v["mase"]) == 6 for v in val["errors"].values())
    # origins: every row o with o+1..o+6 inside the validation targets' rows
    assert val["origins"] == d["val_windows"] - 6 + 1

    r = main_here(*base, "--score-test", "--level", "0.9")
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    test = d["forecast"]["test"]
    assert d["test_scored"] is True and d["test_rows"] == math.ceil(0.15 * 180)
    assert test["origins"] == d["test_rows"] - 12 + 1 and test["level"] == 0.9
    assert 0 <= test["coverage"] <= 1 and len(test["coverage_by_horizon"]) == 12


@pytest.mark.parametrize(
    ("flags", "message"),
    [(["--horizon", "0"], "--horizon"), (["--level", "1.5"], "--level"),
     (["--score-test", "--test-fraction", "0"], "no test period")],
)  # fmt: skip
def test_bad_forecast_flags_are_one_clear_line(tmp_path, flags, message):
    csv = _monthly_csv(tmp_path / "sales.csv")
    r = main_here("train", "--data", str(csv), "--steps", "2", "--no-progress", *flags)
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and message in r.stderr and r.stderr.count("\n") == 1


def test_a_transform_flag_changes_what_the_model_learns_not_the_units(tmp_path):
    csv = _monthly_csv(tmp_path / "sales.csv")
    r = main_here(
        "train", "--data", str(csv), "--steps", "20", "--json", "--no-progress", "--transform", "diff"
    )
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    # one window fewer than without it: the first difference needs the row before it
    assert d["train_windows"] + d["val_windows"] == 180 - 27 - 50 - 1
    assert 0 < d["val_rmse"] < 20  # in original units (the series spans about 12)
    negative = tmp_path / "neg.csv"
    negative.write_text("v\n" + "\n".join(str(v) for v in np.sin(np.arange(120))) + "\n")
    r = main_here("train", "--data", str(negative), "--steps", "2", "--no-progress", "--transform", "log")
    assert r.returncode == 2 and "log transform needs every value above 0" in r.stderr
    r = main_here("train", "--data", "text:zen", "--steps", "2", "--no-progress", "--transform", "diff")
    assert r.returncode == 2 and "--transform only apply to series data" in r.stderr


def test_out_writes_the_predictions_the_forecast_with_its_interval_and_the_errors(tmp_path):
    csv = _monthly_csv(tmp_path / "sales.csv")
    out = tmp_path / "out"
    out.mkdir()
    r = main_here("train", "--data", str(csv), "--seq-len", "24", "--steps", "20", "--no-progress", "--json",
                "--horizon", "6", "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    d = last_json(r.stdout)
    import csv as csvlib

    def rows(name):
        with (out / name).open() as f:
            return list(csvlib.DictReader(f))

    preds = rows("predictions.csv")
    # 153 rows before the test period, 129 windows of 24, 26 validate: the first target is row
    # 24 + 103 = 127, January 2001 + 127 months
    assert len(preds) == d["val_windows"] == 26 and preds[0]["x"] == "2011-08-01"
    actual = [float(p["actual"]) for p in preds]
    err = np.array([float(p["predicted"]) for p in preds]) - actual
    assert float(np.sqrt(np.mean(err**2))) == pytest.approx(d["val_rmse"], rel=1e-9)
    fc = rows("forecast.csv")
    assert len(fc) == 6 and all(float(f["lower"]) < float(f["forecast"]) < float(f["upper"]) for f in fc)
    errors = rows("errors_by_horizon.csv")
    rnn = [e for e in errors if e["method"] == "RNN"]
    assert [int(e["horizon"]) for e in rnn] == list(range(1, 7))
    assert [float(e["mase"]) for e in rnn] == pytest.approx(d["forecast"]["val"]["errors"]["RNN"]["mase"])
    nope = str(tmp_path / "nope")
    r = main_here("train", "--data", str(csv), "--steps", "2", "--no-progress", "--out", nope)
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_the_second_sine_flags_build_the_series_the_app_builds():
    from rnn_core.config import SineSettings

    args = cli.build_parser().parse_args(
        ["train", "--sine-amplitude2", "0.5", "--sine-frequency2", "0.08", "--sine-noise", "0.1"]
    )
    ds = cli.load_data(args)
    app = SineSettings(sine_amplitude2=0.5, sine_frequency2=0.08, sine_noise=0.1)
    expected = sine_dataset(seq_len=ds.seq_len, **app.kwargs())
    np.testing.assert_array_equal(ds.raw, expected.raw)
    plain = sine_dataset(seq_len=ds.seq_len, noise=0.1)
    assert not np.array_equal(ds.raw, plain.raw)  # the second sine is there
    result = main_here("train", "--data", "echo:5", "--sine-amplitude2", "0.5")
    assert result.returncode == 2
    assert_one_error_line(result.stderr, "--sine-amplitude2 only apply to sine data")
