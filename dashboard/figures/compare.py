"""Figures of the Compare page's live runs: their losses overlaid, their predictions against
the actual values, one colour per run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.common import ACTUAL_COLOR, PARAM_COLORS, base_layout, f32, log_y, note, step_axis
from dashboard.figures.series import Thinner
from dashboard.figures.training import NO_STEPS_YET, curve_mode

RUN_COLORS = PARAM_COLORS[:4]
"""One colour per run, the same in every chart and the table."""


def run_color(index: int) -> str:
    return RUN_COLORS[index % len(RUN_COLORS)]


def _positive(xs, ys) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.isfinite(ys) & (ys > 0)
    return xs[keep], ys[keep]


def compare_loss_figure(runs: Sequence[Mapping], *, loss_label: str = "loss") -> go.Figure:
    """Each run's training loss (a line) and validation loss (dotted, with a marker per
    evaluation) on one log axis, a colour per run.

    ``runs``: mappings with ``name``, ``steps`` and ``loss`` (per step), and optionally
    ``eval_steps`` and ``val_loss`` (per evaluation). Non-positive and non-finite values are
    dropped, as a log axis cannot place them."""
    fig = go.Figure()
    any_steps = False
    for i, run in enumerate(runs):
        color = run_color(i)
        xs, ys = _positive(run["steps"], run["loss"])
        any_steps |= len(np.asarray(run["steps"])) > 0
        fig.add_trace(
            go.Scatter(x=f32(xs), y=f32(ys), name=f"{run['name']} training", legendgroup=run["name"],
                       mode=curve_mode(len(xs)), line={"color": color, "width": 1.4}, opacity=0.85,
                       cliponaxis=False)
        )  # fmt: skip
        if run.get("eval_steps") is not None and run.get("val_loss") is not None:
            xs, ys = _positive(run["eval_steps"], run["val_loss"])
            fig.add_trace(
                go.Scatter(x=f32(xs), y=f32(ys), name=f"{run['name']} validation", legendgroup=run["name"],
                           mode="lines+markers", line={"color": color, "width": 2, "dash": "dot"},
                           marker={"size": 5}, cliponaxis=False)
            )  # fmt: skip
    log_y(fig, loss_label)
    step_axis(fig)
    fig.update_xaxes(rangemode="tozero")
    if not any_steps:
        note(fig, NO_STEPS_YET + "<br>(the dots are the losses of the untrained models)", center=True)
        fig.update_xaxes(range=[0, 10])
    return base_layout(fig, title="Loss, run by run", revision="compare-loss", height=400)


def compare_predictions_figure(
    x: np.ndarray,
    actual: np.ndarray,
    runs: Sequence[Mapping],
    *,
    y_label: str = "value",
    x_label: str = "x",
    max_points: int = 3000,
) -> go.Figure:
    """The actual values of the validation windows and each run's one-step predictions of
    them (``runs``: mappings with ``name`` and ``pred``, aligned with ``x``; a run without
    predictions yet has ``pred`` None), thinned to ``max_points`` each."""
    thinned = Thinner(max_points)
    x = np.asarray(x)
    fig = go.Figure()
    xs, ys = thinned(x, np.ravel(actual))
    fig.add_trace(go.Scatter(x=f32(xs), y=f32(ys), name="actual", mode="lines",
                             line={"color": ACTUAL_COLOR, "width": 2.2}))  # fmt: skip
    for i, run in enumerate(runs):
        if run.get("pred") is None:
            continue
        xs, ys = thinned(x, np.ravel(run["pred"]))
        fig.add_trace(go.Scatter(x=f32(xs), y=f32(ys), name=run["name"], mode="lines",
                                 line={"color": run_color(i), "width": 1.6, "dash": "dot"}))  # fmt: skip
    thinned.add_note(fig)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return base_layout(
        fig, title="Validation predictions against actual", revision="compare-pred", height=400
    )
