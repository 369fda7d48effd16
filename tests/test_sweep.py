"""Sweeps on a real LocalCluster of two worker processes: rows equal serial runs, bad runs are
rows with reasons, a lost worker loses nothing; the grid and the command line."""

from __future__ import annotations

import contextlib
import io
import json
import threading

import pytest

from rnn_core.cli import main
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.executor import Executor
from rnn_core.sweep import DEFAULTS, parse_grid, plan, run_sweep, summarise, train_one

STEPS = 60


@pytest.fixture(scope="module")
def cluster():
    ex = Executor(workers=2)
    yield ex
    ex.close()


def _base(**kw):
    return {**DEFAULTS, "steps": STEPS, "hidden_size": 8, **kw}


def test_the_grid_reads_each_value_as_its_flag_and_refuses_what_it_cannot_sweep():
    grid = parse_grid(["cell=rnn,lstm", "lr=1e-3,3e-3,1e-3", "clip-norm=off,1"])
    assert grid == {"cell": ["rnn", "lstm"], "lr": [0.001, 0.003], "clip_norm": [None, 1.0]}
    for bad, says in [
        (["cell"], "NAME=V1,V2"),
        (["colour=red"], "no setting named 'colour'"),
        (["seed=1,2"], "--seeds"),
        (["lr=1e-3", "lr=1e-2"], "given twice"),
        (["cell=rnn,foo"], "cell must be one of"),
        (["cell=rnn", "lr=1", "hidden_size=4", "num_layers=1"], "at most 3"),
        ([], "at least one --grid"),
    ]:
        with pytest.raises(PlaygroundError, match=says):
            parse_grid(bad)


def test_a_plan_is_every_combination_times_the_seeds_each_checked():
    runs = plan(_base(seed=7), {"cell": ["rnn", "gru"], "lr": [0.01, 0.1]}, 3)
    assert len(runs) == 12
    assert {(r["cell"], r["lr"], r["seed"]) for r in runs} == {
        (c, lr, s) for c in ("rnn", "gru") for lr in (0.01, 0.1) for s in (7, 8, 9)
    }
    assert all(r["steps"] == STEPS for r in runs)  # the shared settings stay
    with pytest.raises(PlaygroundError, match="hidden_size=0"):
        plan(_base(), {"hidden_size": [0, 8]}, 1)


def test_rows_from_the_workers_equal_the_same_runs_trained_here(cluster):
    ds = sine_dataset()
    names = ["cell", "lr"]
    runs = plan(_base(), {"cell": ["rnn", "lstm"], "lr": [0.003, 0.01]}, 2)
    got = run_sweep({ds.seq_len: ds}, runs, names, cluster.client)
    serial = [train_one(ds, r, names) for r in runs]
    strip = [{k: v for k, v in r.items() if k != "seconds"} for r in got]
    assert strip == [{k: v for k, v in r.items() if k != "seconds"} for r in serial]
    assert all(r["error"] is None and r["steps"] == STEPS and r["val_rmse"] > 0 for r in got)
    lines = summarise(got, names, "val_rmse")
    assert len(lines) == 4 and all(x["runs"] == 2 for x in lines)
    first = [r["val_rmse"] for r in got if (r["cell"], r["lr"]) == ("rnn", 0.003)]
    assert lines[0]["val_rmse_mean"] == pytest.approx(sum(first) / 2)


def test_a_diverging_run_and_a_failing_run_are_rows_with_their_reasons(cluster):
    ds = sine_dataset()
    names = ["lr"]
    blowup = _base(optimizer="sgd", lr=3.0, clip_norm=None, nonlinearity="relu", lr_schedule="constant")
    healthy = _base(lr=0.003)
    broken = {**_base(lr=0.01), "hidden_size": 0}  # past the plan's checks: the worker refuses it
    rows = run_sweep({ds.seq_len: ds}, [blowup, healthy, broken], names, cluster.client)
    assert [r["lr"] for r in rows] == [3.0, 0.003, 0.01]
    assert rows[0]["diverged"] and "diverged" in rows[0]["error"]
    assert rows[1]["error"] is None and rows[1]["steps"] == STEPS
    assert "PlaygroundError" in rows[2]["error"] and "hidden" in rows[2]["error"]
    line = summarise(rows[:1], names, "val_rmse")[0]
    assert line["failed"] == 1 and line["val_rmse_mean"] is None


def test_a_worker_killed_mid_sweep_loses_no_row(cluster):
    ds = sine_dataset()
    names = ["lr"]
    runs = plan(_base(steps=1500), {"lr": [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}, 1)
    client = cluster.client
    killed = threading.Event()

    def kill_one(row, done, total):
        busy = [w for w, keys in client.processing().items() if keys]
        if done < total and busy and not killed.is_set():  # a worker in the middle of a run
            killed.set()
            with contextlib.suppress(Exception):  # it goes before it can answer
                client.run(lambda: __import__("os")._exit(1), workers=busy[:1])

    rows = run_sweep({ds.seq_len: ds}, runs, names, client, on_row=kill_one)
    assert killed.is_set()
    assert [r["lr"] for r in rows] == [r["lr"] for r in runs] and all(r["error"] is None for r in rows)
    again = train_one(ds, runs[-1], names)
    assert rows[-1]["val_rmse"] == again["val_rmse"]


def test_the_sweep_command_prints_one_json_line_and_writes_every_row(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    csv_path = tmp_path / "rows.csv"
    args = ["sweep", "--grid", "cell=rnn,gru", "--seeds", "2", "--steps", "30", "--hidden-size", "8",
            "--workers", "2", "--json", "--no-progress", "--out", str(csv_path)]  # fmt: skip
    assert main(args, out, err) == 0, err.getvalue()
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["runs"] == result["finished"] == 4 and result["failed"] == 0
    assert result["metric"] == "val_rmse" and {x["cell"] for x in result["summary"]} == {"rnn", "gru"}
    assert result["best"]["val_rmse_mean"] == min(x["val_rmse_mean"] for x in result["summary"])
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("cell,seed,train_loss") and len(lines) == 5
    assert err.getvalue() == ""


def test_sweep_mistakes_end_in_one_error_line():
    for args, says in [
        (["sweep", "--steps", "10"], "at least one --grid"),
        (["sweep", "--grid", "cell=rnn", "--seeds", "0"], "--seeds must be between 1 and 100"),
        (["sweep", "--grid", "cell=rnn", "--out", "/no/such/dir/x.csv"], "does not exist"),
    ]:
        out, err = io.StringIO(), io.StringIO()
        assert main(args, out, err) == 2
        assert says in err.getvalue() and err.getvalue().count("\n") == 1, err.getvalue()


def test_a_run_in_a_sweep_gives_the_numbers_train_gives_for_its_settings_and_seed(cluster):
    ds = sine_dataset()
    runs = plan(_base(seed=3), {"cell": ["gru"]}, 1)
    [row] = run_sweep({ds.seq_len: ds}, runs, ["cell"], cluster.client)
    out, err = io.StringIO(), io.StringIO()
    args = ["train", "--cell", "gru", "--seed", "3", "--steps", str(STEPS), "--hidden-size", "8",
            "--json", "--no-progress"]  # fmt: skip
    assert main(args, out, err) == 0, err.getvalue()
    alone = json.loads(out.getvalue().strip().splitlines()[-1])
    assert (row["train_loss"], row["val_loss"], row["val_rmse"], row["steps"]) == (
        alone["train_loss"], alone["val_loss"], alone["val_rmse"], alone["steps"],
    )  # fmt: skip
