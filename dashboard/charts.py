"""The Train page's live charts: loss, predictions or text progress, internals, gradient norms.

Figures are rebuilt through :func:`live_figure`: not at all while the model has not changed,
and while training runs at most as often as :data:`REFRESH` says (the loss chart every tick);
in between the previous figure is sent again, which the browser recognises and skips. Each is
drawn by :func:`dashboard.plot.chart`, which updates a chart in place and keeps its zoom.
"""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard import controls, engine, figures, plot, session
from dashboard.format import x_label
from dashboard.session import Run
from rnn_core.cells import cell_spec
from rnn_core.history import GRAD_NORM_PREFIX, downsample_indices

CURVE_POINTS = 300
"""Points per curve in the live charts (the history itself keeps every step)."""

LIVE_PRED_MAX = 3000
"""Most windows per split drawn in the live predictions chart: on a long series an evenly spaced
sample of them is predicted (the chart could not show more points anyway)."""

REFRESH = {
    "loss": 0.0,
    "pred": 0.5,
    "accuracy": 0.5,
    "sample": 1.0,
    "internals": 1.0,
    "grads": 1.0,
    "time": 2.0,
}
"""Seconds between rebuilds of each live chart while training runs (0 = every refresh)."""

BUSY_SLOWDOWN, BUSY_MIN_EVERY = 3.0, 8.0
"""While the server has more runs training than worker cores, each live chart but the loss is
rebuilt at most every ``max(BUSY_SLOWDOWN x its own interval, BUSY_MIN_EVERY)`` seconds: a
browser redrawing a chart costs it a good part of a second of a shared core, and the loss chart
and the numbers still move with every refresh."""

HEATMAP_UNITS, HEATMAP_STEPS = 128, 400
"""Largest heatmap drawn: the first units and the last time steps of a window beyond this."""

GATE_LABELS = {
    "i": "input gate", "f": "forget gate", "g": "cell candidate", "o": "output gate",
    "r": "reset gate", "z": "update gate", "n": "candidate",
}  # fmt: skip
"""Names of the gate arrays ``Network.internals`` returns (LSTM i,f,g,o; GRU r,z,n)."""


def live_figure(run: Run, name: str, view: tuple, build, *, every: float):
    """What ``build()`` makes (a figure comes back ready to draw, :func:`dashboard.plot.serialize`),
    rebuilt while training runs at most every ``every`` seconds.

    ``view`` holds the user's choices (split, window, layer, ...): when it changes, or when
    training is paused, the figure is rebuilt at once. A figure that is slow to build waits at
    least five times its own cost, so that drawing never takes most of a refresh.
    """
    hit = run.memo.get(f"fig:{name}")
    now = time.perf_counter()
    moving = session.get().state.moving
    if moving and every > 0 and engine.executor().busy():
        # Runs share the server: every browser redraws less often, which leaves the cores to
        # the training and to the pages of new visitors.
        every = max(every * BUSY_SLOWDOWN, BUSY_MIN_EVERY)
    if hit is not None:
        old_version, old_view, fig, at, cost = hit
        if old_view == view and (old_version == run.version or (moving and now - at < max(every, 5 * cost))):
            return fig
    fig = build()
    if isinstance(fig, go.Figure):
        fig = plot.serialize(fig)
    run.memo[f"fig:{name}"] = (run.version, view, fig, now, time.perf_counter() - now)
    return fig


def loss_chart(run: Run) -> None:
    tr = run.trainer
    hist = tr.history

    def build():
        d = hist.downsample(CURVE_POINTS, columns=["loss"])
        ev = hist.evals
        ev_steps = ev_loss = None
        if len(ev) and "val_loss" in ev:
            idx = downsample_indices(len(ev), CURVE_POINTS)
            ev_steps, ev_loss = np.array(ev["step"][idx]), np.array(ev["val_loss"][idx])
        label = "cross-entropy (nats)" if tr.dataset.kind == "text" else "MSE (normalised)"
        start = tr.step_count if len(d["step"]) == 0 else 0
        return figures.loss_figure(
            d["step"], d["loss"], ev_steps, ev_loss, loss_label=label, start_step=start,
            branches=run.branches, marker_step=looked_at,
        )  # fmt: skip

    # a look back at a kept step (dashboard.sections.rewind) marks it on the whole run's curve
    looked_at = getattr(tr, "rewound_to", None)
    fig = live_figure(run, "loss", (len(hist.evals), len(run.branches)), build, every=REFRESH["loss"])
    plot.chart(fig, key="fig_loss")


def predictions_chart(run: Run) -> None:
    tr = run.trainer
    ds = tr.dataset

    def build():
        xt, pt, at = tr.predictions("train", max_points=LIVE_PRED_MAX)
        xv, pv, av = tr.predictions("val", max_points=LIVE_PRED_MAX)
        return figures.predictions_figure(xt, pt, at, xv, pv, av, y_label=ds.columns[0], x_label=x_label(ds))

    fig = live_figure(run, "pred", (), build, every=REFRESH["pred"])
    plot.chart(fig, key="fig_pred")


