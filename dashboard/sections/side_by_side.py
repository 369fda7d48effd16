"""The Compare page's live runs: what each changes, the run buttons, then the runs themselves
(a table, their losses overlaid, their predictions or sampled text), redrawn while they train.

The work is in :mod:`dashboard.comparison`; this module only draws. The fragment reruns while a
run trains, at the pace the server's load sets (:func:`dashboard.live.paced`), as the Train
page's does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import charts, comparison, controls, figures, layout, plot, session
from dashboard.format import finite, fmt, x_label
from dashboard.sections.model import file_stem
from dashboard.session import COMPARE_RUNS, Comparison, Lane, Session
from rnn_core.history import downsample_indices
from rnn_core.settings import SCHEMA

PLACEHOLDERS = {"seed": "e.g. 1", "cell": "rnn, lstm or gru", "lr": "e.g. 0.01", "hidden_size": "e.g. 64"}


def _label(name: str) -> str:
    return comparison.NONE if name == comparison.NONE else SCHEMA[name].label


def runs_form() -> None:
    """How many runs, what each changes from the Train settings, and the run buttons."""
    sess = session.get()
    st.markdown(
        "Up to four runs on the same data, each the Train page's settings with one change (or another "
        "seed). Runs with the same seed see the same split and batches: a difference between them is "
        "the change's, not the luck of the draw."
    )
    st.number_input("Runs", 2, COMPARE_RUNS, help="How many runs train side by side.", width=120,
                    **controls.view_kwargs("compare_count"))  # fmt: skip
    st.caption("**Run 1** · the Train page's settings, unchanged")
    for k in range(2, int(sess.view.compare_count) + 1):
        left, right, _ = st.columns(3)
        name = getattr(sess.view, f"compare_setting_{k}")
        left.selectbox(f"Run {k} changes", (comparison.NONE, *comparison.CHANGEABLE), format_func=_label,
                       **controls.view_kwargs(f"compare_setting_{k}"))  # fmt: skip
        right.text_input("to", placeholder=PLACEHOLDERS.get(name, "a value"),
                         **controls.view_kwargs(f"compare_value_{k}"))  # fmt: skip
    _buttons(sess)


def _buttons(sess: Session) -> None:
    cmp = sess.comparison
    moving = cmp is not None and cmp.moving
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.button("Start", type="primary", on_click=comparison.start, disabled=moving,
                  key=session.button_key("compare_start"),
                  help="Builds the runs first if there are none.")  # fmt: skip
        st.button(
            "Pause", on_click=comparison.pause, disabled=not moving, key=session.button_key("compare_pause")
        )
        st.button("Step", on_click=comparison.step, disabled=cmp is None, help="One update of each run.",
                  key=session.button_key("compare_step"))  # fmt: skip
        st.button("Reset", on_click=comparison.request_reset, key=session.button_key("compare_reset"),
                  help="Build the runs again from the settings above, each with its seed.")  # fmt: skip
    note = comparison.pending(sess)
    if note:
        st.warning(
            f"{note[0].upper()}{note[1:]}: **Reset** builds the runs from them.",
            icon=":material/restart_alt:",
        )


def live_runs() -> None:
    """The runs, redrawn while they train."""
    sess = session.get()
    interval = comparison.interval(sess)
    st.fragment(run_every=interval)(_tick)(interval)


def _tick(interval: float | None) -> None:
    sess = session.get()
    comparison.tick(sess)
    wanted = comparison.interval(sess)
    if interval is not None and (wanted is None or abs(wanted - interval) > 0.3 * interval):
        # Training stopped by itself (every run diverged or stepped), or the server's load
        # changed: a full run sets the fragment's new interval (fixed per script run).
        st.rerun()
    cmp = sess.comparison
    if cmp is None:
        st.info("No runs yet: press **Start** (or **Reset**) to build them.")
        return
    if not cmp.live:
        st.info("Every run was moved to the Train page; **Reset** builds new ones.")
        return
    for lane in cmp.live:
        info = lane.run.divergence
        if info:
            st.warning(f"**{lane.name} diverged at step {info['step']:,}** and paused alone; the others "
                       "go on. **Reset** builds every run again.", icon="⚠️")  # fmt: skip
    left, right = st.container(key=layout.PANELS).columns(2)
    with left:
        _loss_chart(cmp)
    with right:
        if cmp.live[0].run.trainer.dataset.kind == "text":
            _samples(cmp)
        else:
            _predictions_chart(cmp)
    st.caption(plot.RESET_HINT)
    _table(cmp)


def _state(lane: Lane) -> str:
    tr = lane.run.trainer
    if lane.run.divergence or tr.diverged:
        return "diverged"
    return "training" if lane.state.moving else "paused"


def _table(cmp: Comparison) -> None:
    ds = cmp.live[0].run.trainer.dataset
    text = ds.kind == "text"
    base = ds.baselines or {}
    base_name, base_key = ("unigram", "unigram_bpc") if text else ds.reference_baseline
    metric, ref_name = ("val_bpc" if text else "val_rmse"), base_key
    ref = base.get(ref_name)
    metric_label = "Val bits/char" if text else "Val RMSE"
    ratio_label = f"÷ {base_name}"
    rows = []
    for lane in cmp.live:
        tr, ev = lane.run.trainer, lane.run.last_eval or {}
        val = ev.get(metric)
        rate, _ = lane.state.steps_per_second()
        found = tr.answer("through_time", *comparison.PROBE_VIEW)
        span = found.get("span") if found else None
        # A plain RNN's one recurrent matrix per layer is the spectrum's "h" block.
        radii = [layer["h"]["radius"] for layer in found["spectrum"] if "h" in layer] if found else []
        radius = max(radii) if radii else None
        # The numbers that answer "which is better" first: on a phone the rest scrolls.
        rows.append({
            "Run": lane.name,
            metric_label: fmt(val, ".4g"),
            ratio_label: _ratio(val, ref),
            "Step": tr.step_count,
            "Steps/s": None if rate is None else round(rate),
            "State": _state(lane),
            "Changes": comparison.describe(lane.change),
            "Cell": tr.config.cell.upper(),
            "Params": tr.network.n_params(),
            "Radius": fmt(radius, ".3f") if radius is not None else "—",
            "Memory span": "—" if span is None else f"{span} steps",
        })  # fmt: skip
    colours = {lane.name: figures.run_color(i) for i, lane in enumerate(cmp.lanes)}
    table = pd.DataFrame(rows).style.map(
        lambda name: f"color: {colours[name]}; font-weight: 600", subset=["Run"]
    )
    words = "the unigram model's bits per character" if text else f"the {base_name} baseline's RMSE"
    rmse_help = "RMSE of one-step predictions of the validation windows, in original units."
    metric_help = "Bits per character on the validation text." if text else rmse_help
    radius_help = ("Spectral radius of a plain RNN's recurrent matrix: above 1 its state can grow from step "
                   "to step. A gated cell has no single recurrent matrix.")  # fmt: skip
    config = {
        "Run": st.column_config.TextColumn(pinned=True),
        metric_label: st.column_config.TextColumn(help=metric_help),
        ratio_label: st.column_config.TextColumn(help=f"The run's metric over {words}: below 1× beats it."),
        "Params": st.column_config.NumberColumn(help="Parameters of the network."),
        "Radius": st.column_config.TextColumn(help=radius_help),
        "Memory span": st.column_config.TextColumn(
            help="How far back the inputs still move the prediction "
            "(the Train page's memory view explains it)."
        ),
    }
    st.dataframe(table, hide_index=True, width="stretch", column_config=config)
    st.caption(f"Baseline: {words} {fmt(ref, '.4g')}.")


def _ratio(val, ref) -> str:
    return f"{val / ref:.3g}×" if finite(val) and finite(ref) and ref else "—"


def run_actions() -> None:
    """Under the runs: move one to the Train page, download one's weights. Drawn with the page,
    not in the fragment: a button redrawn by every refresh while the runs train could be clicked
    just as it is replaced, and the click would be lost."""
    cmp = session.get().comparison
    if cmp is None or not cmp.live:
        return
    with st.container(horizontal=True, gap="small"):
        for i, lane in enumerate(cmp.lanes):
            if lane.run is None:
                continue
            tr = lane.run.trainer
            st.button(f"Use {lane.name} on Train", on_click=comparison.request_promote, args=(i,),
                      key=session.button_key(f"compare_promote_{i + 1}"),
                      help="Move this run to the Train page (and so to Predict and Model), "
                           "in place of the model there.")  # fmt: skip
            # Paused, the file is made now: the page does not rerun then, so the button keeps its
            # file. While training, it is made when clicked (a file per refresh would be waste),
            # and a click that lands while the page reruns finds the button's file gone.
            data = tr.save if lane.state.moving else tr.save()
            st.download_button(f"{lane.name} weights", data=data, file_name=f"{file_stem(tr)}-{i + 1}.npz",
                               mime="application/octet-stream", on_click="ignore", icon=":material/download:",
                               key=f"compare_download_{i + 1}")  # fmt: skip


def _curves(lane: Lane) -> dict:
    hist = lane.run.trainer.history
    d = hist.downsample(charts.CURVE_POINTS, columns=["loss"])
    ev = hist.evals
    out = {"name": lane.name, "steps": d["step"], "loss": d["loss"]}
    if len(ev) and "val_loss" in ev:
        idx = downsample_indices(len(ev), charts.CURVE_POINTS)
        out["eval_steps"], out["val_loss"] = np.array(ev["step"][idx]), np.array(ev["val_loss"][idx])
    return out


def _loss_chart(cmp: Comparison) -> None:
    text = cmp.live[0].run.trainer.dataset.kind == "text"
    label = "cross-entropy (nats)" if text else "MSE (normalised)"
    fig = figures.compare_loss_figure([_curves(lane) for lane in cmp.live], loss_label=label)
    plot.chart(fig, key="fig_compare_loss")


def _predictions_chart(cmp: Comparison) -> None:
    first = cmp.live[0].run.trainer
    x, _, actual = first.predictions("val", max_points=charts.LIVE_PRED_MAX)
    runs = []
    for lane in cmp.live:
        found = lane.run.trainer.predictions("val", max_points=charts.LIVE_PRED_MAX)
        runs.append({"name": lane.name, "pred": found[1] if found is not None else None})
    ds = first.dataset
    fig = figures.compare_predictions_figure(x, actual, runs, y_label=ds.columns[0], x_label=x_label(ds))
    plot.chart(fig, key="fig_compare_pred")


def _samples(cmp: Comparison) -> None:
    st.markdown("**A line sampled by each run** (temperature 0.8)")
    for lane in cmp.live:
        line = lane.run.trainer.answer("sample_line")
        if line is None:
            line = lane.run.trainer.sample_line(120, 0.8)
        st.caption(f"{lane.name} · step {lane.run.trainer.step_count:,}")
        st.code(line, language=None, wrap_lines=True)
