"""The one training fragment: collect a run's turn of training from its worker, redraw, ask again.

The Train page draws it in place; ``app.py`` draws it on every other page, so training goes on
while the user looks at another page. The fragment's interval comes from the session: while
training moves it reruns every :data:`~dashboard.session.RUN_EVERY` seconds; paused it is
``None`` and the fragment only runs with the page. Each rerun draws the sidebar status and, on
the Train page, the live panels from the run's last turn, then picks up the next turn (waiting a
fraction of a second at most) and sends the one after: the training runs in a Dask worker, never
in this process.

No loop outlives a tick, no thread holds the session, and the only ``st.rerun()`` is the one
that turns the interval off after training stopped by itself (divergence, Step ×N done).
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from dashboard import charts as charts_module
from dashboard import engine, session, status
from dashboard.sections import train as train_section
from dashboard.session import Run, Session
from rnn_core.errors import PlaygroundError

WAIT_SECONDS = 0.35
"""Longest a refresh waits for its run's turn of training before it draws what it has. The
training itself runs in a Dask worker (its budget is set by the executor so that the runs
sharing a worker take equal turns), so a slow turn delays the numbers, never the page."""

EVAL_MIN_INTERVAL = 0.4
"""Seconds between evaluations while training (they cost forward passes over both splits)."""

EVAL_COST_RATIO = 10
"""While training runs, an evaluation waits at least this many times its own cost after the last
one, so that evaluating never takes more than about a tenth of a run's training time."""

LIVE_EVAL_WINDOWS = 3000
"""Most windows per split scored by an evaluation while training runs. On a long series the
validation metric is then an estimate on an evenly spaced sample (marked as such); paused, it
is exact again."""

FIRST_TURN = 0.05
"""Seconds of training in the first turn after Start (later turns get the executor's budget)."""

BUSY_RUN_EVERY = 0.75
"""Seconds between refreshes while the server has more runs than worker cores."""

ARRAYS_EVERY = {"pred": 0.5, "internals": 1.0, "sample": 1.0}
"""Seconds between fresh chart arrays while training (the loss curves come with every turn)."""

log = logging.getLogger(__name__)


def _wants(sess: Session, run: Run, charts: bool) -> dict:
    """What the next turn should bring back besides the state: an evaluation when one is due,
    and, on the Train page, the arrays of the open charts when theirs are due."""
    now = time.perf_counter()
    wants: dict = {}
    if now - run.last_eval_time >= max(EVAL_MIN_INTERVAL, EVAL_COST_RATIO * run.eval_seconds):
        wants["eval"], wants["eval_windows"] = "estimate", LIVE_EVAL_WINDOWS
        run.last_eval_time = now
    if not charts:
        return wants
    wants["curves"] = charts_module.CURVE_POINTS
    due = run.memo.setdefault("arrays_at", {})
    for name, every in ARRAYS_EVERY.items():
        if now - due.get(name, 0.0) >= every:
            due[name] = now
            if name == "pred":
                wants["pred"] = charts_module.LIVE_PRED_MAX
            elif name == "internals":
                wants["internals"] = (sess.view.split, sess.view.window)
            elif name == "sample":
                wants["sample"] = (120, 0.8)
    return wants


def _absorb(sess: Session, run: Run, out: dict | None) -> None:
    if out is None:
        return
    tr = run.trainer
    if "eval" in out:
        run.last_eval = out["eval"]
        run.eval_seconds = float(out.get("eval_seconds", 0.0))
    if out.get("divergence"):
        sess.set_mode("paused")
        run.divergence = out["divergence"]
    if sess.state.mode == "stepping":
        left = max(sess.state.pending_steps - int(out["taken"]), 0)
        sess.set_mode("stepping" if left else "paused", left)
    sess.log_rate(tr.step_count)


def train_tick(sess: Session, *, charts: bool = False) -> int:
    """Collect the run's last turn of training if it is there, and ask for the next one while
    training moves. Returns the steps the collected turn took."""
    run = sess.run
    if run is None:
        return 0
    tr = run.trainer
    before = tr.step_count
    try:
        if sess.state.moving:
            tr.collect(WAIT_SECONDS)
        else:
            tr.finish()  # paused: the turns still in flight land, and the numbers are final
        for out in tr.take_results():
            _absorb(sess, run, out)
        if tr.notice:
            sess.flash("warning", tr.notice)
            tr.notice = None
        if sess.state.mode == "running":
            cap = train_section.steps_per_refresh(sess) or 10**9
            if not sess.state.rate_log and not tr.ticking:
                # Just started: a short first turn, so the first steps show at once.
                tr.begin_tick(cap, _wants(sess, run, charts), budget=FIRST_TURN)
            while tr.begin_tick(cap, _wants(sess, run, charts)):
                pass  # keeps a second turn queued behind the first, so the worker never waits
        elif sess.state.mode == "stepping" and not tr.ticking:
            tr.begin_tick(sess.state.pending_steps, _wants(sess, run, charts))
        if tr.step_count == before and tr.ticking:
            # Nothing landed yet in this refresh (just started, or a Step): wait a little for the
            # first turn, so that the first step shows at once; the next turn is queued already.
            tr.collect(WAIT_SECONDS)
            for out in tr.take_results():
                _absorb(sess, run, out)
    except Exception as exc:
        # Not a user-fixable problem: stop training, keep the run, say so without a traceback.
        log.exception("training turn failed")
        sess.set_mode("paused")
        sess.flash("error", f"Training stopped: {exc}" if isinstance(exc, PlaygroundError) else
                   "Training stopped: a step failed unexpectedly. Press Reset to start again.")  # fmt: skip
    return tr.step_count - before


def evaluate(sess: Session, run: Run, *, exact: bool | None = None) -> dict:
    """Evaluate the run now (recorded in its history) and remember the result and its cost.

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
        train_tick(sess)  # picks up the last turn, so the numbers are the final ones
        last = run.last_eval
        if last is None or last["step"] != run.trainer.step_count or bool(last.get("val_estimate")):
            # Paused (or just built): the numbers shown must belong to the weights shown, exactly.
            evaluate(sess, run)
    # Draw first, then train: Streamlit dims a fragment's elements until they are sent again, so
    # drawing at the start keeps the charts crisp while the steps run (they show the state as of
    # the previous tick, a fraction of a second old).
    if sess.status_slot is not None:
        status.draw(sess.status_slot)
    if charts:
        train_section.live_panels()
    train_tick(sess, charts=charts)
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
    if interval is not None and engine.executor().busy():
        # Runs share cores: a turn comes back about twice a second, so refreshing more often
        # would only send the same charts again and cost the server time.
        interval = BUSY_RUN_EVERY
    st.fragment(run_every=interval)(_tick)(charts, interval)
