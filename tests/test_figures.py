"""Figure builders, called directly with synthetic arrays: the traces carry the data they were given."""

import numpy as np
import pytest

from dashboard import figures


def _vrects(fig):
    return [s for s in fig.layout.shapes if s.type == "rect"]


def test_loss_figure_log_axis_and_both_curves():
    steps = np.arange(1, 101)
    loss = 1.0 / steps
    eval_steps = np.array([10, 50, 100])
    val = np.array([0.5, 0.1, 0.05])
    fig = figures.loss_figure(steps, loss, eval_steps, val, loss_label="MSE")
    assert fig.layout.yaxis.type == "log"
    names = [t.name for t in fig.data]
    assert names == ["training", "validation"]
    np.testing.assert_allclose(fig.data[0].y, loss, rtol=1e-6)
    np.testing.assert_allclose(fig.data[1].x, eval_steps)
    assert fig.data[0].y.dtype == np.float32
    assert fig.layout.uirevision == "loss"


def test_loss_figure_drops_values_a_log_axis_cannot_place():
    fig = figures.loss_figure(np.arange(5), np.array([1.0, np.nan, 0.0, np.inf, 0.5]))
    np.testing.assert_allclose(fig.data[0].x, [0, 4])
    np.testing.assert_allclose(fig.data[0].y, [1.0, 0.5])


def test_loss_figure_without_validation_has_one_trace():
    fig = figures.loss_figure(np.arange(3), np.ones(3))
    assert len(fig.data) == 1


def test_series_figure_shades_train_and_validation():
    x = np.arange(200.0)
    y = np.sin(x)
    fig = figures.series_figure(x, y, target_name="sin", train_span=(50, 149), val_span=(150, 199))
    rects = _vrects(fig)
    assert len(rects) == 2
    spans = sorted((r.x0, r.x1) for r in rects)
    assert spans == [(50, 149), (150, 199)]
    np.testing.assert_allclose(fig.data[0].y, y, atol=1e-6)
    labels = {a.text for a in fig.layout.annotations}
    assert {"train", "validation"} <= labels


def test_series_figure_thins_long_series_and_keeps_the_ends():
    n = 100_000
    x = np.arange(n, dtype=float)
    fig = figures.series_figure(x, x * 2, target_name="t")
    xs = np.asarray(fig.data[0].x)
    assert len(xs) <= figures.PREVIEW_POINTS
    assert xs[0] == 0 and xs[-1] == n - 1


def test_series_figure_draws_extra_inputs_in_their_own_panels():
    x = np.arange(10.0)
    fig = figures.series_figure(x, x, target_name="load", extras={"temp": -x, "hum": x**2})
    assert [t.name for t in fig.data] == ["load", "temp", "hum"]
    assert fig.data[2].yaxis == "y3"
    np.testing.assert_allclose(fig.data[2].y, x**2)


def test_datetime_spans_are_written_as_dates_not_nanoseconds():
    x = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]").astype("datetime64[ns]")
    fig = figures.series_figure(x, np.arange(10.0), target_name="t", val_span=(x[7], x[9]))
    [rect] = _vrects(fig)
    assert str(rect.x0).startswith("2024-01-08") and str(rect.x1).startswith("2024-01-10")
    fig = figures.predictions_figure(x[:7], np.zeros(7), np.zeros(7), x[7:], np.ones(3), np.ones(3))
    [rect] = _vrects(fig)
    assert str(rect.x0).startswith("2024-01-08")
    fig = figures.forecast_figure(x, np.zeros(10), x + np.timedelta64(10, "D"), np.zeros(10))
    [rect] = _vrects(fig)
    assert str(rect.x1).startswith("2024-01-20")


def test_split_spans_reads_the_index_arrays():
    x = np.arange(100.0) * 2
    tr, va = figures.split_spans(x, np.arange(10, 80), np.arange(80, 100))
    assert tr == (20.0, 158.0)
    assert va == (160.0, 198.0)


def test_predictions_figure_traces_and_shaded_validation():
    xt, xv = np.arange(50, 150.0), np.arange(150, 200.0)
    at, av = np.sin(xt), np.sin(xv)
    pt, pv = at + 0.1, av - 0.1
    fig = figures.predictions_figure(xt, pt, at, xv, pv, av, y_label="sin")
    names = [t.name for t in fig.data]
    assert names == ["actual", "predicted (train)", "predicted (validation)"]
    np.testing.assert_allclose(fig.data[0].y, np.sin(np.arange(50, 200.0)), atol=1e-6)
    np.testing.assert_allclose(fig.data[2].y, pv, atol=1e-6)
    rects = _vrects(fig)
    assert len(rects) == 1 and (rects[0].x0, rects[0].x1) == (150, 199)


