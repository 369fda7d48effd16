"""The one training fragment: a few hundred milliseconds of ``Trainer.step()``, then a redraw.

The Train page draws it in place; ``app.py`` draws it on every other page, so training goes on
while the user looks at another page. The fragment's interval comes from the session: while
training moves it reruns every :data:`~dashboard.session.RUN_EVERY` seconds; paused it is
``None`` and the fragment only runs with the page. Each rerun trains for a budget of 0.25-0.35 s
(fewer steps if the speed setting caps them), evaluates now and then, and redraws the sidebar
status and, on the Train page, the live panels.

No loop outlives a tick, no thread holds the session, and the only ``st.rerun()`` is the one
that turns the interval off after training stopped by itself (divergence, Step ×N done).
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from dashboard import session, status
from dashboard.sections import train as train_section
from dashboard.session import Run, Session

MIN_BUDGET, MAX_BUDGET = 0.25, 0.35
"""Seconds of training per refresh. The budget is ``DRAW_RATIO`` times what the last redraw
cost, within these bounds: steps then take most of the time even on a busy machine, the charts
still refresh about three times a second, and a Pause lands within a fraction of a second."""

DRAW_RATIO = 2.5

EVAL_MIN_INTERVAL = 0.4
"""Seconds between evaluations while training (they cost forward passes over both splits)."""

LIVE_EVAL_WINDOWS = 3000
"""Most windows per split scored by an evaluation while training runs. On a long series the
validation metric is then an estimate on an evenly spaced sample (marked as such); paused, it
is exact again."""

log = logging.getLogger(__name__)


def train_tick(sess: Session) -> int:
    """Run this tick's steps; return how many were accepted. Pauses on divergence."""
    run = sess.run
    if run is None or not sess.state.moving:
        return 0
    tr = run.trainer
    stepping = sess.state.mode == "stepping"
    cap = sess.state.pending_steps if stepping else (train_section.steps_per_refresh(sess) or 10**9)
    budget = min(max(DRAW_RATIO * run.draw_seconds, MIN_BUDGET), MAX_BUDGET)
    t0 = time.perf_counter()
    start = tr.step_count
    diverged = None
    try:
        for _ in range(cap):
            m = tr.step()
            if m["diverged"]:
                diverged = m
                break
            if time.perf_counter() - t0 > budget:
                break
    except Exception:
        # Not a user-fixable problem: stop training, keep the weights, say so without a traceback.
        log.exception("training step failed")
        sess.set_mode("paused")
        sess.flash("error", "Training stopped: a step failed unexpectedly. Press Reset to start again.")
    taken = tr.step_count - start
    if stepping and sess.state.mode == "stepping":
        left = max(sess.state.pending_steps - taken, 0)
        sess.set_mode("stepping" if left else "paused", left)
    if diverged is not None:
        sess.set_mode("paused")
        run.divergence = {
            "step": int(diverged["step"]),
            "loss": diverged["loss"],
            "grad_norm": diverged["grad_norm"],
        }
    sess.log_rate(tr.step_count)
    now = time.perf_counter()
    due = now - run.last_eval_time >= max(EVAL_MIN_INTERVAL, 3 * run.eval_seconds)
    if taken and (due or not sess.state.moving):
        evaluate(sess, run)
    return taken


def evaluate(sess: Session, run: Run, *, exact: bool | None = None) -> dict:
    """Evaluate the run's trainer (recorded in its history) and remember the result and its cost.

    ``exact=None`` scores every validation window only while training is stopped; while it moves,
    at most :data:`LIVE_EVAL_WINDOWS` per split, an estimate on long series.
    """
    if exact is None:
        exact = not sess.state.moving
    t0 = time.perf_counter()
    ev = run.trainer.evaluate(max_windows=None if exact else LIVE_EVAL_WINDOWS)
    run.eval_seconds = time.perf_counter() - t0
    run.last_eval_time = time.perf_counter()
    run.last_eval = ev
    return ev


def current_eval(sess: Session, run: Run) -> dict:
    """An exact evaluation of the weights as they are now (reused when the last one is)."""
    last = run.last_eval
    if last and last["step"] == run.trainer.step_count and not last.get("val_estimate"):
        return last
    return evaluate(sess, run, exact=True)


def _tick(charts: bool, interval: float | None) -> None:
    sess = session.get()
    run = sess.run
    if run is not None and not sess.state.moving:
        last = run.last_eval
        if last is None or last["step"] != run.trainer.step_count or bool(last.get("val_estimate")):
            # Paused (or just built): the numbers shown must belong to the weights shown, exactly.
            evaluate(sess, run)
    # Draw first, then train: Streamlit dims a fragment's elements until they are sent again, so
    # drawing at the start keeps the charts crisp while the steps run (they show the state as of
    # the previous tick, a fraction of a second old).
    t0 = time.perf_counter()
    if sess.status_slot is not None:
        status.draw(sess.status_slot)
    if charts:
        train_section.live_panels()
    if run is not None:
        run.draw_seconds = time.perf_counter() - t0
    train_tick(sess)
    if interval is not None and sess.run_every() is None:
        # Training stopped by itself (divergence, Step ×N done): one full rerun switches the
        # interval off and redraws the buttons and numbers for the final weights.
        st.rerun()


def run(*, charts: bool) -> None:
    """Draw (and, while training moves, keep rerunning) the training fragment, once per script run."""
    sess = session.get()
    if sess.live_drawn:
        return
    sess.live_drawn = True
    interval = sess.run_every()
    st.fragment(run_every=interval)(_tick)(charts, interval)
