"""One window in slow motion (rnn_core.slow_motion) against independent references.

The states and outputs are checked against the network's own forward pass; the gates against
PyTorch's cell equations (LSTM ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``; GRU
``h_t = (1 - z) n + z h_{t-1}``), which pins their names; the gradients reaching every h_t and
c_t against central differences of a reference that runs the stack step by step and bumps one
unit of one state at one step (a bump of c_t goes through h_t = o_t tanh(c_t) too), in float64.
The trainer's operation is checked against the predictions, the text and the next-character
probabilities the other operations give for the same window.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnn_core import losses, slow_motion
from rnn_core.cells import layer_forward
from rnn_core.config import ModelConfig
from rnn_core.data import sine_dataset, text_dataset
from rnn_core.data.memory import memory_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer
from tests.parity import perturbed_network

T, D, H, O, V = 5, 2, 3, 1, 4
EPS = 1e-5
TOL = 1e-6
CELLS = ("rnn", "lstm", "gru")
CASES = list(itertools.product(CELLS, (1, 2), ("regression", "text")))


def _case(cell, layers, head, seed=5):
    net, rng = perturbed_network(cell, "tanh", head, layers, sizes=(D, H, V, O), scale=0.4, seed=seed)
    if head == "text":
        return net, rng.integers(0, V, size=(T, 1)), rng.integers(0, V, size=(T, 1))
    return net, rng.normal(size=(T, 1, D)), rng.normal(size=(1, O))


def _reference_loss(net, x, y, bump=None, last_only=False) -> float:
    """The window's loss, the stack run step by step; ``bump = (which, layer, t, unit, eps)`` adds
    ``eps`` to that state after step t, before the layer above or the next step reads it."""
    c, p = net.config, net.params
    lstm = net.spec.has_cell_state
    hs = [np.zeros((1, H)) for _ in range(c.num_layers)]
    cs = [np.zeros((1, H)) for _ in range(c.num_layers)]
    logits = []
    for t in range(T):
        inp = x[t : t + 1]
        for k in range(c.num_layers):
            w = [p[f"rnn.{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            lc = layer_forward(c.cell, c.nonlinearity, *w, inp, hs[k], cs[k] if lstm else None)
            h_new = lc.hs[1].copy()
            c_new = lc.cs[1].copy() if lstm else None
            if bump is not None and bump[1:3] == (k, t):
                which, _, _, unit, eps = bump
                if which == "h":
                    h_new[:, unit] += eps
                else:
                    c_new[:, unit] += eps
                    h_new = lc.gates[2, 0] * np.tanh(c_new)  # internal order i, f, o, g
            hs[k], cs[k] = h_new, c_new
            inp = h_new[None]
        logits.append(hs[-1] @ p["head.weight"].T + p["head.bias"])
    if c.head == "regression":
        return losses.mse(logits[-1], y)[0]
    out = np.stack(logits)  # (T, 1, V)
    return (
        losses.softmax_cross_entropy(out[-1:], y[-1:])[0]
        if last_only
        else losses.softmax_cross_entropy(out, y)[0]
    )


@pytest.mark.parametrize(("cell", "layers", "head"), CASES)
def test_the_trace_is_the_networks_own_forward_pass(cell, layers, head):
    net, x, y = _case(cell, layers, head)
    out, state, _ = net.forward(x)
    found = slow_motion.trace(net, x, y)
    h_last = state[0] if cell == "lstm" else state
    for k, layer in enumerate(found["layers"]):
        assert layer["h"].shape == (T, H)
        assert np.array_equal(layer["h"][-1], h_last[k, 0])
        if cell == "lstm":
            assert np.array_equal(layer["c"][-1], state[1][k, 0])
    assert np.array_equal(found["output"], out[0] if head == "regression" else out[:, 0])
    if head == "regression":
        assert found["readout"][-1] == pytest.approx(found["output"][0], rel=1e-12)
        assert found["loss"] == pytest.approx(losses.mse(out, y)[0], rel=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_the_gates_follow_pytorchs_equations_under_pytorchs_names(cell):
    net, x, y = _case(cell, 1, "regression")
    layer = slow_motion.trace(net, x, y)["layers"][0]
    g, h = layer["gates"], layer["h"]
    h_prev = np.vstack([np.zeros((1, H)), h[:-1]])
    if cell == "rnn":
        assert g == {}
    elif cell == "lstm":
        assert list(g) == ["i", "f", "g", "o"]
        c_prev = np.vstack([np.zeros((1, H)), layer["c"][:-1]])
        np.testing.assert_allclose(layer["c"], g["f"] * c_prev + g["i"] * g["g"], atol=1e-12)
        np.testing.assert_allclose(h, g["o"] * np.tanh(layer["c"]), atol=1e-12)
    else:
        assert list(g) == ["r", "z", "n"]
        np.testing.assert_allclose(h, (1 - g["z"]) * g["n"] + g["z"] * h_prev, atol=1e-12)


@pytest.mark.parametrize(("cell", "layers", "head"), CASES)
def test_the_state_gradients_are_central_differences_of_the_window_loss(cell, layers, head):
    net, x, y = _case(cell, layers, head)
    assert _reference_loss(net, x, y) == pytest.approx(slow_motion.trace(net, x, y)["loss"], rel=1e-12)
    last_only = head == "text" and layers == 2  # one case scores only the last character
    found = slow_motion.trace(net, x, y, last_only=last_only)
    worst = 0.0
    for which in ("h", "c") if cell == "lstm" else ("h",):
        for k, t, unit in itertools.product(range(layers), range(T), range(H)):
            up = _reference_loss(net, x, y, (which, k, t, unit, EPS), last_only)
            down = _reference_loss(net, x, y, (which, k, t, unit, -EPS), last_only)
            numeric = (up - down) / (2 * EPS)
            analytic = found["layers"][k][f"d{which}"][t, unit]
            worst = max(worst, abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-4))
        for layer in found["layers"]:
            np.testing.assert_allclose(layer[f"d{which}_norm"], np.linalg.norm(layer[f"d{which}"], axis=1))
    assert worst < TOL
    top = found["layers"][-1]["dh_norm"]
    assert found["inject"][-1] == pytest.approx(top[-1], rel=1e-12)  # nothing flows into the last step
    if head == "regression" or last_only:  # the loss enters at the last step only
        assert np.all(found["inject"][:-1] == 0)


def test_a_series_window_matches_the_predictions_and_is_bounded(monkeypatch):
    tr = Trainer(sine_dataset(), ModelConfig(cell="lstm", hidden_size=70, num_layers=2))
    tr.run(3)
    found = tr.slow_motion("val", 4)
    _, predicted, actual = tr.predictions("val")
    assert found["prediction"] == pytest.approx(predicted[4], rel=1e-9)
    assert found["target"] == pytest.approx(actual[4], rel=1e-12)
    assert found["readout"][-1] == pytest.approx(predicted[4], rel=1e-5)
    assert found["next"][-1] == pytest.approx(actual[4]) and found["next"][:-1] == pytest.approx(
        found["x"][1:, 0]
    )
    assert found["units"] == slow_motion.MAX_UNITS and found["hidden"] == 70
    layer = found["layers"][1]
    assert layer["h"].shape == layer["dc"].shape == (50, 64) and layer["gates"]["f"].shape == (50, 64)
    inside = tr.internals("val", 4)
    np.testing.assert_allclose(layer["h"], inside["h1"][:, :64], rtol=1e-6)
    np.testing.assert_allclose(found["x"][:, 0], tr.dataset.val_X[:, 4, 0] * tr.dataset.input_scale[0]
                               + tr.dataset.input_shift[0], rtol=1e-6)  # fmt: skip
    monkeypatch.setattr(slow_motion, "MAX_STEPS", 20)
    cut = tr.slow_motion("val", 4)
    assert cut["steps"] == 50 and cut["t0"] == 30 and len(cut["x"]) == len(cut["inject"]) == 20
    np.testing.assert_allclose(cut["layers"][0]["dh_norm"], found["layers"][0]["dh_norm"][30:], rtol=1e-6)


def test_a_text_chunk_reads_its_characters_and_their_next_character_probabilities():
    text = "the cat sat on the mat. " * 40
    tr = Trainer(text_dataset(text, seq_len=16), ModelConfig(cell="gru", hidden_size=12))
    tr.run(5)
    found = tr.slow_motion("val", 1)
    ds = tr.dataset
    chunk = ds.decode(ds.val_ids[16:32])
    assert "".join(found["chars"]) == chunk and "".join(found["targets"]) == ds.decode(ds.val_ids[17:33])
    for t in (0, 7, 15):
        expected = tr.next_char_probs(chunk[: t + 1], k=slow_motion.TOP_CHARS)
        assert found["top_chars"][t] == [ch for ch, _ in expected]
        np.testing.assert_allclose(found["top_probs"][t], [p for _, p in expected], rtol=1e-5)
    np.testing.assert_allclose(found["step_loss"], -np.log(found["target_prob"]), rtol=1e-5)
    assert found["loss"] == pytest.approx(float(np.mean(found["step_loss"])), rel=1e-5)
    assert slow_motion.window_count(ds, "val") == (len(ds.val_ids) - 1) // 16
    last = tr.slow_motion("val", slow_motion.window_count(ds, "val") - 1, last_only=True)
    assert last["last_only"] and np.all(last["inject"][:-1] == 0)


def test_a_memory_task_window_has_no_next_row_and_bad_indices_say_so():
    tr = Trainer(memory_dataset("echo", seq_len=12, k=5, windows=40), ModelConfig())
    found = tr.slow_motion("train", 0)
    assert found["next"] is None and found["readout"] is not None
    assert found["target"] == pytest.approx(float(tr.dataset.targets[0]))
    assert found["answer"] == [12 - 1 - 5]  # echo: x[T-1-k]
    assert found["x"][12 - 1 - 5, 0] == pytest.approx(found["target"], rel=1e-6)
    adding = Trainer(memory_dataset("adding", seq_len=10, windows=20), ModelConfig()).slow_motion("val", 1)
    assert len(adding["answer"]) == 2 and adding["answer"][0] < 5 <= adding["answer"][1]
    assert adding["x"][adding["answer"], 0].sum() == pytest.approx(adding["target"], rel=1e-6)
    with pytest.raises(PlaygroundError, match="window index must be from 0 to"):
        tr.slow_motion("val", 10_000)
