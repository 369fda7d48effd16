"""The cell registry: a cell is its kernels plus one registration, and nothing else names it.

A toy "coupled gate" cell with kernels of its own (written plainly here, not taken from the
built-in cells) is registered and must run through Network's forward, backward and internals,
pass the same gradient check as the built-in cells and match a naive per-step loop. An unknown
cell name must give the error that lists the valid ones.

The toy cell, parameters stacked f, n as PyTorch would (internally n, f, to exercise ``perm``)::

    f = sigmoid(W_if x + b_if + W_hf h + b_hf),   n = tanh(W_in x + b_in + W_hn h + b_hn)
    h' = f*h + (1-f)*n
"""

from __future__ import annotations

import ast
import dataclasses
import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core.cells import (
    CELLS,
    GATE_NAMES,
    CellSpec,
    LayerCache,
    cell_names,
    cell_spec,
    gradients_from_preactivations,
    layer_forward,
    project,
    register,
    to_blocks,
)
from rnn_core.cells.common import _cut
from rnn_core.config import ModelConfig
from rnn_core.errors import PlaygroundError
from rnn_core.network import Network
from tests.test_gradcheck import (
    BPTT,
    FLOOR,
    TOL,
    B,
    D,
    H,
    O,
    T,
    V,
    analytic_gradients,
    max_relative_error,
    numerical_gradients,
)

ROOT = Path(__file__).resolve().parents[1]
TOY = "coupled"
TOY_PERM = (1, 0)  # internal n, f from the parameter order f, n
FORGET_START = 2.0  # the toy's initial f bias in bias_hh, so "remember" is the default


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------- the toy cell


def toy_layer_forward(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None):
    T_, B_, H_ = x.shape[0], x.shape[1], w_hh.shape[1]
    xp = project(x, w_ih, b_ih + b_hh, TOY_PERM, None, ws)  # (2, T, B, H), becomes the gates
    w_t = to_blocks(w_hh, TOY_PERM).transpose(0, 2, 1)  # (2, H, H)
    hs = np.empty((T_ + 1, B_, H_), dtype=w_hh.dtype)
    hs[0] = h0
    for t in range(T_):
        a = xp[:, t] + hs[t] @ w_t  # (2, B, H)
        n, f = np.tanh(a[0]), sigmoid(a[1])
        xp[0, t], xp[1, t] = n, f
        hs[t + 1] = f * hs[t] + (1 - f) * n
    return LayerCache(TOY, nonlinearity, x, hs, gates=xp)


def toy_backward_steps(cache, w_hh, dhs, dh_last, bptt, *, direct_path=True):
    """(dpre (2, T, B, H) internal order n, f; dh0 (B, H)); ``direct_path=False`` is a bug."""
    hs, gates = cache.hs, cache.gates
    T_ = gates.shape[1]
    w = to_blocks(w_hh, TOY_PERM)  # (2, H, H)
    dpre = np.empty_like(gates)
    dh = np.zeros_like(hs[0]) if dh_last is None else dh_last.copy()
    for t in reversed(range(T_)):
        if dhs is not None:
            dh = dh + dhs[t]
        n, f = gates[:, t]
        dpre[0, t] = dh * (1 - f) * (1 - n**2)
        dpre[1, t] = dh * (hs[t] - n) * f * (1 - f)
        through_gates = np.einsum("gbi,gik->bk", dpre[:, t], w)  # (B, H)
        dh = dh * f + through_gates if direct_path else through_gates
        if _cut(t, T_, bptt):
            dh = np.zeros_like(dh)
    return dpre, dh


def toy_layer_backward(cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None):
    dpre, dh0 = toy_backward_steps(cache, w_hh, dhs, dh_last, bptt)
    grads, dx = gradients_from_preactivations(dpre, cache, w_ih, TOY_PERM, need_dx, ws)
    return grads, dx, dh0, None


def toy_init_biases(b_ih, b_hh, config):
    b_hh[: config.hidden_size] = FORGET_START


TOY_SPEC = CellSpec(
    name=TOY,
    gates=2,
    perm=TOY_PERM,
    gate_names="nf",
    layer_forward=toy_layer_forward,
    layer_backward=toy_layer_backward,
    init_biases=toy_init_biases,
)


