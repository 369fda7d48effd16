"""The Train page's sections: the settings column, the run buttons, the metrics and the live panels."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from dashboard import actions, callbacks, charts, controls, layout, plot, session
from dashboard.format import finite, fmt, format_epoch
from dashboard.lessons import LESSONS
from dashboard.sections import rewind, through_time
from dashboard.session import Run, Session
from rnn_core.settings import PRESETS, SCHEMA, group

CURVE_TAIL = 20
"""Minibatch losses averaged for the training-loss tile while training runs."""

BASELINE_MEANING = {
    "persistence": "Persistence predicts the last value again; beating it means the model learned something.",
    "mean": "The mean predicts the training targets' average every time: anything less is no learning.",
    "constant 1": "Predicting 1, the expected sum, every time is what a model that ignores the markers does.",
}
"""What the baseline the validation RMSE is compared with does (``dataset.reference_baseline``)."""

SPEED_CHOICES = ("1", "2", "5", "10", "20", "50", "100", "200", "500", "max")
"""Updates per refresh; "max": the run trains on in its worker without waiting for refreshes."""


def _not_applicable(sess: Session, kind: str):
    """Which settings do nothing with the current cell, optimizer or data (drawn disabled)."""
    s = sess.settings
    cases = {"rnn": s.cell == "rnn", "lstm": s.cell == "lstm", "momentum": s.optimizer == "momentum",
             "text": kind == "text", "series": kind != "text"}  # fmt: skip
    return lambda name: bool(SCHEMA[name].when) and not cases.get(SCHEMA[name].when, True)


def settings_column() -> None:
    """Preset picker and every run setting: the ones that rebuild the model, then the live ones."""
    sess = session.get()
    kind = sess.dataset.kind if sess.dataset is not None else ""
    if sess.view.present:
        lesson_settings(sess, kind)
        return
    with st.container(border=True):
        st.selectbox("Preset", list(PRESETS), format_func=lambda k: PRESETS[k].label,
                     **controls.view_kwargs("preset"))  # fmt: skip
        st.button("Load preset", on_click=callbacks.apply_preset, key=session.button_key("preset"),
                  help="Fills in the settings; Reset applies them.")  # fmt: skip
    off = _not_applicable(sess, kind)
    rebuild = [s.name for s in group("model", "data", "train") if not s.live]
    if kind != "text":
        rebuild = [n for n in rebuild if SCHEMA[n].when != "text"]
    st.markdown("**Model** — changes apply on **Reset**")
    controls.settings_grid(rebuild, name="model", disabled=off)
    st.markdown("**Live** — apply while training runs")
    live = [s.name for s in group("model", "data", "train") if s.live]
    controls.settings_grid(live, name="live", disabled=off)


def lesson_settings(sess: Session, kind: str) -> None:
    """Presentation mode: the open lesson's own settings only (none without a lesson)."""
    lesson = LESSONS.get(sess.view.lesson)
    if lesson is None:
        st.caption(
            "Presentation mode shows no settings here; switch it off under **Lessons** in the sidebar."
        )
        return
    controls.settings_grid(list(lesson.controls), name="lesson", disabled=_not_applicable(sess, kind))


def run_buttons() -> None:
    sess = session.get()
    moving = sess.state.moving
    # A wrapping row rather than columns: on a projector's 1024 px the buttons keep their labels
    # and flow onto a second line instead of shrinking to "S", "P", "R".
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.button("Start", type="primary", on_click=callbacks.start, disabled=sess.state.mode == "running",
                  key=session.button_key("start"))  # fmt: skip
        st.button("Pause", on_click=callbacks.pause, disabled=not moving, key=session.button_key("pause"))
        st.button(
            "Step", on_click=callbacks.step, help="One optimizer update.", key=session.button_key("step")
        )
        full = not sess.view.present  # presentation mode: Start, Pause, Step and Reset only
        if full:
            st.number_input("N", 1, 100_000, step=10, help="Steps taken by Step ×N.", width=90,
                            **controls.view_kwargs("step_n"))  # fmt: skip
            st.button("Step ×N", on_click=callbacks.step_n, key=session.button_key("step_n"))
        st.button("Reset", on_click=callbacks.request_reset, help="Re-initialise with the same seed.",
                  key=session.button_key("reset"))  # fmt: skip
        if full:
            st.select_slider(
                "Speed (updates per refresh)", SPEED_CHOICES, width=170, **controls.view_kwargs("speed")
            )
    _rebuild_notice(sess)


