"""The Predict page's rolling-origin backtest (folds retrained from scratch on the cluster, with a
progress bar) and the CSV downloads of what the page shows."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import controls, engine, plot, session
from dashboard.figures.forecasting import coverage_figure, horizon_figure
from dashboard.guard import guarded
from dashboard.session import Run
from rnn_core.forecasting.backtest import BacktestJob

POLL_SECONDS = 1.0
"""Seconds between looks at a backtest under way."""


def _start(horizon: int, level: float, season: int | None) -> None:
    sess = session.get()
    view = sess.view
    settings = {**dataclasses.asdict(sess.settings), "steps": int(view.bt_steps)}
    job, err = guarded("start the backtest", lambda: BacktestJob(
        sess.dataset, settings, folds=int(view.bt_folds), horizon=horizon, mode=view.bt_mode, level=level,
        season=season, client=engine.executor().client,
    ))  # fmt: skip
    if err is not None:
        sess.flash("error", f"The backtest did not start: {err}")
        return
    sess.backtest, sess.backtest_ended = job, False


def section(run: Run, horizon: int, level: float, season: int | None) -> None:
    """Settings, the Run backtest button, and the progress and results of the last backtest."""
    sess = session.get()
    st.subheader("Backtest")
    st.caption(
        "The honest check of a setting: the network is trained again from scratch before each of "
        "several periods at the end of the training and validation rows, on the rows before it only, "
        "with the Train page's settings, and scored there at every horizon. Intervals of a fold are "
        "calibrated on the folds before it."
    )
    job = sess.backtest
    busy = job is not None and not job.over
    c1, c2, c3 = st.columns(3)
    c1.number_input("Folds", 2, 10, step=1, **controls.view_kwargs("bt_folds"))
    c2.number_input("Steps per fold", 10, 100_000, step=100, **controls.view_kwargs("bt_steps"))
    c3.radio("Training rows", ("expanding", "sliding"), horizontal=True,
             help="expanding: all rows before the fold; sliding: the same number each time.",
             **controls.view_kwargs("bt_mode"))  # fmt: skip
    st.button("Run backtest", key=session.button_key("backtest"), disabled=busy, on_click=_start,
              args=(horizon, level, season))  # fmt: skip
    if job is not None:
        st.fragment(run_every=None if job.over else POLL_SECONDS)(_progress)()


def _progress() -> None:
    sess = session.get()
    job = sess.backtest
    if job is None:
        return
    job.collect()
    total = len(job.folds)
    state = "cancelled" if job.cancelled else "finished" if job.done == total else "running"
    st.progress(job.done / total, text=f"{job.done} of {total} folds trained and scored ({state})")
    if not job.over:
        st.button("Cancel backtest", on_click=job.cancel, key=session.button_key("backtest_cancel"))
    summary = job.summary()
    if summary["finished"] - summary["failed"] > 0:
        _results(summary)
    if job.over and not sess.backtest_ended:
        sess.backtest_ended = True
        st.rerun()  # a full run turns the polling off and enables the button again


def _results(summary: dict[str, Any]) -> None:
    means = {m: {k: np.asarray(v["mean"], dtype=float) for k, v in by.items()}
             for m, by in summary["by_horizon"].items()}  # fmt: skip
    cov = summary["coverage"]
    left, right = st.columns(2)
    with left:
        plot.chart(horizon_figure(means, metric=session.get().view.fc_metric, period="backtest"),
                   key="fig_horizon_backtest")  # fmt: skip
    with right:
        if cov is not None:
            plot.chart(coverage_figure(np.asarray(cov["by_horizon"]), cov["level"], period="backtest"),
                       key="fig_coverage_backtest")  # fmt: skip
        else:
            st.caption("Interval coverage needs two scored folds: the first calibrates the second.")
    table = backtest_table(summary)
    st.dataframe(table, width="stretch")
    if cov is not None:
        season = summary["season"]
        st.caption(
            f"{cov['level']:.0%} intervals covered **{cov['overall']:.1%}** of {cov['origins']:,} values "
            f"over {cov['folds']} fold(s) (Winkler score {cov['winkler']:.4g}). Season {season['length']} "
            f"({season['how']}); {summary['failed']} fold(s) failed."
        )
    download("Download the backtest (CSV)", table, "backtest.csv", "backtest_csv")


def backtest_table(summary: dict[str, Any]) -> pd.DataFrame:
    """Mean ± standard deviation over the folds of each method's MASE at a few horizons and overall."""
    H = summary["horizon"]
    shown = sorted({h for h in (1, 3, 6, 12) if h <= H} | {H})
    rows = {}
    for m in summary["methods"]:
        by = summary["by_horizon"][m]["mase"]
        row = {f"MASE h={h}": _pm(by["mean"][h - 1], by["std"][h - 1]) for h in shown}
        over = summary["overall"][m]
        row |= {k.upper(): _pm(over[k]["mean"], over[k]["std"]) for k in ("mase", "mae", "rmse")}
        rows[m] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _pm(mean, std) -> str:
    if mean is None:
        return "–"
    return f"{mean:.3f} ± {std:.3f}" if std is not None else f"{mean:.3f}"


def download(label: str, table: pd.DataFrame, name: str, key: str) -> None:
    """A CSV download of ``table`` (its index as the first column)."""
    buf = io.StringIO()
    table.to_csv(buf)
    st.download_button(label, buf.getvalue(), file_name=name, mime="text/csv", key=session.button_key(key))
