"""Trainer on regression series: step metrics, lr/clip changes, divergence guard, reproducibility,
snapshots, predictions and forecasts in original units, model files."""

import math

import numpy as np
import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import csv_dataset, sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer


@pytest.fixture(scope="module")
def sine():
    return sine_dataset()


@pytest.fixture(scope="module")
def trained(sine):
    """A model trained long enough to predict the sine well (shared, do not step it)."""
    tr = Trainer.create(sine, train=TrainConfig(seed=1, lr_schedule="constant"))
    for i in range(400):
        tr.set_lr(1e-2 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * i / 400))))
        tr.step()
    return tr


ABSURD = TrainConfig(optimizer="sgd", lr=10.0, clip_norm=None)


def _params(tr):
    return {k: v.copy() for k, v in tr.network.params.items()}


def test_step_metrics_are_sane(sine):
    tr = Trainer.create(sine, train=TrainConfig(batch_size=32, clip_norm=None, lr=0.01))
    m = tr.step()
    assert m["step"] == 1 and tr.step_count == 1
    assert m["epoch"] == pytest.approx(32 / 100)  # 100 training windows
    assert math.isfinite(m["loss"]) and m["loss"] > 0
    assert set(m["grad_norms"]) == set(tr.network.params)
    total = math.sqrt(sum(v**2 for v in m["grad_norms"].values()))
    assert m["grad_norm"] == pytest.approx(total)
    assert m["clipped"] is False and m["clip_scale"] == 1.0
    assert 0 < m["update_ratio"] < 1
    assert m["seconds"] > 0 and m["diverged"] is False and m["rejected"] is False
    assert m["lr"] == pytest.approx(0.01)
    # After one epoch of 4 batches (32+32+32+4) every window has been seen once.
    for _ in range(3):
        m = tr.step()
    assert m["epoch"] == pytest.approx(1.0)
    assert len(tr.history) == 4 and tr.history["step"][-1] == 4


def test_loss_is_the_mse_of_the_minibatch_before_the_update(sine):
    tr = Trainer.create(sine, train=TrainConfig(batch_size=100))  # full batch: all windows
    before = _params(tr)
    pred, _, _ = tr.network.forward(sine.train_X, None, cache=False)
    expected = float(np.mean((pred - sine.train_y) ** 2))
    m = tr.step()
    assert m["loss"] == pytest.approx(expected, rel=1e-12)
    assert any(not np.array_equal(before[k], v) for k, v in tr.network.params.items())


def test_update_ratio_matches_the_weight_change(sine):
    tr = Trainer.create(sine, train=TrainConfig(optimizer="sgd", lr=0.1))
    before = _params(tr)
    m = tr.step()
    diff = math.sqrt(sum(np.sum((tr.network.params[k] - before[k]) ** 2) for k in before))
    base = math.sqrt(sum(np.sum(v**2) for v in before.values()))
    assert m["update_ratio"] == pytest.approx(diff / base, rel=1e-9)


def test_training_reduces_validation_error(sine):
    tr = Trainer.create(sine)
    first = tr.evaluate()
    tr.run(150)
    after = tr.evaluate()
    assert after["val_loss"] < first["val_loss"] / 10
    assert len(tr.history.evals) == 2


def test_lr_change_takes_effect_without_resetting_adam(sine):
    train = TrainConfig(optimizer="adam", lr=1e-2, clip_norm=None, lr_schedule="constant")
    tr = Trainer.create(sine, train=train)
    tr.run(5)
    snap = tr.snapshot()
    p0 = _params(tr)
    tr.step()
    full = {k: tr.network.params[k] - p0[k] for k in p0}
    tr.restore(snap)
    tr.set_lr(1e-3)
    m = tr.step()
    tenth = {k: tr.network.params[k] - p0[k] for k in p0}
    # Same Adam moments and step count: the update is exactly a tenth (a reset optimizer would
    # take a first-step update of size ~lr in every coordinate instead).
    for k in p0:
        np.testing.assert_allclose(tenth[k], full[k] / 10, rtol=1e-9, atol=1e-15)
    assert m["lr"] == pytest.approx(1e-3) and tr.train_config.lr == pytest.approx(1e-3)
    assert tr.history["lr"][-1] == pytest.approx(1e-3)
    with pytest.raises(PlaygroundError):
        tr.set_lr(-1.0)


