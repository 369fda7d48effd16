"""Model: download weights (.npz), configuration (JSON) and history (CSV); resume from a saved .npz."""

import streamlit as st

from dashboard import panels, state, views

st.title("Model")
tr = state.trainer()
if tr is None:
    st.info("There is no model yet: choose data on the **Data** page.")
    st.stop()
stem = views.file_stem(tr)
st.caption(f"{panels.model_summary(tr)} · step **{tr.step_count:,}** · data: {state.data_spec().label}")

st.subheader("Download")
if state.is_running():
    st.info(
        "Training is running: a file holds the model as it is when you click, a few steps past "
        "the step in its name. Pause first for files that match their names.",
        icon=":material/pause_circle:",
    )
downloads = (
    ("Weights (.npz)", lambda: tr.save(), f"{stem}.npz", "application/octet-stream"),
    ("Configuration (JSON)", lambda: views.config_json(tr), f"{stem}.json", "application/json"),
    ("Training history (CSV)", lambda: tr.history.to_csv(), f"{stem}-history.csv", "text/csv"),
)
for col, (label, make, name, mime) in zip(st.columns(3), downloads, strict=True):
    # A callable is only run when the button is clicked, so no file is built on every rerun.
    col.download_button(
        label,
        data=make,
        file_name=name,
        mime=mime,
        on_click="ignore",
        icon=":material/download:",
        width="stretch",
    )
st.markdown(
    "The `.npz` holds `torch.nn.RNN/LSTM/GRU` state-dict names (prefixed `rnn.`), the `head.` of a "
    "`torch.nn.Linear`, and a `config_json` entry; load it with `numpy.load(path, allow_pickle=False)`."
)

with st.expander("Load the weights into PyTorch"):
    st.code(views.TORCH_SNIPPET.format(name=f"{stem}.npz"), language="python")
    if tr.config.cell == "rnn" and tr.config.nonlinearity == "sigmoid":
        st.caption("torch.nn.RNN has no sigmoid activation: this model needs a hand-written loop there.")

st.subheader("Resume from a saved model")
st.file_uploader(
    "Saved model (.npz)", type=["npz"], key="model_file", on_change=views.on_model_upload,
    help="It must have been trained on the data now in use (same columns or vocabulary and normalisation).",
)  # fmt: skip
st.caption(
    "The file is checked (names, shapes, dtypes, finite values) before anything changes. Training "
    "goes on from the saved step count; the optimizer state (e.g. Adam's running averages), the "
    "loss history and the epoch count are not in the file and start fresh."
)
