"""Invariants of the engine: a plain per-step loop equals the fast path, truncation k >= T is
full BPTT, three chunks with carried state equal one pass, a tiny model memorises a string,
plus initialisation, dtypes and the internals the dashboard reads."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import ModelConfig
from rnn_core.errors import PlaygroundError
from rnn_core.losses import softmax_cross_entropy
from rnn_core.network import Network
from rnn_core.optim import make_optimizer
from tests.parity import assert_close, perturbed_network

T, B, D, H, V = 6, 3, 2, 4, 5
CELLS = [("rnn", "tanh"), ("rnn", "sigmoid"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def build(cell, act="tanh", head="regression", layers=1, seed=0, hidden=H, dtype="float64"):
    sizes = (D, hidden, V, 1)
    return perturbed_network(cell, act, head, layers, sizes=sizes, scale=0.3, seed=seed, dtype=dtype)


def naive_forward(net, x, state0):
    """The equations one sample-batch step at a time, with one-hot inputs for text."""
    c, p = net.config, net.params
    inp = np.eye(c.input_size)[x] if c.head == "text" else x
    h_all, c_all, gates = [], [], []
    for k in range(c.num_layers):
        wi, wh = p[f"rnn.weight_ih_l{k}"], p[f"rnn.weight_hh_l{k}"]
        bi, bh = p[f"rnn.bias_ih_l{k}"], p[f"rnn.bias_hh_l{k}"]
        h = state0[0][k] if c.cell == "lstm" else state0[k]
        cc = state0[1][k] if c.cell == "lstm" else None
        hs, cs, gs = [], [], []
        for t in range(inp.shape[0]):
            xt = inp[t]
            if c.cell == "rnn":
                pre = xt @ wi.T + bi + h @ wh.T + bh
                h = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0)}[c.nonlinearity](
                    pre
                )
                gs.append({})
            elif c.cell == "lstm":
                pre = xt @ wi.T + bi + h @ wh.T + bh
                i, f, g, o = np.split(pre, 4, axis=1)
                i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
                cc = f * cc + i * g
                h = o * np.tanh(cc)
                cs.append(cc)
                gs.append({"i": i, "f": f, "g": g, "o": o})
            else:
                xi = np.split(xt @ wi.T + bi, 3, axis=1)
                hh = np.split(h @ wh.T + bh, 3, axis=1)
                r = sigmoid(xi[0] + hh[0])
                z = sigmoid(xi[1] + hh[1])
                n = np.tanh(xi[2] + r * hh[2])
                h = (1 - z) * n + z * h
                gs.append({"r": r, "z": z, "n": n})
            hs.append(h)
        inp = np.stack(hs)
        h_all.append(inp)
        c_all.append(np.stack(cs) if cs else None)
        gates.append(gs)
    w, b = p["head.weight"], p["head.bias"]
    out = inp[-1] @ w.T + b if c.head == "regression" else inp @ w.T + b
    return out, h_all, c_all, gates


def random_state(net, rng, batch=B):
    shape = (net.config.num_layers, batch, net.config.hidden_size)
    if net.config.cell == "lstm":
        return (rng.normal(0, 0.5, shape), rng.normal(0, 0.5, shape))
    return np.abs(rng.normal(0, 0.5, shape))


def inputs(net, rng, steps=T):
    if net.config.head == "text":
        return rng.integers(0, V, size=(steps, B))
    return rng.normal(size=(steps, B, D))


@pytest.mark.parametrize(("cell", "act"), CELLS)
@pytest.mark.parametrize("head", ["regression", "text"])
@pytest.mark.parametrize("layers", [1, 2, 3])
def test_naive_loop_equals_fast_path(cell, act, head, layers):
    net, rng = build(cell, act, head, layers)
    x = inputs(net, rng)
    s0 = random_state(net, rng)
    out, state, cache = net.forward(x, s0)
    ref_out, h_all, c_all, gates = naive_forward(net, x, s0)
    ours = {"out": out, **net.internals(cache, b=1)}
    ref = {"out": ref_out}
    for k in range(layers):
        ref[f"h{k}"] = h_all[k][:, 1]
        if cell == "lstm":
            ref[f"c{k}"] = c_all[k][:, 1]
        for name in gates[k][0]:
            ref[f"{name}{k}"] = np.stack([g[name][1] for g in gates[k]])
    assert_close(ours, ref, atol=1e-12, rtol=1e-12)
    h_final = state[0] if cell == "lstm" else state
    np.testing.assert_allclose(h_final, np.stack([h[-1] for h in h_all]), atol=1e-12)


def test_naive_bptt_equals_fast_path_for_vanilla_rnn():
    # min-char-rnn style BPTT written out by hand for a tanh RNN with a regression head
    net, rng = build("rnn", "tanh", "regression", 1)
    p = net.params
    x = inputs(net, rng)
    h0 = rng.normal(size=(1, B, H))
    out, _, cache = net.forward(x, h0)
    dout = rng.normal(size=out.shape)
    grads, dx, dh0 = net.backward(dout, cache)

    wi, wh, w = p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], p["head.weight"]
    hs = [h0[0]]
    for t in range(T):
        hs.append(np.tanh(x[t] @ wi.T + p["rnn.bias_ih_l0"] + hs[-1] @ wh.T + p["rnn.bias_hh_l0"]))
    ref = {k: np.zeros_like(v) for k, v in p.items()}
    ref["head.weight"] = dout.T @ hs[-1]
    ref["head.bias"] = dout.sum(0)
    ref_dx = np.zeros_like(x)
    dh = dout @ w
    for t in reversed(range(T)):
        dpre = dh * (1 - hs[t + 1] ** 2)
        ref["rnn.weight_ih_l0"] += dpre.T @ x[t]
        ref["rnn.weight_hh_l0"] += dpre.T @ hs[t]  # dL/dW uses h_{t-1}, not W @ h
        ref["rnn.bias_ih_l0"] += dpre.sum(0)
        ref["rnn.bias_hh_l0"] += dpre.sum(0)
        ref_dx[t] = dpre @ wi
        dh = dpre @ wh
    assert_close({**grads, "dx": dx, "dh0": dh0[0]}, {**ref, "dx": ref_dx, "dh0": dh}, atol=1e-12)


@pytest.mark.parametrize(("cell", "act"), CELLS)
@pytest.mark.parametrize("head", ["regression", "text"])
def test_truncation_at_least_T_is_full_bptt(cell, act, head):
    net, rng = build(cell, act, head, 2)
    x = inputs(net, rng)
    out, _, cache = net.forward(x, random_state(net, rng))
    dout = rng.normal(size=out.shape)
    full = net.backward(dout, cache)
    for k in (T, T + 5):
        trunc = net.backward(dout, cache, bptt=k)
        assert_close(trunc[0], full[0], atol=0)
    shorter = net.backward(dout, cache, bptt=T - 1)
    assert not np.allclose(shorter[0]["rnn.weight_hh_l0"], full[0]["rnn.weight_hh_l0"])


@pytest.mark.parametrize(("cell", "act"), CELLS)
def test_many_to_one_gets_exactly_k_steps(cell, act):
    # with bptt=k the input gradient is nonzero at exactly the last k steps
    net, rng = build(cell, act, "regression", 1)
    x = inputs(net, rng)
    out, _, cache = net.forward(x, random_state(net, rng))
    for k in (1, 2, 4):
        _, dx, ds = net.backward(np.ones_like(out), cache, bptt=k)
        touched = np.abs(dx).sum(axis=(1, 2)) > 0
        assert touched.tolist() == [False] * (T - k) + [True] * k
        assert np.all(np.asarray(ds[0] if cell == "lstm" else ds) == 0)


@pytest.mark.parametrize(("cell", "act"), CELLS)
@pytest.mark.parametrize("layers", [1, 2])
def test_three_chunks_with_carried_state_equal_one_pass(cell, act, layers):
    net, rng = build(cell, act, "text", layers)
    k = 4
    x = inputs(net, rng, steps=3 * k)
    s0 = random_state(net, rng)
    out, state, cache = net.forward(x, s0)
    dout = rng.normal(size=out.shape)
    grads, _, ds0 = net.backward(dout, cache, bptt=k)  # cuts exactly at the chunk boundaries

    s = s0
    outs = []
    total = {name: np.zeros_like(v) for name, v in net.params.items()}
    first_ds0 = None
    for j in range(3):
        o, s, c = net.forward(x[j * k : (j + 1) * k], s)
        outs.append(o)
        g, _, d = net.backward(dout[j * k : (j + 1) * k], c)
        for name in total:
            total[name] += g[name]
        if j == 0:
            first_ds0 = d
    assert_close({"out": np.concatenate(outs)}, {"out": out}, atol=1e-13)
    if cell == "lstm":
        assert_close({"h": s[0], "c": s[1]}, {"h": state[0], "c": state[1]}, atol=1e-13)
        assert_close({"dh0": first_ds0[0], "dc0": first_ds0[1]}, {"dh0": ds0[0], "dc0": ds0[1]}, atol=1e-13)
    else:
        assert_close({"h": s, "dh0": first_ds0}, {"h": state, "dh0": ds0}, atol=1e-13)
    assert_close(total, grads, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_tiny_model_memorises_a_repeated_string(cell):
    text = "hello world, " * 3
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text])
    x = np.stack([ids[:-1], ids[:-1]], axis=1)  # (T, 2)
    y = np.stack([ids[1:], ids[1:]], axis=1)
    cfg = ModelConfig(cell=cell, input_size=len(vocab), hidden_size=24, output_size=len(vocab), head="text")
    net = Network(cfg, np.random.default_rng(0))
    opt = make_optimizer("adam", net.params, lr=0.03)
    first = None
    for _ in range(300):
        out, _, cache = net.forward(x)
        loss, dout = softmax_cross_entropy(out, y)
        first = loss if first is None else first
        grads, _, _ = net.backward(dout, cache)
        opt.step(net.params, grads)
    assert first > 2.0
    assert loss < 0.02


def test_init_schemes():
    cfg = ModelConfig(cell="lstm", input_size=3, hidden_size=6, num_layers=2, output_size=2, forget_bias=1.5)
    p = Network(cfg, np.random.default_rng(5)).params
    names = [f"rnn.{w}_l{k}" for k in range(2) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert list(p) == [*names, "head.weight", "head.bias"]
    assert p["rnn.weight_ih_l0"].shape == (24, 3) and p["rnn.weight_ih_l1"].shape == (24, 6)
    assert p["head.weight"].shape == (2, 6)
    limit = np.sqrt(6 / (6 + 3))
    assert np.abs(p["rnn.weight_ih_l0"]).max() <= limit
    assert np.abs(p["rnn.weight_ih_l0"]).max() > 0.7 * limit
    np.testing.assert_array_equal(p["rnn.bias_ih_l0"][6:12], 1.5)
    assert np.count_nonzero(p["rnn.bias_ih_l0"]) == 6 and not p["rnn.bias_hh_l0"].any()
    assert not p["head.bias"].any()

    orth = Network(ModelConfig(cell="gru", hidden_size=5, init="orthogonal"), np.random.default_rng(1)).params
    for blk in np.split(orth["rnn.weight_hh_l0"], 3):
        np.testing.assert_allclose(blk @ blk.T, np.eye(5), atol=1e-12)

    uni = Network(ModelConfig(hidden_size=40, init="uniform"), np.random.default_rng(2)).params
    for name in ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "head.weight"):
        assert uni[name].min() >= 0 and uni[name].max() <= 1 and uni[name].std() > 0.2


def test_same_seed_same_numbers_and_float32():
    cfg = ModelConfig(cell="gru", input_size=2, hidden_size=4)
    a = Network(cfg, np.random.default_rng(7)).params
    b = Network(cfg, np.random.default_rng(7)).params
    c = Network(cfg, np.random.default_rng(8)).params
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["rnn.weight_hh_l0"], c["rnn.weight_hh_l0"])

    for cell in ("rnn", "lstm", "gru"):
        n64, rng = build(cell, layers=2)
        n32, _ = build(cell, layers=2, dtype="float32")
        x = rng.normal(size=(T, B, D))
        assert all(v.dtype == np.float32 for v in n32.params.values())
        o64, _, c64 = n64.forward(x)
        o32, s32, c32 = n32.forward(x)
        assert o32.dtype == np.float32 and (s32[0] if cell == "lstm" else s32).dtype == np.float32
        np.testing.assert_allclose(o32, o64, atol=1e-5)
        g32, dx32, _ = n32.backward(np.ones_like(o32), c32)
        g64, _, _ = n64.backward(np.ones_like(o64), c64)
        assert all(g.dtype == np.float32 for g in g32.values()) and dx32.dtype == np.float32
        for k in g64:
            np.testing.assert_allclose(g32[k], g64[k], atol=1e-4)


def test_bad_inputs_raise_playground_error():
    net, _ = build("rnn", head="text")
    with pytest.raises(PlaygroundError, match="ids"):
        net.forward(np.zeros((3, 2, 5)))
    with pytest.raises(PlaygroundError, match="from 0 to"):
        net.forward(np.full((3, 2), V))
    reg, _ = build("lstm")
    with pytest.raises(PlaygroundError, match="shape"):
        reg.forward(np.zeros((3, 2, D + 1)))
    with pytest.raises(PlaygroundError, match="tuple"):
        reg.forward(np.zeros((3, 2, D)), np.zeros((1, 2, H)))
    out, _, cache = reg.forward(np.zeros((3, 2, D)))
    with pytest.raises(PlaygroundError, match="bptt"):
        reg.backward(out, cache, bptt=0)
    assert reg.n_params() == sum(v.size for v in reg.params.values()) == 4 * H * (D + H + 2) + H + 1


def test_workspace_reuses_only_unreferenced_arrays():
    from rnn_core.cells import Workspace

    ws = Workspace()
    first = ws.empty((64, 32, 16), np.float64)
    address = first.ctypes.data
    del first
    assert ws.empty((64, 32, 16), np.float64).ctypes.data == address  # released, so reused
    a = ws.empty((64, 32, 16), np.float64)
    b = ws.empty((64, 32, 16), np.float64)
    assert a is not b  # a is still held
    view = a[1:]
    del a
    c = ws.empty((64, 32, 16), np.float64)
    assert not np.shares_memory(c, view) and not np.shares_memory(c, b)  # the view keeps a busy
    a_base = view.base
    del view, c, a_base
    d = ws.empty((64, 32, 16), np.float64)
    e = ws.empty((64, 32, 16), np.float64)
    assert not np.shares_memory(d, e) and not np.shares_memory(d, b) and not np.shares_memory(e, b)
    del d
    again = ws.empty((64, 32, 16), np.float64)
    assert again.shape == (64, 32, 16) and not np.shares_memory(again, e)
    assert ws.empty((64, 32, 16), np.float32).dtype == np.float32


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_held_caches_and_outputs_survive_later_calls(cell):
    # buffers are recycled between calls; anything the caller still holds must stay intact
    net, rng = build(cell, head="text", layers=2, hidden=20)
    x1 = rng.integers(0, V, size=(30, 8))
    x2 = rng.integers(0, V, size=(30, 8))
    out1, _, cache1 = net.forward(x1)
    keep = out1.copy()
    dout = rng.normal(size=out1.shape)
    ref = net.backward(dout, cache1)[0]
    for _ in range(3):  # churn the pool with the same shapes
        o, _, c = net.forward(x2)
        net.backward(rng.normal(size=o.shape), c)
    np.testing.assert_array_equal(out1, keep)
    assert_close(net.backward(dout, cache1)[0], ref, atol=0)
    fresh, _, _ = net.forward(x1, cache=False)
    np.testing.assert_array_equal(fresh, keep)


BLAS_CHECK = """
import threadpoolctl
from rnn_core.threads import blas_threads, single_thread