def test_clipping_by_norm_and_by_value_is_reported(sine):
    tr = Trainer.create(sine, train=TrainConfig(optimizer="sgd", lr=1.0, clip_norm=None))
    snap = tr.snapshot()
    p0 = _params(tr)
    tr.set_clipping(clip_norm=1e-6)
    m = tr.step()
    assert m["clipped"] is True
    assert m["clip_scale"] == pytest.approx(1e-6 / m["grad_norm"], rel=1e-9)
    moved = math.sqrt(sum(np.sum((tr.network.params[k] - p0[k]) ** 2) for k in p0))
    assert moved == pytest.approx(1e-6, rel=1e-9)  # sgd, lr 1: the step is the clipped gradient

    tr.restore(snap)
    tr.set_clipping(clip_value=1e-9)
    m = tr.step()
    assert m["clipped"] is True and m["clip_scale"] == 1.0
    for k in p0:
        assert np.max(np.abs(tr.network.params[k] - p0[k])) <= 1e-9 + 1e-15  # rounding of p - 1e-9

    tr.restore(snap)
    tr.set_clipping(None, None)
    m = tr.step()
    assert m["clipped"] is False


def test_absurd_lr_diverges_and_keeps_last_finite_weights(sine):
    tr = Trainer.create(sine, nonlinearity="relu", train=ABSURD)
    before = None
    for _ in range(200):
        before = _params(tr)
        m = tr.step()
        if m["rejected"]:
            break
    assert m["rejected"] and m["diverged"] and tr.diverged
    assert not (math.isfinite(m["loss"]) and math.isfinite(m["grad_norm"]))
    for k, v in tr.network.params.items():
        assert np.isfinite(v).all()
        np.testing.assert_array_equal(v, before[k])
    # The flag stays up on later steps; the history records the rejection.
    tr.step()
    assert tr.diverged
    assert tr.history["diverged"][-1] == 1.0
    ev = tr.evaluate()
    assert "val_rmse" in ev


def test_update_that_overflows_the_weights_is_rolled_back(sine):
    tr = Trainer.create(sine, train=TrainConfig(optimizer="adam"))
    tr.run(3)
    p0 = _params(tr)
    opt0 = tr.optimizer.state_dict()
    real_step = tr.optimizer.step

    def poisoned(params, grads):
        real_step(params, grads)
        params["head.bias"][...] = np.inf

    tr.optimizer.step = poisoned
    m = tr.step()
    assert m["rejected"] and tr.diverged and math.isfinite(m["loss"])
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, p0[k])
    opt1 = tr.optimizer.state_dict()
    for k in opt0:
        np.testing.assert_array_equal(opt1[k], opt0[k])


def test_update_that_overflows_the_optimizer_state_is_rolled_back(sine):
    # Adam's squared-gradient average gone infinite would freeze its weights for good.
    tr = Trainer.create(sine, train=TrainConfig(optimizer="adam"))
    tr.run(3)
    p0 = _params(tr)
    opt0 = tr.optimizer.state_dict()
    real_step = tr.optimizer.step

    def poisoned(params, grads):
        real_step(params, grads)
        tr.optimizer.state["exp_avg_sq"]["rnn.weight_hh_l0"][0, 0] = np.inf

    tr.optimizer.step = poisoned
    m = tr.step()
    assert m["rejected"] and tr.diverged and tr.step_count == 3
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, p0[k])
    opt1 = tr.optimizer.state_dict()
    for k in opt0:
        np.testing.assert_array_equal(opt1[k], opt0[k])
    tr.optimizer.step = real_step
    assert not tr.step()["rejected"] and tr.step_count == 4


