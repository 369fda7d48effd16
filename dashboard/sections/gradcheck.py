"""The Model page's gradient check: the hand-written backward against central differences, and
the tutorials' "gradient" beside it. The check runs in the run's worker
(:func:`rnn_core.gradcheck.check`); the page draws what it found, remembered per model version."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from dashboard import callbacks, session
from dashboard.guard import guarded
from dashboard.session import Run

BUDGET_SECONDS = 3.0
"""Wall time the check may take in the worker; it samples as many entries as fit."""

MEMO = "gradient_check"


def section(run: Run) -> None:
    """The button, and the last check of the current weights if there is one."""
    st.markdown(
        "Compares every parameter's gradient from the hand-written backpropagation through time "
        "with central differences of the loss (nudge one weight up and down, see how the loss "
        "moves) on a few validation windows, in float64. Training pauses for it."
    )
    if st.button("Check the gradients", key=session.button_key("gradient_check"), on_click=callbacks.pause,
                 icon=":material/function:"):  # fmt: skip
        tr = run.trainer  # a RemoteRun: through its generic call (it has no gradient_check method yet)
        with st.spinner(f"Checking the gradients (at most {BUDGET_SECONDS:.0f} s)…", show_time=True):
            outcome = guarded(
                "check the gradients", lambda: tr.call("gradient_check", budget_seconds=BUDGET_SECONDS)
            )
        run.memo[MEMO] = (run.version, outcome)
    hit = run.memo.get(MEMO)
    if hit is None or hit[0] != run.version:
        return
    result, err = hit[1]
    if err is not None:
        st.error(err)
        return
    show(result, run.trainer.config)


def show(result, config) -> None:
    """Verdict, table, the tutorials' gradient and what the check ran on."""
    worst, tol = result.max_rel_error, result.tolerance
    sampled = f"{result.checked:,} of {result.total:,} entries"
    if result.passed:
        st.success(f"**Pass**: max relative error {worst:.1e} < {tol:g} over {sampled}.", icon="✅")
    else:
        st.error(f"**Fail**: max relative error {worst:.1e}, not below {tol:g} ({sampled}).", icon="❌")
    st.dataframe(table(result), width="stretch", hide_index=True)
    ours, theirs = st.columns(2)
    ours.metric("Backprop through time (this app)", f"{worst:.1e}", help="Max relative error; < 1e-6 passes.")
    tut = result.tutorial
    same = f"Max relative error over the same {tut.checked:,} entries of {tut.name}."
    theirs.metric("The tutorials' dW = W·h_prev", f"{tut.max_rel_error:.1e}", help=same)
    st.markdown(tutorial_text(tut))
    how = "every entry" if result.complete else f"a random sample ({sampled}, what fits in the time)"
    dtype = f" (the model itself is {config.dtype})" if config.dtype != "float64" else ""
    st.caption(
        f"Checked in {result.seconds:.1f} s: {how}, on {result.batch} validation sequences of "
        f"{result.steps} steps, with five-point central differences (ε = {result.eps:g}) on a float64 "
        f"copy of the weights{dtype}, at the current weights (training was paused first). Relative "
        "error = |backprop − numerical| / max(|backprop|, |numerical|, 1e-4 × largest gradient)."
    )


def table(result) -> pd.DataFrame:
    """One row per parameter: max relative error and how many entries were checked."""
    rows = [
        {
            "parameter": p.name,
            "max relative error": f"{p.max_rel_error:.1e}" if p.checked else "—",
            "entries checked": f"{p.checked:,} of {p.total:,}",
            "pass": "—" if not p.checked else "✓" if p.max_rel_error < result.tolerance else "✗",
        }
        for p in result.params
    ]
    frame = pd.DataFrame(rows)
    kinks = [p.at_kink for p in result.params]
    if any(kinks):  # a ReLU network: a difference across a kink measures neither slope
        frame["skipped at a ReLU kink"] = kinks
    return frame


def tutorial_text(tut) -> str:
    """Two or three sentences for a learner on why the copied code learns nothing."""
    if math.isfinite(tut.cosine):
        direction = (
            f"Its direction agrees with the true gradient's by a cosine of {tut.cosine:+.2f} "
            "(1 would be the same direction, 0 unrelated)."
        )
    else:
        direction = (
            "Here the true gradient of these weights is zero: the units are saturated, so nothing "
            "flows back through them at all, while the tutorials' formula still reports large values."
        )
    return (
        "The popular from-scratch tutorials compute the recurrent weights' gradient as `W · h_prev`, "
        "the forward pass's own product, where backpropagation needs the error arriving at each "
        "step times the previous state, `dpre_t · h_prevᵀ`. Their formula never looks at the loss, so "
        "each update pushes the weights the same way whatever the network got wrong: the copied code "
        f"learns nothing from its errors. {direction} "
        f"({tut.note[:1].upper()}{tut.note[1:]}.)"
    )
