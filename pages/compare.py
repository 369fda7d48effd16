"""Compare: sweeps over settings times seeds, trained on the server's Dask workers."""

import streamlit as st

from dashboard import session
from dashboard.sections import compare

st.title("Compare")
sess = session.get()
st.caption(
    f"Data: **{sess.data_spec.label}** · every run starts from the Train page's settings, with the "
    "settings below changed."
)
st.subheader("Sweep: settings × seeds")
compare.sweep_form()
compare.sweep_progress()
