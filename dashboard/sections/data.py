"""The Data page's sections: the source picker, the candidate's preview, statistics and baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import actions, callbacks, controls, figures, plot, session
from dashboard.format import data_summary, x_label
from dashboard.sources import SOURCES
from dashboard.sources.memory import windows_figure
from rnn_core.data import MemoryDataset
from rnn_core.forecasting import report, transforms

BASELINE_LABELS = {
    "persistence": "persistence (repeat last value)",
    "mean": "mean of training targets",
    "linear": "linear autoregression on the window",
    "constant": "constant 1 (the expected sum)",  # only the adding problem has a constant baseline
}
"""How the baselines a regression dataset scores are named in tables, by their key's stem."""


def header() -> None:
    sess = session.get()
    st.caption(f"In use: **{sess.data_spec.label}** · {data_summary(sess.dataset)}")


def source_picker():
    """The source radio and that source's controls; the spec they describe (or None)."""
    kind = st.radio("Source", list(SOURCES), format_func=lambda k: SOURCES[k].label, horizontal=True,
                    **controls.view_kwargs("data_kind"))  # fmt: skip
    return SOURCES[kind].controls()


def candidate_section(spec) -> None:
    """Whether ``spec`` can be used with the current sequence length, a button to use it, its preview."""
    sess = session.get()
    seq_len = sess.settings.seq_len
    ds, err = actions.candidate(sess, spec, seq_len)
    if err is not None:
        st.error(f"This data cannot be used as set: {err}")
        if "sequence length" in err or "seq_len" in err:
            st.caption(f"The sequence length is set on the Train page (now {seq_len}).")
        return
    if spec == sess.data_spec:
        st.success("This is the data the model trains on.")
    else:
        tr = sess.trainer
        if tr is not None and tr.step_count > 0:
            st.warning(f"Using this data resets the current model (trained for {tr.step_count:,} steps).")
        else:
            st.info("Using this data builds a new model for it with the current settings.")
        st.button("Use this data", type="primary", on_click=callbacks.request_data, args=(spec,),
                  key=session.button_key("use_data"))  # fmt: skip
    data_preview(ds)


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
    # A series scores persistence, mean and linear; a memory task only what applies to it.
    stems = [stem for stem in BASELINE_LABELS if f"{stem}_rmse" in b]
    return pd.DataFrame(
        {"RMSE": [b[f"{s}_rmse"] for s in stems], "MAE": [b.get(f"{s}_mae") for s in stems]},
        index=[BASELINE_LABELS[s] for s in stems],
    )


def _window_tiles(ds, what: str, count: int) -> None:
    """The sizes of regression data: rows (or windows), columns, window length and the split."""
    c = st.columns(5)
    c[0].metric(what, f"{count:,}")
    c[1].metric("Input columns", f"{ds.input_size}")
    c[2].metric("Sequence length", f"{ds.seq_len}")
    c[3].metric("Training windows", f"{ds.train_windows:,}")
    c[4].metric("Validation windows", f"{ds.val_windows:,}")


def memory_preview(ds: MemoryDataset) -> None:
    """Sizes, a few windows with their targets, statistics and the baselines of a memory task."""
    _window_tiles(ds, "Windows", ds.train_windows + ds.val_windows)
    plot.chart(windows_figure(ds), key="fig_memory_windows")
    left, right = st.columns(2)
    with left:
        st.markdown("**Statistics (original units)**")
        values = {name: ds.inputs[:, :, k].ravel() for k, name in enumerate(ds.columns)}
        values["target"] = ds.targets
        stats = pd.concat({n: pd.Series(v).describe() for n, v in values.items()}, axis=1)
        st.dataframe(stats.rename(index={"count": "values"}), width="stretch")
    with right:
        st.markdown("**Baselines on the validation windows** — the model should beat these")
        st.dataframe(baselines_table(ds), width="stretch")
    st.caption(
        f"ℹ️ {ds.report['split']}. Each window is generated on its own with its own target, so "
        "the Predict page shows a prediction per window; a forecast beyond the data does not apply."
    )
    for note in ds.report.get("notes") or []:
        st.caption(f"ℹ️ {note}")


def data_preview(ds) -> None:
    """Statistics, the series (split shaded), character counts or a memory task's windows, and
    the baselines."""
    if ds.kind == "text":
        n_train, n_val = len(ds.train_ids), len(ds.val_ids)
        c = st.columns(4)
        c[0].metric("Characters", f"{n_train + n_val:,}")
        c[1].metric("Vocabulary", f"{ds.vocab_size}")
        c[2].metric("Training chars", f"{n_train:,}")
        c[3].metric("Validation chars", f"{n_val:,}")
        left, right = st.columns([3, 2])
        with left:
            plot.chart(figures.char_counts_figure(ds.counts), key="fig_char_counts")
        with right:
            st.markdown("**Baselines on the validation text**")
            st.dataframe(baselines_table(ds), width="stretch")
            st.markdown("**Beginning of the text**")
            st.code(ds.decode(ds.train_ids[:400]), language=None, wrap_lines=True)
        for note in ds.report.get("notes") or []:
            st.caption(f"ℹ️ {note}")
        return
    if isinstance(ds, MemoryDataset):
        memory_preview(ds)
        return
    _window_tiles(ds, "Rows", ds.raw.shape[0])
    x = np.asarray(ds.x_axis)
    tr_span, va_span = figures.split_spans(x, np.asarray(ds.train_idx), np.asarray(ds.val_idx))
    extras = {name: ds.raw[:, k] for k, name in enumerate(ds.columns) if k > 0}
    plot.chart(
        figures.series_figure(
            x, ds.raw[:, 0], target_name=ds.columns[0], x_label=x_label(ds), extras=extras,
            train_span=tr_span, val_span=va_span,
        ),
        key="fig_series",
    )  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.markdown("**Statistics (original units)**")
        # One row per statistic and a column per series: eight rows fit a half-width column,
        # where eight columns of a row per series were cut off even at 1440 px.
        stats = pd.DataFrame(ds.raw, columns=ds.columns).describe().rename(index={"count": "values"})
        st.dataframe(stats, width="stretch")
    with right:
        st.markdown("**Baselines on the validation windows** — the model should beat these")
        st.dataframe(baselines_table(ds), width="stretch")
    st.caption(f"ℹ️ {ds.report['split']}.")
    advice = transform_advice(ds)
    if advice:
        st.info(advice, icon=":material/trending_up:")
    _csv_report(ds.report)


def transform_advice(ds) -> str | None:
    """A sentence suggesting a target transform when the training rows call for one the
    dataset does not use yet (None otherwise)."""
    end = int(ds.train_idx[-1]) + 1
    season = report.season_of(ds).length
    name, why = transforms.suggest(np.asarray(ds.raw, dtype=np.float64)[:end, 0], season=season)
    used = ds.transform.name if ds.transform is not None else "none"
    if name is None or name == used:
        return None
    where = (
        "Target transform, above" if "delimiter" in ds.report else f"--transform {name} on the command line"
    )
    return f"{why[0].upper()}{why[1:]}. Try the target transform **{name}** ({where})."
