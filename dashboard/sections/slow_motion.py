"""The Model page's slow motion through time: one validation window's forward pass one step at a
time (the input at t, the hidden state and gates at t, the prediction), then its backward pass
one step at a time from the loss back to the first step (the gradient reaching each h_t).

The trace is computed once per weights and window in the run's worker
(:func:`rnn_core.slow_motion.window_trace`) and remembered in the run's memo; moving the step,
stepping and playing only redraw it, inside a fragment that ticks while Play runs.
"""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from dashboard import callbacks, controls, plot, session
from dashboard.figures import slow_motion as figures
from dashboard.figures import visible_char
from dashboard.guard import guarded
from dashboard.session import Run
from rnn_core import slow_motion

MEMO = "slow_motion"
PLAY_EVERY = 0.6
"""Seconds between steps while Play runs."""

PHASES = ("forward", "backward")

INTRO = (
    "The picture every textbook draws by hand, computed: one validation window read one step at a "
    "time from a zero state, then the backward pass walking from the loss back to the first step. "
    "Pick a window, trace it (training pauses), then move the step, step, or press Play."
)

EXPLAIN = {
    "input": "The window as the network reads it, one step at a time: the big dot is the input at step "
    "t, the faded part is still to come.",
    "input-text": "The chunk as the network reads it, one character at a time: the framed character is "
    "step t; the faded ones are still to come.",
    "input-back": "The backward pass runs right to left: the bright part is what it has reached so "
    "far, from the last step back to step t.",
    "input-text-back": "The backward pass runs right to left: each character from the end back to step "
    "t is shaded as strongly as the gradient that reached it (the bottom layer's ‖∂L/∂h‖).",
    "rnn": "One square per unit at step t: watch h_t change as each input arrives; it is all the "
    "network knows of the steps before.",
    "lstm": "One square per unit at step t: a forget gate f near 1 (red) keeps the cell state c, near 0 "
    "(white) wipes it; i decides how much of the candidate g is written, o how much of c shows in h.",
    "gru": "One square per unit at step t: an update gate z near 1 (red) keeps the old h, near 0 takes "
    "the candidate n; the reset gate r decides how much of the old h the candidate may look at.",
    "prediction": "The head reads h_t at every step (the solid line), but only the last step is "
    "scored: watch the reading settle as the window fills in, and the prediction land by the target.",
    "prediction-memory": "The head reads h_t at every step (the solid line), but only the last step is "
    "scored: the answer lies far back in the window, so h must carry it across every step after it.",
    "next": "The model's guess of the next character after reading up to step t; the red bar is the "
    "character that does come next, and its loss is what the backward pass carries back.",
    "norm": "The backward pass starts at the loss and walks back one step at a time: a line that "
    "falls to the left is the gradient vanishing on its way back through time.",
    "norm-text": "The backward pass walks back from the last character one step at a time; every "
    "character's own guess adds its error on the way (triangles), so each h_t gets its own step's "
    "gradient plus what flows back from the steps after it.",
    "norm-lstm": " The dashed line is the cell state's: an LSTM's c usually carries the gradient further.",
    "grad": "How strongly the loss pulls on each unit of h_t (and c_t): colours that fade far from "
    "the end mean those early steps hardly learn from this window.",
}