def test_huge_but_finite_optimizer_state_is_not_taken_for_an_overflow(sine):
    # Its sum of squares overflows; each element is then tested, and all are finite.
    tr = Trainer.create(sine, train=TrainConfig(optimizer="momentum", lr=1e-300, clip_norm=None))
    tr.run(1)
    tr.optimizer.state["momentum_buffer"]["rnn.weight_hh_l0"][...] = 1e300
    m = tr.step()
    assert not m["rejected"] and tr.step_count == 2


def test_run_stops_at_divergence(sine):
    tr = Trainer.create(sine, nonlinearity="relu", train=ABSURD)
    out = tr.run(200)
    # It stops at the first unhealthy step, here runaway relu activations before any NaN.
    assert out[-1]["diverged"] and not out[-2]["diverged"] and len(out) < 200


def test_same_seed_same_run_bit_for_bit(sine):
    def go(seed):
        tr = Trainer.create(sine, cell="gru", train=TrainConfig(seed=seed, batch_size=16))
        losses = [m["loss"] for m in tr.run(30)]
        return losses, _params(tr)

    la, pa = go(7)
    lb, pb = go(7)
    lc, _ = go(8)
    assert la == lb
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])
    assert la != lc


def test_snapshot_restore_equals_an_uninterrupted_run(sine):
    straight = Trainer.create(sine, train=TrainConfig(seed=3, batch_size=24))
    straight.run(25)

    tr = Trainer.create(sine, train=TrainConfig(seed=3, batch_size=24))
    tr.run(10)
    snap = tr.snapshot()
    tr.run(7)
    tr.set_lr(0.5)  # wander off, then come back
    tr.run(3)
    tr.restore(snap)
    assert tr.step_count == 10 and len(tr.history) == 10
    tr.run(15)
    assert tr.step_count == 25
    for k, v in straight.network.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v)
    np.testing.assert_array_equal(tr.history["loss"], straight.history["loss"])
    assert tr.epoch == straight.epoch
    # The snapshot is reusable: restoring twice gives the same state again.
    tr.restore(snap)
    assert tr.step_count == 10


def test_predictions_are_in_original_units(trained, sine):
    x, pred, actual = trained.predictions("val")
    assert x.shape == pred.shape == actual.shape == (50,)
    np.testing.assert_allclose(x, np.arange(150, 200))  # targets of the last 50 windows
    np.testing.assert_allclose(actual, np.sin(np.arange(150, 200)), atol=1e-12)
    rmse = float(np.sqrt(np.mean((pred - actual) ** 2)))
    assert rmse < 0.05
    ev = trained.evaluate()
    assert ev["val_rmse"] == pytest.approx(rmse, rel=1e-9)
    assert ev["val_mae"] == pytest.approx(float(np.mean(np.abs(pred - actual))), rel=1e-9)
    assert ev["baselines"]["persistence_rmse"] > 10 * ev["val_rmse"]
    xt, pt, at = trained.predictions("train")
    assert xt.shape == pt.shape == at.shape == (100,) and xt[0] == 50
    with pytest.raises(PlaygroundError):
        trained.predictions("test")


def test_predictions_scale_with_the_data():
    big = sine_dataset(amplitude=50.0)
    tr = Trainer.create(big, train=TrainConfig(seed=2))
    tr.run(200)
    _, pred, actual = tr.predictions("val")
    assert np.abs(actual).max() == pytest.approx(50.0, rel=0.01)
    assert np.abs(pred).max() > 20  # de-normalised, not in the model's unit scale
    assert tr.evaluate()["val_rmse"] < 0.2 * 50


