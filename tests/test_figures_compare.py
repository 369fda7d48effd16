"""The Compare page's figures and the spectral radius its table shows, from synthetic arrays."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from dashboard import figures
from rnn_core.config import ModelConfig
from rnn_core.network import Network


def _run(name, n, scale=1.0, evals=True):
    steps = np.arange(n, dtype=float)
    out = {"name": name, "steps": steps, "loss": scale / (1 + steps)}
    if evals:
        out["eval_steps"], out["val_loss"] = steps[::5], 1.5 * scale / (1 + steps[::5])
    return out


def test_each_run_has_a_training_and_a_validation_curve_in_its_own_colour():
    fig = figures.compare_loss_figure(
        [_run("Run 1", 40), _run("Run 2", 25, 2.0), _run("Run 3", 10, evals=False)]
    )
    names = [t.name for t in fig.data]
    assert names == [
        "Run 1 training",
        "Run 1 validation",
        "Run 2 training",
        "Run 2 validation",
        "Run 3 training",
    ]
    colours = [t.line.color for t in fig.data]
    assert colours[0] == colours[1] != colours[2] == colours[3] != colours[4]
    assert fig.data[1].line.dash == "dot" and fig.data[0].line.dash is None
    assert len(fig.data[2].x) == 25 and fig.layout.yaxis.type == "log"
    assert fig.layout.uirevision  # a zoom survives the next refresh


def test_losses_a_log_axis_cannot_place_are_left_out():
    run = _run("Run 1", 6, evals=False)
    run["loss"] = np.array([1.0, np.nan, 0.0, -1.0, np.inf, 0.5])
    [trace] = figures.compare_loss_figure([run]).data
    assert list(trace.x) == [0.0, 5.0] and list(trace.y) == [1.0, 0.5]


def test_before_any_step_the_loss_chart_says_how_to_start():
    fig = figures.compare_loss_figure([_run("Run 1", 0), _run("Run 2", 0)])
    assert any("Start" in a.text for a in fig.layout.annotations)
    assert not figures.compare_loss_figure([_run("Run 1", 3)]).layout.annotations


def test_predictions_of_every_run_are_drawn_over_the_actual_values():
    x = np.arange(100.0)
    actual = np.sin(x / 5)
    runs = [{"name": "Run 1", "pred": actual + 0.1}, {"name": "Run 2", "pred": None},
            {"name": "Run 3", "pred": actual - 0.1}]  # fmt: skip
    fig = figures.compare_predictions_figure(x, actual, runs, y_label="y", x_label="t")
    assert [t.name for t in fig.data] == ["actual", "Run 1", "Run 3"]
    assert fig.data[2].line.color == figures.run_color(2) != fig.data[1].line.color
    np.testing.assert_allclose(fig.data[2].y, actual - 0.1, rtol=1e-6)
    assert fig.layout.xaxis.title.text == "t"


def test_long_predictions_are_thinned_and_the_chart_says_so():
    x = np.arange(20_000.0)
    fig = figures.compare_predictions_figure(x, x, [{"name": "Run 1", "pred": x}], max_points=500)
    assert all(len(t.x) <= 500 for t in fig.data)
    assert "Thinned" in fig.layout.title.subtitle.text


def _network(cell: str, layers: int = 1) -> Network:
    config = ModelConfig(cell=cell, input_size=1, hidden_size=6, output_size=1, num_layers=layers)
    return Network(config, np.random.default_rng(0))


def test_the_spectral_radius_is_the_largest_eigenvalue_modulus_of_the_recurrent_matrices():
    net = _network("rnn", layers=2)
    angle = 0.3  # a rotation scaled by 0.5 has eigenvalues 0.5 e^{±i angle}
    rot = 0.5 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    w0 = np.zeros((6, 6))
    w0[:2, :2], w0[2, 2] = rot, -0.25
    net.params["rnn.weight_hh_l0"][...] = w0
    net.params["rnn.weight_hh_l1"][...] = np.diag([0.1, 0.2, 0.3, 0.4, 0.3, 0.2])
    assert net.recurrent_radius() == pytest.approx(0.5, abs=1e-12)
    net.params["rnn.weight_hh_l1"][...] = np.diag([0.1, 0.2, 0.3, 1.7, 0.3, 0.2])
    assert net.recurrent_radius() == pytest.approx(1.7, abs=1e-12)  # the largest over the layers


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_gated_cells_have_no_single_recurrent_matrix_to_take_the_radius_of(cell):
    assert _network(cell).recurrent_radius() is None


def test_no_page_is_served_under_its_file_name():
    """Streamlit runs a file of pages/ on its own (without the entry point) when a first request
    names it: every page's URL path must differ from its file's name."""
    tree = ast.parse((Path(__file__).resolve().parent.parent / "app.py").read_text())
    pages = [
        (node.args[0].value, next(k.value.value for k in node.keywords if k.arg == "url_path"))
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
    ]
    assert len(pages) == 5
    for path, url in pages:
        assert Path(path).stem != url, path
