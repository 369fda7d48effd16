"""Widgets in, frozen dataclasses out.

Each ``*_controls()`` function draws its widgets and returns a dataclass of their values, and
does nothing else: no training, no data loading. Every widget has a key under a prefix listed in
:data:`PERSISTENT_PREFIXES`; :func:`dashboard.state.init` seeds the keys with defaults and keeps
them alive across page switches (Streamlit forgets the state of widgets that a run did not draw).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import streamlit as st

from rnn_core.config import (
    CELLS,
    DTYPES,
    INITS,
    MAX_BATCH,
    MAX_HIDDEN,
    MAX_LAYERS,
    NONLINEARITIES,
    OPTIMIZERS,
    TrainConfig,
)

PERSISTENT_PREFIXES = ("hp_", "data_", "live_", "pred_")
"""Widget keys under these prefixes survive page switches (see dashboard.state.keep_widgets)."""

LR_CHOICES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
CLIP_MODES = ("norm", "value", "both", "none")
CLIP_LABELS = {
    "norm": "global norm",
    "value": "per element (±value)",
    "both": "norm and value",
    "none": "off",
}
SPEED_CHOICES = ("1", "2", "5", "10", "20", "50", "100", "200", "500", "max")
"""Updates per refresh; "max" is as many as fit in the time budget of one refresh."""


# ------------------------------------------------------------------------------ hyperparameters


@dataclass(frozen=True)
class Hyperparams:
    """Everything the Train page lets a user set about the model and its optimisation.

    ``bptt = 0`` means full backpropagation through time. ``window`` is the sequence length
    of the dataset's windows.
    """

    cell: str = "rnn"
    nonlinearity: str = "tanh"
    hidden_size: int = 32
    num_layers: int = 1
    window: int = 50
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 0.003
    momentum: float = 0.9
    clip_mode: str = "norm"
    clip_norm: float = 1.0
    clip_value: float = 10.0
    bptt: int = 0
    init: str = "xavier"
    seed: int = 0
    dtype: str = "float64"
    text_mode: str = "stream"

    LIVE_FIELDS = ("lr", "clip_mode", "clip_norm", "clip_value")
    """Fields that keep every array's shape and so apply in the middle of training."""

    @property
    def clipping(self) -> tuple[float | None, float | None]:
        """``(clip_norm, clip_value)`` as the trainer takes them (``None`` = off)."""
        norm = self.clip_norm if self.clip_mode in ("norm", "both") else None
        value = self.clip_value if self.clip_mode in ("value", "both") else None
        return norm, value

    def train_config(self) -> TrainConfig:
        """The TrainConfig these settings describe (validated by TrainConfig itself)."""
        clip_norm, clip_value = self.clipping
        return TrainConfig(
            optimizer=self.optimizer,
            lr=float(self.lr),
            momentum=float(self.momentum),
            batch_size=int(self.batch_size),
            clip_norm=clip_norm,
            clip_value=clip_value,
            bptt=int(self.bptt) if self.bptt else None,
            seed=int(self.seed),
            text_mode=self.text_mode,
        )

    def model_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``Trainer.create`` describing the network."""
        return {
            "cell": self.cell,
            "hidden_size": int(self.hidden_size),
            "num_layers": int(self.num_layers),
            "nonlinearity": self.nonlinearity,
            "init": self.init,
            "dtype": self.dtype,
        }

    def changes_needing_reset(self, built: Hyperparams) -> list[str]:
        """Human-readable ``"name: old → new"`` for changed fields that only apply on Reset."""
        out = []
        for f in fields(self):
            if f.name in self.LIVE_FIELDS:
                continue
            old, new = getattr(built, f.name), getattr(self, f.name)
            if old != new:
                out.append(f"{LABELS.get(f.name, f.name)}: {old} → {new}")
        return out

    def live_changes(self, built: Hyperparams) -> bool:
        """Whether any live field (learning rate, clipping) differs from ``built``."""
        return any(getattr(self, n) != getattr(built, n) for n in self.LIVE_FIELDS)


LABELS = {
    "cell": "cell",
    "nonlinearity": "activation",
    "hidden_size": "hidden size",
    "num_layers": "layers",
    "window": "window length",
    "batch_size": "batch size",
    "optimizer": "optimizer",
    "momentum": "momentum",
    "bptt": "BPTT truncation",
    "init": "initialisation",
    "seed": "seed",
    "dtype": "precision",
    "text_mode": "text batches",
}

DEFAULTS = Hyperparams()

PRESETS: dict[str, dict[str, Any]] = {
    "Playground default (tanh RNN, Adam)": {},
    "Tutorials' settings (sigmoid, 100 units, SGD 1e-4)": {
        # The settings of the popular from-scratch RNN tutorials this app was built against:
        # sigmoid units saturate and SGD at 1e-4 crawls, which is the point of trying them.
        "cell": "rnn",
        "nonlinearity": "sigmoid",
        "hidden_size": 100,
        "lr": 1e-4,
        "optimizer": "sgd",
        "bptt": 5,
        "clip_mode": "value",
        "clip_value": 10.0,
        "init": "uniform",
        "seed": 12161,
        "batch_size": 1,
        "window": 50,
    },
    "LSTM, 64 units": {"cell": "lstm", "hidden_size": 64, "lr": 3e-3},
    "GRU, 64 units": {"cell": "gru", "hidden_size": 64, "lr": 3e-3},
    "Two-layer LSTM": {"cell": "lstm", "hidden_size": 48, "num_layers": 2, "lr": 3e-3},
    "Char-RNN for text (LSTM 128)": {
        "cell": "lstm",
        "hidden_size": 128,
        "lr": 3e-3,
        "window": 64,
        "batch_size": 32,
        "clip_mode": "norm",
        "clip_norm": 5.0,
    },
    "Blow up on purpose (SGD lr 3, no clipping)": {
        "optimizer": "sgd",
        "lr": 3.0,
        "clip_mode": "none",
        "nonlinearity": "relu",
    },
}


def hp_key(name: str) -> str:
    return f"hp_{name}"


def hyperparams_from_state(state: Mapping[str, Any]) -> Hyperparams:
    """The settings currently held in the widget keys (usable on pages that do not draw them)."""
    values = {}
    for f in fields(Hyperparams):
        key = hp_key(f.name)
        if key in state:
            values[f.name] = state[key]
    return dataclasses.replace(DEFAULTS, **values)


def preset_values(name: str) -> dict[str, Any]:
    """Widget values of a preset: the defaults overridden by the preset's settings."""
    return dataclasses.asdict(dataclasses.replace(DEFAULTS, **PRESETS[name]))


