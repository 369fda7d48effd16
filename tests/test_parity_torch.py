"""Parity with torch.nn.RNN/LSTM/GRU + nn.Linear in float64, weights copied one to one, and
in float32 against PyTorch in float32 at float32 tolerances.

Text models get one-hot float inputs on the PyTorch side (what our id lookup means).
Truncated BPTT on the PyTorch side is the textbook recipe: run chunks aligned to the end of the
sequence and ``detach()`` the state between them. (PyTorch has no sigmoid RNN; that cell is
covered by the gradient checks.)
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnn_core.losses import mse, softmax_cross_entropy
from rnn_core.optim import make_optimizer
from tests.parity import assert_close, perturbed_network

torch = pytest.importorskip("torch")

T, B, D, H, V = 7, 3, 2, 5, 6
CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def build(cell, act, head, layers, seed=0, dtype="float64"):
    return perturbed_network(cell, act, head, layers, sizes=(D, H, V, 1), scale=0.2, seed=seed, dtype=dtype)


def torch_twin(net):
    c = net.config
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[c.cell]
    kw = {"nonlinearity": c.nonlinearity} if c.cell == "rnn" else {}
    tdtype = torch.float32 if c.dtype == "float32" else torch.float64
    rnn = kind(c.input_size, c.hidden_size, c.num_layers, **kw).to(tdtype)
    head = torch.nn.Linear(c.hidden_size, c.output_size).to(tdtype)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            p.copy_(torch.from_numpy(net.params[f"rnn.{name}"]))
        head.weight.copy_(torch.from_numpy(net.params["head.weight"]))
        head.bias.copy_(torch.from_numpy(net.params["head.bias"]))
    return rnn, head


def torch_params(rnn, head):
    d = {f"rnn.{k}": v for k, v in rnn.named_parameters()}
    d["head.weight"], d["head.bias"] = head.weight, head.bias
    return d


def torch_input(net, x):
    tdtype = torch.float32 if net.config.dtype == "float32" else torch.float64
    if net.config.head == "text":
        return torch.nn.functional.one_hot(torch.from_numpy(x), net.config.input_size).to(tdtype)
    return torch.from_numpy(x.copy()).to(tdtype)


def chunk_bounds(bptt):
    if bptt is None:
        return [(0, T)]
    cuts = [t for t in range(1, T) if (T - t) % bptt == 0]
    return list(itertools.pairwise([0, *cuts, T]))


def torch_forward(net, rnn, head, xt, state, bptt):
    """Chunked forward with detached state at the cuts; returns (output, final state)."""
    outs = []
    for j, (a, b) in enumerate(chunk_bounds(bptt)):
        if j > 0:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        y, state = rnn(xt[a:b], state)
        outs.append(y)
    y = torch.cat(outs)
    out = head(y[-1]) if net.config.head == "regression" else head(y)
    return out, state


def random_inputs(net, rng):
    if net.config.head == "text":
        return rng.integers(0, V, size=(T, B))
    return rng.normal(size=(T, B, D))


def random_state(net, rng):
    shape = (net.config.num_layers, B, H)
    if net.config.cell == "lstm":
        return (rng.normal(0, 0.5, shape), rng.normal(0, 0.5, shape))
    return rng.normal(0, 0.5, shape)


def against_torch(net, x, s0, upstream_for, bptt):
    """One forward and backward pass of ``net`` and of its PyTorch twin from the same inputs
    ``x``, state ``s0`` and upstream gradient (``upstream_for(output shape)``, drawn after the
    forward pass): ``(ours, theirs, dx, grads)``, where ``ours`` and ``theirs`` hold the outputs,
    final states, initial-state gradients, input gradient (float inputs) and every parameter's
    gradient by name, ``dx`` is the engine's input gradient and ``grads`` its parameter gradients."""
    cell, head = net.config.cell, net.config.head
    out, state, cache = net.forward(x, s0)
    upstream = upstream_for(out.shape)
    grads, dx, ds0 = net.backward(upstream, cache, bptt=bptt)

    rnn, lin = torch_twin(net)
    xt = torch_input(net, x).requires_grad_(head == "regression")
    if cell == "lstm":
        st = tuple(torch.tensor(s, requires_grad=True) for s in s0)
    else:
        st = torch.tensor(s0, requires_grad=True)
    tout, tstate = torch_forward(net, rnn, lin, xt, st, bptt)
    (tout * torch.from_numpy(upstream)).sum().backward()

    ours, theirs = {"output": out}, {"output": tout.detach()}
    if cell == "lstm":
        ours.update(h_T=state[0], c_T=state[1], dh0=ds0[0], dc0=ds0[1])
        theirs.update(h_T=tstate[0].detach(), c_T=tstate[1].detach(), dh0=st[0].grad, dc0=st[1].grad)
    else:
        ours.update(h_T=state, dh0=ds0)
        theirs.update(h_T=tstate.detach(), dh0=st.grad)
    if head == "regression":
        ours["dx"], theirs["dx"] = dx, xt.grad
    for name, p in torch_params(rnn, lin).items():
        ours[f"d {name}"], theirs[f"d {name}"] = grads[name], p.grad
    return ours, {k: np.asarray(v) for k, v in theirs.items()}, dx, grads


