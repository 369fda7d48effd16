"""What the requests left by buttons turn into: new data, a new or loaded model, a rollback.

:func:`apply_requests` runs at the start of every full script run (``app.py``). Everything slow
or fallible passes :func:`dashboard.guard.guarded`: a failure leaves the previous data and model
in place and becomes a message.
"""

from __future__ import annotations

from dataclasses import replace

from dashboard import charts, engine, session, sources
from dashboard.engine import executor
from dashboard.guard import guarded
from dashboard.session import Run, Session
from dashboard.sources import sine
from rnn_core.config import RunSettings, SineSettings
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA

DEFAULT_SPEC = sine.spec(SineSettings())
"""The landing page's data: the tutorials' sine task."""

OPTIMIZER_STATE = {
    "adam": "Adam's running averages of the gradients",
    "adamw": "AdamW's running averages of the gradients",
    "momentum": "the momentum buffers",
    "adagrad": "Adagrad's sums of squared gradients",
    "rmsprop": "RMSprop's running averages of squared gradients",
}
"""What each optimizer keeps between steps that a model file does not hold (plain SGD: nothing)."""


def candidate(sess: Session, spec, seq_len: int):
    """``(dataset, error)`` that ``spec`` builds for ``seq_len``, kept for the next run to reuse."""
    key = (spec, int(seq_len))
    hit = sess.candidates.get("data")
    if hit is not None and hit[0] == key:
        return hit[1]
    result = guarded("read the data", lambda: spec.build(seq_len))
    sess.candidates["data"] = (key, result)
    return result


def build_run(sess: Session, settings: RunSettings, spec=None) -> str | None:
    """Replace the run by a fresh one built from ``settings`` on ``spec`` (default: the data in
    use). Returns an error message, and changes nothing, when the settings or data do not fit."""
    spec = sess.data_spec if spec is None else spec
    ds = sess.dataset
    if ds is None or spec != sess.data_spec or int(ds.seq_len) != settings.seq_len:
        ds, err = candidate(sess, spec, settings.seq_len)
        if err is not None:
            return err
    tr, err = guarded(
        "build the model", lambda: executor().start(ds, settings.model_config(), settings.train_config())
    )
    if err is not None:
        return err
    sess.data_spec = spec
    release(sess)
    tr.owner = engine.session_id()
    sess.runs = [Run(trainer=tr, built=settings)]
    _prime(sess)
    sess.state.rate_log, sess.state.last_rate = [], None
    return None


def _prime(sess: Session) -> None:
    """The first page of a new run in one call to its worker: an exact evaluation, the curves and
    the arrays of the Train page's charts."""
    prime(sess, sess.run, internals=True)


def prime(sess: Session, run: Run, *, internals: bool, extra: dict | None = None) -> None:
    """Fetch what the first page of ``run`` shows in one call to its worker (the hidden states
    of the Train page's chart only with ``internals``; ``extra``, more to bring back)."""
    tr = run.trainer
    wants = {"eval": "exact", "curves": charts.CURVE_POINTS, **(extra or {})}
    if internals:
        wants["internals"] = (sess.view.split, sess.view.window)
    if tr.dataset.kind != "text":
        wants["pred"] = charts.LIVE_PRED_MAX
    try:
        tr.prime(wants)
    except PlaygroundError:  # the window picked for the old data does not exist in the new one
        if not internals:
            raise
        sess.view.window = 0
        tr.prime({**wants, "internals": (sess.view.split, 0)})
    run.last_eval = tr.answer("eval")


def release(sess: Session) -> None:
    """Free the session's runs in their workers now, rather than when the objects are collected."""
    for run in sess.runs:
        run.trainer.close()
    sess.runs = []


def _apply_data(sess: Session, spec) -> None:
    had_steps = sess.trainer is not None and sess.trainer.step_count > 0
    err = build_run(sess, sess.settings, spec)
    if err is not None:
        sess.flash("error", f"The data was not changed: {err}")
        return
    sess.view.data_kind = spec.kind
    note = " The model was reset to fit it." if had_steps else ""
    sess.flash("success", f"Now using {spec.label}.{note}")


def load_note(tr) -> str:
    """What a user gets after loading a model file: the model, where the steps go on, what is new."""
    what = f"{tr.config.cell.upper()} with {tr.config.hidden_size} units"
    steps = (
        f"saved after {tr.step_count:,} steps; training goes on from step {tr.step_count:,}"
        if tr.step_count
        else "no step count saved; training counts from 0"
    )
    kept = OPTIMIZER_STATE.get(tr.train_config.optimizer)
    fresh = (
        f"The file holds the weights, not the optimizer state: {kept} start again, so the first "
        "steps may jolt the loss. The loss history and epoch count start fresh too."
        if kept
        else "The loss history and epoch count start fresh (plain SGD keeps no other state)."
    )
    return f"{what}, {steps}. Its settings are shown exactly as saved. {fresh} Press Start to go on training."