def hyperparams_from_configs(model, train, window: int) -> Hyperparams:
    """Settings matching a trainer's ModelConfig and TrainConfig (used after loading a model)."""
    if train.clip_norm is not None and train.clip_value is not None:
        mode = "both"
    elif train.clip_norm is not None:
        mode = "norm"
    elif train.clip_value is not None:
        mode = "value"
    else:
        mode = "none"
    lr = min(LR_CHOICES, key=lambda c: abs(c - train.lr) / c)
    return Hyperparams(
        cell=model.cell,
        nonlinearity=model.nonlinearity,
        hidden_size=model.hidden_size,
        num_layers=model.num_layers,
        window=int(window),
        batch_size=train.batch_size,
        optimizer=train.optimizer,
        lr=lr,
        momentum=train.momentum,
        clip_mode=mode,
        clip_norm=train.clip_norm if train.clip_norm is not None else DEFAULTS.clip_norm,
        clip_value=train.clip_value if train.clip_value is not None else DEFAULTS.clip_value,
        bptt=train.bptt or 0,
        init=model.init,
        seed=train.seed,
        dtype=model.dtype,
        text_mode=train.text_mode,
    )


def _fmt_lr(v: float) -> str:
    return f"{v:g}"


def hyperparam_controls(*, text: bool) -> Hyperparams:
    """Draw the model and optimisation widgets; return their values.

    ``text`` shows the text-only setting (how batches are cut from the text).
    """
    st.markdown("**Model** — changes apply on **Reset**")
    c1, c2 = st.columns(2)
    c1.selectbox("Cell", CELLS, key=hp_key("cell"), format_func=str.upper)
    c2.selectbox(
        "Activation",
        NONLINEARITIES,
        key=hp_key("nonlinearity"),
        help="Used by the vanilla RNN cell; LSTM and GRU have fixed sigmoid/tanh gates.",
    )
    c1.number_input("Hidden size", 1, MAX_HIDDEN, step=1, key=hp_key("hidden_size"))
    c2.number_input("Layers", 1, MAX_LAYERS, step=1, key=hp_key("num_layers"))
    c1.number_input(
        "Window length", 2, 2000, step=1, key=hp_key("window"), help="Time steps per input sequence."
    )
    c2.number_input("Batch size", 1, MAX_BATCH, step=1, key=hp_key("batch_size"))
    c1.selectbox("Initialisation", INITS, key=hp_key("init"), help="uniform = U(0, 1), as in the tutorials.")
    c2.number_input("Seed", 0, 2**32 - 1, step=1, key=hp_key("seed"))
    c1.radio("Precision", DTYPES, key=hp_key("dtype"), horizontal=True)
    c2.number_input(
        "BPTT truncation",
        0,
        2000,
        step=1,
        key=hp_key("bptt"),
        help="Backpropagate at most this many steps; 0 = through the whole window.",
    )
    c1.selectbox("Optimizer", OPTIMIZERS, key=hp_key("optimizer"))
    c2.number_input("Momentum", 0.0, 0.99, step=0.05, key=hp_key("momentum"), help="Used by 'momentum' only.")
    if text:
        st.radio(
            "Text batches",
            ("stream", "random"),
            key=hp_key("text_mode"),
            horizontal=True,
            help="stream: contiguous chunks with the hidden state carried over; random: independent windows.",
        )
    st.markdown("**Live** — apply while training runs")
    st.select_slider("Learning rate", LR_CHOICES, key=hp_key("lr"), format_func=_fmt_lr)
    mode = st.radio(
        "Gradient clipping", CLIP_MODES, key=hp_key("clip_mode"), format_func=CLIP_LABELS.get, horizontal=True
    )
    c1, c2 = st.columns(2)
    c1.number_input(
        "Clip norm",
        1e-3,
        1e6,
        step=0.5,
        key=hp_key("clip_norm"),
        disabled=mode not in ("norm", "both"),
        help="Rescale all gradients together when their global L2 norm is above this.",
    )
    c2.number_input(
        "Clip value (±)",
        1e-3,
        1e6,
        step=1.0,
        key=hp_key("clip_value"),
        disabled=mode not in ("value", "both"),
        help="Clamp every gradient element to [-value, value].",
    )
    return hyperparams_from_state(st.session_state)


