"""Gradient checks of Network.backward: central differences, float64, random upstream gradient.

The scalar checked is ``L = sum(R * output)`` with a fixed random ``R``, so every output element
carries a different weight. The differences use the five-point stencil. Every element of
every parameter, of the float inputs and of the initial state is perturbed.

For truncated BPTT the reference function is the same network run chunk by chunk (chunks
aligned to the end of the sequence), where each chunk after the first starts from a state that
was computed once at the unperturbed point: a constant, exactly what ``detach()`` means. Its
derivative is the truncated gradient.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.parity import perturbed_network

EPS = 1e-3  # with the five-point stencil below the error is O(EPS^4), far under TOL
TOL = 1e-6
FLOOR = 1e-4  # gradients below this are compared absolutely (finite differences are ~1e-12 exact)

T, B, D, H, O, V = 5, 2, 2, 3, 2, 4
BPTT = 2  # chunks [0], [1, 2], [3, 4]

CASES = [
    (cell, act, head, bptt, layers)
    for cell, act in [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
    for head, bptt, layers in itertools.product(("regression", "text"), (None, BPTT), (1, 2))
]


def make_case(cell, act, head, layers, seed=0):
    net, rng = perturbed_network(cell, act, head, layers, sizes=(D, H, V, O), scale=0.4, seed=seed)
    assert all(np.all(p != 0) for name, p in net.params.items() if "bias" in name)
    text = head == "text"
    x = rng.integers(0, V, size=(T, B)) if text else rng.normal(size=(T, B, D))
    shape = (layers, B, H)
    if cell == "lstm":
        state0 = (rng.normal(0, 0.5, shape), rng.normal(0, 0.5, shape))
    else:
        state0 = rng.normal(0, 0.5, shape)
    if act == "relu":
        state0 = np.abs(state0)
    out, _, _ = net.forward(x, state0)
    upstream = rng.normal(size=out.shape)
    return net, x, state0, upstream


def chunks(bptt):
    if bptt is None:
        return [(0, T)]
    cuts = [t for t in range(1, T) if (T - t) % bptt == 0]
    bounds = [0, *cuts, T]
    return list(itertools.pairwise(bounds))


def objective(net, x, state0, upstream, bptt, base_states):
    """sum(upstream * output) of the chunked network; later chunks start from base_states."""
    outs = []
    for j, (a, b) in enumerate(chunks(bptt)):
        s = state0 if j == 0 else base_states[j]
        out, _, _ = net.forward(x[a:b], s, cache=False)
        outs.append(out)
    out = outs[-1] if net.config.head == "regression" else np.concatenate(outs)
    return float(np.sum(upstream * out))


def base_chunk_states(net, x, state0, bptt):
    states = [None]
    s = state0
    for a, b in chunks(bptt)[:-1]:
        _, s, _ = net.forward(x[a:b], s, cache=False)
        states.append(s)
    return states


def state_arrays(state0):
    return {"h0": state0[0], "c0": state0[1]} if isinstance(state0, tuple) else {"h0": state0}


def numerical_gradients(net, x, state0, upstream, bptt):
    base = base_chunk_states(net, x, state0, bptt)
    arrays = dict(net.params)
    if x.dtype.kind == "f":
        arrays["x"] = x
    arrays.update(state_arrays(state0))
    numeric = {}
    for name, arr in arrays.items():
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            f = {}
            for step in (-2, -1, 1, 2):
                arr[idx] = old + step * EPS
                f[step] = objective(net, x, state0, upstream, bptt, base)
            arr[idx] = old
            g[idx] = (8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * EPS)
        numeric[name] = g
    return numeric


def analytic_gradients(net, x, state0, upstream, bptt):
    _, _, cache = net.forward(x, state0)
    grads, dx, dstate0 = net.backward(upstream, cache, bptt=bptt)
    result = dict(grads)
    if dx is not None:
        result["x"] = dx
    result.update(state_arrays(dstate0))
    return result


def max_relative_error(analytic, numeric):
    """Largest |a - n| / max(|a|, |n|, FLOOR) over all arrays, and the array it occurs in."""
    worst, where = 0.0, None
    for name, n in numeric.items():
        a = analytic[name]
        assert a.shape == n.shape, name
        err = np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), FLOOR)
        if err.max() > worst:
            worst, where = float(err.max()), name
    return worst, where


@pytest.mark.parametrize(("cell", "act", "head", "bptt", "layers"), CASES)
def test_gradients_match_central_differences(cell, act, head, bptt, layers):
    net, x, state0, upstream = make_case(cell, act, head, layers)
    analytic = analytic_gradients(net, x, state0, upstream, bptt)
    numeric = numerical_gradients(net, x, state0, upstream, bptt)
    assert set(analytic) == set(numeric)
    # the check must not be vacuous: every parameter gets some gradient
    for name in net.params:
        assert np.abs(numeric[name]).max() > FLOOR, name
    worst, where = max_relative_error(analytic, numeric)
    assert worst < TOL, f"max relative error {worst:.2e} in {where}"


def test_relu_case_stays_away_from_the_kink():
    # finite differences across relu's kink would be meaningless; the fixed seed keeps every
    # pre-activation 20 * EPS away from 0 (checked through a naive recomputation)
    for head, layers in itertools.product(("regression", "text"), (1, 2)):
        net, x, state0, _ = make_case("rnn", "relu", head, layers)
        p = net.params
        inp = np.eye(V)[x] if head == "text" else x
        for k in range(layers):
            h = state0[k]
            hs = []
            for t in range(T):
                pre = (
                    inp[t] @ p[f"rnn.weight_ih_l{k}"].T
                    + p[f"rnn.bias_ih_l{k}"]
                    + h @ p[f"rnn.weight_hh_l{k}"].T
                    + p[f"rnn.bias_hh_l{k}"]
                )
                assert np.abs(pre).min() > 20 * EPS, np.abs(pre).min()
                h = np.maximum(pre, 0)
                hs.append(h)
            inp = np.stack(hs)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_check_catches_wrong_gradients(cell):
    net, x, state0, upstream = make_case(cell, "tanh", "text", 1)
    numeric = numerical_gradients(net, x, state0, upstream, None)
    # truncating when full BPTT was asked for is the classic mistake; it must be caught
    wrong = analytic_gradients(net, x, state0, upstream, 1)
    assert max_relative_error(wrong, numeric)[0] > 1e-3
    # so must a single element off by a relative 1e-5
    right = analytic_gradients(net, x, state0, upstream, None)
    assert max_relative_error(right, numeric)[0] < TOL
    w = right["rnn.weight_hh_l0"]
    w[0, 0] += 1e-5 * max(abs(w[0, 0]), FLOOR)
    worst, where = max_relative_error(right, numeric)
    assert worst > TOL and where == "rnn.weight_hh_l0"
