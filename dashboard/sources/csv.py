"""A CSV time series the user uploads: target column, extra inputs, gaps, validation share."""

from __future__ import annotations

import streamlit as st

import rnn_core.data as data
from dashboard import controls, session
from dashboard.guard import guarded
from dashboard.session import Upload
from dashboard.sources import DataSpec, Source, digest
from rnn_core.forecasting.transforms import TRANSFORMS, describe

MISSING = ("interpolate", "drop")
TRANSFORM_NAMES = {"none": "none", "log": "log", "diff": "difference", "seasonal_diff": "seasonal difference",
                   "detrend": "detrend"}  # fmt: skip
"""How the Data page names each target transform."""


def on_upload() -> None:
    """Parse a newly uploaded CSV; a bad file keeps the previous one in use and says why."""
    sess = session.get()
    f = session.uploaded("csv_file")
    if f is None:
        return
    content = f.getvalue()
    table, err = guarded("read the CSV file", lambda: data.read_csv_table(content, name=f.name))
    if err is not None:
        sess.csv.error = f"{f.name}: {err}"
        return
    sess.csv = Upload(name=f.name, digest=digest(content), content=table)
    columns = list(table.numeric_columns)
    sess.view.csv_target = columns[0] if columns else ""
    sess.view.csv_inputs = ()


def spec(
    table, name: str, payload_id: str, *, target: str, inputs, missing: str, val_fraction: float,
    test_fraction: float = 0.15, transform: str = "none",
):  # fmt: skip
    """Spec of a parsed CSV (a ``CsvTable``) with the user's column choices."""
    opts = {
        "target": target,
        "inputs": tuple(inputs),
        "missing": missing,
        "val_fraction": float(val_fraction),
        "test_fraction": float(test_fraction),
        "transform": transform,
    }
    return DataSpec("csv", name, tuple(sorted(opts.items())), payload_id, table)


def build(s: DataSpec, seq_len: int):
    kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.options}
    return data.csv_dataset(s.payload, seq_len=seq_len, name=s.name, **kw)


def draw() -> DataSpec | None:
    sess = session.get()
    st.file_uploader(
        "CSV file", type=["csv", "tsv", "txt"], key=session.uploader_key("csv_file"), on_change=on_upload
    )
    up = sess.csv
    if up.error:
        still = f" Still offering **{up.name}**, the last file that could be read." if up.content else ""
        st.error(f"This file was not used: {up.error}.{still}")
    if up.content is None:
        st.info("Upload a CSV with a header row and at least one numeric column (a date column is optional).")
        return None
    columns = list(up.content.numeric_columns)
    st.caption(f"Parsed **{up.name}**: numeric columns {', '.join(map(str, columns))}")
    view = sess.view
    if view.csv_target not in columns:
        view.csv_target = columns[0]
    target = st.selectbox("Target column (predicted)", columns, **controls.view_kwargs("csv_target"))
    others = [c for c in columns if c != target]
    view.csv_inputs = tuple(c for c in view.csv_inputs if c in others)
    st.multiselect(
        "Extra input columns", others, help="The model always sees the target's own past; add columns "
        "that help predict it.", **session.bind("csv_inputs", to_widget=list, from_widget=tuple),
    )  # fmt: skip
    st.radio(
        "Missing values", MISSING, horizontal=True,
        help="interpolate: fill gaps linearly between neighbours; drop: remove rows with a gap.",
        **controls.view_kwargs("csv_missing"),
    )  # fmt: skip
    c1, c2 = st.columns(2)
    c1.slider("Validation share", 0.05, 0.5, step=0.05, help="Share of the windows before the test "
              "period that validate while training.", **controls.view_kwargs("csv_val"))  # fmt: skip
    c2.slider(
        "Test share", 0.0, 0.4, step=0.05,
        help="Rows held out at the end, untouched until you press Score on test on the Predict page "
        "(at least 12 rows; 0: none).", **controls.view_kwargs("csv_test"),
    )  # fmt: skip
    st.selectbox(
        "Target transform", TRANSFORMS, format_func=TRANSFORM_NAMES.get,
        help="What the model learns instead of the target, fitted on the training rows; every "
        "prediction, forecast and metric is mapped back to the original units. " + " ".join(
            f"{TRANSFORM_NAMES[t]}: {describe(t)}" for t in TRANSFORMS[1:]
        ),
        **controls.view_kwargs("csv_transform"),
    )  # fmt: skip
    view = sess.view
    return spec(
        up.content, up.name, up.digest, target=view.csv_target, inputs=view.csv_inputs,
        missing=view.csv_missing, val_fraction=view.csv_val, test_fraction=view.csv_test,
        transform=view.csv_transform,
    )  # fmt: skip


SOURCE = Source("csv", "CSV time series", "CSV", draw, build)
