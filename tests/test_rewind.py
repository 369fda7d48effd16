"""Rewind: the snapshots a run keeps, looking at a kept step, and branching from it.

A kept step's view must score exactly what a run stopped at that step scores; continuing from it
must take exactly the steps a run paused there takes next; the store must stay within its bounds
however long the run.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import load_dataset, sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.rewind import MAX_BYTES, MAX_SNAPSHOTS, Snapshots, capture_bytes
from rnn_core.trainer import Trainer


def sine_trainer(**train) -> Trainer:
    ds = sine_dataset(length=400, seq_len=20, noise=0.05, seed=3)
    return Trainer(ds, ModelConfig(cell="gru", hidden_size=8), TrainConfig(batch_size=8, seed=5, **train))


def text_trainer() -> Trainer:
    ds = load_dataset("Generated sentences (toy grammar)", seq_len=16)
    return Trainer(
        ds, ModelConfig(cell="lstm", hidden_size=12), TrainConfig(batch_size=4, seed=2, optimizer="adam")
    )


def losses(trainer: Trainer, n: int) -> list[float]:
    return [m["loss"] for m in trainer.run(n)]


@pytest.mark.parametrize("make", [sine_trainer, text_trainer], ids=["gru-sine", "lstm-text"])
def test_continuing_from_a_kept_step_takes_the_steps_a_run_paused_there_takes(make):
    ahead = make()
    losses(ahead, 137)
    assert 90 in ahead.rewind_summary["steps"]
    assert ahead.continue_from(90) == 90
    branch = losses(ahead, 30)

    paused = make()
    losses(paused, 90)
    straight = losses(paused, 30)
    assert branch == straight  # bit for bit: weights, optimizer state, batches and generators
    for k, p in paused.network.params.items():
        np.testing.assert_array_equal(ahead.network.params[k], p, err_msg=k)
    assert ahead.step_count == paused.step_count == 120
    assert list(ahead.history.steps["step"]) == list(paused.history.steps["step"])
    # the snapshots of the abandoned steps are gone; the branch's own are kept
    assert max(ahead.rewind_summary["steps"]) == 120 and 130 not in ahead.rewind_summary["steps"]


def test_viewing_a_kept_step_scores_what_a_run_stopped_there_scores_and_changes_nothing():
    run = sine_trainer(optimizer="adam")
    losses(run, 160)
    before = {k: p.copy() for k, p in run.network.params.items()}
    evals_before = len(run.history.evals)
    with run.viewing(70):
        seen = run.evaluate(record=False)
        pred = run.predictions("val")[1]
    assert len(run.history.evals) == evals_before  # a look is not recorded
    for k, p in run.network.params.items():
        np.testing.assert_array_equal(p, before[k], err_msg=k)

    stopped = sine_trainer(optimizer="adam")
    losses(stopped, 70)
    truth = stopped.evaluate()
    for key in ("train_rmse", "val_rmse", "train_loss", "val_loss"):
        assert seen[key] == truth[key], key
    np.testing.assert_array_equal(pred, stopped.predictions("val")[1])
    # and training on after the look is the same as never having looked
    twin = sine_trainer(optimizer="adam")
    losses(twin, 160)
    assert losses(run, 20) == losses(twin, 20)


def test_the_store_stays_within_its_bounds_over_a_100000_step_run_and_thins_with_age():
    trainer = sine_trainer()
    store = Snapshots()
    size = capture_bytes(trainer._capture())
    peak = 0
    for step in range(100_001):
        trainer.step_count = step  # the captures are real ones of the model, stamped with the step
        store.offer(step, trainer._capture)
        peak = max(peak, len(store))
        assert store.nbytes <= MAX_BYTES
    steps = store.steps
    assert peak <= MAX_SNAPSHOTS and len(steps) == MAX_SNAPSHOTS
    assert store.nbytes == MAX_SNAPSHOTS * size
    assert steps[0] == 0 and steps[-1] == 100_000
    gaps = np.diff(steps)
    assert gaps[-1] == store.every  # the newest are the closest together
    assert gaps[0] > 100 * gaps[-1]  # the start of the run far apart
    assert all(a >= b for a, b in itertools.pairwise(gaps))  # thinning with age only
    for step in steps:  # each one the state stamped at its step
        assert store.get(step)["step_count"] == step


def test_the_byte_bound_binds_before_the_count_for_a_big_model():
    trainer = text_trainer()
    size = capture_bytes(trainer._capture())
    store = Snapshots(max_bytes=int(size * 7.5))
    for step in range(0, 2001, 10):
        store.offer(step, trainer._capture)
        assert store.nbytes <= store.max_bytes
    assert len(store) == 7 and store.steps[0] == 0 and store.steps[-1] == 2000
    tiny = Snapshots(max_bytes=size // 2)
    assert not tiny.offer(0, trainer._capture)
    assert len(tiny) == 0 and tiny.summary()["too_big"] == size


def test_a_kept_snapshot_is_a_copy_and_an_unknown_step_is_a_clear_error():
    run = sine_trainer()
    losses(run, 10)
    kept = {k: v.copy() for k, v in run.snapshots.get(10)["params"].items()}
    losses(run, 5)
    for k, v in run.snapshots.get(10)["params"].items():
        np.testing.assert_array_equal(v, kept[k], err_msg=k)  # training on did not touch it
    with pytest.raises(PlaygroundError, match="no snapshot of step 7"):
        run.continue_from(7)
    with pytest.raises(PlaygroundError, match="kept steps are 0, 10"):
        run.viewing(12).__enter__()


def test_roll_back_and_restore_best_forget_the_snapshots_after_the_step_they_return_to():
    run = sine_trainer()
    losses(run, 60)
    run.evaluate()  # the best so far, at step 60
    losses(run, 45)
    assert run.restore_best() == 60
    assert max(run.rewind_summary["steps"]) == 60
