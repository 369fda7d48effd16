"""Weight decay for every optimizer and ``adamw``: PyTorch parity, closed forms, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.errors import PlaygroundError
from rnn_core.optim import OPTIMIZER_NAMES, make_optimizer
from tests.parity import assert_close, torch_optimizer

STEPS = 50
LR_CHANGE_AT = 25
LR, LATER_LR = 0.05, 0.02


def random_params(seed=0):
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(size=(4, 3)), "b": rng.normal(size=5), "k": rng.normal(size=(2, 3, 2))}


def random_grads(params, seed=1):
    rng = np.random.default_rng(seed)
    return [{k: rng.normal(size=v.shape) for k, v in params.items()} for _ in range(STEPS)]


def copy(arrays):
    return {k: v.copy() for k, v in arrays.items()}


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("name", ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"])
def test_every_step_matches_torch(name, weight_decay):
    torch = pytest.importorskip("torch")
    params = random_params()
    grads = random_grads(params)
    tparams = {k: torch.tensor(v.copy(), dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    plist = list(tparams.values())
    topt = torch_optimizer(torch, name, plist, LR, weight_decay)
    opt = make_optimizer(name, params, lr=LR, weight_decay=weight_decay)
    for t, g in enumerate(grads):
        if t == LR_CHANGE_AT:
            opt.lr = LATER_LR
            for group in topt.param_groups:
                group["lr"] = LATER_LR
        passed = copy(g)
        opt.step(params, passed)
        assert_close(passed, g, atol=0.0, what=f"{name}: the caller's gradients after step {t + 1}")
        for k, tp in tparams.items():
            tp.grad = torch.from_numpy(g[k].copy())
        topt.step()
        theirs = {k: tp.detach().numpy() for k, tp in tparams.items()}
        assert_close(params, theirs, atol=1e-8, what=f"{name} weight_decay={weight_decay} step {t + 1}")


def test_sgd_decay_under_zero_gradient_is_geometric():
    lr, wd, n = 0.1, 0.3, 20
    params = random_params()
    start = copy(params)
    opt = make_optimizer("sgd", params, lr=lr, weight_decay=wd)
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(n):
        opt.step(params, zeros)
    expected = {k: v * (1.0 - lr * wd) ** n for k, v in start.items()}
    assert_close(params, expected, atol=0.0, rtol=1e-12, what="sgd under zero gradient")
    assert all(np.all(np.abs(params[k]) < np.abs(start[k])) for k in params)


def test_adamw_decay_under_zero_gradient_is_one_factor_per_step():
    lr, wd = 0.01, 0.5
    params = random_params()
    opt = make_optimizer("adamw", params, lr=lr, weight_decay=wd)
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    for _ in range(5):
        before = copy(params)
        opt.step(params, zeros)
        # Adam's moments stay 0, so its own step is exactly 0 and only the shrink acts
        assert_close(params, {k: v * (1.0 - lr * wd) for k, v in before.items()}, atol=0.0)


def test_adam_decay_is_coupled_unlike_adamw():
    # L2 decay goes through Adam's normalisation: under zero gradient the first step is
    # lr * wd p / (|wd p| + eps), about lr * sign(p), not a shrink by a factor
    lr, wd = 0.01, 0.5
    params = random_params()
    start = copy(params)
    opt = make_optimizer("adam", params, lr=lr, weight_decay=wd)
    opt.step(params, {k: np.zeros_like(v) for k, v in params.items()})
    expected = {k: v - lr * np.sign(v) for k, v in start.items()}
    assert_close(params, expected, atol=1e-8, what="adam with L2 decay, zero gradient")


@pytest.mark.parametrize("name", ["sgd", "momentum"])
def test_zero_decay_is_bit_identical_to_plain_updates(name):
    lr = 0.07
    params = random_params()
    reference = copy(params)
    buffers = {k: np.zeros_like(v) for k, v in params.items()}
    opt = make_optimizer(name, params, lr=lr, weight_decay=0.0)
    for t, g in enumerate(random_grads(params)):
        opt.step(params, g)
        for k, p in reference.items():
            if name == "sgd":
                p -= lr * g[k]
            else:
                buffers[k] = g[k].copy() if t == 0 else 0.9 * buffers[k] + g[k]
                p -= lr * buffers[k]
        assert_close(params, reference, atol=0.0, what=f"{name} step {t + 1}")


def test_weight_decay_is_an_attribute_and_not_state():
    params = random_params()
    opt = make_optimizer("adamw", params, lr=0.1, weight_decay=0.2)
    zeros = {k: np.zeros_like(v) for k, v in params.items()}
    opt.weight_decay = 0.0
    before = copy(params)
    opt.step(params, zeros)
    assert_close(params, before, atol=0.0, what="adamw with decay switched off")
    opt.weight_decay = 0.2
    opt.step(params, zeros)
    assert not np.allclose(params["w"], before["w"])
    saved = opt.state_dict()
    assert not any("decay" in key for key in saved)
    other = make_optimizer("adamw", copy(params), lr=0.1, weight_decay=0.3)
    other.load_state_dict(saved)
    assert other.weight_decay == 0.3


@pytest.mark.parametrize("bad", [-0.01, math.nan, math.inf, "lots"])
@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_invalid_weight_decay_is_rejected(name, bad):
    with pytest.raises(PlaygroundError, match="weight_decay"):
        make_optimizer(name, random_params(), lr=0.1, weight_decay=bad)


def test_optimizer_names_come_from_the_registry():
    assert OPTIMIZER_NAMES == ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw")
    for name in OPTIMIZER_NAMES:
        assert make_optimizer(name, random_params(), lr=0.1).name == name
    with pytest.raises(PlaygroundError, match="adamw"):
        make_optimizer("lbfgs", random_params(), lr=0.1)
