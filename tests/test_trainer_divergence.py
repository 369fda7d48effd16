"""Divergence that can be recovered from: rejected steps that do not count, blow-ups noticed
before anything is NaN, kept healthy states, roll-back and advice that works."""

import csv
import io
import math

import numpy as np
import pytest

from rnn_core.config import RunSettings, TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.divergence import BLOWUP_FACTOR, HEALTHY_EVERY, HIDDEN_BOUND
from rnn_core.settings import PRESETS
from rnn_core.trainer import Trainer

STEADY = TrainConfig(optimizer="adam", lr=3e-3, lr_schedule="constant", seed=6)


@pytest.fixture(scope="module")
def sine():
    return sine_dataset()


def _params(tr):
    return {k: v.copy() for k, v in tr.network.params.items()}


def _poison_gradient(tr):
    """Make the next steps' gradients NaN; returns the function that undoes it."""
    real = tr.network.backward

    def poisoned(*args, **kwargs):
        grads, dx, dstate = real(*args, **kwargs)
        grads["rnn.weight_hh_l0"][0, 0] = math.nan
        return grads, dx, dstate

    tr.network.backward = poisoned
    return lambda: setattr(tr.network, "backward", real)


def _scale_loss(tr, factor):
    """Report every minibatch loss ``factor`` times larger (weights still follow the real one)."""
    real = tr.task.loss

    def scaled(out, y):
        loss, dout = real(out, y)
        return loss * factor, dout

    tr.task.loss = scaled


def test_a_rejected_step_does_not_count(sine):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(4)
    p0, opt0 = _params(tr), tr.optimizer.state_dict()
    heal = _poison_gradient(tr)
    m = tr.step()
    heal()
    assert m["rejected"] and m["diverged"] and m["step"] == 5
    assert tr.step_count == 4 and tr.diverged
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, p0[k])
    for k, v in tr.optimizer.state_dict().items():
        np.testing.assert_array_equal(v, opt0[k])
    m = tr.step()
    assert not m["rejected"] and m["step"] == 5 and tr.step_count == 5
    # The history has the attempt and the step that followed, told apart by `rejected`.
    np.testing.assert_array_equal(tr.history["step"], [1, 2, 3, 4, 5, 5])
    np.testing.assert_array_equal(tr.history["rejected"], [0, 0, 0, 0, 1, 0])
    rows = list(csv.DictReader(io.StringIO(tr.history.to_csv())))
    assert [r["rejected"] for r in rows] == ["0", "0", "0", "0", "1", "0"]


def test_runaway_relu_activations_are_a_divergence_before_any_nan(sine):
    tr = Trainer.create(sine, nonlinearity="relu", hidden_size=4, train=STEADY)
    tr.network.params["rnn.weight_hh_l0"][...] = 1.5 * np.eye(4)  # grows 1.5x per time step
    tr.network.params["rnn.weight_ih_l0"][...] = 1.0
    m = tr.step()
    assert m["hidden_max"] > HIDDEN_BOUND and math.isfinite(m["loss"])
    assert not m["rejected"] and m["diverged"] and tr.diverged and tr.step_count == 1


def test_saturating_units_never_trip_the_activation_bound(sine):
    tr = Trainer.create(sine, nonlinearity="tanh", hidden_size=4, train=STEADY)
    tr.network.params["rnn.weight_hh_l0"][...] = 1e8
    m = tr.step()
    assert m["hidden_max"] <= 1.0 and not m["diverged"]


@pytest.mark.parametrize(("factor", "diverges"), [(0.5 * BLOWUP_FACTOR, False), (2 * BLOWUP_FACTOR, True)])
def test_a_loss_far_above_its_recent_median_is_a_divergence(sine, factor, diverges):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(60)
    median = float(np.median(tr.history["loss"][-50:]))
    snap = tr.snapshot()
    real = tr.step()["loss"]
    tr.restore(snap)
    _scale_loss(tr, factor * median / real)  # the next loss is `factor` times the median
    m = tr.step()
    assert m["loss"] == pytest.approx(factor * median)
    assert not m["rejected"] and m["diverged"] is diverges and tr.diverged is diverges


def test_a_jump_that_stays_far_below_the_untrained_loss_is_no_divergence():
    from rnn_core.divergence import _Guard

    # What a default sine run did after 447,513 steps: minibatch losses near 1e-9, then one of
    # 1.4e-6, "over 1000 times the median" and still 300,000 times below where it started.
    guard = _Guard()
    guard.judge(1, 0.5, 0.1, "")
    for number in range(2, 60):
        guard.judge(number, 1e-9, 0.1, "")
    guard.judge(60, 1.4e-6, 0.1, "")
    assert guard.bad_step is None
    guard.judge(61, 0.8, 0.1, "")  # back above the untrained loss: that is a blow-up
    assert guard.bad_step == 61 and "jumped" in guard.cause