# -------------------------------------------------------------------------------- live controls


@dataclass(frozen=True)
class RunSettings:
    """How fast to train: steps per refresh (None = as many as fit) and the N of Step ×N."""

    steps_per_refresh: int | None
    step_n: int


def speed_value(label: str) -> int | None:
    return None if label == "max" else int(label)


def run_controls_values(state: Mapping[str, Any]) -> RunSettings:
    return RunSettings(
        steps_per_refresh=speed_value(str(state.get("live_speed", "max"))),
        step_n=int(state.get("live_step_n", 100)),
    )


# ------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SineSettings:
    """Generator settings of the sine source (see ``rnn_core.data.sine_dataset``)."""

    length: int = 200
    amplitude: float = 1.0
    frequency: float = 1.0
    phase: float = 0.0
    amplitude2: float = 0.0
    frequency2: float = 1.1
    noise: float = 0.0
    trend: float = 0.0
    damping: float = 0.0
    seed: int = 0

    def kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "length": int(self.length),
            "amplitude": float(self.amplitude),
            "frequency": float(self.frequency),
            "phase": float(self.phase),
            "noise": float(self.noise),
            "trend": float(self.trend),
            "damping": float(self.damping),
            "seed": int(self.seed),
        }
        if self.amplitude2:
            kw["extra_sines"] = [{"amplitude": float(self.amplitude2), "frequency": float(self.frequency2)}]
        return kw