def text_progress(run: Run) -> None:
    tr = run.trainer
    ev = tr.history.evals

    def build():
        if len(ev) and "val_accuracy" in ev:
            idx = downsample_indices(len(ev), CURVE_POINTS)
            steps, acc = np.array(ev["step"][idx]), np.array(ev["val_accuracy"][idx])
        else:
            steps, acc = np.zeros(0), np.zeros(0)
        counts = tr.dataset.counts
        top = max(counts.values()) / (sum(counts.values()) or 1) if counts else None
        return figures.accuracy_figure(steps, acc, baseline=top)

    plot.chart(live_figure(run, "accuracy", (len(ev),), build, every=REFRESH["accuracy"]), key="fig_acc")
    line = live_figure(run, "sample", (), lambda: tr.sample_line(120, 0.8), every=REFRESH["sample"])
    st.caption("A line sampled just now (temperature 0.8):")
    st.code(line, language=None, wrap_lines=True)


def _cut_note(tr) -> str:
    cut = []
    if tr.config.hidden_size > HEATMAP_UNITS:
        cut.append(f"first {HEATMAP_UNITS} units")
    if tr.dataset.seq_len > HEATMAP_STEPS:
        cut.append(f"last {HEATMAP_STEPS} steps")
    return f" ({', '.join(cut)})" if cut else ""


def _windows(tr, split: str) -> int:
    ds = tr.dataset
    if ds.kind == "text":
        ids = ds.val_ids if split == "val" else ds.train_ids
        return max(1, len(ids) // ds.seq_len)
    return ds.val_windows if split == "val" else ds.train_windows


def internals_chart(run: Run) -> None:
    tr = run.trainer
    view = session.get().view
    # A wrapping row of fixed widths, not columns: in a narrow panel (a projector's) columns
    # would squeeze the radio's labels to "v al" and "tr ai n".
    row = st.container(horizontal=True, gap="medium")
    split = row.radio("Split", ("val", "train"), horizontal=True, width="content",
                      **controls.view_kwargs("split"))  # fmt: skip
    n = _windows(tr, split)
    if not 0 <= view.window < n:
        view.window = 0
    index = row.slider("Window", 0, n - 1, help="Which window of the split to look inside.", width=170,
                       **controls.view_kwargs("window")) if n > 1 else 0  # fmt: skip
    layers = int(tr.config.num_layers)
    if view.layer >= layers:
        view.layer = 0
    layer = (
        row.selectbox("Layer", list(range(layers)), width=80, **controls.view_kwargs("layer"))
        if layers > 1
        else 0
    )
    spec = cell_spec(tr.config.cell)
    views = ["hidden state"]
    if spec.gate_names:
        views.append("gates")
    if spec.has_cell_state:
        views.append("cell state")
    if view.inside not in views:
        view.inside = "hidden state"
    inside = st.radio("View", views, horizontal=True, **controls.view_kwargs("inside"))

    def build():
        found = tr.internals(split, int(index))
        arrays = {k: v[-HEATMAP_STEPS:, :HEATMAP_UNITS] for k, v in found.items()}
        if inside == "hidden state":
            return figures.heatmap_figure(
                arrays[f"h{layer}"], title=f"Hidden activations h, layer {layer}{_cut_note(tr)}"
            )
        if inside == "cell state":
            return figures.heatmap_figure(
                arrays[f"c{layer}"], title=f"Cell state c, layer {layer}{_cut_note(tr)}"
            )
        gates = {
            f"{label} ({g})": arrays[f"{g}{layer}"]
            for g, label in GATE_LABELS.items()
            if f"{g}{layer}" in arrays
        }
        return figures.gates_figure(gates, title=f"Gates, layer {layer}{_cut_note(tr)}")

    fig = live_figure(run, "internals", (split, int(index), layer, inside), build, every=REFRESH["internals"])
    plot.chart(fig, key="fig_internals")


def grad_chart(run: Run) -> None:
    tr = run.trainer
    hist = tr.history
    cols = hist.grad_norm_columns
    clip = (tr.train_config.clip_norm, tr.train_config.clip_value)

    def build():
        d = hist.downsample(CURVE_POINTS, columns=[*cols, "grad_norm"])
        norms = {c[len(GRAD_NORM_PREFIX) :].removeprefix("rnn."): d[c] for c in cols}
        return figures.grad_norm_figure(
            d["step"], norms, total=d["grad_norm"], clip_norm=clip[0], clip_value=clip[1]
        )

    fig = live_figure(run, "grads", clip, build, every=REFRESH["grads"])
    plot.chart(fig, key="fig_grads")
