"""Long validation predictions are thinned before drawing, and only norms get threshold lines on
the gradient-norm chart."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import figures

N = 100_000


def _notes(fig) -> str:
    """Every note on the chart: in the plot (an empty chart's) and under the title."""
    return " ".join([*(a.text for a in fig.layout.annotations), fig.layout.title.subtitle.text or ""])


def _assert_thinned(trace, x_full, max_points):
    xs = np.asarray(trace.x, dtype=float)
    assert min(2, len(x_full)) <= len(xs) <= max_points
    assert xs[0] == x_full[0] and xs[-1] == x_full[-1], trace.name
    assert np.all(np.diff(xs) > 0), trace.name


def _split(n, frac=0.8):
    """Train/validation positions and a sine series on them (predicted = actual + 1)."""
    x = np.arange(n, dtype=float)
    cut = int(n * frac)
    xt, xv = x[:cut], x[cut:]
    return xt, np.sin(xt) + 1, np.sin(xt), xv, np.sin(xv) + 1, np.sin(xv)


def test_predictions_of_a_long_series_are_thinned_with_the_ends_kept_and_a_note():
    xt, pt, at, xv, pv, av = _split(N)
    fig = figures.predictions_figure(xt, pt, at, xv, pv, av, max_points=1000)
    actual, pred_train, pred_val = fig.data
    _assert_thinned(actual, np.r_[xt, xv], 1000)
    _assert_thinned(pred_train, xt, 1000)
    _assert_thinned(pred_val, xv, 1000)
    # the points kept are the values at the positions kept, not a re-sampled curve
    np.testing.assert_allclose(pred_val.y, np.sin(np.asarray(pred_val.x, dtype=float)) + 1, atol=1e-5)
    np.testing.assert_allclose(actual.y, np.sin(np.asarray(actual.x, dtype=float)), atol=1e-5)
    assert "Thinned" in _notes(fig) and "100,000" in _notes(fig)
    [rect] = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (rect.x0, rect.x1) == (xv[0], xv[-1])  # the shaded range still spans every window


def test_predictions_default_draws_a_few_thousand_points_at_most():
    fig = figures.predictions_figure(*_split(N))
    assert all(500 <= len(t.x) <= 5000 for t in fig.data)


def test_short_predictions_are_drawn_whole_without_a_note():
    xt, pt, at, xv, pv, av = _split(200)
    fig = figures.predictions_figure(xt, pt, at, xv, pv, av, max_points=200)
    assert [len(t.x) for t in fig.data] == [200, 160, 40]
    assert "Thinned" not in _notes(fig)


def test_forecast_thins_every_curve_but_names_and_shades_the_whole_forecast():
    x = np.arange(N, dtype=float)
    xf = np.arange(N, N + 10_000, dtype=float)
    fig = figures.forecast_figure(
        x, np.cos(x), xf, np.zeros(10_000), x_val=x[80_000:], pred_val=np.cos(x[80_000:]), max_points=800
    )
    actual, one_step, forecast = fig.data
    _assert_thinned(actual, x, 800)
    _assert_thinned(one_step, x[80_000:], 800)
    _assert_thinned(forecast, xf, 800)
    np.testing.assert_allclose(one_step.y, np.cos(np.asarray(one_step.x, dtype=float)), atol=1e-5)
    assert "10000 steps" in forecast.name
    [rect] = [s for s in fig.layout.shapes if s.type == "rect"]
    assert (rect.x0, rect.x1) == (xf[0], xf[-1])
    assert "Thinned" in _notes(fig)


def test_forecast_with_short_curves_has_no_thinning_note():
    x = np.arange(100.0)
    fig = figures.forecast_figure(x, x, x + 100, x, x_val=x[80:], pred_val=x[80:])
    assert [len(t.x) for t in fig.data] == [100, 20, 100]
    assert "Thinned" not in _notes(fig)


@settings(max_examples=40, deadline=None)
@given(n_train=st.integers(0, 3000), n_val=st.integers(1, 3000), max_points=st.integers(2, 500))
def test_thinned_prediction_traces_never_exceed_max_points(n_train, n_val, max_points):
    xt, pt, at, xv, pv, av = _split(n_train + n_val, n_train / (n_train + n_val))
    fig = figures.predictions_figure(xt, pt, at, xv, pv, av, max_points=max_points)
    for trace, full in zip(fig.data, (np.r_[xt, xv], xt, xv), strict=True):
        assert len(trace.x) == min(len(full), max_points)
        if len(full):
            _assert_thinned(trace, full, max_points)
    assert ("Thinned" in _notes(fig)) == (n_train + n_val > max_points)


def test_grad_norms_draw_the_clip_norm_line_but_not_the_per_element_clip_value():
    steps = np.arange(1, 11)
    norms = {"weight_hh_l0": np.linspace(0.5, 2.0, 10), "bias_hh_l0": np.full(10, 0.8)}
    fig = figures.grad_norm_figure(
        steps, norms, total=np.linspace(1.0, 3.0, 10), clip_norm=5.0, clip_value=1e6
    )
    names = [t.name for t in fig.data]
    assert names == ["weight_hh_l0", "bias_hh_l0", "global norm", "clip norm 5"]
    [line] = [t for t in fig.data if t.name.startswith("clip norm")]
    np.testing.assert_allclose(line.y, [5.0, 5.0])
    np.testing.assert_allclose(line.x, [1, 10])
    assert not any(np.any(np.asarray(t.y) == pytest.approx(1e6)) for t in fig.data)
    # the axis spans the norms and the norm threshold, not up to the per-element bound
    assert fig.layout.yaxis.range[1] < 6
    assert "1e+06" in _notes(fig)  # the element bound is still named, in words


def test_clip_value_note_sits_beside_the_vanished_gradients_note():
    steps = np.arange(1, 4)
    norms = {"w": np.array([1.0, 0.1, 0.0]), "b": np.ones(3)}
    fig = figures.grad_norm_figure(steps, norms, clip_value=0.5)
    notes = _notes(fig)
    assert "Vanished" in notes and "±0.5" in notes
    assert not [t for t in fig.data if t.name.startswith("clip")]
