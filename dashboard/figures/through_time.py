"""Figures of what happens through time inside the network: the gradient's reach back in time
(now and over training), how far back the inputs matter, the recurrent spectrum and the path of
the hidden state. Arrays come from :mod:`rnn_core.through_time`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.common import PARAM_COLORS, base_layout, f32, log_y, note

LAG_AXIS = "steps back from the last step (lag)"


def _lag_axis(fig: go.Figure, n: int) -> None:
    fig.update_xaxes(title_text=LAG_AXIS, range=[-0.5, max(n - 1, 1) + 0.5])


def flow_figure(
    flow: Mapping[str, np.ndarray],
    *,
    verdicts: Mapping[str, str | None] | None = None,
    thresholds=(1e-3, 1e3),
) -> go.Figure:
    """The norm of the final step's loss gradient with respect to each hidden state (solid) and
    cell state (dashed) by lag, a line per layer, on a log axis; a note names a gradient that
    vanished or exploded on its way back (``verdicts``: per line name)."""
    fig = go.Figure()
    h = np.asarray(flow["h"], dtype=float)
    lags = np.arange(h.shape[1])
    for which, dash in (("h", None), ("c", "dash")):
        if which not in flow:
            continue
        for k, row in enumerate(np.asarray(flow[which], dtype=float)):
            keep = np.isfinite(row) & (row > 0)
            fig.add_trace(go.Scatter(
                x=f32(lags[keep]), y=f32(row[keep]), name=f"∂L/∂{which}, layer {k}", mode="lines",
                line={"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 2, "dash": dash},
            ))  # fmt: skip
    log_y(fig, "gradient norm")
    _lag_axis(fig, h.shape[1])
    named = [f"{name}: <b>{v}</b>" for name, v in (verdicts or {}).items() if v]
    if named:
        low, high = thresholds
        note(fig, "; ".join(named) + f" (below {low:g} or above {high:g} of lag 0's)")
    return base_layout(fig, title="Gradient through time", revision="tt-flow")


def flow_history_figure(steps: Sequence[int], ratios: np.ndarray) -> go.Figure:
    """The gradient's reach over training: one row per measurement (optimizer step) and one
    column per lag, coloured by log10 of the norm relative to lag 0 (top layer's h)."""
    fig = go.Figure()
    ratios = np.asarray(ratios, dtype=float)
    if len(steps) == 0:
        note(fig, "Measured while training runs with this view open", center=True)
        return base_layout(fig, title="Gradient reach over training", revision="tt-history")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log10(np.where(ratios > 0, ratios, np.nan))
    z = np.clip(z, -8, 3)
    fig.add_trace(go.Heatmap(
        x=f32(np.arange(ratios.shape[1])), y=f32(np.asarray(steps, dtype=float)), z=f32(z),
        colorscale="Viridis", zmin=-8, zmax=0, colorbar={"title": {"text": "log10 ratio", "side": "right"},
                                                          "thickness": 12},
        hovertemplate="lag %{x}, step %{y}: 10^%{z:.1f} of lag 0<extra></extra>",
    ))  # fmt: skip
    _lag_axis(fig, ratios.shape[1])
    fig.update_yaxes(title_text="optimizer step")
    return base_layout(fig, title="Gradient reach over training", revision="tt-history")


def saliency_figure(sal: np.ndarray | None, columns: Sequence[str], *, span: int | None) -> go.Figure:
    """Mean |∂ŷ/∂x| by lag, a line per input column, with the memory span marked."""
    fig = go.Figure()
    if sal is None:
        note(fig, "Measured for numeric series: a text model's inputs are characters", center=True)
        return base_layout(fig, title="Memory: what the prediction looks back at", revision="tt-saliency")
    sal = np.asarray(sal, dtype=float)
    lags = np.arange(sal.shape[0])
    for j in range(sal.shape[1]):
        fig.add_trace(go.Scatter(
            x=f32(lags), y=f32(sal[:, j]), name=str(columns[j]) if j < len(columns) else f"input {j}",
            mode="lines", line={"color": PARAM_COLORS[j % len(PARAM_COLORS)], "width": 2},
        ))  # fmt: skip
    if span is not None:
        fig.add_vline(x=span, line={"color": "#555", "dash": "dot", "width": 1.5})
        note(fig, f"Memory span: {span} steps (the furthest lag at 1% of the peak or more)")
    fig.update_yaxes(title_text="mean |∂ŷ/∂x| (normalised units)", rangemode="tozero")
    _lag_axis(fig, sal.shape[0])
    return base_layout(fig, title="Memory: what the prediction looks back at", revision="tt-saliency")


def spectrum_figure(blocks: Mapping[str, Mapping], *, layer: int = 0) -> go.Figure:
    """The eigenvalues of each recurrent block in the complex plane, with the unit circle: inside
    it a linearised state shrinks from step to step, outside it grows."""
    fig = go.Figure()
    angle = np.linspace(0, 2 * np.pi, 181)
    circle = {"color": "#999", "width": 1, "dash": "dot"}
    fig.add_trace(go.Scatter(x=f32(np.cos(angle)), y=f32(np.sin(angle)), name="unit circle", mode="lines",
                             line=circle, hoverinfo="skip"))  # fmt: skip
    lines = []
    for j, (name, found) in enumerate(blocks.items()):
        eig = np.asarray(found["eigenvalues"])
        label = "W_hh" if name == "h" else f"W_h{name}"
        fig.add_trace(go.Scatter(
            x=f32(eig.real), y=f32(eig.imag), name=label, mode="markers",
            marker={"color": PARAM_COLORS[j % len(PARAM_COLORS)], "size": 6, "opacity": 0.8},
        ))  # fmt: skip
        lines.append(f"{label}: radius {found['radius']:.3f}, norm {found['norm']:.3f}")
    note(fig, "<br>".join(lines) if len(lines) <= 2 else ", ".join(s.split(",")[0] for s in lines))
    fig.update_xaxes(title_text="real part", zeroline=True)
    fig.update_yaxes(title_text="imaginary part", zeroline=True, scaleanchor="x", scaleratio=1)
    return base_layout(fig, title=f"Recurrent spectrum, layer {layer}", revision="tt-spectrum")


def path_figure(xy: np.ndarray | None, share: np.ndarray | None, *, layer: int = 0) -> go.Figure:
    """The hidden state of one window on the probe's top two principal components, a path
    coloured by time from the first step to the last."""
    fig = go.Figure()
    title = f"State trajectory, layer {layer}"
    if xy is None:
        note(fig, "No trajectory: the states are not finite", center=True)
        return base_layout(fig, title=title, revision="tt-path")
    xy = np.asarray(xy, dtype=float)
    t = np.arange(len(xy))
    fig.add_trace(go.Scatter(x=f32(xy[:, 0]), y=f32(xy[:, 1]), mode="lines", showlegend=False,
                             hoverinfo="skip", line={"color": "#bbb", "width": 1}))  # fmt: skip
    fig.add_trace(go.Scatter(
        x=f32(xy[:, 0]), y=f32(xy[:, 1]), mode="markers", name="step",
        marker={"color": f32(t), "colorscale": "Plasma", "size": 6, "showscale": True,
                "colorbar": {"title": {"text": "step", "side": "right"}, "thickness": 12}},
        hovertemplate="step %{marker.color}<extra></extra>", showlegend=False,
    ))  # fmt: skip
    if share is not None and len(share) >= 2:
        note(fig, f"The two components hold {share[0]:.0%} and {share[1]:.0%} of the states' variance")
    fig.update_xaxes(title_text="component 1")
    fig.update_yaxes(title_text="component 2")
    return base_layout(fig, title=title, revision="tt-path")


def spectrum_history_figure(steps: Sequence[int], radius: Mapping[str, Sequence[float]],
                            jacobian: Sequence[float]) -> go.Figure:  # fmt: skip
    """Over training: each recurrent block's spectral radius and the mean singular value of the
    step Jacobian, with the line at 1 where a step neither shrinks nor stretches."""
    fig = go.Figure()
    title = "Spectrum and step Jacobian over training"
    if len(steps) == 0:
        note(fig, "Measured while training runs with this view open", center=True)
        return base_layout(fig, title=title, revision="tt-spectrum-history")
    xs = f32(np.asarray(steps, dtype=float))
    for j, (name, values) in enumerate(radius.items()):
        label = "W_hh" if name == "h" else f"W_h{name}"
        line = {"color": PARAM_COLORS[j % len(PARAM_COLORS)], "width": 1.6}
        fig.add_trace(go.Scatter(x=xs, y=f32(np.asarray(values, dtype=float)), name=f"radius {label}",
                                 mode="lines", line=line))  # fmt: skip
    dashed = {"color": "#2b2d42", "width": 2.2, "dash": "dash"}
    fig.add_trace(go.Scatter(x=xs, y=f32(np.asarray(jacobian, dtype=float)), name="step Jacobian (mean σ)",
                             mode="lines", line=dashed))  # fmt: skip
    fig.add_hline(y=1.0, line={"color": "#999", "width": 1, "dash": "dot"})
    fig.update_xaxes(title_text="optimizer step")
    fig.update_yaxes(title_text="factor per step", rangemode="tozero")
    return base_layout(fig, title=title, revision="tt-spectrum-history")
