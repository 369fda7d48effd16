"""Data: choose a sine, a CSV, a text or a memory task; preview it, with statistics and baselines."""

import streamlit as st

from dashboard.sections import data

st.title("Data")
data.header()
spec = data.source_picker()
if spec is not None:
    data.candidate_section(spec)