@pytest.mark.parametrize(
    ("cell", "act", "head", "layers", "bptt"),
    [
        (c, a, h, n, k)
        for (c, a), h, n, k in itertools.product(CELLS, ("regression", "text"), (1, 2), (None, 3))
    ],
)
def test_outputs_and_gradients_equal_torch(cell, act, head, layers, bptt):
    net, rng = build(cell, act, head, layers)
    x = random_inputs(net, rng)
    s0 = random_state(net, rng)
    ours, theirs, dx, _ = against_torch(net, x, s0, lambda shape: rng.normal(size=shape), bptt)
    assert head == "regression" or dx is None
    assert_close(ours, theirs, atol=1e-9, rtol=1e-9, what=f"{cell}/{act}/{head}/L{layers}/bptt={bptt}")


def task(net, rng):
    """A fixed batch and its targets."""
    x = random_inputs(net, rng)
    if net.config.head == "text":
        return x, rng.integers(0, V, size=(T, B))
    return x, np.sin(x.sum(axis=(0, 2)))[:, None]


def our_loss(net, out, y):
    return mse(out, y) if net.config.head == "regression" else softmax_cross_entropy(out, y)


def torch_loss(net, out, y):
    if net.config.head == "regression":
        return torch.nn.functional.mse_loss(out, torch.from_numpy(y))
    return torch.nn.functional.cross_entropy(out.reshape(-1, V), torch.from_numpy(y).reshape(-1))


TRAINING = [
    ("rnn", "tanh", "regression", 1, "sgd", 0.1, None),
    ("rnn", "relu", "text", 2, "adam", 0.01, 3),
    ("lstm", "tanh", "text", 1, "sgd", 0.5, None),
    ("lstm", "tanh", "regression", 2, "adam", 0.01, 3),
    ("gru", "tanh", "text", 2, "sgd", 0.5, 3),
    ("gru", "tanh", "regression", 1, "adam", 0.01, None),
    ("lstm", "tanh", "text", 1, "momentum", 0.1, None),
    ("gru", "tanh", "text", 1, "adagrad", 0.1, None),
    ("rnn", "tanh", "text", 1, "rmsprop", 0.01, 3),
]