def _apply_model(sess: Session, name: str, content: bytes) -> None:
    ds = sess.dataset
    tr, err = guarded("load the model", lambda: executor().start(ds, model_file=content))
    if err is not None:
        sess.flash("error", f"{name} was not loaded, the current model is unchanged: {err}")
        return
    built = RunSettings.from_configs(tr.config, tr.train_config, int(ds.seq_len))
    release(sess)
    tr.owner = engine.session_id()
    sess.runs = [Run(trainer=tr, built=built)]
    _prime(sess)
    sess.settings = built
    sess.state.rate_log, sess.state.last_rate = [], None
    sess.flash("success", f"Loaded {name}: {load_note(tr)}")


def _roll_back(sess: Session, advice: dict | None) -> None:
    run = sess.run
    if run is None or run.trainer.healthy_step is None:
        sess.flash("warning", "There is no earlier healthy state to go back to; press Reset to start over.")
        return
    tr = run.trainer
    _, err = guarded("roll back", tr.roll_back)
    if err is not None:
        sess.flash("error", err)
        return
    run.divergence = None
    run.memo.clear()
    run.last_eval = None
    note = ""
    if advice:
        sess.settings = replace(sess.settings, **advice)
        changed = ", ".join(f"{SCHEMA[k].phrase} {SCHEMA[k].format(v)}" for k, v in advice.items())
        note = f" and set {changed}"
    sync_live_settings(sess)
    sess.flash(
        "success", f"Back at step {tr.step_count:,}, the last healthy state{note}. Press Start to go on."
    )


def _restore_best(sess: Session) -> None:
    run = sess.run
    if run is None:
        return
    step, err = guarded("restore the best weights", run.trainer.restore_best)
    if _went_back(sess, run, err):
        sess.flash(
            "success", f"Back at step {step:,}, the best validation score so far. Press Start to go on."
        )


def _went_back(sess: Session, run, err: str | None) -> bool:
    """After going back to a kept state (unless ``err`` says why not, which the page then shows):
    the run's notices and remembered numbers and figures go, as they belonged to the steps left
    behind. Whether it went back."""
    if err is not None:
        sess.flash("warning", err)
        return False
    run.early_stop = run.divergence = None
    run.memo.clear()
    run.last_eval = None
    sess.view.rewind = -1
    return True


def _continue_from(sess: Session, step: int) -> None:
    run = sess.run
    if run is None:
        return
    from dashboard.sections import rewind

    rewind.branch(run, step)  # before the history after the step goes
    at, err = guarded("go back to that step", lambda: run.trainer.call("continue_from", step))
    if _went_back(sess, run, err):
        sess.flash("success", f"Back at step {at:,}: press Start to train on from it. The steps left "
                   "behind stay in the loss chart, faded, until Reset.")  # fmt: skip


def sync_live_settings(sess: Session) -> None:
    """Apply the live settings that changed (and only those) to the running trainer."""
    run = sess.run
    if run is None:
        return
    changed = sess.settings.differences(run.built, live=True)
    if not changed:
        return
    tr = run.trainer
    new = replace(tr.train_config, **{n: getattr(sess.settings, n) for n in changed})
    _, err = guarded("change the settings", lambda: tr.apply_live(new))
    if err is not None:
        sess.flash("error", err)
        sess.settings = replace(sess.settings, **{n: getattr(run.built, n) for n in changed})
        return
    run.built = replace(run.built, **{n: getattr(sess.settings, n) for n in changed})


def apply_requests() -> None:
    """Carry out what buttons asked for since the last run; make sure a run exists."""
    sess = session.get()
    req = sess.requests
    if sess.run is not None and not sess.state.moving and sess.run.trainer.moving:
        # Paused (or Reset, new data...) since the last run: stop the worker's training before
        # anything reads the weights, so that everything this run draws shows the same step.
        guarded("stop training", sess.run.trainer.halt)
    if sess.data_spec is None:
        sess.data_spec = DEFAULT_SPEC
    spec, req.data = req.data, None
    if spec is not None:
        _apply_data(sess, spec)
    model, req.model = req.model, None
    if model is not None and sess.dataset is not None:
        _apply_model(sess, *model)
    back, advice, req.roll_back, req.advice = req.roll_back, req.advice, False, None
    if back:
        _roll_back(sess, advice)
    best, req.restore_best = req.restore_best, False
    if best:
        _restore_best(sess)
    back_to, req.continue_from = req.continue_from, None
    if back_to is not None:
        _continue_from(sess, back_to)
    reset, req.reset = req.reset, False
    if reset or sess.run is None:
        err = build_run(sess, sess.settings)
        if err is not None:
            if sess.run is None:
                # Nothing to keep: fall back to the defaults on the default data.
                build_run(sess, RunSettings(), DEFAULT_SPEC)
            sess.flash("error", f"The model was not reset: {err}")
    sync_live_settings(sess)


def rebuild_notes(sess: Session) -> list[str]:
    """``"label: old → new"`` for each changed setting that only applies on Reset."""
    run = sess.run
    if run is None:
        return []
    out = []
    for name in sess.settings.differences(run.built, live=False):
        s = SCHEMA[name]
        out.append(
            f"{s.phrase}: {s.format(getattr(run.built, name))} → {s.format(getattr(sess.settings, name))}"
        )
    return out


__all__ = ["DEFAULT_SPEC", "apply_requests", "build_run", "candidate", "rebuild_notes", "sources"]