def test_forecast_continues_the_series(trained):
    x, values = trained.forecast(12)
    assert x.shape == values.shape == (12,)
    np.testing.assert_allclose(x, np.arange(200, 212))
    assert np.all(np.isfinite(values))
    # Closed loop from a well-trained model: the first values follow sin(x) closely.
    np.testing.assert_allclose(values[:5], np.sin(np.arange(200, 205)), atol=0.05)
    with pytest.raises(PlaygroundError):
        trained.forecast(0)


def test_internals_shapes(sine):
    for cell, keys in (("rnn", {"h0", "h1"}), ("lstm", {"h0", "c0", "i0", "f0", "g0", "o0", "h1"})):
        tr = Trainer.create(sine, cell=cell, hidden_size=6, num_layers=2)
        got = tr.internals("val", 3)
        assert keys <= set(got)
        for v in got.values():
            assert v.shape == (50, 6)
        with pytest.raises(PlaygroundError):
            tr.internals("val", 50)


def test_text_only_methods_refuse_series(sine):
    tr = Trainer.create(sine)
    with pytest.raises(PlaygroundError, match="text"):
        tr.sample(10)
    with pytest.raises(PlaygroundError, match="text"):
        tr.next_char_probs("a")


def test_float32_training(sine):
    tr = Trainer.create(sine, dtype="float32")
    tr.run(50)
    assert all(v.dtype == np.float32 for v in tr.network.params.values())
    assert math.isfinite(tr.evaluate()["val_rmse"])


def test_config_sizes_come_from_the_dataset(sine):
    tr = Trainer(sine, ModelConfig(input_size=7, output_size=3, head="text"), TrainConfig())
    assert tr.config.input_size == 1 and tr.config.output_size == 1 and tr.config.head == "regression"


def test_save_and_load_reproduce_the_evaluation(trained, sine, tmp_path):
    path = tmp_path / "m.npz"
    trained.save(path)
    data = trained.save()
    assert isinstance(data, bytes) and path.read_bytes() == data
    loaded = Trainer.load(path, sine)
    assert loaded.config == trained.config
    assert loaded.evaluate()["val_rmse"] == trained.evaluate()["val_rmse"]
    with pytest.raises(PlaygroundError, match="normalised differently"):
        Trainer.load(data, sine_dataset(amplitude=2.0))


def test_validation_only_evaluation(sine):
    tr = Trainer.create(sine)
    full = tr.evaluate()
    quick = tr.evaluate(train=False)
    assert not any(k.startswith("train_") for k in quick)
    assert quick["val_rmse"] == full["val_rmse"] and quick["val_loss"] == full["val_loss"]
    assert len(tr.history.evals) == 2


def test_forecast_dates_continue_a_dated_csv():
    rows = ["date,level,rain"]
    rows += [f"2021-{1 + i // 28:02d}-{1 + i % 28:02d},{5 + math.sin(i / 4):.4f},{i % 7}" for i in range(200)]
    ds = csv_dataset("\n".join(rows).encode(), inputs=["rain"], seq_len=20, test_fraction=0)
    tr = Trainer.create(ds)
    tr.run(20)
    x, values = tr.forecast(3)
    assert x.dtype.kind == "M"
    last = np.datetime64("2021-08-04")  # row 199: month 1 + 199 // 28 = 8, day 1 + 199 % 28 = 4
    np.testing.assert_array_equal(x, last + np.arange(1, 4) * np.timedelta64(1, "D"))
    assert values.shape == (3,) and np.all(np.isfinite(values))
    xv, pred, actual = tr.predictions("val")
    assert xv.dtype.kind == "M" and pred.shape == actual.shape == xv.shape


def test_load_resumes_the_saved_step_count(sine):
    tr = Trainer.create(sine, train=TrainConfig(seed=4))
    tr.run(7)
    loaded = Trainer.load(tr.save(), sine)
    assert loaded.step_count == 7
    m = loaded.step()
    assert m["step"] == 8 and loaded.history["step"][-1] == 8
    assert loaded.optimizer.step_count == 1  # a fresh optimizer: Adam's bias correction restarts
    assert loaded.evaluate()["step"] == 8
    # A resumed model saved again keeps counting.
    assert Trainer.load(loaded.save(), sine).step_count == 8


