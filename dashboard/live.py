"""The one training fragment: ask the run what it trained, then draw it.

The Train page draws it in place; ``app.py`` draws it on every other page, so training goes on
while the user looks at another page. The run trains in its Dask worker on its own (never in
this process) up to the target step each poll sends; the fragment only asks what happened. Its
interval comes from the session: while training moves it reruns every
:data:`~dashboard.session.RUN_EVERY` seconds, more slowly when many runs share the server
(:data:`SECONDS_PER_RUN`); paused it is ``None`` and the fragment only runs with the page. Each
rerun asks the run (waiting a fraction of a second at most), then draws the sidebar status and,
on the Train page, the live panels from the answer.

No loop outlives a rerun and no thread holds the session. The fragment calls ``st.rerun()`` in
two cases only: to turn the interval off after training stopped by itself (divergence, Step ×N
done), and to set a new interval when the number of runs training on the server changed enough
(Streamlit fixes a fragment's interval per full script run).
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from dashboard import charts as charts_module
from dashboard import engine, session, status
from dashboard.sections import through_time as time_section
from dashboard.sections import train as train_section
from dashboard.session import Run, RunState, Session
from rnn_core.errors import PlaygroundError
from rnn_core.executor import FOREVER

WAIT_SECONDS = 0.35
"""Longest a refresh waits for the answer to its run's last poll before it draws what it has.
The training itself runs in a Dask worker and does not wait for refreshes; an answer waits at
most for the turn under way there, so a slow answer delays the numbers, never the page."""

EVAL_MIN_INTERVAL = 1.0
"""Seconds between evaluations while training (each holds the trainer for a forward pass over
the validation split, time the run does not train)."""

EVAL_COST_RATIO = 10
"""While training runs, an evaluation waits at least this many times its own cost after the last
one, so that evaluating never takes more than about a tenth of a run's training time."""

LIVE_EVAL_WINDOWS = 3000
"""Most windows per split scored by an evaluation while training runs. On a long series the
validation metric is then an estimate on an evenly spaced sample (marked as such); paused, it
is exact again."""

FIRST_STEPS = 0.03
"""Seconds the refresh that starts training waits before asking again, so that the first steps
show in that refresh."""

SECONDS_PER_RUN = 0.4
"""While runs share the server, a session refreshes every this many seconds per training run on it
(at least :data:`~dashboard.session.RUN_EVERY`, at most :data:`SLOWEST_EVERY`): the server's
and the browsers' work of drawing stays about the same however many train, and the training,
which does not wait for refreshes, gets the cores it leaves."""

SLOWEST_EVERY = 3.0
"""Longest interval between refreshes while training moves, however busy the server."""

STEPS_PER_REFRESH = 25
"""A run whose steps are slow refreshes about every this many steps (at most every
:data:`SLOW_RUN_EVERY` seconds): a redraw costs the server and the browser about the same
whatever it shows, so an LSTM taking 30 ms a step is not redrawn for every dozen steps, and
trains with the CPU that leaves."""

SLOW_RUN_EVERY = 1.0
"""Longest interval between refreshes of a run alone on the server, however slow its steps."""

STEP_SMOOTHING = 0.3
"""How much of a run's past CPU time and steps each new answer discounts (its average CPU time
per step follows the recent answers, weighted by their steps)."""

ARRAYS_EVERY = {"pred": 0.5, "internals": 1.0, "sample": 1.0, "through_time": 2.0}
"""Seconds between fresh chart arrays while training (the loss curves come with every answer)."""

log = logging.getLogger(__name__)


def wants_for(
    run: Run,
    charts: bool,
    internals: tuple | None = None,
    *,
    through: tuple | None = None,
) -> dict:
    """What the next poll should bring back besides the state: an evaluation when one is due,
    and, for a page with charts, the arrays of its charts when theirs are due (the hidden
    states of ``internals``, a (split, window), only when given; the through-time views of
    ``through``, a (split, window, layer), only when given)."""
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
            if name == "pred" and run.trainer.kind != "text":
                wants["pred"] = charts_module.LIVE_PRED_MAX
            elif name == "internals" and internals is not None:
                wants["internals"] = internals
            elif name == "sample" and run.trainer.kind == "text":
                wants["sample"] = (120, 0.8)
            elif name == "through_time" and through is not None:
                wants["through_time"] = through
            else:
                continue
            due[name] = now
    return wants


