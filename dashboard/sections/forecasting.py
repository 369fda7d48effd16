"""The Predict page's honesty sections for a series: errors by horizon next to the simple
methods, the interval band, and the test period scored only when asked."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import controls, plot, session
from dashboard.figures.forecasting import coverage_figure, horizon_figure
from dashboard.guard import guarded
from dashboard.session import Run

TABLE_HORIZONS = (1, 3, 6, 12)
"""Horizons the accuracy table shows MASE at (those up to the chosen horizon, and the last)."""


def choices() -> tuple[int, float, int | None]:
    """The horizon, interval level and season (None: detected) the user chose."""
    view = session.get().view
    c1, c2, c3, c4 = st.columns(4)
    c1.number_input(
        "Horizon (steps)", 1, 200, step=1,
        help="Forecasts of 1 to this many steps are scored from every origin of the period.",
        **controls.view_kwargs("fc_horizon"),
    )  # fmt: skip
    c2.slider(
        "Interval level", 0.5, 0.99, step=0.01, help="Nominal coverage of the conformal intervals.",
        **controls.view_kwargs("fc_level"),
    )  # fmt: skip
    c3.number_input(
        "Season (0 = detect)", 0, 10_000, step=1,
        help="Rows per season for seasonal naive and MASE; 0 finds it on the training rows.",
        **controls.view_kwargs("fc_season"),
    )  # fmt: skip
    c4.radio("Error", ("mase", "rmse", "mae"), horizontal=True, format_func=str.upper,
             **controls.view_kwargs("fc_metric"))  # fmt: skip
    return int(view.fc_horizon), float(view.fc_level), (int(view.fc_season) or None)


def report(run: Run, memo, period: str, horizon: int, level: float, season: int | None):
    """The period's report for the current weights ``(report, error)``, computed once per step."""
    tr = run.trainer
    key = (run.version, period, horizon, level, season)
    return memo(run, f"fc_{period}", key, lambda: guarded(
        "score the forecasts", lambda: tr.forecast_report(period, horizon, level, season)
    ))  # fmt: skip


def accuracy_table(rep: dict[str, Any]) -> pd.DataFrame:
    """One row per method, best overall MASE first: MASE at a few horizons, then the averages."""
    H = rep["horizon"]
    shown = [h for h in TABLE_HORIZONS if h < H] + [H]
    rows = {}
    for name, by_h in rep["errors"].items():
        row = {f"MASE h={h}": float(by_h["mase"][h - 1]) for h in shown}
        overall = rep["overall"][name]
        row.update({"MASE": overall["mase"], "MAE": overall["mae"], "RMSE": overall["rmse"]})
        if rep["smape_note"] is None:
            row["sMAPE %"] = overall["smape"]
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    return df.sort_values("MASE", na_position="last")


def notes(rep: dict[str, Any]) -> list[str]:
    """What a reader needs to trust the numbers: the season, the MASE scale, what is left out."""
    season, scale = rep["season"], rep["scale"]["value"]
    out = [
        f"Season **{season['length']}** ({season['how']}); MASE divides by the seasonal naive "
        f"method's in-sample error on the training rows ({scale:.4g})."
    ]
    out += [n for n in (rep["scale"]["note"], rep["smape_note"], rep.get("interval_note")) if n]
    return out


def accuracy_section(run: Run, memo, horizon: int, level: float, season: int | None) -> dict | None:
    """Errors by horizon on the validation period; returns its report (None on an error)."""
    st.subheader("Accuracy by horizon")
    st.caption(
        "Closed-loop forecasts of 1 to H steps from every origin in the validation period, each "
        "method knowing only the rows up to its origin. Below 1 MASE beats the seasonal naive "
        "method's training error; a line under the others wins at that horizon."
    )
    rep, err = report(run, memo, "val", horizon, level, season)
    if err is not None:
        st.warning(err)
        return None
    plot.chart(horizon_figure(rep["errors"], metric=session.get().view.fc_metric, period="validation"),
               key="fig_horizon_val")  # fmt: skip
    st.dataframe(accuracy_table(rep).style.format(precision=3, na_rep="–"), width="stretch")
    st.caption(f"{rep['origins']:,} origins. " + " ".join(notes(rep)))
    return rep


