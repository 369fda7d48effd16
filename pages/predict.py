"""Predict: one-step predictions and a closed-loop forecast (series), or sampling (text)."""

import streamlit as st

from dashboard import session
from dashboard.sections import predict

st.title("Predict")
run = session.get().run
if run is None:
    st.info("There is no model yet: choose data on the **Data** page.")
    st.stop()
predict.header(run)
if run.trainer.dataset.kind == "text":
    predict.text_section(run)
else:
    predict.series_section(run)