def test_forecast_figure_continues_after_history():
    xh = np.arange(100.0)
    xf = np.arange(100.0, 120.0)
    fig = figures.forecast_figure(xh, np.cos(xh), xf, np.zeros(20), x_val=xh[80:], pred_val=np.cos(xh[80:]))
    assert len(fig.data) == 3
    np.testing.assert_allclose(fig.data[2].x, xf)
    assert "forecast" in fig.data[2].name
    assert len(_vrects(fig)) == 1


def test_heatmap_is_units_by_time_with_a_fixed_tanh_range():
    T, H = 7, 3
    values = np.linspace(-0.5, 0.5, T * H).reshape(T, H)
    fig = figures.heatmap_figure(values)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (H, T)
    np.testing.assert_allclose(z[2, 6], values[6, 2], rtol=1e-6)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-1.0, 1.0)


def test_heatmap_range_for_sigmoid_activations_starts_at_zero():
    fig = figures.heatmap_figure(np.full((4, 2), 0.3))
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.0, 1.0)


def test_heatmap_range_widens_for_unbounded_activations():
    values = np.zeros((3, 2))
    values[1, 1] = -4.0
    fig = figures.heatmap_figure(values)
    assert (fig.data[0].zmin, fig.data[0].zmax) == (-4.0, 4.0)


def test_gates_figure_has_one_heatmap_per_gate():
    rng = np.random.default_rng(0)
    gates = {name: rng.uniform(size=(5, 4)) for name in ("i0", "f0", "g0", "o0")}
    fig = figures.gates_figure(gates)
    assert [t.name for t in fig.data] == ["i0", "f0", "g0", "o0"]
    assert all(np.asarray(t.z).shape == (4, 5) for t in fig.data)


def test_grad_norm_figure_draws_clip_norm_threshold_across_the_steps():
    steps = np.arange(10, 20)
    norms = {"rnn.weight_hh_l0": np.linspace(0.1, 3, 10), "head.weight": np.full(10, 0.5)}
    fig = figures.grad_norm_figure(steps, norms, total=np.linspace(0.2, 4, 10), clip_norm=1.0)
    assert fig.layout.yaxis.type == "log"
    threshold = [t for t in fig.data if t.name.startswith("clip norm")]
    assert len(threshold) == 1
    np.testing.assert_allclose(threshold[0].y, [1.0, 1.0])
    np.testing.assert_allclose(threshold[0].x, [10, 19])
    np.testing.assert_allclose(fig.data[0].y, norms["rnn.weight_hh_l0"], rtol=1e-6)
    assert "global norm" in [t.name for t in fig.data]


def test_grad_norm_figure_clip_value_is_no_line_and_none_draws_nothing():
    steps = np.arange(3)
    norms = {"a": np.ones(3)}
    fig = figures.grad_norm_figure(steps, norms, clip_value=10.0)
    # a per-element bound is not a norm, so it gets no threshold line on the L2-norm axis
    assert [t.name for t in fig.data] == ["a"]
    fig = figures.grad_norm_figure(steps, norms)
    assert not [t for t in fig.data if t.name.startswith("clip")]


def test_accuracy_figure_in_percent_with_baseline():
    fig = figures.accuracy_figure(np.array([1, 2, 3]), np.array([0.1, 0.2, 0.4]), baseline=0.15)
    np.testing.assert_allclose(fig.data[0].y, [10, 20, 40], rtol=1e-6)
    np.testing.assert_allclose(fig.data[1].y, [15, 15], rtol=1e-6)


def test_probs_figure_sorted_and_whitespace_made_visible():
    fig = figures.probs_figure([(" ", 0.2), ("e", 0.5), ("\n", 0.3)])
    assert list(fig.data[0].y) == ["'e'", "'↵'", "'␣'"]
    np.testing.assert_allclose(fig.data[0].x, [0.5, 0.3, 0.2], rtol=1e-6)


def test_char_counts_figure_most_frequent_first():
    fig = figures.char_counts_figure({"a": 3, "b": 10, " ": 5}, top=2)
    assert list(fig.data[0].x) == ["b", "␣"]


def test_f32_leaves_datetimes_alone():
    d = np.array(["2024-01-01"], dtype="datetime64[D]")
    assert figures.f32(d).dtype == d.dtype
    assert figures.f32([1, 2]).dtype == np.float32