def test_diverged_stays_until_a_roll_back_and_run_pauses_on_it(sine):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(30)
    _scale_loss(tr, 1e6)
    out = tr.run(10)
    assert len(out) == 1 and out[0]["diverged"]
    del tr.task.loss  # healthy again, but the flag stays
    assert tr.step()["diverged"] and tr.diverged and tr.history["diverged"][-1] == 1.0
    tr.roll_back()
    assert not tr.diverged and not tr.step()["diverged"]


def test_roll_back_returns_exactly_to_a_state_from_before_the_blow_up(sine):
    straight = Trainer.create(sine, nonlinearity="relu", train=STEADY)
    straight.run(HEALTHY_EVERY + 10)

    tr = Trainer.create(sine, nonlinearity="relu", train=STEADY)
    tr.run(2 * HEALTHY_EVERY + 10)  # states kept at steps 25 and 50
    assert tr.healthy_step == HEALTHY_EVERY and not tr.diverged
    tr.set_lr(10.0)
    out = tr.run(200)
    assert tr.diverged and out[-1]["hidden_max"] > HIDDEN_BOUND
    assert tr.healthy_step == HEALTHY_EVERY  # not 50: within 25 steps of the blow-up
    assert tr.roll_back() == HEALTHY_EVERY and tr.step_count == HEALTHY_EVERY
    assert not tr.diverged and len(tr.history) == HEALTHY_EVERY
    # Weights, optimizer state, generator and batch position as they were: going on from here
    # with the first settings repeats the uninterrupted run bit for bit.
    tr.set_lr(STEADY.lr)
    tr.run(10)
    for k, v in straight.network.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v, err_msg=k)
    np.testing.assert_array_equal(tr.history["loss"], straight.history["loss"])
    assert tr.epoch == straight.epoch


def test_the_kept_state_predates_a_slow_blow_up(sine):
    # The loss climbs tenfold every two steps from step 46 on: still "healthy" at step 50, when
    # a state is kept, noticed at 53. The roll-back must skip the state of step 50.
    tr = Trainer.create(sine, train=STEADY)
    tr.run(45)
    real = tr.task.loss
    grown = iter(10.0 ** (np.arange(1, 40) / 2))

    def climbing(out, y):
        loss, dout = real(out, y)
        return loss * next(grown), dout

    tr.task.loss = climbing
    out = tr.run(20)
    bad = out[-1]["step"]
    assert 50 < bad < 60 and not out[-2]["diverged"]
    assert [s["step_count"] for s in tr._guard.kept] == [25, 50]  # step 50 was kept, mid-climb
    assert tr.healthy_step == HEALTHY_EVERY < 46


def test_snapshots_restore_the_divergence_state(sine):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(3)
    snap = tr.snapshot()
    _scale_loss(tr, 1e9)
    tr.step()
    assert tr.diverged
    del tr.task.loss
    tr.restore(snap)
    assert not tr.diverged and tr.step_count == 3
    later = tr.snapshot()
    _scale_loss(tr, 1e9)
    tr.step()
    tr.restore(snap)
    tr.restore(later)
    assert not tr.diverged


def test_advice_from_a_healthy_trainer_is_empty(sine):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(2)
    advice = tr.divergence_advice()
    assert advice["settings"] == {} and "not diverged" in advice["text"]


def test_the_blowup_preset_recovers_with_the_advice(sine):
    run = RunSettings(**PRESETS["blowup"].values)
    assert (run.optimizer, run.lr, run.nonlinearity, run.clip_norm) == ("sgd", 3.0, "relu", None)
    tr = Trainer(sine, run.model_config(), run.train_config())
    out = tr.run(300)
    assert tr.diverged and out[-1]["diverged"] and len(out) < 300
    advice = tr.divergence_advice()
    assert advice["settings"] == {"lr": pytest.approx(0.3), "clip_norm": 1.0}
    assert f"Roll back to step {tr.healthy_step} " in advice["text"]
    assert "learning rate 0.3 and clip norm 1" in advice["text"]
    step = tr.roll_back()
    assert step == tr.healthy_step and not tr.diverged
    at_healthy = tr.evaluate()["train_loss"]
    tr.apply_live(tr.train_config.replace(**advice["settings"]))
    out = tr.run(300)
    assert len(out) == 300 and not any(m["diverged"] for m in out) and not tr.diverged
    assert tr.evaluate()["train_loss"] < at_healthy
    assert all(np.isfinite(v).all() for v in tr.network.params.values())


def test_a_loaded_model_keeps_a_healthy_state_of_its_own(sine):
    tr = Trainer.create(sine, train=STEADY)
    tr.run(7)
    loaded = Trainer.load(tr.save(), sine)
    assert loaded.healthy_step == 7
    _poison_gradient(loaded)
    loaded.step()
    assert loaded.diverged and loaded.roll_back() == 7
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(loaded.network.params[k], v)
