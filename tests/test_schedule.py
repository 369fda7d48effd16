"""The learning-rate schedule: lr_at's formula, the trainer using it at each accepted step, and
model files keeping the base rate so that a loaded model continues the schedule."""

import math

import pytest

from rnn_core.checkpoint import dataset_meta, save_checkpoint
from rnn_core.config import TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.schedule import lr_at
from rnn_core.trainer import Trainer


def _cosine(lr, i, steps, floor=0.01):
    """The schedule written out: half a cosine from lr down to floor * lr, then flat."""
    done = min(i, steps)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * done / max(steps, 1))))


@pytest.fixture(scope="module")
def sine():
    return sine_dataset()


def test_constant_keeps_the_rate():
    assert [lr_at(0.02, "constant", i, 10) for i in (0, 5, 10, 1000)] == [0.02] * 4


@pytest.mark.parametrize(
    ("i", "expected"),
    [
        (0, 0.1),
        (25, 0.1 * (0.01 + 0.99 * 0.5 * (1 + math.sqrt(0.5)))),  # cos(pi/4)
        (50, 0.1 * (0.01 + 0.99 * 0.5)),  # cos(pi/2) = 0: half way
        (100, 0.001),  # cos(pi) = -1: the floor
        (101, 0.001),
        (10_000, 0.001),  # held at the floor after the schedule
    ],
)
def test_cosine_values(i, expected):
    assert lr_at(0.1, "cosine", i, 100) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_cosine_with_another_floor_and_no_length():
    assert lr_at(1.0, "cosine", 10, 10, floor=0.5) == pytest.approx(0.5)
    assert lr_at(1.0, "cosine", 3, 0) == pytest.approx(1.0)  # no schedule length: no decay


def test_unknown_schedule_is_an_error():
    with pytest.raises(PlaygroundError, match="cosine, constant"):
        lr_at(0.1, "linear", 0, 10)


def test_trainer_follows_the_schedule_from_its_base_rate(sine):
    tr = Trainer.create(sine, train=TrainConfig(lr=0.02, lr_schedule="cosine", steps=40, seed=1))
    got = [m["lr"] for m in tr.run(50)]
    assert got == pytest.approx([_cosine(0.02, i, 40) for i in range(50)], rel=1e-12)
    assert tr.history["lr"][-1] == pytest.approx(0.02 * 0.01)
    assert tr.train_config.lr == 0.02  # the base rate, never the annealed one
    # set_lr changes the base: the next step is the schedule of the new base at the same point.
    tr.set_lr(0.5)
    assert tr.step()["lr"] == pytest.approx(0.5 * 0.01)


def test_a_rejected_step_does_not_move_the_schedule(sine):
    tr = Trainer.create(sine, train=TrainConfig(lr=0.01, lr_schedule="cosine", steps=20))
    tr.run(5)
    real = tr.network.backward

    def poisoned(*args, **kwargs):
        grads, dx, dstate = real(*args, **kwargs)
        grads["head.bias"][...] = math.nan
        return grads, dx, dstate

    tr.network.backward = poisoned
    bad = tr.step()
    tr.network.backward = real
    good = tr.step()
    assert bad["rejected"] and not good["rejected"]
    assert bad["lr"] == good["lr"] == pytest.approx(_cosine(0.01, 5, 20))
    assert tr.step_count == 6


def test_a_saved_model_keeps_the_base_rate_and_resumes_the_schedule(sine):
    # Regression: files saved after a schedule used to hold the annealed rate, so a resumed run
    # trained at about 1% of the rate that was asked for.
    train = TrainConfig(lr=0.01, lr_schedule="cosine", steps=60, seed=2)
    tr = Trainer.create(sine, train=train)
    tr.run(45)
    loaded = Trainer.load(tr.save(), sine)
    assert loaded.train_config.lr == 0.01 and loaded.train_config.lr_schedule == "cosine"
    assert loaded.step_count == 45
    m = loaded.step()
    assert m["lr"] == pytest.approx(_cosine(0.01, 45, 60), rel=1e-12)
    assert m["lr"] == pytest.approx(tr.step()["lr"], rel=1e-12)  # as if never saved
    assert m["lr"] > 0.1 * 0.01


def test_a_file_from_before_the_schedule_trains_at_its_constant_rate(sine):
    tr = Trainer.create(sine)
    meta = dataset_meta(sine)
    meta["train"] = {"optimizer": "adam", "lr": 0.004, "batch_size": 32}  # no lr_schedule, no steps
    meta["step_count"] = 300
    data = save_checkpoint(None, tr.network.params, tr.config, meta)
    loaded = Trainer.load(data, sine)
    assert loaded.train_config.lr_schedule == "constant"
    assert [m["lr"] for m in loaded.run(3)] == [0.004] * 3
