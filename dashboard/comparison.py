"""The Compare page's live runs: up to four, built together from the Train settings with one
change each, trained side by side under one Start / Pause / Step / Reset.

Each run is a trainer in a Dask worker like the Train page's, with its own run state: a run that
diverges pauses alone while the others go on. The buttons only flip state (the callbacks below);
:func:`apply_requests` builds the runs or moves one to the Train page at the start of the next
full script run, and :func:`tick` polls them from the Compare page's fragment. All of them
train on one dataset, so runs with the same seed see the same split and the same batches.
"""

from __future__ import annotations

from dataclasses import replace

from dashboard import actions, engine, live, session
from dashboard.guard import guarded
from dashboard.session import Comparison, Lane, Run, RunState, Session
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA

CHANGEABLE = ("seed", "cell", "hidden_size", "num_layers", "nonlinearity", "init", "optimizer", "lr",
              "batch_size", "clip_norm", "weight_decay", "bptt", "dtype")  # fmt: skip
"""Settings a run may change from the first (the sequence length would change the data's windows)."""

NONE = "—"

PROBE_VIEW = ("val", 0, 0)
"""The through-time measurement the Compare table reads its memory span from."""

TABLE_EXTRAS = {"through_time": PROBE_VIEW}
"""The Compare table shows each run's memory span and each plain RNN's spectral radius, both
from that measurement: the polls of a paused run ask for it too."""


# ---------------------------------------------------------------------------------- the runs asked for


def changes(view) -> list[dict]:
    """What each run changes from the Train settings, as the page's choices say (the first run
    changes nothing). A value the schema refuses raises :class:`PlaygroundError` naming the run."""
    out: list[dict] = [{}]
    for k in range(2, int(view.compare_count) + 1):
        name = getattr(view, f"compare_setting_{k}")
        text = str(getattr(view, f"compare_value_{k}")).strip()
        if name == NONE:
            out.append({})
            continue
        if not text:
            raise PlaygroundError(f"run {k} changes {SCHEMA[name].label.lower()} but gives no value")
        try:
            out.append({name: SCHEMA[name].parse(text)})
        except PlaygroundError as exc:
            raise PlaygroundError(f"run {k}: {exc}") from None
    return out


def describe(change: dict) -> str:
    """``"cell LSTM"``: a run's difference from the first, in the page's words."""
    if not change:
        return "as the Train page"
    return ", ".join(f"{SCHEMA[k].phrase} {SCHEMA[k].format(v)}" for k, v in change.items())


def pending(sess: Session) -> str | None:
    """Why the runs shown differ from the runs asked for (applied on Reset), or None."""
    cmp = sess.comparison
    if cmp is None:
        return None
    try:
        wanted = changes(sess.view)
    except PlaygroundError as exc:
        return str(exc)
    notes = []
    if wanted != [lane.change for lane in cmp.lanes]:
        notes.append("the runs' changes")
    if sess.settings.differences(cmp.base, live=False) or sess.settings.differences(cmp.base, live=True):
        notes.append("the Train settings")
    if sess.data_spec is not None and sess.data_spec.label != cmp.data_label:
        notes.append(f"the data (now {sess.data_spec.label})")
    return " and ".join(notes) + " changed since these runs were built" if notes else None


# ---------------------------------------------------------------------------------- callbacks


def start() -> None:
    cmp = session.get().comparison
    if cmp is None:
        request_reset(start_after=True)
        return
    for lane in cmp.live:
        if not lane.run.trainer.diverged:
            lane.state.set_mode("running")
            lane.state.rate_log = []


def pause() -> None:
    cmp = session.get().comparison
    for lane in cmp.live if cmp is not None else ():
        lane.state.set_mode("paused")


def step() -> None:
    cmp = session.get().comparison
    for lane in cmp.live if cmp is not None else ():
        if not lane.run.trainer.diverged:
            st = lane.state
            st.set_mode("stepping", (st.pending_steps if st.mode == "stepping" else 0) + 1)


def request_reset(start_after: bool = False) -> None:
    sess = session.get()
    pause()
    sess.requests.compare_reset = "start" if start_after else True


def request_promote(index: int) -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.promote = index


# ---------------------------------------------------------------------------------- requests


