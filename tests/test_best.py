"""Keeping the best weights and stopping after a patience: in the trainer, a worker, the CLI."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from rnn_core.best import CHECK_EVERY
from rnn_core.config import TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer

# a learning rate high enough that the validation score goes up and down
BUMPY = TrainConfig(lr=0.05, lr_schedule="constant", seed=2)


def test_the_best_score_seen_is_kept_and_restoring_it_resumes_exactly():
    ds = sine_dataset()
    tr = Trainer.create(ds, hidden_size=8, train=BUMPY)
    scores = {}
    for _ in range(12):
        tr.run(CHECK_EVERY)
        scores[tr.step_count] = tr.evaluate(train=False)["val_rmse"]
    best_step = min(scores, key=scores.get)
    assert best_step != tr.step_count, "the run should have moved past its best for this test"
    assert tr.best_summary == {"metric": "val_rmse", "score": scores[best_step], "step": best_step}
    assert tr.restore_best() == best_step
    assert tr.step_count == best_step and tr.evaluate()["val_rmse"] == scores[best_step]
    assert len(tr.history) == best_step  # the curves go back with it
    after = [r["loss"] for r in tr.run(10)]
    # the same run trained straight to that step and on: bit for bit
    twin = Trainer.create(ds, hidden_size=8, train=BUMPY)
    twin.run(best_step)
    assert [r["loss"] for r in twin.run(10)] == after


def test_restoring_before_any_score_is_a_clear_error():
    tr = Trainer.create(sine_dataset(), hidden_size=4)
    with pytest.raises(PlaygroundError, match="no validation score has been kept yet"):
        tr.restore_best()


def test_a_patience_stops_at_the_first_check_that_far_from_the_best():
    ds = sine_dataset()
    patience = 100
    tr = Trainer.create(ds, hidden_size=8, train=dataclasses.replace(BUMPY, patience=patience))
    while not tr.early_stop_due():
        tr.step()
        assert tr.step_count < 5000
    stopped = tr.step_count
    # independently: the validation scores at every check step up to there
    ref = Trainer.create(ds, hidden_size=8, train=BUMPY)
    best_step, best = None, np.inf
    for step in range(CHECK_EVERY, stopped + 1, CHECK_EVERY):
        ref.run(CHECK_EVERY)
        score = ref.evaluate(train=False)["val_rmse"]
        if score < best:
            best_step, best = step, score
        if step - best_step >= patience:
            break
    assert stopped == step and tr.best_summary["step"] == best_step
    # starting again gives another patience from there
    assert not tr.early_stop_due(since=stopped)


def test_rolling_back_before_the_best_forgets_it():
    tr = Trainer.create(sine_dataset(), hidden_size=8, train=BUMPY)
    tr.run(CHECK_EVERY)
    tr.evaluate(train=False)
    kept = tr.best_summary["step"]
    tr.best.forget_after(kept - 1)
    assert tr.best_summary["step"] is None


def test_cli_keep_best_and_patience(tmp_path):
    def train(*flags):
        cmd = [sys.executable, "-m", "rnn_core", "train", "--steps", "1500", "--lr", "0.05",
               "--lr-schedule", "constant", "--json", "--no-progress", *flags]  # fmt: skip
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])

    stopped = train("--patience", "200")
    assert stopped["best"]["early_stopped"] and stopped["steps"] < 1500
    assert stopped["steps"] - stopped["best"]["step"] >= 200
    kept = train("--patience", "200", "--keep-best")
    assert kept["best"]["restored"] and kept["val_rmse"] == pytest.approx(kept["best"]["score"], rel=1e-12)
    assert kept["val_rmse"] <= stopped["val_rmse"]
