"""The one training fragment: a few hundred milliseconds of ``Trainer.step()``, then a redraw.

The Train page draws it in place; ``app.py`` draws it on every other page, so training goes
on while the user looks at another page. The fragment's interval comes from session state: while
running it reruns every :data:`~dashboard.state.RUN_EVERY` seconds; paused it is ``None`` and
the fragment only runs with the page. Each rerun trains for a budget of 0.25-0.35 s
(fewer steps if the speed setting caps them), evaluates now and then, and redraws the sidebar
status and, on the Train page, the live panels.

No loop outlives a tick, no thread holds the session, and the only ``st.rerun()`` is the one
that turns the interval off after training stopped by itself (divergence, Step ×N done).
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from dashboard import controls, panels, state

MIN_BUDGET, MAX_BUDGET = 0.25, 0.35
"""Seconds of training per refresh. The budget is ``DRAW_RATIO`` times what the last redraw
cost, within these bounds: steps then take most of the time even on a busy machine (the browser
redraws the previous tick's charts meanwhile, on the same cores), the charts still refresh about
three times a second, and a Pause lands within a fraction of a second. Measured with
benchmarks/browser_bench.py."""

DRAW_RATIO = 2.5

log = logging.getLogger(__name__)

EVAL_MIN_INTERVAL = 0.4
"""Seconds between evaluations while training (they cost forward passes over both splits)."""

LIVE_EVAL_WINDOWS = 3000
"""Most windows per split scored by an evaluation while training runs. On a long series the
validation metric is then an estimate on an evenly spaced sample (marked as such), which keeps
each evaluation to tens of milliseconds instead of seconds; paused, it is exact again."""


def train_tick() -> int:
    """Run this tick's steps; return how many were taken. Pauses on divergence."""
    ss = st.session_state
    tr = state.trainer()
    if tr is None:
        return 0
    pending = int(ss.get("pending_steps", 0))
    running = bool(ss.get("running"))
    if pending > 0:
        cap = pending
    elif running:
        cap = controls.run_controls_values(ss).steps_per_refresh or 10**9
    else:
        return 0
    budget = min(max(DRAW_RATIO * ss.get("draw_seconds", 0.0), MIN_BUDGET), MAX_BUDGET)
    t0 = time.perf_counter()
    taken = 0
    diverged = None
    try:
        for _ in range(cap):
            m = tr.step()
            taken += 1
            if m["rejected"]:
                diverged = m
                break
            if time.perf_counter() - t0 > budget:
                break
    except Exception:
        # Not a user-fixable problem: stop training, keep the weights, say so without a traceback.
        log.exception("training step failed")
        ss["running"], ss["pending_steps"] = False, 0
        state.flash("error", "Training stopped: a step failed unexpectedly. Press Reset to start again.")
    if pending > 0:
        ss["pending_steps"] = max(pending - taken, 0)
    if diverged is not None:
        ss["running"] = False
        ss["pending_steps"] = 0
        ss["diverged"] = {
            "step": int(diverged["step"]),
            "loss": diverged["loss"],
            "grad_norm": diverged["grad_norm"],
        }
    state.log_rate(tr.step_count)
    now = time.perf_counter()
    stopped = not ss["running"] and ss["pending_steps"] == 0
    due = now - ss["last_eval_time"] >= max(EVAL_MIN_INTERVAL, 3 * ss["eval_seconds"])
    if taken and (due or stopped):
        evaluate(tr)
    return taken


def evaluate(tr, *, exact: bool | None = None) -> dict:
    """Evaluate the trainer (recorded in its history) and remember the result and its cost.

    ``exact=None`` scores every validation window only while training is stopped; while it
    runs (or Step ×N goes on) at most :data:`LIVE_EVAL_WINDOWS` per split, an estimate on long
    series (``ev["val_estimate"]``).
    """
    ss = st.session_state
    if exact is None:
        exact = state.run_every() is None
    t0 = time.perf_counter()
    ev = tr.evaluate(max_windows=None if exact else LIVE_EVAL_WINDOWS)
    ss["eval_seconds"] = time.perf_counter() - t0
    ss["last_eval_time"] = time.perf_counter()
    ss["last_eval"] = ev
    return ev


def _tick(status_slot, charts: bool, interval: float | None) -> None:
    tr = state.trainer()
    last = st.session_state["last_eval"]
    stale = tr is not None and (
        last is None or last["step"] != tr.step_count or bool(last.get("val_estimate"))
    )
    if stale and state.run_every() is None:
        # Paused (or just built): the numbers shown must belong to the weights shown, exactly.
        evaluate(tr)
    # Draw first, then train: Streamlit dims a fragment's elements until they are sent again,
    # so drawing at the start keeps the charts crisp while the steps run (they show the state
    # as of the previous tick, a fraction of a second old).
    t0 = time.perf_counter()
    if status_slot is not None:
        panels.status(status_slot)
    if charts:
        panels.live_panels()
    st.session_state["draw_seconds"] = time.perf_counter() - t0
    train_tick()
    if interval is not None and state.run_every() is None:
        # Training stopped by itself (divergence, Step ×N done): one full rerun switches the
        # interval off and redraws the buttons and numbers for the final weights.
        st.rerun()


def run(*, charts: bool) -> None:
    """Draw (and, while running, keep rerunning) the training fragment, once per script run.

    The Train page calls it in place with ``charts=True``, so the live panels are the
    fragment's own elements and are updated in place from one tick to the next; ``app.py``
    calls it with ``charts=False`` on the other pages, where it trains and keeps the sidebar
    status current.
    """
    if state.mark_live_drawn():
        return
    interval = state.run_every()
    st.fragment(run_every=interval)(_tick)(state.status_slot(), charts, interval)
