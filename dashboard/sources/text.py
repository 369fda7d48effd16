"""A text to model character by character: a built-in sample, pasted text or an uploaded file."""

from __future__ import annotations

import streamlit as st

import rnn_core.data as data
from dashboard import controls, session
from dashboard.session import Upload
from dashboard.sources import DataSpec, Source, digest

ORIGINS = {"sample": "built-in sample", "paste": "paste", "upload": "upload a .txt"}


def on_upload() -> None:
    f = session.uploaded("text_file")
    if f is None:
        return
    # The bytes go to the engine's text reader as they are (it decodes and reports bad bytes);
    # the Data page shows its error, if any, and the data in use stays.
    content = f.getvalue()
    session.get().text = Upload(name=f.name, digest=digest(content), content=content)


def spec(text: str | bytes, name: str, *, lowercase: bool, val_fraction: float, max_vocab: int) -> DataSpec:
    """Spec of a text (a str, or uploaded bytes the engine decodes); ``max_vocab = 0``: no cap."""
    opts: dict = {"lowercase": bool(lowercase), "val_fraction": float(val_fraction)}
    if max_vocab:
        opts["max_vocab"] = int(max_vocab)
    return DataSpec("text", name, tuple(sorted(opts.items())), digest(text), text)


def build(s: DataSpec, seq_len: int):
    return data.text_dataset(s.payload, seq_len=seq_len, name=s.name, **dict(s.options))


def default_sample(names: list[str]) -> str:
    # The generated sentences are long enough to learn from and short enough to be quick.
    preferred = [n for n in names if "sentences" in n.lower()]
    return (preferred or names)[0]


def draw() -> DataSpec | None:
    sess = session.get()
    samples = dict(data.TEXT_SAMPLES)
    origin = st.radio(
        "Text source", list(ORIGINS), horizontal=True, format_func=ORIGINS.get,
        **controls.view_kwargs("text_source"),
    )  # fmt: skip
    text, name = None, "text"
    if origin == "sample":
        if sess.view.text_sample not in samples:
            sess.view.text_sample = default_sample(list(samples))
        choice = st.selectbox("Sample", list(samples), **controls.view_kwargs("text_sample"))
        text, name = samples[choice](), choice
    elif origin == "paste":
        pasted = st.text_area(
            "Text", height=160, placeholder="Paste at least a few hundred characters",
            **controls.view_kwargs("text_pasted"),
        )  # fmt: skip
        if pasted.strip():
            text, name = pasted, "pasted text"
    else:
        st.file_uploader(
            "Text file", type=["txt", "md", "py", "csv"], key=session.uploader_key("text_file"),
            on_change=on_upload,
        )  # fmt: skip
        if sess.text.content is not None:
            text, name = sess.text.content, sess.text.name
    c1, c2, c3 = st.columns(3)
    c1.checkbox("Lowercase", **controls.view_kwargs("text_lower"))
    c2.slider("Validation share", 0.05, 0.5, step=0.05, **controls.view_kwargs("text_val"))
    c3.number_input("Vocabulary cap (0 = none)", 0, 5000, step=10, **controls.view_kwargs("text_vocab"))
    if text is None:
        return None
    v = sess.view
    return spec(text, name, lowercase=v.text_lower, val_fraction=v.text_val, max_vocab=v.text_vocab)


SOURCE = Source("text", "Text", "Text", draw, build)
