"""Train (landing page): settings and presets, Start/Pause/Step/Reset, live panels."""

import streamlit as st

from dashboard import layout, live, session
from dashboard.sections import train

sess = session.get()
presenting = sess.view.present
if not (presenting and sess.view.lesson):  # a lesson's banner stands for the title on a projector
    st.title("Train")
    st.caption(
        f"Data: **{sess.data_spec.label}** (change it on the Data page). Press **Start** and watch the "
        "loss fall, the predictions bend onto the data and the hidden units light up."
    )
if presenting:  # the lesson's few settings in a row above the run, everything at full width
    settings, main = st.container(), st.container()
else:
    settings, main = st.columns([1.3, 3], gap="medium")
# The run buttons, the numbers and the charts first: the browser gets them (after a Pause, the
# step the run stopped at) before the two dozen settings widgets, which fill their column after.
with main.container(key=layout.TRAIN_MAIN):
    train.run_buttons()
    live.run(charts=True)
with settings.container(key=layout.TRAIN_SETTINGS):
    train.settings_column()