def sine_settings_from_preset(preset: Mapping[str, Any]) -> SineSettings:
    """Widget values for one of ``SINE_PRESETS`` (its kwargs mapped onto our fields)."""
    values: dict[str, Any] = {}
    for name in ("length", "amplitude", "frequency", "phase", "noise", "trend", "damping", "seed"):
        if preset.get(name) is not None:
            values[name] = preset[name]
    if preset.get("period"):
        values["frequency"] = 2 * 3.141592653589793 / float(preset["period"])
    extras = preset.get("extra_sines") or []
    if isinstance(extras, Mapping):
        extras = [extras]
    if extras:
        values["amplitude2"] = extras[0].get("amplitude", 1.0)
        if extras[0].get("period"):
            values["frequency2"] = 2 * 3.141592653589793 / float(extras[0]["period"])
        else:
            values["frequency2"] = extras[0].get("frequency", 1.0)
    return dataclasses.replace(SineSettings(), **values)


def sine_controls() -> SineSettings:
    """Generator widgets for the sine source."""
    c1, c2, c3 = st.columns(3)
    c1.number_input("Length (points)", 10, 1_000_000, step=50, key="data_sine_length")
    c2.number_input("Amplitude", -100.0, 100.0, step=0.1, key="data_sine_amplitude")
    c3.number_input("Frequency (rad/step)", 0.001, 3.2, step=0.05, key="data_sine_frequency", format="%.3f")
    c1.number_input("Phase (rad)", -10.0, 10.0, step=0.1, key="data_sine_phase")
    c2.number_input(
        "Second sine amplitude", -100.0, 100.0, step=0.1, key="data_sine_amplitude2", help="0 = off"
    )
    c3.number_input("Second sine frequency", 0.001, 3.2, step=0.05, key="data_sine_frequency2", format="%.3f")
    c1.number_input("Noise (std)", 0.0, 100.0, step=0.05, key="data_sine_noise")
    c2.number_input("Trend (per step)", -10.0, 10.0, step=0.001, key="data_sine_trend", format="%.4f")
    c3.number_input("Damping (per step)", 0.0, 1.0, step=0.001, key="data_sine_damping", format="%.4f")
    c1.number_input("Noise seed", 0, 2**32 - 1, step=1, key="data_sine_seed")
    return sine_values(st.session_state)


def sine_values(state: Mapping[str, Any]) -> SineSettings:
    values = {
        f.name: state[f"data_sine_{f.name}"] for f in fields(SineSettings) if f"data_sine_{f.name}" in state
    }
    return dataclasses.replace(SineSettings(), **values)


@dataclass(frozen=True)
class CsvSettings:
    """Column choices for an uploaded CSV."""

    target: str
    inputs: tuple[str, ...]
    missing: str
    val_fraction: float