@pytest.fixture
def toy():
    register(TOY_SPEC)
    try:
        yield TOY_SPEC
    finally:
        CELLS.pop(TOY, None)


def config_for(cell: str, **fields) -> ModelConfig:
    try:
        return ModelConfig(cell=cell, **fields)
    except PlaygroundError:
        # config.py may still check the cell against its own tuple of names: validate every
        # other field on a built-in cell, then swap the name in
        cfg = ModelConfig(cell="rnn", **fields)
        object.__setattr__(cfg, "cell", cell)
        return cfg


def toy_network(head, layers, seed=0, cell=TOY):
    text = head == "text"
    cfg = config_for(
        cell,
        input_size=V if text else D,
        hidden_size=H,
        num_layers=layers,
        output_size=V if text else O,
        head=head,
    )
    rng = np.random.default_rng(seed)
    net = Network(cfg, rng)
    for p in net.params.values():
        p += rng.normal(0.0, 0.4, size=p.shape)
    x = rng.integers(0, V, size=(T, B)) if text else rng.normal(size=(T, B, D))
    state0 = rng.normal(0, 0.5, (layers, B, H))
    out, _, _ = net.forward(x, state0)
    return net, x, state0, rng.normal(size=out.shape)


# --------------------------------------------------------------------------- a registered cell works


def test_registered_cell_gets_its_gates_and_biases_from_init(toy):
    net = Network(config_for(TOY, input_size=D, hidden_size=H, num_layers=2), np.random.default_rng(0))
    for k, d in ((0, D), (1, H)):
        assert net.params[f"rnn.weight_ih_l{k}"].shape == (2 * H, d)
        assert net.params[f"rnn.weight_hh_l{k}"].shape == (2 * H, H)
        np.testing.assert_array_equal(net.params[f"rnn.bias_ih_l{k}"], np.zeros(2 * H))
        np.testing.assert_array_equal(
            net.params[f"rnn.bias_hh_l{k}"], np.r_[np.full(H, FORGET_START), np.zeros(H)]
        )
    assert isinstance(net.zero_state(B), np.ndarray)  # no cell state: one (L, B, H) array


@pytest.mark.parametrize(
    ("head", "bptt", "layers"), list(itertools.product(("regression", "text"), (None, BPTT), (1, 2)))
)
def test_registered_cell_passes_the_gradient_check(toy, head, bptt, layers):
    net, x, state0, upstream = toy_network(head, layers)
    analytic = analytic_gradients(net, x, state0, upstream, bptt)
    numeric = numerical_gradients(net, x, state0, upstream, bptt)
    assert set(analytic) == set(numeric)
    for name in net.params:
        assert np.abs(numeric[name]).max() > FLOOR, name
    worst, where = max_relative_error(analytic, numeric)
    assert worst < TOL, f"max relative error {worst:.2e} in {where}"


def test_gradient_check_catches_a_wrong_registered_kernel(toy):
    def no_direct_path(cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None):
        # the classic slip: forgetting the f*h path of h' = f*h + (1-f)*n in the carried gradient
        dpre, dh0 = toy_backward_steps(cache, w_hh, dhs, dh_last, bptt, direct_path=False)
        grads, dx = gradients_from_preactivations(dpre, cache, w_ih, TOY_PERM, need_dx, ws)
        return grads, dx, dh0, None

    wrong = register(dataclasses.replace(TOY_SPEC, name="coupled_wrong", layer_backward=no_direct_path))
    try:
        net, x, state0, upstream = toy_network("regression", 1, cell=wrong.name)
        worst, where = max_relative_error(
            analytic_gradients(net, x, state0, upstream, None),
            numerical_gradients(net, x, state0, upstream, None),
        )
        assert worst > 1e-3, f"a wrong kernel passed: max relative error {worst:.2e} in {where}"
    finally:
        CELLS.pop(wrong.name)


