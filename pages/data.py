"""Data: choose a sine, a CSV or a text; preview it with the split shaded, statistics and baselines."""

import streamlit as st

import rnn_core.data as data
from dashboard import controls, datasource, panels, state, views

ss = st.session_state
st.title("Data")
st.caption(f"In use: **{state.data_spec().label}** · {panels.data_summary(state.dataset())}")

kind = st.radio(
    "Source", list(views.SOURCE_LABELS), key="data_kind", format_func=views.SOURCE_LABELS.get, horizontal=True
)
window = state.hyperparams().window
spec = None
if kind == "sine":
    st.selectbox("Preset", list(data.SINE_PRESETS), key="data_sine_preset", on_change=views.on_sine_preset)
    spec = datasource.sine_spec(controls.sine_controls().kwargs())
elif kind == "csv":
    st.file_uploader("CSV file", type=["csv", "tsv", "txt"], key="csv_upload", on_change=views.on_csv_upload)
    if ss.get("csv_error"):
        st.error(f"This file was not used: {ss['csv_error']}")
    if ss.get("csv"):
        csv = ss["csv"]
        table = csv["table"]
        st.caption(f"Parsed **{csv['name']}**: numeric columns {', '.join(map(str, table.numeric_columns))}")
        cs = controls.csv_controls(list(table.numeric_columns))
        spec = datasource.csv_spec(
            table, csv["name"], csv["id"], target=cs.target, inputs=cs.inputs, missing=cs.missing,
            val_fraction=cs.val_fraction,
        )  # fmt: skip
    else:
        st.info("Upload a CSV with a header row and at least one numeric column (a date column is optional).")
else:
    samples = datasource.text_samples()
    ts = controls.text_controls(list(samples))
    text, name = None, "text"
    if ts.source == "sample" and ts.sample in samples:
        text, name = samples[ts.sample](), ts.sample
    elif ts.source == "paste" and ts.pasted.strip():
        text, name = ts.pasted, "pasted text"
    elif ts.source == "upload":
        st.file_uploader(
            "Text file", type=["txt", "md", "py", "csv"], key="text_file", on_change=views.on_text_upload
        )
        if ss.get("text_upload"):
            name, text = ss["text_upload"]
    if text is not None:
        spec = datasource.text_spec(
            text, name, lowercase=ts.lowercase, val_fraction=ts.val_fraction, max_vocab=ts.max_vocab
        )

if spec is not None:
    ds, err = views.candidate(spec, window)
    if err is not None:
        st.error(f"This data cannot be used as set: {err}")
        if "sequence length" in err:
            st.caption(f"The sequence length is the **Window length** on the Train page (now {window}).")
    else:
        if spec == state.data_spec():
            st.success("This is the data the model trains on.")
        else:
            tr = state.trainer()
            if tr is not None and tr.step_count > 0:
                st.warning(f"Using this data resets the current model (trained for {tr.step_count:,} steps).")
            else:
                st.info("Using this data builds a new model for it with the current settings.")
            st.button("Use this data", type="primary", on_click=state.request_data, args=(spec,))
        views.data_preview(ds)
