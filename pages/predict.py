"""Predict: one-step predictions and a closed-loop forecast (series), or sampling (text)."""

import streamlit as st

from dashboard import datasource, figures, panels, state, views

ss = st.session_state
st.title("Predict")
tr = state.trainer()
if tr is None:
    st.info("There is no model yet: choose data on the **Data** page.")
    st.stop()
ds = tr.dataset
st.caption(f"Model at step **{tr.step_count:,}** · {panels.model_summary(tr)}")

if ds.kind != "text":
    horizon = st.number_input(
        "Forecast length (values beyond the data)", 1, 10_000, step=10, key="pred_horizon"
    )
    x_val, pred_val, _ = state.memo("pred_val", state.model_version(), lambda: tr.predictions("val"))
    forecast, err = datasource.guarded(
        "forecast",
        lambda: state.memo("forecast", (state.model_version(), horizon), lambda: tr.forecast(horizon)),
    )
    if err is not None:
        st.error(err)
    else:
        st.plotly_chart(
            figures.forecast_figure(
                ds.x_axis, ds.raw[:, 0], *forecast, x_val=x_val, pred_val=pred_val,
                y_label=ds.columns[0], x_label=panels.x_label(ds),
            ),
            config=panels.CHART_CONFIG,
        )  # fmt: skip
    st.markdown("**Validation metrics, original units** (one-step predictions; lower is better)")
    st.dataframe(views.regression_metrics(tr), width="stretch")
    st.caption("The forecast feeds each prediction back in as the next input, so errors compound.")
    if len(ds.columns) > 1:
        held = ", ".join(
            f"{name} = {value:.4g}" for name, value in zip(ds.columns[1:], ds.raw[-1, 1:], strict=True)
        )
        st.caption(
            f"The extra input columns have no forecast of their own: beyond the data they are held "
            f"at their last observed value ({held})."
        )
else:
    left, right = st.columns(2)
    with left:
        st.subheader("Sample text")
        st.slider(
            "Temperature", 0.1, 2.0, step=0.05, key="pred_temperature", help="Low: safe and repetitive."
        )
        st.number_input("Characters", 1, 5000, step=50, key="pred_length")
        st.text_input("Priming text", key="pred_prime", help="The model reads this first, then continues it.")
        if st.button("Sample", type="primary"):
            ss["pred_sample"] = datasource.guarded(
                "sample",
                lambda: tr.sample(
                    n=int(ss["pred_length"]),
                    temperature=float(ss["pred_temperature"]),
                    prime=ss["pred_prime"],
                ),
            )
        if ss.get("pred_sample"):
            text, err = ss["pred_sample"]
            if err:
                st.error(err)
            else:
                st.code(text, language=None, wrap_lines=True)
    with right:
        st.subheader("Next character")
        st.text_input("Prefix", key="pred_prefix", placeholder="Type a few characters")
        k_max = min(30, int(ds.vocab_size))
        ss["pred_k"] = min(max(int(ss.get("pred_k", 10)), 1), k_max)  # the vocabulary may have shrunk
        # A slider needs two ends: a text of one distinct character has one choice only.
        k = st.slider("Top k", 1, k_max, key="pred_k") if k_max > 1 else 1
        probs, err = datasource.guarded(
            "score the prefix", lambda: tr.next_char_probs(ss["pred_prefix"], k=k)
        )
        if err:
            st.error(err)
        else:
            st.plotly_chart(figures.probs_figure(probs), config=panels.CHART_CONFIG)