@pytest.mark.parametrize(("cell", "act", "head", "layers", "opt", "lr", "bptt"), TRAINING)
def test_fifty_steps_track_torch(cell, act, head, layers, opt, lr, bptt):
    net, rng = build(cell, act, head, layers, seed=1)
    x, y = task(net, rng)
    rnn, lin = torch_twin(net)
    tparams = list(torch_params(rnn, lin).values())
    topt = {
        "sgd": lambda: torch.optim.SGD(tparams, lr=lr),
        "momentum": lambda: torch.optim.SGD(tparams, lr=lr, momentum=0.9),
        "adagrad": lambda: torch.optim.Adagrad(tparams, lr=lr),
        "rmsprop": lambda: torch.optim.RMSprop(tparams, lr=lr),
        "adam": lambda: torch.optim.Adam(tparams, lr=lr),
    }[opt]()
    optimizer = make_optimizer(opt, net.params, lr=lr)
    xt = torch_input(net, x)
    ours, theirs = [], []
    for _ in range(50):
        out, _, cache = net.forward(x)
        loss, dout = our_loss(net, out, y)
        grads, _, _ = net.backward(dout, cache, bptt=bptt)
        optimizer.step(net.params, grads)
        ours.append(loss)

        topt.zero_grad()
        tout, _ = torch_forward(net, rnn, lin, xt, None, bptt)
        tloss = torch_loss(net, tout, y)
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    ours, theirs = np.array(ours), np.array(theirs)
    assert theirs[-1] < theirs[0]  # the run actually learns something
    worst = int(np.argmax(np.abs(ours - theirs)))
    assert np.abs(ours - theirs).max() < 1e-8, f"step {worst}: {ours[worst]!r} vs torch {theirs[worst]!r}"


# --------------------------------------------------------------------------- float32

# float32 rounding is about 6e-8 relative; a few dozen operations deep, with both sides summing
# in their own orders, 1e-5 of the values' scale is a float32 tolerance, a thousand times looser
# than float64's 1e-9 and still far tighter than any real bug (a wrong sign, gate or step).
F32_TOL = 2e-5


@pytest.mark.parametrize(
    ("cell", "act", "head", "layers", "bptt"),
    [
        (c, a, h, n, k)
        for (c, a), h, n, k in itertools.product(CELLS, ("regression", "text"), (1, 2), (None, 3))
    ],
)
def test_float32_outputs_and_gradients_equal_torch_float32(cell, act, head, layers, bptt):
    net, rng = build(cell, act, head, layers, dtype="float32")
    x = random_inputs(net, rng)
    if head == "regression":
        x = x.astype(np.float32)
    s0 = random_state(net, rng)
    s0 = tuple(s.astype(np.float32) for s in s0) if cell == "lstm" else s0.astype(np.float32)
    ours, theirs, _, grads = against_torch(
        net, x, s0, lambda shape: rng.normal(size=shape).astype(np.float32), bptt
    )
    # the fast path stays in float32 throughout: nothing comes back upcast
    assert ours["output"].dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    scale = max(float(np.abs(v).max()) for v in theirs.values())
    assert_close(
        ours, theirs, atol=F32_TOL * scale, rtol=F32_TOL, what=f"float32 {cell}/{act}/{head}/L{layers}"
    )


@pytest.mark.parametrize(("cell", "act", "head", "layers", "opt", "lr", "bptt"), TRAINING[:6])
def test_float32_twenty_steps_track_torch_float32(cell, act, head, layers, opt, lr, bptt):
    net, rng = build(cell, act, head, layers, seed=1, dtype="float32")
    x, y = task(net, rng)
    if head == "regression":
        x, y = x.astype(np.float32), y.astype(np.float32)
    rnn, lin = torch_twin(net)
    tparams = list(torch_params(rnn, lin).values())
    topt = (torch.optim.SGD if opt == "sgd" else torch.optim.Adam)(tparams, lr=lr)
    optimizer = make_optimizer(opt, net.params, lr=lr)
    xt = torch_input(net, x)
    ours, theirs = [], []
    for _ in range(20):
        out, _, cache = net.forward(x)
        loss, dout = our_loss(net, out, y)
        optimizer.step(net.params, net.backward(dout, cache, bptt=bptt)[0])
        ours.append(loss)
        topt.zero_grad()
        tout, _ = torch_forward(net, rnn, lin, xt, None, bptt)
        tloss = torch_loss(net, tout, y)
        tloss.backward()
        topt.step()
        theirs.append(tloss.item())
    ours, theirs = np.array(ours), np.array(theirs)
    assert theirs[-1] < theirs[0]
    assert all(p.dtype == np.float32 for p in net.params.values())
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