def apply_requests() -> None:
    """Stop paused runs in their workers, then build the runs or promote one, as asked."""
    sess = session.get()
    req = sess.requests
    cmp = sess.comparison
    for lane in cmp.live if cmp is not None else ():
        if not lane.state.moving and lane.run.trainer.moving:
            guarded("stop training", lane.run.trainer.halt)
    reset, req.compare_reset = req.compare_reset, False
    if reset:
        err = build(sess)
        if err is not None:
            sess.flash("error", f"The runs were not built: {err}")
        elif reset == "start":
            start()
    index, req.promote = req.promote, None
    if index is not None:
        promote(sess, index)


def build(sess: Session) -> str | None:
    """Replace the Compare runs by fresh ones: the Train settings with each run's change, on the
    data in use. Returns an error message, and changes nothing, when they cannot be built."""
    if sess.dataset is None:
        return "there is no data yet"
    try:
        wanted = changes(sess.view)
        settings = [replace(sess.settings, **change) for change in wanted]
    except PlaygroundError as exc:
        return str(exc)
    ds, err = actions.candidate(sess, sess.data_spec, sess.settings.seq_len)
    if err is not None:
        return err
    built: list[Run] = []
    for s in settings:
        tr, err = guarded("build the run", lambda s=s: _start(ds, s))
        if err is not None:
            for run in built:
                run.trainer.close()
            return err
        tr.owner = engine.session_id()
        built.append(Run(trainer=tr, built=s))
    release(sess)
    names = [f"Run {k}" for k in range(1, len(built) + 1)]
    lanes = [Lane(name=n, change=c, run=r) for n, c, r in zip(names, wanted, built, strict=True)]
    spec = sess.data_spec
    sess.comparison = Comparison(base=sess.settings, data_label=spec.label, data_spec=spec, lanes=lanes)
    for lane in lanes:
        _, err = guarded(
            "show the run", lambda run=lane.run: actions.prime(sess, run, internals=False, extra=TABLE_EXTRAS)
        )
        if err is not None:
            return err
    return None


def _start(ds, s):
    return engine.executor().start(ds, s.model_config(), s.train_config())


def release(sess: Session) -> None:
    """Free the Compare runs in their workers."""
    cmp = sess.comparison
    for lane in cmp.live if cmp is not None else ():
        lane.run.trainer.close()
    sess.comparison = None


def promote(sess: Session, index: int) -> None:
    """Move run ``index`` (from 0) to the Train page, in place of its run: the Train, Predict and
    Model pages then show it, at its step, with its settings and data."""
    cmp = sess.comparison
    lane = cmp.lanes[index] if cmp is not None and 0 <= index < len(cmp.lanes) else None
    if lane is None or lane.run is None:
        sess.flash(
            "warning", "That run is no longer here; press Reset on the Compare page to build the runs again."
        )
        return
    run = lane.run
    _, err = guarded("stop training", run.trainer.halt)
    if err is not None:
        sess.flash("error", err)
        return
    actions.release(sess)
    lane.run, lane.state = None, RunState()
    run.memo.clear()
    sess.runs = [run]
    sess.settings = run.built
    sess.data_spec = cmp.data_spec
    sess.state = RunState()
    sess.flash("success", f"{lane.name} ({describe(lane.change)}) is now the Train page's model, at step "
                          f"{run.trainer.step_count:,}; Predict and Model show it too.")  # fmt: skip


# ---------------------------------------------------------------------------------- polling


def interval(sess: Session) -> float | None:
    """Seconds between the Compare fragment's reruns: None unless a run trains."""
    cmp = sess.comparison
    if cmp is None or not cmp.moving:
        return None
    return live.paced(session.RUN_EVERY, [lane.run for lane in cmp.live])


def tick(sess: Session) -> None:
    """Ask every run what it trained (each waits a fraction of a second at most), and make the
    numbers of the paused ones exact."""
    cmp = sess.comparison
    if cmp is None:
        return
    for lane in cmp.live:
        run = lane.run
        live.poll_run(sess, lane.state, run, lambda run=run: live.wants_for(run, True, through=PROBE_VIEW))
    for lane in cmp.live:
        _, err = guarded(
            "evaluate the run", lambda lane=lane: live.settle(sess, lane.run, lane.state.moving, TABLE_EXTRAS)
        )
        if err is not None:
            sess.flash("error", err)