def counts():  # the BLAS inside NumPy's wheel (PyTorch may bring its own MKL)
    info = threadpoolctl.threadpool_info()
    return [i["num_threads"] for i in info if i["user_api"] == "blas" and "numpy" in i["filepath"]]

before = counts()
with single_thread():
    inside_one = counts()
after_one = counts()
with blas_threads(2):
    inside_two = counts()
print([before, inside_one, after_one, inside_two, counts()])
"""


def test_single_thread_limits_blas_and_restores():
    # In a fresh interpreter: the limit is process-wide, and this process may have in-process
    # Dask worker threads of earlier tests still training.
    pytest.importorskip("threadpoolctl")
    import ast
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", BLAS_CHECK], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    before, inside_one, after_one, inside_two, end = ast.literal_eval(out.stdout.strip())
    assert inside_one and all(n == 1 for n in inside_one)
    assert after_one == before and end == before
    assert all(n == 2 for n in inside_two)


def test_bench_measures_both_sides(capsys):
    from rnn_core import bench

    result = bench.run_bench(reps=1, seconds=0.0, threads=(1,), min_steps=1, scenarios=["S1", "S2"])
    table = capsys.readouterr().out
    for name in ("S1", "S2"):
        assert f"\n{name} " in table
        entry = result["scenarios"][name]
        assert entry["numpy"]["steps_per_s"] > 0 and entry["numpy"]["threads"] == 1
        if result["torch_version"] is not None:
            ratio = entry["numpy"]["steps_per_s"] / entry["torch"]["steps_per_s"]
            assert entry["ratio"] == pytest.approx(ratio)


def test_bench_prints_the_floor_and_the_trainers_overhead(capsys):
    from rnn_core import bench

    result = bench.run_bench(reps=1, seconds=0.0, threads=(1,), min_steps=1, scenarios=["S1"])
    table = capsys.readouterr().out
    assert "floor steps/s" in table and "Trainer/bare" in table
    e = result["scenarios"]["S1"]
    for side in ("floor", "trainer", "bare"):
        assert e[side]["steps_per_s"] > 0
    assert e["of_floor"]["numpy"] == pytest.approx(e["numpy"]["steps_per_s"] / e["floor"]["steps_per_s"])
    one = e["numpy"]["by_threads"][1] / e["floor"]["by_threads"][1]
    assert "both 1 thread" in table and e["of_floor_1t"] == pytest.approx(one)
    assert e["trainer_over_bare"] == pytest.approx(e["trainer"]["steps_per_s"] / e["bare"]["steps_per_s"])


@pytest.mark.parametrize("name", ["S1", "S2"])
def test_the_bare_step_is_the_trainers_step_without_the_bookkeeping(name):
    from rnn_core import bench

    trainer_step, bare_step, _ = bench.trainer_steppers(name)
    # Same model, seed and minibatches: the same losses, step after step (no clipping either).
    ours = [trainer_step() for _ in range(4)]
    bare = [bare_step() for _ in range(4)]
    assert bare == pytest.approx(ours, rel=1e-12)
    assert ours[-1] < ours[0]


def test_bench_main_prints_json_last(capsys, monkeypatch):
    import json

    from rnn_core import bench

    seen = {}

    def fake_run_bench(as_json=False, **kw):
        seen.update(kw)
        print("table")
        return {"scenarios": {"S1": {"ratio": 2.0}}}

    monkeypatch.setattr(bench, "run_bench", fake_run_bench)
    assert bench.main(["--json", "--reps", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "table" and json.loads(lines[-1])["scenarios"]["S1"]["ratio"] == 2.0
    assert seen["reps"] == 2
    assert bench.main(["--reps", "0"]) == 2


def test_bench_has_a_float32_row_run_in_float32(capsys):
    from rnn_core import bench

    result = bench.run_bench(reps=1, seconds=0.0, threads=(1,), min_steps=1, scenarios=["S2f32"])
    table = capsys.readouterr().out
    assert "\nS2f32 " in table and "float32" in table
    e = result["scenarios"]["S2f32"]
    assert e["dtype"] == "float32" and e["numpy"]["steps_per_s"] > 0 and e["trainer"]["steps_per_s"] > 0
    step = bench.numpy_stepper(bench.SCENARIOS["S2f32"])
    assert isinstance(step(), float)
    sc = bench.SCENARIOS["S2f32"]
    assert {k: v for k, v in sc.items() if k not in ("title", "dtype")} == {
        k: v for k, v in bench.SCENARIOS["S2"].items() if k != "title"
    }


def test_paired_rates_step_both_in_turn():
    from rnn_core import bench

    calls = []
    rates = bench._paired_rates(lambda: calls.append("a"), lambda: calls.append("b"), 0.0, min_steps=4)
    assert calls.count("a") == calls.count("b") == 4
    assert calls[:4] == ["a", "b", "b", "a"]  # the order swaps every round
    assert all(r > 0 for r in rates)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_skipping_the_input_gradient_changes_no_weight_gradient(cell):
    net, rng = perturbed_network(cell, "tanh", "regression", 2, sizes=(3, 4, 5, 2), scale=0.2)
    x = rng.normal(size=(5, 2, 3))
    out, _, cache = net.forward(x)
    dout = rng.normal(size=out.shape)
    full, dx, ds0 = net.backward(dout, cache)
    out, _, cache = net.forward(x)
    lean, no_dx, lean_ds0 = net.backward(dout, cache, input_grad=False)
    assert dx is not None and no_dx is None
    assert_close(lean, full, atol=0)
    assert_close({"ds0": lean_ds0}, {"ds0": ds0}, atol=0)


@pytest.mark.parametrize(("d", "scale"), [(1, None), (3, (0.5, 1.0)), (4, (0.5, 0.5, 0.5, 1.0))])
def test_input_projection_equals_the_textbook_formula(d, scale):
    from rnn_core.cells import project
    from rnn_core.cells.common import bias_gradient, lookup_table

    rng = np.random.default_rng(3)
    G, H, T, B = len(scale or (1,)), 5, 4, 3
    perm = tuple(reversed(range(G)))
    w, bias = rng.normal(size=(G * H, d)), rng.normal(size=G * H)
    sc = None if scale is None else np.array(scale)
    x = rng.normal(size=(T, B, d))
    naive = (np.einsum("tbd,kd->tbk", x, w) + bias).reshape(T, B, G, H)[:, :, list(perm)]  # (T, B, G, H)
    if sc is not None:
        naive = naive * sc[:, None]
    np.testing.assert_allclose(
        project(x, w, bias, perm, sc), naive.transpose(2, 0, 1, 3), rtol=1e-13, atol=1e-13
    )
    ids = rng.integers(0, d, size=(T, B))
    table = lookup_table(w, bias, perm, sc)  # (G, V, H)
    np.testing.assert_allclose(project(ids, w, bias, perm, sc), table[:, ids], rtol=0, atol=0)
    onehot = np.eye(d)[ids]  # (T, B, V)
    np.testing.assert_allclose(project(onehot, w, bias, perm, sc), table[:, ids], rtol=1e-13, atol=1e-13)
    d3 = rng.normal(size=(G, 7, H))
    np.testing.assert_allclose(bias_gradient(d3), d3.sum(axis=1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("layout", ["gate-major", "rows"])
@pytest.mark.parametrize("ids", [False, True])
def test_weight_gradients_equal_the_textbook_sums_in_either_layout(layout, ids):
    # The weight gradients take the pre-activation gradients gate-major (G, T, B, H) blocks or
    # as a view of (T, B, G, H) rows (what the LSTM's backward writes): both must give the sums
    # over every position, in PyTorch's gate order.
    from rnn_core.cells.common import LayerCache, gradients_from_preactivations

    rng = np.random.default_rng(5)
    G, T, B, H, D = 4, 5, 3, 6, 7
    perm = (0, 1, 3, 2)
    dpre = rng.normal(size=(G, T, B, H))  # internal order
    if layout == "rows":
        dpre = np.moveaxis(np.ascontiguousarray(np.moveaxis(dpre, 0, 2)), 2, 0)
    hs = rng.normal(size=(T + 1, B, H))
    x = rng.integers(0, D, size=(T, B)) if ids else rng.normal(size=(T, B, D))
    w_ih = rng.normal(size=(G * H, D))
    cache = LayerCache("lstm", "tanh", x, hs)
    (dw_ih, dw_hh, db_ih, db_hh), dx = gradients_from_preactivations(dpre, cache, w_ih, perm, True)

    torch_order = np.empty_like(dpre)
    torch_order[list(perm)] = dpre  # (G, T, B, H) in PyTorch's order
    xin = np.eye(D)[x] if ids else x  # (T, B, D)
    want = {
        "dw_hh": np.einsum("gtbh,tbk->ghk", torch_order, hs[:-1]).reshape(G * H, H),
        "dw_ih": np.einsum("gtbh,tbd->ghd", torch_order, xin).reshape(G * H, D),
        "db": torch_order.sum(axis=(1, 2)).reshape(G * H),
    }
    got = {"dw_hh": dw_hh, "dw_ih": dw_ih, "db": db_hh}
    assert_close(got, want, atol=1e-12, rtol=1e-12, what=f"{layout}, ids={ids}")
    np.testing.assert_array_equal(db_ih, db_hh)
    if ids:
        assert dx is None
    else:
        want_dx = np.einsum("gtbh,ghd->tbd", torch_order, w_ih.reshape(G, H, D))
        assert_close({"dx": dx}, {"dx": want_dx}, atol=1e-12, rtol=1e-12, what=layout)
