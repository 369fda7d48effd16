"""Acceptance: `python -m rnn_core train --data sine --json` with the defaults reaches a validation
RMSE of at most 0.01 on the tutorials' task (quality only; speed is for benchmarks/)."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_core import cli

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_reach_rmse_0_01():
    r = subprocess.run(
        [sys.executable, "-m", "rnn_core", "train", "--data", "sine", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout.strip().splitlines()[-1])
    assert d["diverged"] is False
    assert d["val_windows"] == 50 and d["train_windows"] == 100 and d["rows"] == 200
    assert d["val_rmse"] <= 0.01
    # Far below the naive baselines on the same 50 validation windows.
    assert d["val_rmse"] < d["baseline"]["persistence_rmse"] / 50


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_defaults_do_not_depend_on_a_lucky_seed(seed):
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["train", "--seed", str(seed), "--json", "--no-progress"], out, err) == 0
    assert json.loads(out.getvalue().splitlines()[-1])["val_rmse"] <= 0.01