def test_registered_cell_matches_a_naive_loop_and_shows_its_gates(toy):
    net, x, state0, _ = toy_network("regression", 2, seed=3)
    out, state, cache = net.forward(x, state0)
    p = net.params
    ref, inp, finals = {}, x, []
    for k in range(2):
        h, hs, fs, ns = state0[k], [], [], []
        for t in range(T):
            pre = (
                inp[t] @ p[f"rnn.weight_ih_l{k}"].T
                + p[f"rnn.bias_ih_l{k}"]
                + h @ p[f"rnn.weight_hh_l{k}"].T
                + p[f"rnn.bias_hh_l{k}"]
            )
            f, n = sigmoid(pre[:, :H]), np.tanh(pre[:, H:])  # parameter order f, n
            h = f * h + (1 - f) * n
            hs.append(h)
            fs.append(f)
            ns.append(n)
        inp = np.stack(hs)
        finals.append(h)
        ref |= {f"h{k}": inp[:, 1], f"f{k}": np.stack(fs)[:, 1], f"n{k}": np.stack(ns)[:, 1]}
    got = net.internals(cache, b=1)
    assert list(got) == ["h0", "n0", "f0", "h1", "n1", "f1"]
    for name, want in ref.items():
        np.testing.assert_allclose(got[name], want, rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(out, inp[-1] @ p["head.weight"].T + p["head.bias"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state, np.stack(finals), rtol=1e-12, atol=1e-12)
    assert GATE_NAMES[TOY] == "nf" and TOY in cell_names()


# --------------------------------------------------------------------------- the registry itself


def test_builtin_cells_follow_pytorch_gate_orders():
    assert cell_names()[:3] == ("rnn", "lstm", "gru")
    torch_order = {"rnn": "", "lstm": "ifgo", "gru": "rzn"}  # torch.nn.LSTM/GRU weight layout
    for name, order in torch_order.items():
        spec = cell_spec(name)
        assert spec.gates == max(len(order), 1)
        if order:  # internal block j is the parameters' block perm[j], so it bears that gate's name
            assert "".join(order[j] for j in spec.perm) == spec.gate_names, name
        else:
            assert spec.gate_names == "", name
        assert spec.has_cell_state == (name == "lstm")
    assert dict(GATE_NAMES) == {"rnn": "", "lstm": "ifog", "gru": "rzn"}


@pytest.mark.parametrize("bad", ["gur", "LSTM", "", ["lstm"]])
def test_unknown_cell_names_the_valid_choices(bad):
    with pytest.raises(PlaygroundError, match=r"cell must be one of rnn, lstm, gru.*; got ") as err:
        cell_spec(bad)
    assert repr(bad) in str(err.value)
    with pytest.raises(PlaygroundError, match="rnn, lstm, gru"):
        layer_forward(bad, "tanh", None, None, None, None, None, None)


def test_network_with_an_unknown_cell_says_which_cells_exist():
    cfg = ModelConfig()
    object.__setattr__(cfg, "cell", "gur")
    with pytest.raises(PlaygroundError, match="cell must be one of rnn, lstm, gru"):
        Network(cfg, np.random.default_rng(0))


def test_register_refuses_a_taken_name_and_a_malformed_spec():
    lstm = cell_spec("lstm")
    with pytest.raises(ValueError, match="already registered"):
        register(dataclasses.replace(TOY_SPEC, name="lstm"))
    assert cell_spec("lstm") is lstm
    with pytest.raises(TypeError):
        register("lstm")
    with pytest.raises(ValueError, match="perm"):
        dataclasses.replace(TOY_SPEC, perm=(0, 0))
    with pytest.raises(ValueError, match="gate_names"):
        dataclasses.replace(TOY_SPEC, gate_names="nfz")
    with pytest.raises(ValueError, match="gate_names"):
        dataclasses.replace(TOY_SPEC, gate_names="hf")
    with pytest.raises(ValueError, match="identifier"):
        dataclasses.replace(TOY_SPEC, name="two words")
    assert TOY not in cell_names()


def test_cells_package_does_not_import_the_config():
    code = "import sys, rnn_core.cells; assert 'rnn_core.config' not in sys.modules, 'config imported'"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def cell_name_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant in ``source`` that is a built-in cell's name."""
    names = {"rnn", "lstm", "gru"}
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    ]


def test_network_and_init_never_test_a_cell_name():
    assert cell_name_literals('if c.cell == "lstm":\n    x = f"rnn.w"\n') == [(1, "lstm")]  # it can fail
    for rel in ("rnn_core/network.py", "rnn_core/init.py"):
        source = (ROOT / rel).read_text()
        assert cell_name_literals(source) == [], rel
        for name in ("rnn", "lstm", "gru"):
            assert f'"{name}"' not in source and f"'{name}'" not in source, (rel, name)