def _absorb(sess: Session, state: RunState, run: Run, out: dict) -> None:
    tr = run.trainer
    taken, busy = int(out.get("taken", 0)), float(out.get("busy", 0.0))
    if taken > 0:
        kept = 1.0 - STEP_SMOOTHING
        run.step_cost = (kept * run.step_cost[0] + busy, kept * run.step_cost[1] + taken)
    if "eval" in out:
        run.last_eval = out["eval"]
        run.eval_seconds = float(out.get("eval_seconds", 0.0))
    if out.get("divergence"):
        state.set_mode("paused")
        run.divergence = out["divergence"]
    if out.get("early_stop"):
        state.set_mode("paused")
        run.early_stop = out["early_stop"]
    if out.get("failure"):
        state.set_mode("paused")
        sess.flash("error", f"Training stopped: {out['failure']}. Press Reset to start again.")
    if state.mode == "stepping":
        left = max(state.pending_steps - int(out["taken"]), 0)
        state.set_mode("stepping" if left and out["moving"] else "paused", left if out["moving"] else 0)
    state.log_rate(tr.step_count)


def _target(state: RunState, tr) -> int:
    """The step the run should train up to, sent with every poll while training moves: Start
    trains until Pause; Step ×N trains the steps still to take (the same target poll after poll,
    as each answer's steps leave the count)."""
    if state.mode == "stepping":
        return tr.step_count + state.pending_steps
    return FOREVER


def _slow_motion(sess: Session, state: RunState, run: Run, cap: int, wants) -> None:
    """A speed of N updates per refresh: this refresh trains exactly N steps, then asks for the
    arrays, so that each refresh shows its N steps (the worker does not train on its own)."""
    tr = run.trainer
    steps = tr.run(cap)
    last = steps[-1] if steps else None
    if last is not None and last["diverged"]:
        run.divergence = {"step": int(last["step"]), "loss": last["loss"], "grad_norm": last["grad_norm"]}
        state.set_mode("paused")
    tr.begin_poll(wants())
    tr.collect(WAIT_SECONDS)
    _land(sess, state, run)


def _land(sess: Session, state: RunState, run: Run) -> None:
    for out in run.trainer.take_results():
        _absorb(sess, state, run, out)


def poll_run(sess: Session, state: RunState, run: Run, wants, cap: int | None = None) -> int:
    """While ``state`` moves, ask the run what it trained since the last refresh (sending the
    target step again) and take the answer; paused, stop the run in its worker so that the
    numbers are final. ``wants()`` says what the poll brings back; ``cap`` is a speed of that
    many updates per refresh (None: the worker trains on its own). Returns the steps the
    answers reported."""
    tr = run.trainer
    before = tr.step_count
    try:
        if state.moving:
            tr.collect(WAIT_SECONDS)
        else:
            tr.halt()  # the turn under way ends, and the state is the final one
        _land(sess, state, run)
        if tr.notice:
            sess.flash("warning", tr.notice)
            tr.notice = None
        if cap is not None and state.mode == "running":
            _slow_motion(sess, state, run, cap, wants)
            return tr.step_count - before
        if state.moving:
            if not tr.moving:
                # Just started (or a Step): set the target; the first steps show in this refresh.
                tr.begin_poll({}, _target(state, tr))
                tr.collect(WAIT_SECONDS)
                _land(sess, state, run)
                time.sleep(FIRST_STEPS)
            if state.moving and tr.begin_poll(wants(), _target(state, tr)):
                tr.collect(WAIT_SECONDS)  # what the worker trained since the last refresh
                _land(sess, state, run)
    except Exception as exc:
        # Not a user-fixable problem: stop training, keep the run, say so without a traceback.
        log.exception("training poll failed")
        state.set_mode("paused")
        sess.flash("error", f"Training stopped: {exc}" if isinstance(exc, PlaygroundError) else
                   "Training stopped: a step failed unexpectedly. Press Reset to start again.")  # fmt: skip
    return tr.step_count - before