def _huge_relu_gradient(sine, dtype, train):
    """A relu RNN whose head sees hidden values near 1e20: the loss is ordinary, but the gradient
    of ``head.weight`` is near 1e20, whose square overflows float32 (not float64)."""
    tr = Trainer.create(sine, nonlinearity="relu", hidden_size=4, dtype=dtype, train=train)
    p = tr.network.params
    for k in p:
        p[k][...] = 0.0
    p["rnn.weight_ih_l0"][...] = 1e20
    p["head.weight"][...] = 1e-20
    return tr


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_gradient_norm_does_not_overflow(sine, dtype):
    train = TrainConfig(optimizer="sgd", lr=1e-3, clip_norm=1.0, batch_size=100)
    tr = _huge_relu_gradient(sine, dtype, train)
    m = tr.step()
    assert math.isfinite(m["loss"]) and m["loss"] < 10
    assert not m["rejected"]
    assert tr.diverged  # hidden values near 1e20 are a blow-up, though the step is accepted
    assert 1e19 < m["grad_norm"] < 1e22 and math.isfinite(m["grad_norms"]["head.weight"])
    assert m["clipped"] and m["clip_scale"] == pytest.approx(1.0 / m["grad_norm"], rel=1e-6)
    assert all(np.isfinite(v).all() for v in tr.network.params.values())


@pytest.mark.parametrize("optimizer", ["adam", "adagrad", "rmsprop"])
def test_optimizer_state_overflow_is_rejected(sine, optimizer):
    # Unclipped, the float32 squared-gradient state overflows to inf; that would silently freeze
    # head.weight forever (its update becomes g / inf = 0), so the step counts as a divergence.
    train = TrainConfig(optimizer=optimizer, clip_norm=None, batch_size=100)
    tr = _huge_relu_gradient(sine, "float32", train)
    p0 = _params(tr)
    m = tr.step()
    assert m["rejected"] and tr.diverged and math.isfinite(m["grad_norm"])
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, p0[k])
    assert tr.optimizer.is_finite() and tr.optimizer.step_count == 0


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_clip_value_never_turns_a_non_finite_gradient_into_an_update(sine, bad):
    # Clamping inf to +-clip_value would look finite; the guard must reject the step first.
    tr = Trainer.create(sine, train=TrainConfig(optimizer="sgd", clip_norm=None, clip_value=1.0))
    real_backward = tr.network.backward

    def poisoned(*args, **kwargs):
        grads, dx, dstate = real_backward(*args, **kwargs)
        grads["rnn.weight_hh_l0"][0, 0] = bad
        return grads, dx, dstate

    tr.network.backward = poisoned
    p0 = _params(tr)
    m = tr.step()
    assert m["rejected"] and tr.diverged and not m["clipped"]
    for k, v in tr.network.params.items():
        np.testing.assert_array_equal(v, p0[k])


def test_forecast_axis_moves_on_when_time_stamps_repeat():
    # Three readings per day: the median spacing is zero, so the average spacing is used.
    rows = ["date,level"] + [f"2021-03-{1 + i // 3:02d},{math.sin(i / 3):.4f}" for i in range(60)]
    tr = Trainer.create(csv_dataset("\n".join(rows).encode(), seq_len=6, test_fraction=0))
    x, _ = tr.forecast(4)
    last = np.datetime64("2021-03-20", "ns")
    step = (last - np.datetime64("2021-03-01", "ns")) / 59  # 19 days over 59 gaps
    np.testing.assert_array_equal(x, last + step * np.arange(1, 5))
    assert np.all(np.diff(x) > np.timedelta64(0))