def _rebuild_notice(sess: Session) -> None:
    pending = actions.rebuild_notes(sess)
    if pending:
        st.warning(
            "Changed settings that rebuild the model, applied on **Reset**: " + "; ".join(pending) + ". "
            "Live settings apply at once.",
            icon=":material/restart_alt:",
        )


def steps_per_refresh(sess: Session) -> int | None:
    label = sess.view.speed
    return None if label == "max" else int(label)


def metrics_row(sess: Session, run: Run, found: dict | None = None) -> None:
    """The numbers above the charts (``found``: the through-time measurement, for the memory span)."""
    tr, ev = run.trainer, run.last_eval
    ds = tr.dataset
    # A wrapping row of tiles as wide as their numbers (dashboard/layout.css): a narrow screen
    # wraps the tiles instead of cutting a number to "8.07e…", and digits of equal width keep
    # the tiles still while the numbers change, until a number gains a digit.
    row = st.container(horizontal=True, gap="small", key=layout.METRICS)
    c = [row.container() for _ in range(5)]
    c[0].metric("Step", tr.step_count, help="Optimizer steps (minibatch updates) so far.")
    c[1].metric("Epoch", format_epoch(tr.epoch), help="Passes over the training data.")
    train_loss = ev.get("train_loss") if ev else None
    if train_loss is None:  # a live evaluation scores validation only: the recent minibatches
        recent = tr.history.downsample(CURVE_TAIL, columns=["loss"])["loss"][-CURVE_TAIL:]
        recent = recent[np.isfinite(recent)] if len(recent) else recent
        train_loss = float(np.mean(recent)) if len(recent) else None
    loss = fmt(train_loss, ".3g")
    c[2].metric("Training loss", loss, help="Loss on the training split.")
    base = ds.baselines or {}
    if ds.kind == "text":
        val = ev.get("val_bpc") if ev else None
        ref = base.get("unigram_bpc")
        delta = f"{val - ref:+.2f}" if finite(val) and finite(ref) else None
        c[3].metric(
            "Validation bits/char",
            fmt(val, ".3f"),
            delta,
            delta_color="inverse",
            delta_description=f"vs unigram {fmt(ref, '.2f')}",
            help="Bits per character on the validation text; "
            "the unigram baseline only knows letter frequencies.",
        )
    else:
        val = ev.get("val_rmse") if ev else None
        ref_name, ref_key = ds.reference_baseline
        ref = base.get(ref_key)
        delta = f"{val - ref:+.3g}" if finite(val) and finite(ref) else None
        estimate = bool(ev and ev.get("val_estimate"))
        c[3].metric(
            "Validation RMSE",
            ("≈ " if estimate and finite(val) else "") + fmt(val, ".3g"),
            delta,
            delta_color="inverse",
            delta_description=f"vs {ref_name} {fmt(ref, '.3g')}",
            help="RMSE of the predictions on the validation windows, original units. "
            + BASELINE_MEANING.get(ref_name, f"The {ref_name} baseline is the simple answer to beat.")
            + (
                f" While training runs this is an estimate (≈) on {ev['val_windows']:,} evenly spaced "
                f"windows of {ds.val_windows:,}; pausing shows the exact value."
                if estimate
                else ""
            ),
        )
    rate, live = sess.steps_per_second()
    c[4].metric(
        "Steps/s",
        "—" if rate is None else f"{rate:,.0f}",
        None if live or rate is None else "paused",
        delta_color="off",
        delta_arrow="off",
        help="Optimizer steps per second of wall time while training runs; "
        "when paused, the rate of the last run.",
    )
    span = (found or {}).get("span")
    if span is not None:
        row.container().metric(
            "Memory span",
            f"{span} steps",
            help="How far back the inputs still move the prediction: the furthest lag whose saliency "
            "is at least 1% of the peak (see the memory view below).",
        )


