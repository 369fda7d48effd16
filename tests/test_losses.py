"""Losses: values from first principles, gradients by central differences, stability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.errors import PlaygroundError
from rnn_core.losses import mse, softmax, softmax_cross_entropy


def test_mse_value_and_gradient():
    pred = np.array([[1.0], [2.0], [4.0]])
    target = np.array([[0.0], [2.0], [1.0]])
    loss, d = mse(pred, target)
    assert loss == pytest.approx((1 + 0 + 9) / 3)
    np.testing.assert_allclose(d, 2 * np.array([[1.0], [0.0], [3.0]]) / 3)
    assert pred[0, 0] == 1.0  # inputs untouched


def test_mse_rejects_mismatched_shapes():
    with pytest.raises(PlaygroundError, match="shape"):
        mse(np.zeros((3, 1)), np.zeros(3))


def test_cross_entropy_by_hand():
    logits = np.array([[[0.0, math.log(3.0)]]])  # probabilities 1/4, 3/4
    loss, d = softmax_cross_entropy(logits, np.array([[1]]))
    assert loss == pytest.approx(-math.log(0.75))
    np.testing.assert_allclose(d, [[[0.25, -0.25]]])


def test_cross_entropy_gradient_matches_differences():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 2, 5))
    targets = rng.integers(0, 5, size=(3, 2))
    _, d = softmax_cross_entropy(logits, targets)
    eps = 1e-6
    for idx in np.ndindex(logits.shape):
        lp, lm = logits.copy(), logits.copy()
        lp[idx] += eps
        lm[idx] -= eps
        num = (softmax_cross_entropy(lp, targets)[0] - softmax_cross_entropy(lm, targets)[0]) / (2 * eps)
        assert d[idx] == pytest.approx(num, abs=1e-8)


def test_cross_entropy_is_mean_over_positions():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 3, 6))
    targets = rng.integers(0, 6, size=(4, 3))
    loss, _ = softmax_cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    nll = [-math.log(p[t, b, targets[t, b]]) for t in range(4) for b in range(3)]
    assert loss == pytest.approx(sum(nll) / 12, rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1000.0, 0.0, -1000.0]], [[-5e5, 5e5, 0.0]]])
    loss, d = softmax_cross_entropy(logits, np.array([[2], [1]]))
    assert math.isfinite(loss) and np.all(np.isfinite(d))
    assert loss == pytest.approx((2000.0 + 0.0) / 2)
    np.testing.assert_allclose(d[0, 0], [0.5, 0.0, -0.5], atol=1e-12)


def test_softmax_temperature_and_stability():
    p = softmax(np.array([1000.0, 1000.0 + math.log(2.0)]))
    np.testing.assert_allclose(p, [1 / 3, 2 / 3])
    cold = softmax(np.array([0.0, 1.0]), temperature=0.01)
    assert cold[1] > 0.999
    hot = softmax(np.array([0.0, 1.0]), temperature=100.0)
    assert abs(hot[0] - 0.5) < 0.01
    with pytest.raises(PlaygroundError):
        softmax(np.zeros(2), temperature=0.0)
