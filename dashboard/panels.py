"""What the training fragment draws: the sidebar status and the Train page's live panels.

Figures are rebuilt through :func:`live_figure`: not at all while the model has not changed,
and while training runs at most as often as :data:`REFRESH` says (the loss chart every tick);
in between the previous figure is sent again, which costs the browser next to nothing.
"""

from __future__ import annotations

import math
import time

import numpy as np
import streamlit as st

from dashboard import figures, state
from rnn_core.history import GRAD_NORM_PREFIX, downsample_indices

CURVE_POINTS = 300
"""Points per curve in the live charts (the history itself keeps every step)."""

LIVE_PRED_MAX = 3000
"""Most windows per split drawn in the live predictions chart: on a long series an evenly spaced
sample of them is predicted (the chart could not show more points anyway)."""

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}


def format_epoch(epoch: float) -> str:
    """Epochs with fewer decimals as they grow, so the metric fits its narrow column."""
    if epoch < 10:
        return f"{epoch:.2f}"
    return f"{epoch:.1f}" if epoch < 100 else f"{epoch:,.0f}"


def fmt(value, spec: str = ".4g") -> str:
    """A number for a metric tile; tiny values in short scientific form so they fit."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if spec.endswith("g") and value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return format(value, spec)


def x_label(ds) -> str:
    """The x-axis title of a series: the generated sine's "x" is a time step."""
    return "time step" if ds.x_label in ("x", "", None) else str(ds.x_label)


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def model_summary(tr) -> str:
    cfg = tr.config
    act = f" · {cfg.nonlinearity}" if cfg.cell == "rnn" else ""
    n_params = sum(int(p.size) for p in tr.network.params.values())
    layers = "layer" if cfg.num_layers == 1 else "layers"
    shape = f"{cfg.hidden_size} units × {cfg.num_layers} {layers}"
    return f"{cfg.cell.upper()}{act} · {shape} · {n_params:,} parameters"


def data_summary(ds) -> str:
    if ds is None:
        return "—"
    if ds.kind == "text":
        return f"{len(ds.train_ids) + len(ds.val_ids):,} characters, {ds.vocab_size} distinct"
    return f"{ds.raw.shape[0]:,} rows · {ds.train_windows:,} train / {ds.val_windows:,} validation windows"


def run_label() -> str:
    ss = st.session_state
    if ss.get("running"):
        return "running"
    if ss.get("pending_steps", 0) > 0:
        return "stepping"
    if ss.get("diverged"):
        return "paused (diverged)"
    return "paused"


def status(slot) -> None:
    """The sidebar status: data source, model, step count and run mode."""
    tr = state.trainer()
    spec = state.data_spec()
    with slot.container():
        st.markdown(f"**Data** · {spec.label}  \n{data_summary(state.dataset())}")
        if tr is None:
            st.markdown("**Model** · none")
            return
        moving = run_label() in ("running", "stepping")
        icon = ":material/play_circle:" if moving else ":material/pause_circle:"
        st.markdown(
            f"**Model** · {model_summary(tr)}  \n"
            f"**Step {tr.step_count:,}** · epoch {tr.epoch:.1f}  \n"
            f"{icon} {run_label()}",
            help="The model keeps training while you look at other pages.",
        )


def live_figure(name: str, view: tuple, build, *, every: float):
    """The figure ``build()`` makes, rebuilt while training runs at most every ``every`` seconds.

    The browser does almost no work for a chart whose specification did not change, so
    re-sending the previous figure between rebuilds keeps the page light while the loss chart
    and the numbers refresh on every tick. ``view`` holds the user's choices (split, window,
    layer, ...): when it changes, or when training is paused, the figure is rebuilt at once.
    A figure that is slow to build (predictions over a long CSV) waits at least five times its
    own cost, so that it never eats the training budget.
    """
    cache = st.session_state["memo"]
    version = state.model_version()
    hit = cache.get(f"fig:{name}")
    now = time.perf_counter()
    if hit is not None:
        old_version, old_view, fig, at, cost = hit
        wait = max(every, 5 * cost)
        if old_view == view and (
            old_version == version or (state.run_every() is not None and now - at < wait)
        ):
            return fig
    fig = build()
    cache[f"fig:{name}"] = (version, view, fig, now, time.perf_counter() - now)
    return fig


# ---------------------------------------------------------------------------------- metrics


