"""The sidebar status: the data in use, the model, its step and whether it trains."""

from __future__ import annotations

import streamlit as st

from dashboard import engine, session
from dashboard.format import data_summary, model_summary


def run_label(sess: session.Session) -> str:
    mode = sess.state.mode
    if mode != "paused":
        return mode
    return "paused (diverged)" if sess.run is not None and sess.run.divergence else "paused"


def compare_line(sess: session.Session) -> None:
    """The Compare page's runs, when there are any: they train on while other pages are open."""
    cmp = sess.comparison
    lanes = cmp.live if cmp is not None else []
    if not lanes:
        return
    training = sum(lane.state.moving for lane in lanes)
    state = f"{training} training" if training else "paused"
    icon = ":material/play_circle:" if training else ":material/pause_circle:"
    st.markdown(f"**Compare** · {len(lanes)} runs  \n{icon} {state}",
                help="The Compare page's runs keep training while you look at other pages.")  # fmt: skip


def draw(slot) -> None:
    sess = session.get()
    tr = sess.trainer
    with slot.container():
        label = sess.data_spec.label if sess.data_spec is not None else "—"
        st.markdown(f"**Data** · {label}  \n{data_summary(sess.dataset)}")
        if tr is None:
            st.markdown("**Model** · none")
            st.caption(engine.load_line())
            return
        icon = ":material/play_circle:" if sess.state.moving else ":material/pause_circle:"
        st.markdown(
            f"**Model** · {model_summary(tr)}  \n"
            f"**Step {tr.step_count:,}** · epoch {tr.epoch:.1f}  \n"
            f"{icon} {run_label(sess)}",
            help="The model keeps training while you look at other pages.",
        )
        compare_line(sess)
        st.caption(engine.load_line())
