"""Page sections that are more than a few lines: data previews, metric tables, upload callbacks.

Upload callbacks run once per new file (``on_change``), read it through the load boundary
(:func:`dashboard.datasource.guarded`) and keep the previous parse when the new file is bad.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import controls, datasource, figures, live, panels, state
from dashboard.datasource import DataSpec

SOURCE_LABELS = {"sine": "Sine wave", "csv": "CSV time series", "text": "Text"}


# ------------------------------------------------------------------------------ upload callbacks


def on_csv_upload() -> None:
    """Parse a newly uploaded CSV; a bad file leaves the previously parsed one in place."""
    ss = st.session_state
    f = ss.get("csv_upload")
    if f is None:
        return
    content = f.getvalue()
    table, err = datasource.guarded("read the CSV file", lambda: datasource.parse_csv(content, f.name))
    if err is not None:
        ss["csv_error"] = f"{f.name}: {err}"
        return
    ss["csv_error"] = None
    ss["csv"] = {"name": f.name, "id": datasource.digest(content), "table": table}


def on_text_upload() -> None:
    ss = st.session_state
    f = ss.get("text_file")
    if f is None:
        return
    # The bytes go to the engine's text reader as they are (it decodes and reports bad bytes);
    # the Data page shows its error, if any, and keeps the previous text.
    ss["text_upload"] = (f.name, f.getvalue())


def on_model_upload() -> None:
    f = st.session_state.get("model_file")
    if f is not None:
        state.request_model(f.name, f.getvalue())


def on_sine_preset() -> None:
    """Copy a sine preset into the generator widgets."""
    import rnn_core.data as data

    ss = st.session_state
    values = controls.sine_settings_from_preset(data.SINE_PRESETS.get(ss["data_sine_preset"], {}))
    for f in dataclasses.fields(values):
        ss[f"data_sine_{f.name}"] = getattr(values, f.name)


# ------------------------------------------------------------------------------------- data page


def candidate(spec: DataSpec, window: int):
    """The dataset ``spec`` builds for ``window``, or an error message (memoised per session)."""
    return state.memo(
        "candidate",
        (spec, int(window)),
        lambda: datasource.guarded("read the data", lambda: spec.build(window)),
    )


def _csv_report(report: dict) -> None:
    notes = list(report.get("notes") or [])
    facts = []
    for key, label in (
        ("rows", "rows"),
        ("missing_filled", "missing values filled"),
        ("missing_dropped", "rows dropped for missing values"),
        ("infinite", "infinite values"),
        ("encoding", "encoding"),
        ("delimiter", "delimiter"),
        ("date_column", "date column"),
    ):
        if report.get(key) not in (None, "", 0):
            facts.append(
                f"{label}: {report[key]!r}" if isinstance(report[key], str) else f"{label}: {report[key]:,}"
            )
    if report.get("unusable_columns"):
        facts.append("ignored (not numeric): " + ", ".join(map(str, report["unusable_columns"])))
    if facts:
        st.caption(" · ".join(facts))
    for note in notes:
        st.caption(f"ℹ️ {note}")


def baselines_table(ds) -> pd.DataFrame:
    b = ds.baselines or {}
    if ds.kind == "text":
        return pd.DataFrame(
            {"bits per character": [b.get("unigram_bpc"), b.get("bigram_bpc")]},
            index=["unigram (letter frequencies)", "bigram (previous letter)"],
        )
    rows = {
        "persistence (repeat last value)": ("persistence_rmse", "persistence_mae"),
        "mean of training targets": ("mean_rmse", "mean_mae"),
        "linear autoregression on the window": ("linear_rmse", "linear_mae"),
    }
    return pd.DataFrame(
        {"RMSE": [b.get(r) for r, _ in rows.values()], "MAE": [b.get(m) for _, m in rows.values()]},
        index=list(rows),
    )


def data_preview(ds) -> None:
    """Statistics, the series (split shaded) or character counts, and the baselines."""
    if ds.kind == "text":
        n_train, n_val = len(ds.train_ids), len(ds.val_ids)
        c = st.columns(4)
        c[0].metric("Characters", f"{n_train + n_val:,}")
        c[1].metric("Vocabulary", f"{ds.vocab_size}")
        c[2].metric("Training chars", f"{n_train:,}")
        c[3].metric("Validation chars", f"{n_val:,}")
        left, right = st.columns([3, 2])
        with left:
            st.plotly_chart(figures.char_counts_figure(ds.counts), config=panels.CHART_CONFIG)
        with right:
            st.markdown("**Baselines on the validation text**")
            st.dataframe(baselines_table(ds), width="stretch")
            st.markdown("**Beginning of the text**")
            st.code(ds.decode(ds.train_ids[:400]), language=None, wrap_lines=True)
        for note in ds.report.get("notes") or []:
            st.caption(f"ℹ️ {note}")
        return
    c = st.columns(5)
    c[0].metric("Rows", f"{ds.raw.shape[0]:,}")
    c[1].metric("Input columns", f"{ds.input_size}")
    c[2].metric("Window length", f"{ds.seq_len}")
    c[3].metric("Training windows", f"{ds.train_windows:,}")
    c[4].metric("Validation windows", f"{ds.val_windows:,}")
    x = np.asarray(ds.x_axis)
    tr_span, va_span = figures.split_spans(x, np.asarray(ds.train_idx), np.asarray(ds.val_idx))
    extras = {name: ds.raw[:, k] for k, name in enumerate(ds.columns) if k > 0}
    st.plotly_chart(
        figures.series_figure(
            x, ds.raw[:, 0], target_name=ds.columns[0], x_label=panels.x_label(ds), extras=extras,
            train_span=tr_span, val_span=va_span,
        ),
        config=panels.CHART_CONFIG,
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.markdown("**Statistics (original units)**")
        st.dataframe(pd.DataFrame(ds.raw, columns=ds.columns).describe().T, width="stretch")
    with right:
        st.markdown("**Baselines on the validation windows** — the model should beat these")
        st.dataframe(baselines_table(ds), width="stretch")
    _csv_report(ds.report)


# ---------------------------------------------------------------------------------- predict page


def regression_metrics(tr) -> pd.DataFrame:
    """Validation RMSE/MAE of the model next to the baselines, best first."""
    last = st.session_state.get("last_eval")
    fresh = last and last["step"] == tr.step_count and not last.get("val_estimate")
    ev = last if fresh else live.evaluate(tr, exact=True)
    b = tr.dataset.baselines or {}
    rows = {
        "RNN (one-step)": (ev.get("val_rmse"), ev.get("val_mae")),
        "persistence": (b.get("persistence_rmse"), b.get("persistence_mae")),
        "mean": (b.get("mean_rmse"), b.get("mean_mae")),
        "linear autoregression": (b.get("linear_rmse"), b.get("linear_mae")),
    }
    df = pd.DataFrame.from_dict(rows, orient="index", columns=["RMSE", "MAE"])
    ref = b.get("persistence_rmse")
    df["RMSE / persistence"] = df["RMSE"] / ref if ref else math.nan
    return df.sort_values("RMSE", na_position="last")


# ------------------------------------------------------------------------------------ model page


def config_json(tr) -> str:
    spec = state.data_spec()
    doc = {
        "format": "rnn-playground-config/1",
        "model": dataclasses.asdict(tr.config),
        "train": dataclasses.asdict(tr.train_config),
        "data": {
            "kind": spec.kind,
            "name": spec.name,
            "options": {k: v for k, v in spec.options},
            "seq_len": int(tr.dataset.seq_len),
        },
        "step_count": int(tr.step_count),
        "epoch": float(tr.epoch),
    }
    return json.dumps(doc, indent=2, default=str)


def file_stem(tr) -> str:
    cfg = tr.config
    return f"rnn-playground-{cfg.cell}{cfg.hidden_size}-step{tr.step_count}"


TORCH_SNIPPET = """\
import json

import numpy as np
import torch

z = np.load("{name}", allow_pickle=False)
cfg = json.loads(str(z["config_json"]))
Cell = {{"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}}[cfg["cell"]]
extra = {{"nonlinearity": cfg["nonlinearity"]}} if cfg["cell"] == "rnn" else {{}}  # tanh or relu
dtype = getattr(torch, cfg["dtype"])
rnn = Cell(cfg["input_size"], cfg["hidden_size"], cfg["num_layers"], dtype=dtype, **extra)
head = torch.nn.Linear(cfg["hidden_size"], cfg["output_size"], dtype=dtype)
rnn.load_state_dict({{k[4:]: torch.tensor(z[k]) for k in z.files if k.startswith("rnn.")}})
head.load_state_dict({{k[5:]: torch.tensor(z[k]) for k in z.files if k.startswith("head.")}})
# regression: x (T, B, C) normalised with cfg["input_shift"] / cfg["input_scale"];
# prediction = head(rnn(x)[0][-1]) * cfg["target_scale"] + cfg["target_shift"]
"""
"""How to rebuild a downloaded model in PyTorch (time-major input, as torch.nn.RNN's default)."""