def metrics_row(tr, ev: dict | None) -> None:
    ds = tr.dataset
    # Fixed widths in a wrapping row: numbers changing every refresh do not shift the layout, and
    # a narrow screen (a projector) wraps the tiles instead of cutting them to "1…".
    row = st.container(horizontal=True, gap="small")
    c = [row.container(width=w) for w in (90, 90, 140, 205, 90)]
    c[0].metric("Step", tr.step_count, help="Optimizer steps (minibatch updates) so far.")
    c[1].metric("Epoch", format_epoch(tr.epoch), help="Passes over the training data.")
    loss = fmt(ev["train_loss"], ".3g") if ev else "—"
    c[2].metric("Training loss", loss, help="Loss on the training split.")
    base = ds.baselines or {}
    if ds.kind == "text":
        val = ev.get("val_bpc") if ev else None
        ref = base.get("unigram_bpc")
        delta = f"{val - ref:+.2f}" if _finite(val) and _finite(ref) else None
        c[3].metric(
            "Validation bits/char",
            fmt(val, ".3f"),
            delta,
            delta_color="inverse",
            delta_description=f"vs unigram {fmt(ref, '.2f')}",
            help="Bits per character on the validation text; "
            "the unigram baseline only knows letter frequencies.",
        )
    else:
        val = ev.get("val_rmse") if ev else None
        ref = base.get("persistence_rmse")
        delta = f"{val - ref:+.3g}" if _finite(val) and _finite(ref) else None
        estimate = bool(ev and ev.get("val_estimate"))
        c[3].metric(
            "Validation RMSE",
            ("≈ " if estimate and _finite(val) else "") + fmt(val, ".3g"),
            delta,
            delta_color="inverse",
            delta_description=f"vs persistence {fmt(ref, '.3g')}",
            help="RMSE of one-step predictions on the validation windows, original units. "
            "Persistence predicts the last value again; beating it means the model learned something."
            + (
                f" While training runs this is an estimate (≈) on {ev['val_windows']:,} evenly spaced "
                f"windows of {ds.val_windows:,}; pausing shows the exact value."
                if estimate
                else ""
            ),
        )
    rate, live = state.steps_per_second()
    c[4].metric(
        "Steps/s",
        "—" if rate is None else f"{rate:,.0f}",
        None if live or rate is None else "paused",
        delta_color="off",
        delta_arrow="off",
        help="Optimizer steps per second of wall time while training runs; "
        "when paused, the rate of the last run.",
    )


def divergence_notice() -> None:
    info = st.session_state.get("diverged")
    if not info:
        return
    st.error(
        f"**Training diverged at step {info['step']:,}** and was paused: the loss or a gradient became "
        f"{'infinite or NaN' if not math.isfinite(info['grad_norm'] or math.nan) else 'too large'}, so that "
        "update was thrown away and the last finite weights are kept. Lower the learning rate or turn on "
        "gradient clipping, then press **Start** to go on, or **Reset** to start over.",
        icon="⚠️",
    )


# ----------------------------------------------------------------------------------- charts


REFRESH = {"loss": 0.0, "pred": 0.5, "accuracy": 0.5, "sample": 1.0, "internals": 1.0, "grads": 1.0}
"""Seconds between rebuilds of each live chart while training runs (0 = every refresh)."""


def loss_chart(tr) -> None:
    hist = tr.history

    def build():
        d = hist.downsample(CURVE_POINTS, columns=["loss"])
        ev = hist.evals
        ev_steps = ev_loss = None
        if len(ev) and "val_loss" in ev:
            idx = downsample_indices(len(ev), CURVE_POINTS)
            ev_steps, ev_loss = np.array(ev["step"][idx]), np.array(ev["val_loss"][idx])
        label = "cross-entropy (nats)" if tr.dataset.kind == "text" else "MSE (normalised)"
        return figures.loss_figure(d["step"], d["loss"], ev_steps, ev_loss, loss_label=label)

    fig = live_figure("loss", (len(hist.evals),), build, every=REFRESH["loss"])
    st.plotly_chart(fig, config=CHART_CONFIG, key="fig_loss")


def predictions_chart(tr) -> None:
    ds = tr.dataset

    def build():
        xt, pt, at = tr.predictions("train", max_points=LIVE_PRED_MAX)
        xv, pv, av = tr.predictions("val", max_points=LIVE_PRED_MAX)
        return figures.predictions_figure(xt, pt, at, xv, pv, av, y_label=ds.columns[0], x_label=x_label(ds))

    st.plotly_chart(
        live_figure("pred", (), build, every=REFRESH["pred"]), config=CHART_CONFIG, key="fig_pred"
    )


def text_progress(tr) -> None:
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

    fig = live_figure("accuracy", (len(ev),), build, every=REFRESH["accuracy"])
    st.plotly_chart(fig, config=CHART_CONFIG, key="fig_acc")
    line = live_figure("sample", (), lambda: tr.sample(n=120, temperature=0.8), every=REFRESH["sample"])
    st.caption("A line sampled just now (temperature 0.8):")
    st.code(line, language=None, wrap_lines=True)


