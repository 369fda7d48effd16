"""Data: choose a sine, a CSV or a text; preview it with the split shaded, statistics and baselines."""

import streamlit as st

from dashboard.sections import data

st.title("Data")
data.header()
spec = data.source_picker()
if spec is not None:
    data.candidate_section(spec)
