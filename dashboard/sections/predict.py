"""The Predict page's sections: forecast and metrics for a series (a prediction per window for a
memory task, which has nothing to forecast), sampling for a text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import controls, figures, live, plot, session
from dashboard.charts import LIVE_PRED_MAX
from dashboard.format import model_summary, x_label
from dashboard.guard import guarded
from dashboard.sections import backtest, forecasting
from dashboard.session import Run
from rnn_core.forecasting import report

FORECAST_DRAWN = 3000
"""Most forecast values drawn; a longer forecast is computed whole and drawn thinned."""

BASELINE_NAMES = {"persistence": "persistence", "mean": "mean", "linear": "linear autoregression",
                  "constant": "constant 1"}  # fmt: skip
"""The metrics table's short names of the baselines a regression dataset scores, by key stem."""


def memo(run: Run, name: str, key: tuple, fn):
    """The latest value of ``fn()`` for ``name``, recomputed only when ``key`` changes."""
    hit = run.memo.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = fn()
    run.memo[name] = (key, value)
    return value


def header(run: Run) -> None:
    """The model's step, kept current while training runs on this page."""
    sess = session.get()

    @st.fragment(run_every=1.0 if sess.state.moving else None)
    def caption() -> None:
        tr = session.get().trainer
        moving = " (training: press Pause to freeze the charts below)" if session.get().state.moving else ""
        st.caption(f"Model at step **{tr.step_count:,}**{moving} · {model_summary(tr)}")

    caption()


def regression_metrics(run: Run) -> pd.DataFrame:
    """Validation RMSE/MAE of the model next to the baselines the data scores, best first."""
    ev = live.current_eval(session.get(), run)
    ds = run.trainer.dataset
    b = ds.baselines or {}
    rows = {"RNN (one-step)": (ev.get("val_rmse"), ev.get("val_mae"))}
    for stem, label in BASELINE_NAMES.items():
        if f"{stem}_rmse" in b:
            rows[label] = (b[f"{stem}_rmse"], b.get(f"{stem}_mae"))
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["RMSE", "MAE"])
    name, key = ds.reference_baseline
    ref = b.get(key)
    df[f"RMSE / {name}"] = df["RMSE"] / ref if ref else math.nan
    return df.sort_values("RMSE", na_position="last")


def series_section(run: Run) -> None:
    tr = run.trainer
    ds = tr.dataset
    if not ds.forecastable:
        windows_section(run)
        return
    sess = session.get()
    horizon = st.number_input("Forecast length (values beyond the data)", 1, 10_000, step=10,
                              **controls.view_kwargs("horizon"))  # fmt: skip
    h, level, season = forecasting.choices()
    x_val, pred_val, _ = memo(
        run, "pred_val", run.version, lambda: tr.predictions("val", max_points=LIVE_PRED_MAX)
    )
    forecast, err = memo(
        run, "forecast", (run.version, horizon), lambda: guarded("forecast", lambda: tr.forecast(horizon))
    )
    val_report, _ = forecasting.report(run, memo, "val", h, level, season)
    if err is not None:
        st.error(err)
    band = None
    if err is None:
        if val_report is not None:
            lower, upper = report.forecast_band(forecast[1], val_report["halfwidths"])
            band = (lower, upper, f"{level:.0%} interval (conformal, first {min(h, horizon)} steps)")
        held = None
        if ds.test is not None and forecasting.scored(sess):
            held = ds.test.rows()[1], ds.test.rows()[0][:, 0]
        fig = figures.forecast_figure(
            ds.x_axis, ds.raw[:, 0], *forecast, x_val=x_val, pred_val=pred_val, band=band,
            held_out=held, y_label=ds.columns[0], x_label=x_label(ds), max_points=FORECAST_DRAWN,
        )  # fmt: skip
        plot.chart(fig, key="fig_forecast")
    st.caption(
        "The forecast feeds each prediction back in as the next input, so errors compound. The band "
        "is the conformal interval: at each horizon, the size of the validation forecasts' errors "
        f"that {level:.0%} of them stayed within."
    )
    if len(ds.columns) > 1:
        st.caption(inputs_note(ds, horizon))
    st.markdown("**Validation metrics, original units** (one-step predictions; lower is better)")
    st.dataframe(regression_metrics(run), width="stretch")
    rep = forecasting.accuracy_section(run, memo, h, level, season)
    downloads(run, forecast if err is None else None, band, rep)
    forecasting.test_section(run, memo, h, level, season)
    backtest.section(run, h, level, season)


