"""The in-app gradient check (rnn_core.gradcheck): it passes a correct backward for every cell,
catches a broken one, keeps to its time budget by sampling, puts the tutorials' formula orders of
magnitude off, and works from the Model page.

Expected values come from outside the module: the 1e-6 tolerance is the issue's; the tutorials'
``dW`` is recomputed here by a transcription of their loop over a forward written out by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from app_helpers import go, open_app, press, session, trainer

from rnn_core import gradcheck
from rnn_core.cells import common, gru
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import sine_dataset, text_dataset
from rnn_core.trainer import Trainer
from tests.parity import perturbed_network

TOL = 1e-6  # the "max relative error < 1e-6"
T, B, D, H, O, V = 5, 3, 2, 4, 2, 5
BIG_BUDGET = 60.0  # the small networks below are checked whole, long before this

CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("rnn", "sigmoid"), ("lstm", "tanh"), ("gru", "tanh")]
CASES = [
    (c, a, head, layers) for (c, a), head, layers in itertools.product(CELLS, ("regression", "text"), (1, 2))
]


def make_case(cell, act, head, layers, seed=0, dtype="float64"):
    net, rng = perturbed_network(
        cell, act, head, layers, sizes=(D, H, V, O), scale=0.4, seed=seed, dtype=dtype
    )
    x = rng.integers(0, V, size=(T, B)) if head == "text" else rng.normal(size=(T, B, D))
    shape = (layers, B, H)
    state0 = (
        (rng.normal(0, 0.5, shape), rng.normal(0, 0.5, shape))
        if cell == "lstm"
        else rng.normal(0, 0.5, shape)
    )
    out, _, _ = net.forward(x, state0)
    upstream = rng.normal(size=out.shape)  # a random upstream gradient: every output weighs differently
    return net, x, state0, upstream


def run_check(net, x, state0, upstream, **kw):
    kw.setdefault("budget_seconds", BIG_BUDGET)
    return gradcheck.check(net, x, upstream, state0=state0, rng=np.random.default_rng(1), **kw)


@pytest.mark.parametrize(("cell", "act", "head", "layers"), CASES)
def test_a_correct_backward_passes_for_every_cell(cell, act, head, layers):
    net, x, state0, upstream = make_case(cell, act, head, layers)
    result = run_check(net, x, state0, upstream)
    assert result.complete
    assert [p.name for p in result.params] == list(net.params)
    for p in result.params:
        assert p.total == net.params[p.name].size
        assert p.checked + p.at_kink == p.total, p.name
        assert p.checked > 0 and p.max_rel_error < TOL, (p.name, p.max_rel_error)
        assert p.below_floor < p.checked, f"{p.name}: every gradient at the floor, nothing was compared"
    assert result.max_rel_error < TOL and result.passed
    if act == "relu":  # this seed keeps the perturbations off the kinks
        assert sum(p.at_kink for p in result.params) <= 2


def tutorial_dW_by_hand(w_ih, w_hh, b, x_seq, act, bptt_truncate=5):
    """One window: a forward with column vectors, then the lines of the tutorials' backward loop
    that touch dW, as they wrote them."""
    f = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0)}[act]
    layers, prev_s = [], np.zeros((w_hh.shape[0], 1))
    for t in range(len(x_seq)):
        s = f(w_ih @ x_seq[t].reshape(-1, 1) + w_hh @ prev_s + b)
        layers.append({"s": s, "prev_s": prev_s})
        prev_s = s
    W = w_hh
    dW, dW_t = np.zeros(W.shape), np.zeros(W.shape)
    for t in range(len(x_seq)):
        for _ in range(t - 1, max(-1, t - bptt_truncate - 1), -1):
            dW_i = np.dot(W, layers[t]["prev_s"])
            dW_t += dW_i
        dW += dW_t
    return dW


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_the_tutorials_gradient_is_their_formula(act):
    net, x, _, _ = make_case("rnn", act, "regression", 1)
    p = net.params
    b = (p["rnn.bias_ih_l0"] + p["rnn.bias_hh_l0"]).reshape(-1, 1)
    expected = sum(
        tutorial_dW_by_hand(p["rnn.weight_ih_l0"], p["rnn.weight_hh_l0"], b, x[:, k], act) for k in range(B)
    )
    _, _, cache = net.forward(x)
    got = gradcheck.tutorial_weight_hh_gradient(p["rnn.weight_hh_l0"], cache.layers[0].hs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("cell", "act"), CELLS)
def test_the_tutorials_gradient_is_orders_of_magnitude_off(cell, act):
    # Their dW never sees the upstream gradient, so it cannot match both u and -u: wherever the
    # true gradient is above the floor, one of the two relative errors is at least 1/2.
    net, x, state0, upstream = make_case(cell, act, "regression", 1)
    plus = run_check(net, x, state0, upstream)
    minus = run_check(net, x, state0, -upstream)
    assert plus.passed and minus.passed
    assert plus.tutorial.name == "rnn.weight_hh_l0"
    assert plus.tutorial.checked == net.params["rnn.weight_hh_l0"].size
    assert min(plus.tutorial.max_rel_error, minus.tutorial.max_rel_error) > 1e-2
    assert max(plus.tutorial.max_rel_error, minus.tutorial.max_rel_error) >= 0.5
    assert plus.tutorial.cosine == pytest.approx(-minus.tutorial.cosine)
    assert ("plain RNN only" in plus.tutorial.note) == (cell != "rnn")


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_broken_backward_is_caught(cell, monkeypatch):
    # One line wrong: the recurrent weights' gradient pairs step t's error with h_t instead of
    # h_{t-1}, the classic off-by-one of hand-written BPTT.
    right = common.recurrent_backward

    def off_by_one(dgh, hs, perm):
        return right(dgh, np.concatenate([hs[1:], hs[-1:]]), perm)

    monkeypatch.setattr(common, "recurrent_backward", off_by_one)
    monkeypatch.setattr(gru, "recurrent_backward", off_by_one)
    net, x, state0, upstream = make_case(cell, "tanh", "text", 1)
    result = run_check(net, x, state0, upstream)
    assert not result.passed
    by_name = {p.name: p for p in result.params}
    assert by_name["rnn.weight_hh_l0"].max_rel_error > 1e-2
    assert by_name["rnn.weight_ih_l0"].max_rel_error < TOL  # the check points at the broken line


def test_the_budget_is_kept_by_sampling_on_an_lstm_128_text_model():
    text = "Beautiful is better than ugly. Explicit is better than implicit. " * 40
    tr = Trainer(text_dataset(text, seq_len=64), ModelConfig(cell="lstm", hidden_size=128, dtype="float32"),
                 TrainConfig(clip_norm=5.0))  # fmt: skip
    tr.run(2)
    before = {k: v.copy() for k, v in tr.network.params.items()}
    progress = []
    x, upstream = gradcheck.validation_batch(tr.task, tr.network)
    result = gradcheck.check(tr.network, x, upstream, rng=np.random.default_rng(0), budget_seconds=1.0,
                             on_progress=lambda done, total: progress.append((done, total)))  # fmt: skip
    print(f"LSTM-128 text: {result.checked} of {result.total} entries in {result.seconds:.2f} s")
    assert result.checked < result.total and not result.complete
    assert all(p.checked > 0 for p in result.params)  # the budget is shared by every parameter
    assert result.passed
    assert progress and [d for d, _ in progress] == list(range(1, len(progress) + 1))
    assert all(d <= t for d, t in progress)
    assert progress[-1][0] == result.checked + sum(p.at_kink for p in result.params)
    for k, v in tr.network.params.items():  # the float32 weights are left as they were
        assert v.dtype == np.float32 and np.array_equal(v, before[k]), k


def test_entries_per_param_caps_the_sample():
    net, x, state0, upstream = make_case("gru", "tanh", "text", 2)
    result = run_check(net, x, state0, upstream, entries_per_param=3)
    assert all(p.checked == min(3, p.total) for p in result.params)
    assert result.passed


def test_the_trainer_operation_on_the_default_sine_run():
    tr = Trainer(sine_dataset(), ModelConfig())
    tr.run(5)
    result = tr.gradient_check(budget_seconds=BIG_BUDGET)
    assert result.complete and result.checked == tr.network.n_params()
    assert result.batch == 4 and result.steps == 50
    assert result.passed and result.tutorial.max_rel_error > 1e-2


# --------------------------------------------------------------------------- the Model page


def test_model_page_checks_the_gradients_and_keeps_the_result():
    at = open_app("model")
    press(at, "gradient_check")
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert list(table["parameter"]) == list(trainer(at).network.params)
    assert set(table["pass"]) == {"✓"}
    verdict = " ".join(s.value for s in at.success)
    assert "Pass" in verdict and "1e-06" in verdict
    labels = [m.label for m in at.metric]
    assert any("tutorials" in label for label in labels)
    assert any("learns nothing" in m.value for m in at.markdown)
    go(at, "train")
    go(at, "model")  # a page switch keeps the result of the same weights
    assert len(at.dataframe) == 1 and "Pass" in at.success[0].value
    trainer(at).run(1)  # new weights: the old result is not shown for them
    at.run()
    assert not at.success


def test_model_page_check_pauses_a_running_run():
    at = open_app()
    press(at, "start")
    assert session(at).state.moving
    go(at, "model")
    press(at, "gradient_check")
    assert not at.exception, at.exception
    assert not session(at).state.moving and not trainer(at).moving
    assert "Pass" in at.success[0].value