def divergence_notice(sess: Session, run: Run) -> None:
    info = run.divergence
    if not info:
        return
    tr = run.trainer
    what = "infinite or NaN" if not math.isfinite(info.get("loss") or math.nan) else "far too large"
    st.error(
        f"**Training diverged at step {info['step']:,}** and was paused: the loss or the activations became "
        f"{what}. The weights from step {tr.healthy_step:,} were still healthy."
        if tr.healthy_step is not None
        else f"**Training diverged at step {info['step']:,}** and was paused: the loss or the activations "
        f"became {what}. No earlier healthy state is kept; press **Reset** to start over.",
        icon="⚠️",
    )
    if tr.healthy_step is None:
        return
    hit = run.memo.get("advice")
    if hit is None or hit[0] != run.version:
        # The advice may try a few steps from the healthy state: once per divergence, not per redraw.
        hit = run.memo["advice"] = (run.version, tr.divergence_advice())
    advice = hit[1]
    settings = dict(advice.get("settings", {}))
    with st.container(horizontal=True, gap="small"):
        st.button("Roll back", on_click=callbacks.request_roll_back, key=session.button_key("roll_back"),
                  help=f"Go back to step {tr.healthy_step:,} with the settings as they are.")  # fmt: skip
        if settings:
            changes = ", ".join(f"set {SCHEMA[k].phrase} {SCHEMA[k].format(v)}" for k, v in settings.items())
            st.button(
                f"Roll back and {changes}", type="primary", on_click=callbacks.request_roll_back,
                args=(settings,), key=session.button_key("roll_back_advised"),
            )  # fmt: skip
    if advice.get("text"):
        st.caption(advice["text"])


def best_notice(sess: Session, run: Run) -> None:
    """Where the best validation score was, with its weights one click away (while paused, when
    the model has moved on from them); and why training stopped early, if it did."""
    best = run.trainer.best_summary
    name = "RMSE" if best["metric"] == "val_rmse" else "bits/char"
    stop = run.early_stop
    if stop:
        st.info(
            f"**Stopped early at step {stop['at']:,}**: no better validation {name} for "
            f"{stop['at'] - stop['best_step']:,} steps (the patience set). The best, "
            f"{stop['score']:.4g}, was at step {stop['best_step']:,}.",
            icon=":material/flag:",
        )
    if sess.state.moving or best["step"] is None or best["step"] == run.trainer.step_count:
        return
    st.button(
        f"Restore best (step {best['step']:,}, validation {name} {best['score']:.4g})",
        on_click=callbacks.request_restore_best, key=session.button_key("restore_best"),
        help="Go back to the weights (and optimizer state) of the best validation score so far.",
    )  # fmt: skip


def live_panels() -> None:
    """Metrics, loss, predictions (or text progress), internals and gradient norms."""
    sess = session.get()
    run = sess.run
    if run is None:
        st.info("No model yet: choose data on the **Data** page.")
        return
    divergence_notice(sess, run)
    with st.container():  # one place whether or not it holds a button: the charts below keep theirs
        best_notice(sess, run)
    with st.container():  # the same for the rewind slider, shown only while paused
        rewind.control(sess, run)
    run = rewind.shown(sess, run)  # the run itself, or the look at an earlier kept step
    found = through_time.latest(run)
    metrics_row(sess, run, found)
    panels = st.container(key=layout.PANELS)
    top_left, top_right = panels.columns(2)
    with top_left:
        charts.loss_chart(run)
    with top_right:
        if run.trainer.dataset.kind == "text":
            charts.text_progress(run)
        else:
            charts.predictions_chart(run)
    bottom_left, bottom_right = panels.columns(2)
    with bottom_left:
        charts.internals_chart(run)
    with bottom_right:
        charts.grad_chart(run)
    st.caption(plot.RESET_HINT)
    through_time.views(run, found)
