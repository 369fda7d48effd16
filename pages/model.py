"""Model: download weights (.npz), configuration (JSON) and history (CSV); resume from a saved .npz;
check the gradients; step one window through time in slow motion."""

import streamlit as st

from dashboard import session
from dashboard.format import model_summary
from dashboard.sections import gradcheck, model, slow_motion

st.title("Model")
sess = session.get()
run = sess.run
if run is None:
    st.info("There is no model yet: choose data on the **Data** page.")
    st.stop()
tr = run.trainer
st.caption(f"{model_summary(tr)} · step **{tr.step_count:,}** · data: {sess.data_spec.label}")

st.subheader("Download")
if sess.state.moving:
    st.info(
        "Training is running: a file holds the model as it is when you click, a few steps past "
        "the step in its name. Pause first for files that match their names.",
        icon=":material/pause_circle:",
    )
model.downloads(run, sess.data_spec)
st.markdown(
    "The `.npz` holds `torch.nn.RNN/LSTM/GRU` state-dict names (prefixed `rnn.`), the `head.` of a "
    "`torch.nn.Linear`, and a `config_json` entry; load it with `numpy.load(path, allow_pickle=False)`."
)
with st.expander("Load the weights into PyTorch"):
    st.code(model.TORCH_SNIPPET.format(name=f"{model.file_stem(tr)}.npz"), language="python")
    if tr.config.cell == "rnn" and tr.config.nonlinearity == "sigmoid":
        st.caption("torch.nn.RNN has no sigmoid activation: this model needs a hand-written loop there.")

st.subheader("Resume from a saved model")
model.uploader()
st.caption(
    "The file is checked (names, shapes, dtypes, finite values) before anything changes. Training "
    "goes on from the saved step count; the optimizer state (e.g. Adam's running averages), the "
    "loss history and the epoch count are not in the file and start fresh."
)

st.subheader("Check the gradients")
gradcheck.section(run)

st.subheader("Slow motion through time")
slow_motion.section(run)