def test_key(spec: Any) -> tuple | None:
    """What decides which rows a data spec holds out: its file and target, gap handling and test
    share (not its validation share or extra inputs, which leave the held-out rows the same)."""
    if spec is None:
        return None
    opts = dict(spec.options)
    return (
        spec.kind,
        spec.name,
        spec.payload_id,
        *(opts.get(k) for k in ("target", "missing", "test_fraction")),
    )


def scored(sess: Any) -> bool:
    """Whether the current data's test period has been scored in this session."""
    return sess.test_used is not None and sess.test_used == test_key(sess.data_spec)


def score_test(horizon: int, level: float, season: int | None) -> None:
    """Score the current model on the test period and mark the period used (a button callback,
    so the page drawn next shows the held-out values everywhere)."""
    sess = session.get()
    run = sess.run
    if run is None:
        return
    rep, err = guarded(
        "score the test period", lambda: run.trainer.forecast_report("test", horizon, level, season)
    )
    if err is not None:
        sess.flash("error", err)
        return
    sess.test_used = test_key(sess.data_spec)
    sess.test_report = {"report": rep, "version": run.version, "step": run.trainer.step_count}


def test_section(run: Run, memo, horizon: int, level: float, season: int | None) -> None:
    """The held-out test period: described until the user scores it, then its scores."""
    sess = session.get()
    ds = run.trainer.dataset
    st.subheader("Test period")
    test = getattr(ds, "test", None)
    if test is None:
        st.caption(
            "No test period is held out for this data (the sine generator holds none; a CSV holds "
            "out its last 15% by default when it is long enough; set the share on the Data page)."
        )
        return None
    used = scored(sess)
    st.caption(
        f"The last **{test.length:,} rows** are held out: nothing has trained, validated or been "
        "drawn on them. Score them once you have chosen your settings by the validation period; "
        + ("**they have been scored for this data already**, so a setting chosen after looking "
           "at them is no longer tested honestly." if used else "they count as used from then on.")
    )  # fmt: skip
    st.button("Score on test", key=session.button_key("score_test"), on_click=score_test,
              args=(horizon, level, season))  # fmt: skip
    held = sess.test_report if scored(sess) else None
    if not held:
        return
    rep = held["report"]
    stale = held["version"] != run.version
    since = " (the model has changed since: press Score on test again to score it)" if stale else ""
    st.caption(f"Scored at step **{held['step']:,}**{since} · {rep['origins']:,} origins")
    cov, nominal = rep["coverage"], rep["level"]
    c1, c2, c3 = st.columns(3)
    rnn = rep["overall"]["RNN"]
    best = min((v["mase"], k) for k, v in rep["overall"].items() if k != "RNN" and not math.isnan(v["mase"]))
    c1.metric("RNN MASE (test)", f"{rnn['mase']:.3f}", help=f"Best simple method: {best[1]}, {best[0]:.3f}")
    gap = f"{100 * (cov - nominal):+.1f} points vs {100 * nominal:g}%"
    c2.metric("Interval coverage", f"{100 * cov:.1f}%", gap, delta_color="off")
    c3.metric("Winkler score", f"{rep['winkler']:.4g}", help="Interval width plus a penalty of 2/α for "
              "each miss, averaged; lower is better.")  # fmt: skip
    left, right = st.columns(2)
    with left:
        plot.chart(
            horizon_figure(rep["errors"], metric=sess.view.fc_metric, period="test"), key="fig_horizon_test"
        )
    with right:
        plot.chart(coverage_figure(np.asarray(rep["coverage_by_horizon"]), nominal), key="fig_coverage_test")
    st.dataframe(accuracy_table(rep).style.format(precision=3, na_rep="–"), width="stretch")