def _notes(fig) -> str:
    """Every note on the chart: in the plot (an empty chart's) and under the title."""
    return " ".join([*(a.text for a in fig.layout.annotations), fig.layout.title.subtitle.text or ""])


def test_log_axes_are_labelled_in_powers_of_ten_not_si_prefixes():
    loss = figures.loss_figure(np.arange(1, 4), np.array([1.0, 1e-4, 1e-6]))
    grads = figures.grad_norm_figure(np.arange(1, 4), {"w": np.array([1e9, 1e12, 1e15])})
    for fig in (loss, grads):
        assert fig.layout.yaxis.type == "log"
        assert fig.layout.yaxis.exponentformat == "power"


def test_charts_before_the_first_step_say_how_to_start():
    empty = np.zeros(0)
    loss = figures.loss_figure(empty, empty, np.array([0]), np.array([0.5]))
    grads = figures.grad_norm_figure(empty, {"w": empty}, total=empty, clip_norm=1.0)
    for fig in (loss, grads):
        assert "press <b>Start</b>" in _notes(fig)
    assert loss.layout.xaxis.range == (0, 10)  # no "-0.5 optimizer step" around the lone dot
    # at least two decades on the log axis, so it is labelled in powers of ten, not 2, 3, 4, 5
    lo, hi = loss.layout.yaxis.range
    assert hi - lo == pytest.approx(2.0) and lo < np.log10(0.5) < hi
    assert loss.layout.yaxis.dtick == 1
    drawn = figures.loss_figure(np.arange(1, 4), np.ones(3))
    assert "Start" not in _notes(drawn)


def test_a_curve_of_one_point_is_drawn_with_a_marker():
    fig = figures.loss_figure(np.array([101]), np.array([0.2]))
    assert "markers" in fig.data[0].mode
    long = figures.loss_figure(np.arange(500), np.ones(500))
    assert long.data[0].mode == "lines"
    grads = figures.grad_norm_figure(np.array([101]), {"w": np.array([0.3])}, total=np.array([0.3]))
    assert all("markers" in t.mode for t in grads.data)


def test_vanished_gradients_are_named_since_a_log_axis_cannot_draw_zero():
    steps = np.arange(1, 6)
    norms = {
        "weight_hh_l0": np.array([0.1, 1e-3, 0.0, 0.0, 0.0]),
        "head.weight": np.array([1.0, 0.5, 0.4, 0.3, 0.2]),
    }
    fig = figures.grad_norm_figure(steps, norms, total=np.ones(5))
    notes = _notes(fig)
    assert "weight_hh_l0" in notes and "head.weight" not in notes
    # under the title, where no curve runs: nothing drawn over the plot, room made above it
    assert not fig.layout.annotations
    assert fig.layout.margin.t > figures.common.MARGIN["t"] and fig.layout.height > 360
    healthy = figures.grad_norm_figure(steps, {"head.weight": norms["head.weight"]})
    assert not _notes(healthy).strip() and healthy.layout.margin.t == figures.common.MARGIN["t"]


def test_every_gate_has_its_own_colour_bar_beside_it():
    rng = np.random.default_rng(0)
    gates = {
        "reset gate (r)": rng.uniform(0, 1, (20, 8)),
        "update gate (z)": rng.uniform(0, 1, (20, 8)),
        "candidate (n)": rng.uniform(-1, 1, (20, 8)),
    }
    fig = figures.gates_figure(gates)
    scales = [t.colorscale[0][1] != fig.data[0].colorscale[0][1] for t in fig.data]
    assert scales == [False, False, True]  # the tanh candidate is coloured on another scale ...
    for r, trace in enumerate(fig.data, start=1):
        assert trace.showscale is not False  # ... so each gate shows its own
        lo, hi = fig.layout[f"yaxis{r if r > 1 else ''}"].domain
        assert lo <= trace.colorbar.y <= hi


def test_step_axes_show_whole_steps_over_the_first_few_steps():
    few = (np.array([100, 101]), np.array([1.0, 0.5]))
    figs = [
        figures.loss_figure(*few),
        figures.grad_norm_figure(few[0], {"w": few[1]}),
        figures.accuracy_figure(*few),
    ]
    for fig in figs:
        assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.title.text == "optimizer step"
    many = figures.loss_figure(np.arange(500), np.ones(500))
    assert many.layout.xaxis.dtick is None
