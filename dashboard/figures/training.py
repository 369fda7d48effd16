"""Figures of training progress over optimizer steps: loss, gradient norms and text accuracy."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.common import (
    ACTUAL_COLOR,
    BASELINE_COLOR,
    PARAM_COLORS,
    TRAIN_COLOR,
    VAL_COLOR,
    base_layout,
    f32,
    log_y,
    note,
    step_axis,
)

FEW_POINTS = 20
"""Curves with at most this many points get markers: a line through one point is invisible."""

NO_STEPS_YET = "No steps yet: press <b>Start</b> or <b>Step</b>"


def curve_mode(n_points: int, mode: str = "lines") -> str:
    return f"{mode}+markers" if n_points <= FEW_POINTS and "markers" not in mode else mode


def loss_figure(
    steps: np.ndarray,
    train_loss: np.ndarray,
    eval_steps: np.ndarray | None = None,
    val_loss: np.ndarray | None = None,
    *,
    loss_label: str = "loss",
    start_step: int = 0,
    branches: list[tuple[np.ndarray, np.ndarray]] = (),
    marker_step: int | None = None,
) -> go.Figure:
    """Training loss per step and validation loss per evaluation on a log y-axis.

    Non-positive and non-finite values are dropped (a log axis cannot place them). ``start_step``
    is the step a loaded model starts from, where its history (empty at first) begins.
    ``branches`` are the training losses (steps, losses) of futures abandoned by going back to
    an earlier step, drawn faded behind the curve; ``marker_step`` marks the step looked at.
    """
    fig = go.Figure()
    for k, (xs, ys) in enumerate(branches):
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        fig.add_trace(
            go.Scatter(
                x=f32(xs[keep]), y=f32(ys[keep]), name="abandoned", mode="lines", opacity=0.35,
                line={"color": TRAIN_COLOR, "width": 1.2, "dash": "dot"}, showlegend=k == 0,
                legendgroup="abandoned", hoverinfo="skip",
            )
        )  # fmt: skip
    for xs, ys, name, color, mode in (
        (steps, train_loss, "training", TRAIN_COLOR, "lines"),
        (eval_steps, val_loss, "validation", VAL_COLOR, "lines+markers"),
    ):
        if xs is None or ys is None:
            continue
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        fig.add_trace(
            go.Scatter(
                x=f32(xs[keep]),
                y=f32(ys[keep]),
                name=name,
                mode=curve_mode(int(keep.sum()), mode),
                line={"color": color, "width": 1.6},
                marker={"size": 7 if keep.sum() <= FEW_POINTS else 4},
                cliponaxis=False,  # a lone dot at step 0 is not cut in half by the axis
            )
        )
    log_y(fig, loss_label)
    step_axis(fig)
    fig.update_xaxes(rangemode="tozero")
    if np.asarray(steps).size == 0 and start_step > 0:
        text = f"Loaded at step {start_step:,}: the curve starts with the next step"
        note(fig, text + "<br>(the dot is the loss of the loaded model)", center=True)
        fig.update_xaxes(range=[start_step, start_step + 10])
    elif np.asarray(steps).size == 0:
        note(fig, NO_STEPS_YET + "<br>(the dot is the loss of the untrained model)", center=True)
        fig.update_xaxes(range=[0, 10])
    if marker_step is not None:
        fig.add_vline(x=marker_step, line={"color": "#444", "width": 1.5, "dash": "dash"})
        fig.add_annotation(x=marker_step, y=1, yref="paper", text=f"step {marker_step:,}", showarrow=False,
                           xanchor="left", yanchor="top", font={"size": 11})  # fmt: skip
    return base_layout(fig, title="Loss", revision="loss")


def grad_norm_figure(
    steps: np.ndarray,
    norms: Mapping[str, np.ndarray],
    *,
    total: np.ndarray | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> go.Figure:
    """Gradient L2 norm per parameter over steps (log y) with the clipping threshold drawn.

    ``clip_norm`` is compared with the global norm (drawn as ``total``), so it is drawn as a
    dashed threshold line. ``clip_value`` clamps single elements: it bounds no norm, so it has
    no line on this axis and is only named in a note.
    """
    steps = np.asarray(steps, dtype=float)
    fig = go.Figure()
    vanished = []
    for k, (name, values) in enumerate(norms.items()):
        ys = np.asarray(values, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        finite = ys[np.isfinite(ys)]
        if finite.size and finite[-1] == 0:
            vanished.append(name)
        fig.add_trace(
            go.Scatter(
                x=f32(steps[keep]),
                y=f32(ys[keep]),
                name=name,
                mode=curve_mode(int(keep.sum())),
                line={"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 1.2},
                marker={"size": 5},
            )
        )
    if total is not None:
        ys = np.asarray(total, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        fig.add_trace(
            go.Scatter(
                x=f32(steps[keep]),
                y=f32(ys[keep]),
                name="global norm",
                mode=curve_mode(int(keep.sum())),
                line={"color": ACTUAL_COLOR, "width": 2},
                marker={"size": 5},
            )
        )
    notes = []
    if not steps.size:
        note(fig, NO_STEPS_YET, center=True)
    elif vanished:
        # A log axis has no place for 0, so these curves end or never appear: say why.
        names = [", ".join(vanished[i : i + 2]) for i in range(0, len(vanished), 2)]
        notes.append(
            "Vanished (gradient exactly 0,<br>which a log axis cannot draw):<br>" + ",<br>".join(names)
        )
    if clip_value is not None:
        notes.append(f"Elements also clipped to ±{clip_value:g}<br>(a per-element bound, not a norm)")
    if notes:
        note(fig, "<br>".join(notes))
    if clip_norm is not None:
        fig.add_trace(
            go.Scatter(
                x=f32([steps.min(), steps.max()]) if steps.size else f32([0.0, 1.0]),
                y=f32([clip_norm, clip_norm]),
                name=f"clip norm {clip_norm:g}",
                mode="lines",
                line={"color": VAL_COLOR, "width": 2, "dash": "dash"},
                hoverinfo="skip",
            )
        )
    log_y(fig, "L2 norm")  # short: a long vertical title overruns a short plot into its title
    step_axis(fig)
    return base_layout(fig, title="Gradient norm per parameter, before clipping", revision="grads")


def accuracy_figure(
    eval_steps: np.ndarray, accuracy: np.ndarray, *, baseline: float | None = None
) -> go.Figure:
    """Next-character accuracy on the validation text per evaluation, in percent."""
    xs = np.asarray(eval_steps, dtype=float)
    ys = np.asarray(accuracy, dtype=float)
    keep = np.isfinite(ys)
    fig = go.Figure(
        go.Scatter(
            x=f32(xs[keep]),
            y=f32(100 * ys[keep]),
            name="validation accuracy",
            mode="lines+markers",
            marker={"size": 4},
            line={"color": VAL_COLOR, "width": 1.8},
        )
    )
    if baseline is not None and xs.size:
        fig.add_trace(
            go.Scatter(
                x=f32([xs.min(), xs.max()]),
                y=f32([100 * baseline, 100 * baseline]),
                name="most frequent character",
                mode="lines",
                line={"color": BASELINE_COLOR, "dash": "dash"},
            )
        )
    fig.update_yaxes(title_text="next-character accuracy (%)", range=[0, 100])
    step_axis(fig)
    return base_layout(fig, title="Next-character accuracy", revision="accuracy")