HEATMAP_UNITS, HEATMAP_STEPS = 128, 400
"""Largest heatmap drawn: the first units and the last time steps of a window beyond this."""


def _heatmap_view(values: np.ndarray) -> np.ndarray:
    """The part of a ``(T, H)`` array that the heatmaps show (a browser draws every cell)."""
    return values[-HEATMAP_STEPS:, :HEATMAP_UNITS]


def _cut_note(tr) -> str:
    cut = []
    if tr.config.hidden_size > HEATMAP_UNITS:
        cut.append(f"first {HEATMAP_UNITS} units")
    if tr.dataset.seq_len > HEATMAP_STEPS:
        cut.append(f"last {HEATMAP_STEPS} steps")
    return f" ({', '.join(cut)})" if cut else ""


GATE_NAMES = {
    "lstm": {"i": "input gate", "f": "forget gate", "g": "cell candidate", "o": "output gate"},
    "gru": {"r": "reset gate", "z": "update gate", "n": "candidate"},
}


def internals_chart(tr) -> None:
    ss = st.session_state
    ds = tr.dataset
    if ds.kind == "text":
        n_train = max(1, len(ds.train_ids) // ds.seq_len)
        n_val = max(1, len(ds.val_ids) // ds.seq_len)
    else:
        n_train, n_val = ds.train_windows, ds.val_windows
    c1, c2, c3 = st.columns([1, 2, 1])
    split = c1.radio("Split", ("val", "train"), key="live_split", horizontal=True)
    n = n_val if split == "val" else n_train
    if not 0 <= int(ss.get("live_window", 0)) < n:
        ss["live_window"] = 0
    if n > 1:
        index = c2.slider(
            "Window", 0, n - 1, key="live_window", help="Which window of the split to look inside."
        )
    else:
        index = 0
    layers = int(tr.config.num_layers)
    if int(ss.get("live_layer", 0)) >= layers:
        ss["live_layer"] = 0
    layer = c3.selectbox("Layer", list(range(layers)), key="live_layer") if layers > 1 else 0
    views = ["hidden state"]
    if tr.config.cell in ("lstm", "gru"):
        views.append("gates")
    if tr.config.cell == "lstm":
        views.append("cell state")
    if ss.get("live_view") not in views:
        ss["live_view"] = "hidden state"
    view = st.radio("View", views, key="live_view", horizontal=True)

    def build():
        arrays = {k: _heatmap_view(v) for k, v in tr.internals(split, int(index)).items()}
        if view == "hidden state":
            return figures.heatmap_figure(
                arrays[f"h{layer}"], title=f"Hidden activations h, layer {layer}{_cut_note(tr)}"
            )
        if view == "cell state":
            return figures.heatmap_figure(
                arrays[f"c{layer}"], title=f"Cell state c, layer {layer}{_cut_note(tr)}"
            )
        names = GATE_NAMES[tr.config.cell]
        gates = {
            f"{label} ({g})": arrays[f"{g}{layer}"] for g, label in names.items() if f"{g}{layer}" in arrays
        }
        return figures.gates_figure(gates, title=f"Gates, layer {layer}{_cut_note(tr)}")

    fig = live_figure("internals", (split, int(index), layer, view), build, every=REFRESH["internals"])
    st.plotly_chart(fig, config=CHART_CONFIG, key="fig_internals")


def grad_chart(tr) -> None:
    hist = tr.history
    cols = hist.grad_norm_columns
    clip = (tr.train_config.clip_norm, tr.train_config.clip_value)

    def build():
        d = hist.downsample(CURVE_POINTS, columns=[*cols, "grad_norm"])
        norms = {c[len(GRAD_NORM_PREFIX) :].removeprefix("rnn."): d[c] for c in cols}
        return figures.grad_norm_figure(
            d["step"], norms, total=d["grad_norm"], clip_norm=clip[0], clip_value=clip[1]
        )

    st.plotly_chart(
        live_figure("grads", clip, build, every=REFRESH["grads"]), config=CHART_CONFIG, key="fig_grads"
    )


def live_panels() -> None:
    """Metrics, loss, predictions (or text progress), internals and gradient norms."""
    tr = state.trainer()
    if tr is None:
        st.info("No model yet: choose data on the **Data** page.")
        return
    divergence_notice()
    metrics_row(tr, st.session_state.get("last_eval"))
    top_left, top_right = st.columns(2)
    with top_left:
        loss_chart(tr)
    with top_right:
        if tr.dataset.kind == "text":
            text_progress(tr)
        else:
            predictions_chart(tr)
    bottom_left, bottom_right = st.columns(2)
    with bottom_left:
        internals_chart(tr)
    with bottom_right:
        grad_chart(tr)