def section(run: Run) -> None:
    """The window, the Trace button, and once traced the player."""
    tr = run.trainer
    ds = tr.dataset
    sess = session.get()
    view = sess.view
    st.markdown(INTRO)
    n = slow_motion.window_count(ds, "val")
    if not 0 <= view.sm_window < n:
        view.sm_window = 0
    row = st.container(horizontal=True, vertical_alignment="bottom")
    index = row.number_input("Validation window", min_value=0, max_value=n - 1, step=1, width=170,
                             help=f"0 to {n - 1}", **controls.view_kwargs("sm_window"))  # fmt: skip
    text = ds.kind == "text"
    last_only = False
    if text:
        last_only = row.toggle("Score the last character only", **controls.view_kwargs("sm_last_only"),
                               help="Off: the training loss, every character scored. On: only the "
                               "last, so what reaches earlier steps flowed back through time.")  # fmt: skip
    pressed = row.button("Trace this window", key=session.button_key("slow_motion"), on_click=callbacks.pause,
                         icon=":material/slow_motion_video:")  # fmt: skip
    want = (int(index), bool(last_only))
    hit = run.memo.get(MEMO)
    stale = hit is None or hit[0] != run.version or hit[1] != want
    if pressed or (hit is not None and stale and not sess.state.moving):
        with st.spinner("Tracing the window…"):
            found, err = guarded(
                "trace the window", lambda: tr.call("slow_motion", "val", want[0], last_only=want[1])
            )
        if hit is None or hit[1] != want:  # another window: start it from its first step
            view.sm_t, view.sm_phase, view.sm_playing = 0, "forward", False
        hit = run.memo[MEMO] = (run.version, want, found, err)
        stale = False
    if hit is None:
        return
    _, _, found, err = hit
    if err is not None:
        st.error(err)
        return
    if stale:
        st.caption(f"This is window {found['index']} as traced at step {found['step']:,}: press **Trace this "
                   f"window** for window {want[0]} at the current weights.")  # fmt: skip
    memory = not getattr(ds, "forecastable", True)  # a memory task: the target is not a next row
    y_label = "target" if memory else str(getattr(ds, "columns", ["value"])[0])
    player(found, row, y_label=y_label, memory=memory)


def _play(n: int) -> None:
    """Play or pause; a Play at the end of the pass starts it again (training pauses first)."""
    callbacks.pause()
    view = session.get().view
    view.sm_playing = not view.sm_playing and n > 1
    if view.sm_playing and view.sm_t == _end(n):
        _phase_changed(n)


def _end(n: int) -> int:
    return n - 1 if session.get().view.sm_phase == "forward" else 0


def _step(delta: int, n: int) -> None:
    view = session.get().view
    view.sm_t = int(np.clip(view.sm_t + delta, 0, n - 1))


def _phase_changed(n: int) -> None:
    """A pass starts where it starts: the forward at the first step, the backward at the last."""
    view = session.get().view
    view.sm_t = 0 if view.sm_phase == "forward" else n - 1


def _advance(n: int) -> None:
    """One step of Play in the direction of the pass; at the pass's end Play stops (a full rerun
    takes the fragment's timer away)."""
    view = session.get().view
    view.sm_t = min(view.sm_t + 1, n - 1) if view.sm_phase == "forward" else max(view.sm_t - 1, 0)
    if view.sm_t == _end(n):
        view.sm_playing = False
        st.rerun()


def player(found: dict, where, *, y_label: str = "value", memory: bool = False) -> None:
    """Play in ``where`` (outside the fragment: it starts and stops the fragment's timer) and the
    fragment with the pass, the step and the figures of ``found`` at that step."""
    view = session.get().view
    n = len(found["inject"])
    view.sm_t = int(np.clip(view.sm_t, 0, n - 1))
    playing = view.sm_playing
    where.button("Pause" if playing else "Play", key=session.button_key("slow_motion_play"), on_click=_play,
                 args=(n,), icon=":material/pause:" if playing else ":material/play_arrow:",
                 help=f"One step every {PLAY_EVERY:g} s, to the end of the pass.")  # fmt: skip

    @st.fragment(run_every=PLAY_EVERY if playing else None)
    def frames() -> None:
        v = session.get().view
        if v.sm_playing:
            _advance(n)
        off = int(found["t0"]) + 1
        row = st.container(horizontal=True, vertical_alignment="bottom")
        row.radio("Pass", PHASES, horizontal=True, width="content",
                  **session.bind("sm_phase", after=lambda: _phase_changed(n)))  # fmt: skip
        row.button("◀", key=session.button_key("slow_motion_back"), on_click=_step, args=(-1, n),
                   help="One step back")  # fmt: skip
        if n > 1:
            bound = session.bind("sm_t", to_widget=lambda t: t + off, from_widget=lambda s: s - off)
            row.slider("Step t", off, off + n - 1, width=260, **bound)
        row.button("▶", key=session.button_key("slow_motion_next"), on_click=_step, args=(1, n),
                   help="One step on")  # fmt: skip
        draw(found, v.sm_t, v.sm_phase, y_label=y_label, memory=memory)

    frames()