def inputs_note(ds, n: int) -> str:
    """Which forecast steps used known future values of the extra inputs and which held them."""
    _, supplied = ds.forecast_inputs(n)
    names = ", ".join(ds.columns[1:])
    held = ", ".join(f"{c} = {v:.4g}" for c, v in zip(ds.columns[1:], ds.raw[-1, 1:], strict=True))
    if not supplied.any():
        return (f"The extra inputs ({names}) have no known future values in the data, so this forecast "
                f"holds them at their last observed value ({held}) at every step.")  # fmt: skip
    first, last = int(np.argmax(supplied)) + 1, int(len(supplied) - np.argmax(supplied[::-1]))
    before = f"; steps 1–{first - 1} (the test period, unread) hold them at {held}" if first > 1 else ""
    after = f"; steps after {last} hold the last supplied row" if last < n else ""
    known = f"take the CSV's known future values at steps {first}–{last}"
    return f"The extra inputs ({names}) {known}{before}{after}."


def downloads(run: Run, forecast, band, rep: dict | None) -> None:
    """The page's numbers as CSV files: every one-step validation prediction, the forecast with its
    interval, and the errors by horizon."""
    tr = run.trainer
    x, pred, actual = memo(run, "pred_all", run.version, lambda: tr.predictions("val"))
    cols = st.columns(3)
    with cols[0]:
        table = pd.DataFrame({"x": x, "predicted": pred, "actual": actual}).set_index("x")
        backtest.download("Predictions (CSV)", table, "predictions.csv", "predictions_csv")
    if forecast is not None:
        with cols[1]:
            table = pd.DataFrame({"x": forecast[0], "forecast": forecast[1]})
            if band is not None:  # blank beyond the calibrated horizons, not infinite
                table["lower"], table["upper"] = (np.where(np.isfinite(b), b, np.nan) for b in band[:2])
            backtest.download("Forecast (CSV)", table.set_index("x"), "forecast.csv", "forecast_csv")
    if rep is not None:
        with cols[2]:
            backtest.download(
                "Errors by horizon (CSV)", horizon_table(rep), "errors_by_horizon.csv", "horizon_csv"
            )


def horizon_table(rep: dict) -> pd.DataFrame:
    """One row per method and horizon: MAE, RMSE and MASE, in original units."""
    rows = []
    for name, by_h in rep["errors"].items():
        for h in range(rep["horizon"]):
            rows.append(
                {"method": name, "horizon": h + 1, **{k: float(by_h[k][h]) for k in ("mae", "rmse", "mase")}}
            )
    return pd.DataFrame(rows).set_index(["method", "horizon"])


def windows_section(run: Run) -> None:
    """A memory task: the model's prediction for every window next to its target, and the metrics."""
    tr = run.trainer
    ds = tr.dataset
    st.info(
        f"A forecast beyond the data does not apply to a memory task ({ds.name}): each window is "
        "generated on its own with its own target, not cut from one series, so there is no next "
        "value to feed back. Shown instead: the model's prediction for each window.",
        icon=":material/info:",
    )
    pred = memo(run, "pred_windows", run.version, lambda: (
        tr.predictions("train", max_points=LIVE_PRED_MAX), tr.predictions("val", max_points=LIVE_PRED_MAX)
    ))  # fmt: skip
    fig = figures.predictions_figure(
        *pred[0],
        *pred[1],
        y_label=ds.columns[0],
        x_label=x_label(ds),
        title="Predicted and actual targets by window",
    )
    plot.chart(fig, key="fig_window_predictions")
    st.markdown("**Validation metrics, original units** (lower is better)")
    st.dataframe(regression_metrics(run), width="stretch")


def text_section(run: Run) -> None:
    tr = run.trainer
    view = session.get().view
    left, right = st.columns(2)
    with left:
        st.subheader("Sample text")
        st.slider("Temperature", 0.1, 2.0, step=0.05, help="Low: safe and repetitive.",
                  **controls.view_kwargs("temperature"))  # fmt: skip
        st.number_input("Characters", 1, 5000, step=50, **controls.view_kwargs("sample_length"))
        st.text_input("Priming text", help="The model reads this first, then continues it.",
                      **controls.view_kwargs("prime"))  # fmt: skip
        if st.button("Sample", type="primary", key=session.button_key("sample")):
            run.sample = guarded(
                "sample",
                lambda: tr.sample(n=view.sample_length, temperature=view.temperature, prime=view.prime),
            )
        if run.sample:
            text, err = run.sample
            if err:
                st.error(err)
            else:
                st.code(text, language=None, wrap_lines=True)
    with right:
        st.subheader("Next character")
        st.text_input("Prefix", placeholder="Type a few characters", **controls.view_kwargs("prefix"))
        k_max = min(30, int(tr.dataset.vocab_size))
        view.top_k = min(max(view.top_k, 1), k_max)  # the vocabulary may have shrunk
        # A slider needs two ends: a text of one distinct character has one choice only.
        k = st.slider("Top k", 1, k_max, **controls.view_kwargs("top_k")) if k_max > 1 else 1
        probs, err = guarded("score the prefix", lambda: tr.next_char_probs(view.prefix, k=k))
        if err:
            st.error(err)
        else:
            plot.chart(figures.probs_figure(probs), key="fig_next_char")