def csv_controls(numeric_columns: list[str]) -> CsvSettings:
    """Target, extra inputs, missing-value handling and validation share for a parsed CSV."""
    if st.session_state.get("data_csv_target") not in numeric_columns:
        st.session_state["data_csv_target"] = numeric_columns[0]
    target = st.selectbox("Target column (predicted)", numeric_columns, key="data_csv_target")
    others = [c for c in numeric_columns if c != target]
    chosen = [c for c in st.session_state.get("data_csv_inputs", []) if c in others]
    st.session_state["data_csv_inputs"] = chosen
    inputs = st.multiselect(
        "Extra input columns",
        others,
        key="data_csv_inputs",
        help="The model always sees the target's own past; add columns that help predict it.",
    )
    c1, c2 = st.columns(2)
    missing = c1.radio(
        "Missing values",
        ("interpolate", "drop"),
        key="data_csv_missing",
        horizontal=True,
        help="interpolate: fill gaps linearly between neighbours; drop: remove rows with a gap.",
    )
    val = c2.slider("Validation share", 0.05, 0.5, step=0.05, key="data_csv_val")
    return CsvSettings(target=target, inputs=tuple(inputs), missing=missing, val_fraction=float(val))


@dataclass(frozen=True)
class TextSettings:
    """Where the text comes from and how it is cut into characters."""

    source: str  # "sample" | "paste" | "upload"
    sample: str
    pasted: str
    lowercase: bool
    val_fraction: float
    max_vocab: int  # 0 = no cap


def text_controls(sample_names: list[str]) -> TextSettings:
    """Source choice (built-in sample, pasted text, uploaded file) and text options."""
    source = st.radio(
        "Text source",
        ("sample", "paste", "upload"),
        key="data_text_source",
        horizontal=True,
        format_func={"sample": "built-in sample", "paste": "paste", "upload": "upload a .txt"}.get,
    )
    if source == "sample":
        if st.session_state.get("data_text_sample") not in sample_names:
            # The generated sentences are long enough to learn from and short enough to be quick.
            preferred = [n for n in sample_names if "sentences" in n.lower()]
            st.session_state["data_text_sample"] = (preferred or sample_names)[0]
        st.selectbox("Sample", sample_names, key="data_text_sample")
    elif source == "paste":
        st.text_area(
            "Text", key="data_text_pasted", height=160, placeholder="Paste at least a few hundred characters"
        )
    c1, c2, c3 = st.columns(3)
    c1.checkbox("Lowercase", key="data_text_lower")
    c2.slider("Validation share", 0.05, 0.5, step=0.05, key="data_text_val")
    c3.number_input("Vocabulary cap (0 = none)", 0, 5000, step=10, key="data_text_vocab")
    ss = st.session_state
    return TextSettings(
        source=source,
        sample=str(ss.get("data_text_sample", sample_names[0] if sample_names else "")),
        pasted=str(ss.get("data_text_pasted", "")),
        lowercase=bool(ss.get("data_text_lower", False)),
        val_fraction=float(ss.get("data_text_val", 0.1)),
        max_vocab=int(ss.get("data_text_vocab", 0)),
    )


WIDGET_DEFAULTS: dict[str, Any] = {
    **{hp_key(f.name): getattr(DEFAULTS, f.name) for f in fields(Hyperparams)},
    **{f"data_sine_{f.name}": getattr(SineSettings(), f.name) for f in fields(SineSettings)},
    "data_kind": "sine",
    "data_sine_preset": "clean sine",
    "data_csv_missing": "interpolate",
    "data_csv_val": 0.2,
    "data_csv_inputs": [],
    "data_text_source": "sample",
    "data_text_pasted": "",
    "data_text_lower": False,
    "data_text_val": 0.1,
    "data_text_vocab": 0,
    "hp_preset": next(iter(PRESETS)),
    "live_speed": "max",
    "live_step_n": 100,
    "live_split": "val",
    "live_window": 0,
    "live_layer": 0,
    "live_view": "hidden state",
    "pred_horizon": 50,
    "pred_temperature": 0.8,
    "pred_length": 300,
    "pred_prime": "",
    "pred_prefix": "",
    "pred_k": 10,
}
"""Initial value of every persistent widget key."""
