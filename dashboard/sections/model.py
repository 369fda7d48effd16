"""The Model page's sections: the files a run downloads as, and rebuilding it in PyTorch."""

from __future__ import annotations

import dataclasses
import json

import streamlit as st

from dashboard import callbacks, session
from dashboard.session import Run


def downloads(run: Run, spec) -> None:
    """Weights, configuration and history; each file is built when its button is clicked."""
    tr = run.trainer
    stem = file_stem(tr)
    files = (
        ("Weights (.npz)", tr.save, f"{stem}.npz", "application/octet-stream"),
        ("Configuration (JSON)", lambda: config_json(tr, spec), f"{stem}.json", "application/json"),
        ("Training history (CSV)", tr.history.to_csv, f"{stem}-history.csv", "text/csv"),
    )
    for col, (label, make, name, mime) in zip(st.columns(3), files, strict=True):
        # A callable runs only when its button is clicked, so no file is built on every rerun. It
        # closes over this run's trainer and spec, never over the session, which a deferred
        # callable cannot rely on.
        col.download_button(label, data=make, file_name=name, mime=mime, on_click="ignore",
                            icon=":material/download:", width="stretch")  # fmt: skip


def uploader() -> None:
    st.file_uploader(
        "Saved model (.npz)",
        type=["npz"],
        key=session.uploader_key("model_file"),
        on_change=callbacks.on_model_upload,
        help="It must have been trained on the data now in use "
        "(same columns or vocabulary and normalisation).",
    )


def config_json(tr, spec) -> str:
    """The run's settings as JSON: model, training, data source, step."""
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
