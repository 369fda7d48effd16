"""The Train page's through-time views: how far back the gradient reaches (now and over
training), what the prediction looks back at, the recurrent spectrum, the state's path.

The numbers come with the training polls, measured in the worker on a fixed probe of a few
validation windows (:mod:`rnn_core.through_time`), at most every
:data:`dashboard.live.ARRAYS_EVERY` ``["through_time"]`` seconds while training runs; the
figures are rebuilt on their own schedule (:data:`dashboard.charts.REFRESH`). Each view has one
sentence saying what to look for.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from dashboard import charts, controls, layout, plot, session
from dashboard.figures import through_time as figures
from dashboard.figures import visible_char
from dashboard.session import Run
from rnn_core import through_time

LOG_ROWS = 240
"""Most measurements the gradient-reach heatmap keeps; older ones are thinned to every other."""

EXPLAIN = {
    "flow": "How strongly the loss at the last step still pulls on each earlier hidden state. A line "
    "that falls steeply to the right is the vanishing gradient: early steps barely learn. An LSTM's "
    "cell-state line (dashed) usually falls much more slowly.",
    "history": "The same reach over training: each row is one measurement; bright means the gradient "
    "still arrives at that lag. Watch it grow, or collapse, as the network learns.",
    "saliency": "How much each earlier input moves the prediction. The dotted line is the memory span: "
    "inputs further back hardly matter to the model any more.",
    "influence": "Each character of the window chosen above, as strongly shaded as it moves the model's "
    "guess of the next character (after the arrow). A model that uses context shades characters well "
    "back; one that only knows the last letter shades the end alone.",
    "path-text": "One window's hidden state drawn as a path through time on its two main directions: "
    "steps after which the model expects similar characters land close together.",
    "neurons": "One hidden unit's activation behind each character (red above zero, blue below). The "
    "table lists the units whose activation best follows a simple feature of the text, such as a space "
    "or being inside brackets: some units learn to count, others to remember an open quote.",
    "spectrum": "Eigenvalues of the recurrent weights. Outside the unit circle a state can grow from step "
    "to step (exploding), well inside it fades (vanishing).",
    "spectrum-history": "The same over training, with the step Jacobian's mean singular value (dashed): "
    "how much one step stretches or shrinks a gradient on its way back. Below 1 for many steps in a row "
    "means vanishing.",
    "path": "One window's hidden state drawn as a path through time on its two main directions. A model "
    "that has learned a sine usually closes it into a loop.",
}


def wanted() -> tuple[str, int, int] | None:
    """What the next poll should measure: the window and layer the page shows, or None while
    the views are closed."""
    view = session.get().view
    return (view.split, int(view.window), int(view.layer)) if view.time_views else None


def _log(run: Run, found: dict, layer: int) -> list[dict]:
    """The measurements seen so far, one dict each: ``step``, ``reach`` (the top layer's h
    norms relative to lag 0), ``radius`` (by block of ``layer``) and ``jacobian``."""
    log = run.memo.setdefault("tt_log", [])
    if log and (log[-1]["step"] == found["step"] or log[-1]["layer"] != layer):
        if log[-1]["layer"] == layer:
            return log
        log.clear()  # another layer: its spectrum is another story
    row = np.asarray(found["flow"]["h"][-1], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = row / row[0] if row[0] > 0 else np.full_like(row, np.nan)
    radius = {name: b["radius"] for name, b in found["spectrum"][layer].items()}
    log.append({"step": int(found["step"]), "layer": layer, "reach": reach, "radius": radius,
                "jacobian": found.get("jacobian", np.nan)})  # fmt: skip
    if len(log) > LOG_ROWS:
        log[:] = log[: -LOG_ROWS // 2 : 2] + log[-LOG_ROWS // 2 :]
    return log


def _influence(found: dict) -> None:
    """A text window's characters, each on a background as strong as its pull on the prediction
    of the next character (shown last, framed)."""
    values = np.asarray(found["values"], dtype=float)
    peak = float(values.max()) if len(values) and np.isfinite(values).all() and values.max() > 0 else 1.0
    spans = [
        f'<span title="{v:.3g}" style="background: rgba(209, 73, 91, {min(v / peak, 1.0):.2f})">'
        f"{html.escape(visible_char(ch))}</span>"
        for ch, v in zip(found["text"], values, strict=False)
    ]
    nxt = html.escape(visible_char(found["next"]))
    st.markdown("**Memory: what the next character looks back at**")
    st.html(
        '<div style="font-family: monospace; font-size: 15px; line-height: 1.9; word-break: break-all">'
        + "".join(spans)
        + f' → <span style="border: 1px dashed #555; padding: 0 3px">{nxt}</span></div>'
    )
    st.caption(EXPLAIN["influence"])


def _neurons(found: dict, layer: int) -> None:
    """Text neurons: one unit's activation as the background of each character of a stretch of
    validation text, and the units that best track simple character features."""
    view = session.get().view
    states = np.asarray(found["states"], dtype=float)
    ranking = found["ranking"]
    best = ranking[0][0] if ranking else 0
    units = [-1, *range(states.shape[1])]
    if view.neuron not in units:
        view.neuron = -1

    def label(u: int) -> str:
        return f"the best tracker (unit {best})" if u == -1 else f"unit {u}"

    st.markdown(f"**Text neurons, layer {layer}**")
    unit = st.selectbox("Unit", units, format_func=label, width=260, **controls.view_kwargs("neuron"))
    unit = best if unit == -1 else unit
    values = states[:, unit]
    peak = float(np.nanmax(np.abs(values))) or 1.0
    spans = []
    for ch, v in zip(found["text"], values, strict=False):
        colour = "209, 73, 91" if v > 0 else "58, 110, 165"  # red above zero, blue below
        shade = min(abs(v) / peak, 1.0) if np.isfinite(v) else 0.0
        spans.append(f'<span title="{v:.2f}" style="background: rgba({colour}, {shade:.2f})">'
                     f"{html.escape(visible_char(ch))}</span>")  # fmt: skip
    st.html('<div style="font-family: monospace; font-size: 14px; line-height: 1.8; word-break: break-all">'
            + "".join(spans) + "</div>")  # fmt: skip
    if ranking:
        rows = [{"Unit": u, "Tracks": name, "Correlation": round(r, 3)} for u, name, r in ranking]
        st.dataframe(rows, hide_index=True, width=420)
    st.caption(EXPLAIN["neurons"])


def _spectrum_history(log: list[dict]):
    names = list(log[-1]["radius"]) if log else []
    radius = {n: [e["radius"].get(n, np.nan) for e in log] for n in names}
    return figures.spectrum_history_figure([e["step"] for e in log], radius, [e["jacobian"] for e in log])


def latest(run: Run) -> dict | None:
    """The newest measurement of the window and layer the page shows (None while the views are
    closed), logged for the reach over training; drawn by :func:`views`, and its memory span
    by the metrics above."""
    asked = wanted()
    if asked is None:
        return None
    found = run.trainer.through_time(*asked)
    if found is not None:
        _log(run, found, asked[2])
    return found


def views(run: Run, found: dict | None) -> None:
    """The toggle and, when open, the through-time views of ``found`` (:func:`latest`)."""
    st.toggle("Through time: gradients, memory, spectrum", help="Measured on a few validation windows.",
              **controls.view_kwargs("time_views"))  # fmt: skip
    if found is None or not session.get().view.time_views:
        return
    tr = run.trainer
    split, index, layer = wanted()
    log = run.memo["tt_log"]
    columns = list(getattr(tr.dataset, "columns", []))
    flow = found["flow"]
    verdicts = {f"{which}, layer {k}": through_time.flow_verdict(row) for which in flow
                for k, row in enumerate(flow[which])}  # fmt: skip
    panels = st.container(key=layout.TIME_PANELS)
    first, second = panels.columns(2), panels.columns(2)
    builds = {
        "flow": lambda: figures.flow_figure(flow, verdicts=verdicts),
        "history": lambda: figures.flow_history_figure(
            [e["step"] for e in log], np.array([e["reach"] for e in log])
        ),
        "saliency": lambda: figures.saliency_figure(found["saliency"], columns, span=found["span"]),
        "spectrum": lambda: figures.spectrum_figure(found["spectrum"][layer], layer=layer),
    }
    specs = [(first[0], "flow", (layer,)), (first[1], "history", (len(log),)), (second[0], "saliency", ()),
             (second[1], "spectrum", (layer,))]  # fmt: skip
    for col, name, view in specs:
        with col:
            if name == "saliency" and found.get("influence"):
                _influence(found["influence"])
                continue
            fig = charts.live_figure(run, f"tt-{name}", view, builds[name], every=charts.REFRESH["time"])
            plot.chart(fig, key=f"fig_tt_{name}")
            st.caption(EXPLAIN[name])
    left, right = panels.columns(2)
    with right:
        build = lambda: _spectrum_history(log)  # noqa: E731
        fig = charts.live_figure(
            run, "tt-spectrum-history", (layer, len(log)), build, every=charts.REFRESH["time"]
        )
        plot.chart(fig, key="fig_tt_spectrum_history")
        st.caption(EXPLAIN["spectrum-history"])
    with left:
        fig = charts.live_figure(run, "tt-path", (split, index, layer),
                                 lambda: figures.path_figure(found["path"], found["share"], layer=layer),
                                 every=charts.REFRESH["time"])  # fmt: skip
        plot.chart(fig, key="fig_tt_path")
        words = EXPLAIN["path-text"] if tr.dataset.kind == "text" else EXPLAIN["path"]
        st.caption(words + f" (window {index} of the {split} split, chosen above)")
    if found.get("neurons"):
        _neurons(found["neurons"], layer)