def draw(found: dict, t: int, phase: str, *, y_label: str, memory: bool) -> None:
    """The figures of one step of one pass, each with a sentence on what to watch."""
    text = found["kind"] == "text"
    backward = phase == "backward"
    left, right = st.columns(2)
    with left:
        if text:
            _chars(found, t, backward)
        else:
            plot.chart(figures.input_figure(found, t, backward=backward), key="fig_sm_input")
            memo = " Shaded: the steps whose inputs the target is made of." if found.get("answer") else ""
            st.caption(EXPLAIN["input-back" if backward else "input"] + memo)
    with right:
        if backward:
            plot.chart(figures.gradient_norm_figure(found, t), key="fig_sm_norm")
            every_step = text and not found["last_only"]
            lstm = EXPLAIN["norm-lstm"] if "dc" in found["layers"][0] else ""
            st.caption(EXPLAIN["norm-text" if every_step else "norm"] + lstm)
        elif text:
            plot.chart(figures.next_char_figure(found, t, visible_char), key="fig_sm_next")
            st.caption(EXPLAIN["next"])
        else:
            plot.chart(figures.prediction_figure(found, t, y_label=y_label), key="fig_sm_pred")
            st.caption(EXPLAIN["prediction-memory" if memory else "prediction"])
    if backward:
        plot.chart(figures.gradient_strip_figure(found, t), key="fig_sm_grad")
        st.caption(EXPLAIN["grad"])
    else:
        plot.chart(figures.state_figure(found, t), key="fig_sm_state")
        st.caption(EXPLAIN.get(found["cell"], EXPLAIN["rnn"]))
    st.caption(_about(found))


def _about(found: dict) -> str:
    cut = f", the last {len(found['inject'])} shown" if found["t0"] else ""
    units = (
        f"; the first {found['units']} of {found['hidden']} units drawn"
        if found["units"] < found["hidden"]
        else ""
    )
    loss = "squared error of the prediction"
    if found["kind"] == "text":
        loss = "the last character's cross-entropy" if found["last_only"] else "mean cross-entropy"
    return (
        f"Validation window {found['index']} ({found['steps']} steps{cut}{units}), traced at optimizer step "
        f"{found['step']:,} from a zero state. Window loss {found['loss']:.4g} ({loss}); gradient norms are "
        "over every unit."
    )


def _chars(found: dict, t: int, backward: bool) -> None:
    """A text chunk's characters, the one at step t framed; forward, the ones still to come
    faded; backward, each step from the end to t shaded by the gradient that reached it."""
    norms = np.asarray(found["layers"][0]["dh_norm"], dtype=float)
    reached = norms[t:][np.isfinite(norms[t:])]
    peak = float(reached.max()) if reached.size and reached.max() > 0 else 1.0
    spans = []
    for i, ch in enumerate(found["chars"]):
        style = ""
        if backward and i >= t and np.isfinite(norms[i]):
            style = f"background: rgba(58, 110, 165, {min(norms[i] / peak, 1.0):.2f});"
        elif (backward and i < t) or (not backward and i > t):
            style = "color: #b8bcc8;"
        if i == t:
            style += " outline: 2px solid #d1495b; font-weight: 700;"
        spans.append(f'<span style="{style}">{html.escape(visible_char(ch))}</span>')
    step = int(found["t0"]) + t + 1
    st.markdown(
        f"**Input x_t: step {step} of {found['steps']}, '{html.escape(visible_char(found['chars'][t]))}'**"
    )
    st.html('<div style="font-family: monospace; font-size: 17px; line-height: 2; word-break: break-all">'
            + "".join(spans) + "</div>")  # fmt: skip
    st.caption(EXPLAIN["input-text-back" if backward else "input-text"])