def train_tick(sess: Session, *, charts: bool = False) -> int:
    """:func:`poll_run` for the Train page's run, at the speed its page sets."""
    run = sess.run
    if run is None:
        return 0
    internals = (sess.view.split, sess.view.window)
    through = time_section.wanted() if charts else None
    return poll_run(sess, sess.state, run, lambda: wants_for(run, charts, internals, through=through),
                    cap=train_section.steps_per_refresh(sess))  # fmt: skip


def settle(sess: Session, run: Run, moving: bool, extra: dict | None = None) -> None:
    """Paused (or just built): make the numbers shown belong to the weights shown, exactly
    (``extra``: more a poll brings back with them, as for :func:`wants_for`)."""
    if moving:
        return
    last = run.last_eval
    if last is None or last["step"] != run.trainer.step_count or bool(last.get("val_estimate")):
        evaluate(sess, run, exact=True, moving=False, extra=extra)


def evaluate(
    sess: Session,
    run: Run,
    *,
    exact: bool | None = None,
    moving: bool | None = None,
    extra: dict | None = None,
) -> dict:
    """Evaluate the run now (recorded in its history) and remember the result and its cost.

    ``exact=None`` scores every validation window only while training is stopped; while it moves,
    at most :data:`LIVE_EVAL_WINDOWS` per split, an estimate on long series. ``moving`` is
    whether the run trains (default: the Train page's run state).
    """
    if moving is None:
        moving = sess.state.moving
    if exact is None:
        exact = not moving
    t0 = time.perf_counter()
    tr = run.trainer
    if exact and not moving and hasattr(tr, "prime"):
        # Paused: the curves come back with the evaluation, so that the loss chart shows the
        # point the numbers show (the last refresh's curves predate it).
        tr.prime({"eval": "exact", "curves": charts_module.CURVE_POINTS, **(extra or {})})
        ev = tr.answer("eval")
    else:
        ev = tr.evaluate(max_windows=None if exact else LIVE_EVAL_WINDOWS)
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
    if sess.requests.pending:
        # A button drawn in this fragment (Roll back) asked for what only a full run does.
        st.rerun()
    run = sess.run
    # Ask first, then draw: the answer is a few milliseconds away (the worker trains on its own),
    # and the page then shows the steps trained up to now.
    train_tick(sess, charts=charts)
    wanted = refresh_interval(sess)
    if interval is not None and wanted is not None and abs(wanted - interval) > 0.3 * interval:
        # The server got busier or quieter since this page was drawn (runs started or ended):
        # a full rerun sets the fragment's new interval (Streamlit fixes it per script run).
        st.rerun()
    if interval is not None and sess.run_every() is None:
        # Training stopped by itself (divergence, Step ×N done): one full rerun switches the
        # interval off and draws the buttons and numbers for the final weights. Nothing is drawn
        # first, so a click on what shows the final numbers comes after that rerun, not into it.
        st.rerun()
    if run is not None:
        settle(sess, run, sess.state.moving)
    if sess.status_slot is not None:
        status.draw(sess.status_slot)
    if charts:
        train_section.live_panels()


def refresh_interval(sess: Session) -> float | None:
    """Seconds between the training fragment's reruns: None while paused, else :func:`paced`."""
    interval = sess.run_every()
    return None if interval is None else paced(interval, [sess.run] if sess.run else [])


def paced(interval: float, runs: list[Run]) -> float:
    """``interval`` (:data:`~dashboard.session.RUN_EVERY`), longer for runs with slow steps
    (:data:`STEPS_PER_REFRESH`), and longer when many runs share the server."""
    slowest = max((r.step_seconds for r in runs), default=0.0)
    if slowest > 0:
        interval = max(interval, min(STEPS_PER_REFRESH * slowest, SLOW_RUN_EVERY))
    return min(max(interval, SECONDS_PER_RUN * engine.executor().training()), SLOWEST_EVERY)


def run(*, charts: bool) -> None:
    """Draw (and, while training moves, keep rerunning) the training fragment, once per script run."""
    sess = session.get()
    if sess.live_drawn:
        return
    sess.live_drawn = True
    interval = refresh_interval(sess)
    st.fragment(run_every=interval)(_tick)(charts, interval)
