"""Optimizers and clipping: hand-computed steps, state round trips, PyTorch's rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.errors import PlaygroundError
from rnn_core.optim import clip_gradients, global_norm, make_optimizer

NAMES = ["sgd", "momentum", "adagrad", "rmsprop", "adam"]


def quadratic_problem(seed=0):
    rng = np.random.default_rng(seed)
    params = {"a": rng.normal(size=(3, 2)), "b": rng.normal(size=4)}
    targets = {k: rng.normal(size=v.shape) for k, v in params.items()}
    return params, targets


def grads_of(params, targets):
    # gradient of 0.5 * sum((p - t)^3 ...) would do; a quadratic with a twist keeps it non-trivial
    return {k: (p - targets[k]) + 0.1 * np.sin(p) for k, p in params.items()}


def test_first_steps_by_hand():
    g1, g2 = 0.5, -0.25
    lr = 0.1
    expected = {
        "sgd": 1.0 - lr * g1 - lr * g2,
        "momentum": 1.0 - lr * g1 - lr * (0.9 * g1 + g2),
        "adagrad": 1.0 - lr * g1 / (abs(g1) + 1e-10) - lr * g2 / (math.sqrt(g1**2 + g2**2) + 1e-10),
    }
    v1 = 0.01 * g1**2
    v2 = 0.99 * v1 + 0.01 * g2**2
    expected["rmsprop"] = 1.0 - lr * g1 / (math.sqrt(v1) + 1e-8) - lr * g2 / (math.sqrt(v2) + 1e-8)
    m1, s1 = 0.1 * g1, 0.001 * g1**2
    m2, s2 = 0.9 * m1 + 0.1 * g2, 0.999 * s1 + 0.001 * g2**2
    p = 1.0 - (lr / 0.1) * m1 / (math.sqrt(s1) / math.sqrt(0.001) + 1e-8)
    p -= (lr / (1 - 0.81)) * m2 / (math.sqrt(s2) / math.sqrt(1 - 0.999**2) + 1e-8)
    expected["adam"] = p
    for name in NAMES:
        params = {"w": np.array([1.0])}
        opt = make_optimizer(name, params, lr=lr)
        opt.step(params, {"w": np.array([g1])})
        opt.step(params, {"w": np.array([g2])})
        assert params["w"][0] == pytest.approx(expected[name], rel=1e-12), name


@pytest.mark.parametrize("name", NAMES)
def test_lr_change_keeps_state_and_state_round_trips(name):
    params, targets = quadratic_problem()
    opt = make_optimizer(name, params, lr=0.05)
    for _ in range(3):
        opt.step(params, grads_of(params, targets))
    opt.lr = 0.01  # no reset: the next step continues from the accumulated state
    saved_params = {k: v.copy() for k, v in params.items()}
    saved_state = opt.state_dict()
    for _ in range(3):
        opt.step(params, grads_of(params, targets))
    after_a = {k: v.copy() for k, v in params.items()}

    other = make_optimizer(name, saved_params, lr=123.0)
    other.load_state_dict(saved_state)
    assert other.lr == 0.01
    for _ in range(3):
        other.step(saved_params, grads_of(saved_params, targets))
    for k in params:
        np.testing.assert_array_equal(saved_params[k], after_a[k])

    fresh = make_optimizer(name, {k: v.copy() for k, v in saved_params.items()}, lr=0.01)
    if name != "sgd":  # a fresh optimizer would have taken a different step
        p2 = {k: v.copy() for k, v in saved_params.items()}
        fresh.step(p2, grads_of(p2, targets))
        state_after = make_optimizer(name, saved_params, lr=0.01)
        state_after.load_state_dict(saved_state)
        p3 = {k: v.copy() for k, v in saved_params.items()}
        state_after.step(p3, grads_of(p3, targets))
        assert not np.allclose(p2["a"], p3["a"])


def test_state_dict_is_plain_arrays_and_checked():
    params, _ = quadratic_problem()
    opt = make_optimizer("adam", params, lr=0.1)
    d = opt.state_dict()
    assert all(isinstance(v, np.ndarray) and v.dtype != object for v in d.values())
    assert "exp_avg:a" in d and "exp_avg_sq:b" in d
    d["exp_avg:a"] = np.zeros((5, 5))
    with pytest.raises(PlaygroundError, match="expected"):
        opt.load_state_dict(d)
    with pytest.raises(PlaygroundError, match="optimizer"):
        make_optimizer("lbfgs", params, lr=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_optimizers(name):
    torch = pytest.importorskip("torch")
    params, targets = quadratic_problem(3)
    tparams = [torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True) for v in params.values()]
    ctor = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.05),
        "momentum": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
        "adagrad": lambda p: torch.optim.Adagrad(p, lr=0.05),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=0.05),
        "adam": lambda p: torch.optim.Adam(p, lr=0.05),
    }[name]
    topt = ctor(tparams)
    opt = make_optimizer(name, params, lr=0.05)
    for step in range(30):
        if step == 15:
            opt.lr = 0.02
            for group in topt.param_groups:
                group["lr"] = 0.02
        grads = grads_of(params, targets)
        opt.step(params, grads)
        for tp, (k, _) in zip(tparams, params.items(), strict=True):
            tp.grad = torch.tensor(grads_of({k: tp.detach().numpy()}, targets)[k])
        topt.step()
    for tp, v in zip(tparams, params.values(), strict=True):
        np.testing.assert_allclose(v, tp.detach().numpy(), rtol=0, atol=1e-12)


def test_clip_by_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == pytest.approx(5.0)
    info = clip_gradients(grads, clip_norm=1.0)
    assert info.norm == pytest.approx(5.0)
    assert info.clipped and info.scale == pytest.approx(1.0 / (5.0 + 1e-6))
    assert global_norm(grads) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0], rtol=1e-6)


def test_no_clip_when_small():
    grads = {"a": np.array([0.3, -0.4])}
    info = clip_gradients(grads, clip_norm=1.0, clip_value=10.0)
    assert not info.clipped and info.scale == 1.0 and info.norm == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["a"], [0.3, -0.4])


def test_clip_by_value_reports_and_clamps():
    grads = {"a": np.array([30.0, -0.5, -12.0])}
    info = clip_gradients(grads, clip_value=10.0)
    assert info.clipped and info.scale == 1.0
    assert info.norm == pytest.approx(math.sqrt(900 + 0.25 + 144))
    np.testing.assert_array_equal(grads["a"], [10.0, -0.5, -10.0])


def test_clip_both_norm_first():
    grads = {"a": np.array([300.0, 400.0])}
    info = clip_gradients(grads, clip_norm=100.0, clip_value=70.0)
    assert info.norm == pytest.approx(500.0) and info.clipped
    assert info.scale == pytest.approx(0.2, rel=1e-6)
    np.testing.assert_allclose(grads["a"], [60.0, 70.0], rtol=1e-6)


def test_non_finite_norm_is_reported_not_applied():
    grads = {"a": np.array([np.inf, 1.0])}
    info = clip_gradients(grads, clip_norm=1.0)
    assert math.isinf(info.norm) and info.scale == 1.0
    assert grads["a"][1] == 1.0


def test_a_norm_measured_by_the_caller_clips_like_one_measured_here():
    rng = np.random.default_rng(0)
    grads = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=5)}
    copy = {k: v.copy() for k, v in grads.items()}
    norm = global_norm(grads)
    measured_here = clip_gradients(grads, clip_norm=0.5, clip_value=0.3)
    given = clip_gradients(copy, clip_norm=0.5, clip_value=0.3, norm=norm)
    assert given == measured_here and given.clipped and given.norm == norm
    for k in grads:
        np.testing.assert_array_equal(copy[k], grads[k])
