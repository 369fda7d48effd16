"""The Compare page's sweep: a grid of settings times seeds on the server's Dask workers.

The runs start from the Train page's settings and the data in use; each is a Dask task on the
cluster the live runs train on, at a lower priority than them (:mod:`rnn_core.sweep`). A
fragment asks the sweep for its finished rows every :data:`POLL_SECONDS` while it runs and draws
the progress, the summary chart and the rows; Cancel keeps the rows finished.
"""

from __future__ import annotations

import dataclasses
import io

import pandas as pd
import streamlit as st

from dashboard import controls, engine, figures, plot, session
from dashboard.guard import guarded
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA
from rnn_core.sweep import SweepJob, parse_grid, plan, summarise

SWEEPABLE = ("cell", "hidden_size", "num_layers", "nonlinearity", "init", "optimizer", "lr",
             "batch_size", "clip_norm", "weight_decay", "bptt", "dtype")  # fmt: skip
"""Settings the page offers to vary (the sequence length would change the data's windows)."""

GRID_ROWS = 3
MAX_RUNS, MAX_STEPS = 24, 3000
"""Largest sweep one session may start here: the workers are shared with everyone's live runs."""

POLL_SECONDS = 1.0
NONE = "—"


def _label(name: str) -> str:
    return NONE if name == NONE else SCHEMA[name].label


def sweep_form() -> None:
    sess = session.get()
    st.markdown(
        "Vary one to three settings of the Train page, each run with several seeds, and see whether "
        "a difference is larger than the spread between seeds. The runs train on the server's "
        "workers behind the live runs, so they may take a while when the server is busy."
    )
    for k in range(1, GRID_ROWS + 1):
        left, right = st.columns([1, 2])
        left.selectbox(f"Setting {k}", (NONE, *SWEEPABLE), format_func=_label,
                       **controls.view_kwargs(f"sweep_setting_{k}"))  # fmt: skip
        right.text_input(f"Values {k}", placeholder="comma separated, e.g. rnn, lstm or 0.001, 0.01",
                         **controls.view_kwargs(f"sweep_values_{k}"))  # fmt: skip
    left, right = st.columns(2)
    left.number_input("Seeds per combination", 1, 5, **controls.view_kwargs("sweep_seeds"))
    right.number_input("Steps per run", 10, MAX_STEPS, step=100, **controls.view_kwargs("sweep_steps"))
    running = sess.sweep is not None and not sess.sweep.over
    if st.button("Start sweep", type="primary", disabled=running, key=session.button_key("sweep")):
        _, err = guarded("start the sweep", _start)
        if err:
            st.error(err)


def _grid_items() -> list[str]:
    view = session.get().view
    items = []
    for k in range(1, GRID_ROWS + 1):
        name, values = getattr(view, f"sweep_setting_{k}"), getattr(view, f"sweep_values_{k}").strip()
        if name != NONE and values:
            items.append(f"{name}={values}")
        elif name != NONE:
            raise PlaygroundError(f"setting {k} ({_label(name)}) has no values")
    return items


def _start() -> None:
    sess = session.get()
    grid = parse_grid(_grid_items())
    base = {**dataclasses.asdict(sess.settings), "steps": int(sess.view.sweep_steps)}
    runs = plan(base, grid, int(sess.view.sweep_seeds))
    if len(runs) > MAX_RUNS:
        raise PlaygroundError(f"{len(runs)} runs; a sweep here trains at most {MAX_RUNS}")
    ds = sess.dataset
    sess.sweep = SweepJob({int(ds.seq_len): ds}, runs, list(grid), engine.executor().client)
    sess.sweep_ended = False


def sweep_progress() -> None:
    """The sweep's progress, summary and rows, redrawn while it runs."""
    job = session.get().sweep
    if job is None:
        return
    st.fragment(run_every=None if job.over else POLL_SECONDS)(_progress)()


def _progress() -> None:
    sess = session.get()
    job = sess.sweep
    if job is None:
        return
    job.collect()
    total, done = len(job.runs), job.done
    metric = job.metric
    label = "validation bits/char" if metric == "val_bpc" else "validation RMSE"
    state = "cancelled" if job.cancelled else "finished" if done == total else "running"
    st.progress(done / total if total else 1.0, text=f"{done} of {total} runs finished ({state})")
    if not job.over:
        st.button("Cancel sweep", on_click=job.cancel, key=session.button_key("sweep_cancel"))
    rows = job.rows
    if not rows:
        return
    lines = summarise(rows, job.names, metric)
    plot.chart(figures.sweep_figure(lines, job.names, metric, label=label), key="fig_sweep")
    table = pd.DataFrame(rows).dropna(axis=1, how="all")  # e.g. bits per char on a series
    st.dataframe(table, width="stretch", hide_index=True)
    buf = io.StringIO()
    table.to_csv(buf, index=False)
    st.download_button("Download the rows (CSV)", buf.getvalue(), file_name="sweep.csv", mime="text/csv",
                       key=session.button_key("sweep_csv"))  # fmt: skip
    if job.over and not sess.sweep_ended:
        sess.sweep_ended = True
        st.rerun()  # a full run turns the fragment's polling off and enables Start again
