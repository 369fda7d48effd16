"""Compare: live runs side by side, and sweeps over settings times seeds on the server's Dask workers."""

import streamlit as st

from dashboard import session
from dashboard.sections import compare, side_by_side

st.title("Compare")
sess = session.get()
st.caption(
    f"Data: **{sess.data_spec.label}** · every run starts from the Train page's settings, with the "
    "changes below."
)
if sess.dataset is None:
    st.info("There is no data yet: choose it on the **Data** page.")
else:
    st.subheader("Side by side: live runs")
    side_by_side.runs_form()
    side_by_side.live_runs()
    side_by_side.run_actions()
    st.subheader("Sweep: settings × seeds")
    compare.sweep_form()
    compare.sweep_progress()
