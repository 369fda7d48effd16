"""The through-time figures, from synthetic arrays."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.figures import through_time as figures


def test_the_flow_draws_a_line_per_layer_and_state_and_names_a_vanishing_gradient():
    flow = {
        "h": np.array([[1.0, 0.1, 1e-4, 0.0], [2.0, 1.0, 0.5, 0.2]]),
        "c": np.array([[1.0, 0.9, 0.8, 0.7]] * 2),
    }
    fig = figures.flow_figure(flow, verdicts={"h, layer 0": "vanishing", "h, layer 1": None})
    assert [t.name for t in fig.data] == [
        "∂L/∂h, layer 0",
        "∂L/∂h, layer 1",
        "∂L/∂c, layer 0",
        "∂L/∂c, layer 1",
    ]
    assert list(fig.data[0].x) == [0, 1, 2]  # the zero at lag 3 cannot sit on a log axis
    assert fig.data[2].line.dash == "dash" and fig.data[0].line.dash is None
    assert fig.layout.yaxis.type == "log"
    assert "h, layer 0: <b>vanishing</b>" in fig.layout.title.subtitle.text
    assert "layer 1" not in fig.layout.title.subtitle.text
    assert not figures.flow_figure({"h": flow["h"]}).layout.title.subtitle.text


def test_the_reach_over_training_is_a_step_by_lag_heatmap_of_log_ratios():
    ratios = np.array([[1.0, 1e-2, 1e-6], [1.0, 0.5, 0.0]])
    fig = figures.flow_history_figure([10, 20], ratios)
    [heat] = fig.data
    assert heat.type == "heatmap" and list(heat.y) == [10, 20] and list(heat.x) == [0, 1, 2]
    z = np.asarray(heat.z, dtype=float)
    np.testing.assert_allclose(z[0], [0.0, -2.0, -6.0], atol=1e-6)
    assert np.isnan(z[1, 2])  # a ratio of zero has no logarithm: left blank, not drawn as -8
    empty = figures.flow_history_figure([], np.zeros((0, 3)))
    assert not empty.data and "while training" in empty.layout.annotations[0].text


def test_the_memory_chart_marks_the_span_and_says_why_text_has_none():
    sal = np.array([[1.0, 0.2], [0.5, 0.1], [0.01, 0.0]])
    fig = figures.saliency_figure(sal, ["y", "x2"], span=1)
    assert [t.name for t in fig.data] == ["y", "x2"]
    assert [s.x0 for s in fig.layout.shapes] == [1]
    assert "Memory span: 1 steps" in fig.layout.title.subtitle.text
    text = figures.saliency_figure(None, [], span=None)
    assert not text.data and "text" in text.layout.annotations[0].text


def test_the_spectrum_draws_each_blocks_eigenvalues_with_the_unit_circle():
    blocks = {
        "i": {"eigenvalues": np.array([0.5 + 0.5j, 0.5 - 0.5j]), "radius": 0.7071, "norm": 0.8},
        "f": {"eigenvalues": np.array([1.2, -0.3]), "radius": 1.2, "norm": 1.3},
    }
    fig = figures.spectrum_figure(blocks, layer=1)
    assert [t.name for t in fig.data] == ["unit circle", "W_hi", "W_hf"]
    circle = fig.data[0]
    np.testing.assert_allclose(np.hypot(circle.x, circle.y), 1.0, atol=1e-6)
    assert list(fig.data[1].y) == [0.5, -0.5] and list(fig.data[2].x) == [1.2, -0.3]
    assert fig.layout.yaxis.scaleanchor == "x"  # a circle stays round
    assert "radius 0.707" in fig.layout.title.subtitle.text and "layer 1" in fig.layout.title.text


def test_the_trajectory_is_coloured_by_step_and_says_what_it_holds():
    xy = np.column_stack([np.cos(np.linspace(0, 6, 20)), np.sin(np.linspace(0, 6, 20))])
    fig = figures.path_figure(xy, np.array([0.6, 0.3]))
    line, dots = fig.data
    assert line.mode == "lines" and list(dots.marker.color) == list(range(20))
    np.testing.assert_allclose(dots.x, xy[:, 0], rtol=1e-6)
    assert "60% and 30%" in fig.layout.title.subtitle.text
    assert "not finite" in figures.path_figure(None, None).layout.annotations[0].text


def test_the_spectrum_over_training_draws_each_radius_and_the_step_jacobian():
    fig = figures.spectrum_history_figure(
        [5, 10, 15], {"i": [1.0, 1.1, 1.2], "f": [0.9, 0.8, 0.7]}, [0.5, 0.6, 0.7]
    )
    assert [t.name for t in fig.data] == ["radius W_hi", "radius W_hf", "step Jacobian (mean σ)"]
    assert list(fig.data[2].y) == pytest.approx([0.5, 0.6, 0.7]) and list(fig.data[0].x) == [5, 10, 15]
    assert [s.y0 for s in fig.layout.shapes] == [1.0]
    assert not figures.spectrum_history_figure([], {}, []).data
