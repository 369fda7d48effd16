"""The through-time measurements against independent references.

The gradient of the final step's loss with respect to a hidden (or cell) state mid-sequence is
checked by central differences of a reference that runs the stack step by step, one layer
at a time, and adds a small bump to one unit of one state at one step: the bumped value is what
the layer above reads and what the layer carries on. A bump of an LSTM's cell state c_t goes
through h_t = o_t tanh(c_t) too, as in the network. The input saliencies are checked by
central differences of the network's own forward pass; the spectra and the principal
components against numpy's eigen- and singular-value routines on matrices built by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnn_core import losses, through_time
from rnn_core.cells import layer_forward
from tests.parity import perturbed_network

T, B, D, H, O, V = 6, 3, 2, 3, 1, 5
EPS = 1e-5
TOL = 1e-6

CASES = [
    (cell, act, head, layers)
    for cell, act in [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
    for head, layers in itertools.product(("regression", "text"), (1, 2))
]


def _case(cell, act, head, layers, seed=3):
    net, rng = perturbed_network(cell, act, head, layers, sizes=(D, H, V, O), scale=0.4, seed=seed)
    if head == "text":
        x, y = rng.integers(0, V, size=(T, B)), rng.integers(0, V, size=(T, B))
    else:
        x, y = rng.normal(size=(T, B, D)), rng.normal(size=(B, O))
    return net, x, y


def _reference_loss(net, x, y, bump=None) -> float:
    """The final step's loss, the stack run step by step; ``bump = (which, layer, t, unit, eps)``
    adds ``eps`` to that state after step t before anything reads it."""
    c, p = net.config, net.params
    lstm = net.spec.has_cell_state
    hs = [np.zeros((B, H)) for _ in range(c.num_layers)]
    cs = [np.zeros((B, H)) for _ in range(c.num_layers)]
    tops = []
    for t in range(T):
        inp = x[t : t + 1]
        for k in range(c.num_layers):
            w = [p[f"rnn.{n}_l{k}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            lc = layer_forward(c.cell, c.nonlinearity, *w, inp, hs[k], cs[k] if lstm else None)
            h_new = lc.hs[1].copy()
            c_new = lc.cs[1].copy() if lstm else None
            if bump is not None and bump[1] == k and bump[2] == t:
                which, _, _, unit, eps = bump
                if which == "h":
                    h_new[:, unit] += eps
                else:  # c: h_t = o_t tanh(c_t) reads the bumped cell state
                    c_new[:, unit] += eps
                    o = lc.gates[2, 0]  # internal order i, f, o, g
                    h_new = o * np.tanh(c_new)
            hs[k], cs[k] = h_new, c_new
            inp = h_new[None]
        tops.append(hs[-1])
    w, b = p["head.weight"], p["head.bias"]
    if c.head == "regression":
        return losses.mse(tops[-1] @ w.T + b, y)[0]
    return losses.softmax_cross_entropy((tops[-1] @ w.T + b)[None], y[-1:])[0]


@pytest.mark.parametrize(("cell", "act", "head", "layers"), CASES)
def test_the_state_gradients_are_central_differences_of_the_final_steps_loss(cell, act, head, layers):
    net, x, y = _case(cell, act, head, layers)
    assert _reference_loss(net, x, y) == pytest.approx(
        losses.mse(net.forward(x)[0], y)[0] if head == "regression"
        else losses.softmax_cross_entropy(net.forward(x)[0][-1:], y[-1:])[0], rel=1e-12
    )  # fmt: skip
    grads = through_time.state_gradients(net, x, y)
    assert len(grads) == layers
    worst = 0.0
    for which in ("h", "c") if cell == "lstm" else ("h",):
        for k, t, unit in itertools.product(range(layers), range(T), range(H)):
            up = _reference_loss(net, x, y, (which, k, t, unit, EPS))
            down = _reference_loss(net, x, y, (which, k, t, unit, -EPS))
            numeric = (up - down) / (2 * EPS)  # the bump hits every window: the sum over them
            analytic = grads[k][which][t, :, unit].sum()
            worst = max(worst, abs(numeric - analytic) / max(abs(numeric), abs(analytic), 1e-4))
    assert worst < TOL


def test_recording_leaves_the_parameter_gradients_alone():
    net, x, _ = _case("lstm", "tanh", "regression", 2)
    out, _, cache = net.forward(x)
    plain, _, _ = net.backward(np.ones_like(out), cache)
    out, _, cache = net.forward(x)
    recorded = []
    grads, _, _ = net.backward(np.ones_like(out), cache, record=recorded)
    assert all(np.array_equal(plain[k], grads[k]) for k in plain)
    assert [sorted(r) for r in recorded] == [["c", "h", "input"], ["c", "h", "input"]]


@pytest.mark.parametrize(
    ("cell", "act"), [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
)
@pytest.mark.parametrize("layers", [1, 2])
def test_saliencies_are_central_differences_of_the_prediction(cell, act, layers):
    net, x, _ = _case(cell, act, "regression", layers)
    sal = through_time.saliency(net, x)  # (T, D) by lag
    numeric = np.zeros((T, B, D))
    for t, b, d in itertools.product(range(T), range(B), range(D)):
        bumped = x.copy()
        bumped[t, b, d] += EPS
        up = net.forward(bumped)[0][b].sum()
        bumped[t, b, d] -= 2 * EPS
        down = net.forward(bumped)[0][b].sum()
        numeric[t, b, d] = (up - down) / (2 * EPS)
    expected = np.abs(numeric).mean(axis=1)[::-1]
    np.testing.assert_allclose(sal, expected, rtol=TOL, atol=1e-9)


def test_the_gradient_flow_is_the_norm_of_the_state_gradients_by_lag():
    net, x, y = _case("lstm", "tanh", "regression", 2)
    grads = through_time.state_gradients(net, x, y)
    flow = through_time.gradient_flow(net, x, y)
    assert flow["h"].shape == flow["c"].shape == (2, T)
    for k, lag in itertools.product(range(2), range(T)):
        assert flow["h"][k, lag] == pytest.approx(np.linalg.norm(grads[k]["h"][T - 1 - lag]), rel=1e-12)
        assert flow["c"][k, lag] == pytest.approx(np.linalg.norm(grads[k]["c"][T - 1 - lag]), rel=1e-12)


def test_ratios_verdicts_and_the_memory_span():
    norms = np.array([2.0, 1.0, 0.5, 1e-4, 1e-5])
    assert through_time.flow_ratios(norms, lags=(1, 3, 10)) == {1: 0.5, 3: 5e-5}
    assert through_time.flow_verdict(norms) == "vanishing"
    assert through_time.flow_verdict(np.array([1.0, 10.0, 5e3])) == "exploding"
    assert through_time.flow_verdict(np.array([1.0, np.inf])) == "exploding"
    assert through_time.flow_verdict(np.array([1.0, 0.5, 0.2])) is None
    sal = np.array([[1.0, 0.0], [0.2, 0.5], [0.0, 0.02], [0.009, 0.0], [0.0, 0.0]])
    assert through_time.memory_span(sal) == 2  # lag 2 still moves the prediction by 2% of the peak
    assert through_time.memory_span(sal, fraction=0.005) == 3
    assert through_time.memory_span(np.zeros((4, 1))) == 0


@pytest.mark.parametrize(("cell", "gates"), [("rnn", "h"), ("lstm", "ifgo"), ("gru", "rzn")])
def test_each_recurrent_block_is_found_by_its_gate_and_its_spectrum_is_numpys(cell, gates):
    net, _, _ = _case(cell, "tanh", "regression", 1)
    rng = np.random.default_rng(1)
    blocks = [np.diag(rng.uniform(0.1, 0.9, H)) * (j + 1) for j in range(len(gates))]
    blocks[0][0, 1] = 0.7  # not symmetric: complex eigenvalues may appear, and singular values differ
    net.params["rnn.weight_hh_l0"][...] = np.concatenate(blocks)  # PyTorch's order of blocks
    found = through_time.spectrum(net.params, cell, 1)[0]
    assert list(found) == list(gates)
    for j, name in enumerate(gates):
        eig = np.linalg.eigvals(blocks[j])
        np.testing.assert_allclose(
            np.sort_complex(found[name]["eigenvalues"]), np.sort_complex(eig), atol=1e-12
        )
        assert found[name]["radius"] == pytest.approx(np.abs(eig).max(), rel=1e-12)
        assert found[name]["norm"] == pytest.approx(np.linalg.svd(blocks[j], compute_uv=False)[0], rel=1e-12)


def test_the_principal_path_matches_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    states = rng.normal(size=(200, 5)) @ np.diag([3.0, 2.0, 0.5, 0.2, 0.1]) + 4.0
    path = rng.normal(size=(30, 5))
    proj, share = through_time.principal_path(states, path)
    centred = states - states.mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    top = vectors[:, ::-1][:, :2]
    expected = (path - states.mean(axis=0)) @ top
    signs = np.sign((proj * expected).sum(axis=0))  # a component's sign is arbitrary
    np.testing.assert_allclose(proj * signs, expected, atol=1e-10)
    np.testing.assert_allclose(share, values[::-1][:2] / values.sum(), rtol=1e-10)


def test_the_probe_spreads_over_the_windows():
    assert list(through_time.probe_windows(5)) == [0, 1, 2, 3, 4]
    picked = through_time.probe_windows(100, 8)
    assert len(picked) == 8 and picked[0] == 0 and picked[-1] == 99
    assert np.all(np.diff(picked) >= 13)


def _cli_json(argv):
    import io
    import json

    from rnn_core import cli

    out, err = io.StringIO(), io.StringIO()
    assert cli.main(argv, out, err) == 0, err.getvalue()
    return json.loads(out.getvalue())


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_train_json_reports_the_through_time_figures_of_the_final_weights(cell):
    from rnn_core import cli

    argv = ["train", "--data", "sine", "--cell", cell, "--steps", "40", "--json", "--no-progress"]
    r = _cli_json(argv)
    args = cli.build_parser().parse_args(argv)  # the same run again, here: its final weights
    same = cli.make_trainer(cli.load_data(args), cli.resolve_settings(args))
    cli.fit(same)
    assert same.step_count == r["steps"] == 40
    x, y = through_time.probe(same.dataset, same.network.config.dtype)
    flow = through_time.gradient_flow(same.network, x, y)
    expected = {
        str(k): pytest.approx(v, rel=1e-12) for k, v in through_time.flow_ratios(flow["h"][-1]).items()
    }
    assert r["grad_flow"] == expected
    assert list(r["grad_flow"]) == ["1", "5", "10", "20", "40"]  # the default window of 50 reaches all
    assert r["memory_span"] == through_time.memory_span(through_time.saliency(same.network, x))
    blocks = through_time.recurrent_blocks(same.network.params, cell, 0).values()
    assert r["spectral_radius"] == pytest.approx(
        max(np.abs(np.linalg.eigvals(b)).max() for b in blocks), rel=1e-12
    )
    assert ("grad_flow_c" in r) == (cell == "lstm")


def test_a_diverged_run_reports_no_spectrum_rather_than_failing():
    r = _cli_json(
        [
            "train",
            "--data",
            "sine",
            "--preset",
            "blowup",
            "--lr",
            "10",
            "--steps",
            "200",
            "--json",
            "--no-progress",
        ]
    )
    assert r["diverged"] is True
    assert r["spectral_radius"] is None or np.isfinite(r["spectral_radius"])


def _one_step(net, layer, inp, h, c):
    p = net.params
    w = [p[f"rnn.{n}_l{layer}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    lc = layer_forward(net.config.cell, net.config.nonlinearity, *w, inp, h, c)
    return np.concatenate([lc.hs[1], lc.cs[1]], axis=1) if c is not None else lc.hs[1]


@pytest.mark.parametrize(
    ("cell", "act"), [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
)
@pytest.mark.parametrize("head", ["regression", "text"])
def test_step_jacobians_are_central_differences_of_one_step(cell, act, head):
    net, x, _ = _case(cell, act, head, 2)
    layer = 1 if head == "regression" else 0
    steps, jac = through_time.step_jacobians(net, x, layer, windows=2, steps=3)
    assert list(steps) == [1, 3, 5] and jac.shape[:2] == (3, 2)
    _, _, cache = net.forward(x[:, :2])
    lc = cache.layers[layer]
    paired = cell == "lstm"
    for i, t in enumerate(steps):
        for b in range(2):
            state = np.concatenate([lc.hs[t][b], lc.cs[t][b]]) if paired else lc.hs[t][b].copy()
            numeric = np.zeros((state.size, state.size))
            for j in range(state.size):
                moved = []
                for sign in (1, -1):
                    s = state.copy()
                    s[j] += sign * EPS
                    h, c = (s[None, :H], s[None, H:]) if paired else (s[None], None)
                    moved.append(_one_step(net, layer, lc.x[t : t + 1, b : b + 1], h, c)[0])
                numeric[:, j] = (moved[0] - moved[1]) / (2 * EPS)
            np.testing.assert_allclose(jac[i, b], numeric, atol=1e-8)
    expected = np.mean([np.linalg.svd(m, compute_uv=False) for m in jac.reshape(-1, *jac.shape[2:])])
    assert through_time.mean_singular_value(jac) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(through_time.mean_singular_value(np.full((1, 1, 2, 2), np.inf)))


@pytest.mark.parametrize(
    ("cell", "act"), [("rnn", "tanh"), ("rnn", "sigmoid"), ("lstm", "tanh"), ("gru", "tanh")]
)
@pytest.mark.parametrize("layers", [1, 2])
def test_a_characters_influence_is_the_gradient_of_the_predictions_log_probability(cell, act, layers):
    vocab, length = 9, 6
    net, _ = perturbed_network(cell, act, "text", layers, sizes=(D, H, vocab, O), scale=0.4, seed=5)
    ids = np.array([3, 7, 0, 5, 8, 1])  # each character once: its input column is its step's alone
    influence, predicted = through_time.character_influence(net, ids)
    assert influence.shape == (length,)
    assert predicted == int(np.argmax(net.forward(ids.reshape(-1, 1))[0][-1, 0]))

    def log_prob() -> float:
        logits = net.forward(ids.reshape(-1, 1))[0][-1, 0]
        return float(logits[predicted] - np.log(np.exp(logits - logits.max()).sum()) - logits.max())

    w = net.params["rnn.weight_ih_l0"]
    for t, char in enumerate(ids):
        grad = np.zeros(w.shape[0])
        for row in range(w.shape[0]):
            keep = w[row, char]
            w[row, char] = keep + EPS
            up = log_prob()
            w[row, char] = keep - EPS
            down = log_prob()
            w[row, char] = keep
            grad[row] = (up - down) / (2 * EPS)
        assert influence[t] == pytest.approx(np.linalg.norm(grad), rel=1e-6, abs=1e-10)


def test_character_features_follow_their_definitions():
    text = 'ab "cd" (e[f]g)\nhi'
    f = through_time.char_features(text)
    assert list(np.flatnonzero(f["space"])) == [2, 7]
    assert list(np.flatnonzero(f["newline"])) == [15]
    assert list(np.flatnonzero(f["inside quotes"])) == [
        3,
        4,
        5,
    ]  # from the opening quote to before the closing
    assert list(np.flatnonzero(f["inside brackets"])) == [8, 9, 10, 11, 12, 13]
    assert list(f["position in word"][:6]) == [1, 2, 0, 0, 1, 2] and list(f["position in word"][-2:]) == [
        1,
        2,
    ]


def test_units_are_ranked_by_their_correlation_with_each_feature():
    rng = np.random.default_rng(0)
    feature = rng.integers(0, 2, 300).astype(float)
    states = rng.normal(size=(300, 5))
    states[:, 3] = -2.0 * feature + 0.1 * rng.normal(size=300)  # tracks it, with the sign flipped
    states[:, 1] = 0.5 * feature + rng.normal(size=300)
    states[:, 4] = 1.0  # constant: no correlation to speak of
    ranking = through_time.rank_units(states, {"f": feature, "flat": np.zeros(300)}, top=3)
    assert [u for u, _, _ in ranking][:2] == [3, 1] and all(name == "f" for _, name, _ in ranking)
    assert ranking[0][2] == pytest.approx(np.corrcoef(states[:, 3], feature)[0, 1], rel=1e-12)
    assert 4 not in [u for u, _, _ in ranking]
