"""The sine generator: the tutorials' task and variations (noise, a second tone, trend, damping)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import streamlit as st

import rnn_core.data as data
from dashboard import controls, session
from dashboard.sources import DataSpec, Source
from rnn_core.config import SineSettings
from rnn_core.settings import group


def settings_from_preset(preset: Mapping[str, Any]) -> SineSettings:
    """The generator settings of one of ``rnn_core.data.SINE_PRESETS`` (its kwargs on our fields)."""
    values: dict[str, Any] = {}
    for name in ("length", "amplitude", "frequency", "phase", "noise", "trend", "damping", "seed"):
        if preset.get(name) is not None:
            values[f"sine_{name}"] = preset[name]
    if preset.get("period"):
        values["sine_frequency"] = 2 * math.pi / float(preset["period"])
    extras = preset.get("extra_sines") or []
    if isinstance(extras, Mapping):
        extras = [extras]
    if extras:
        values["sine_amplitude2"] = extras[0].get("amplitude", 1.0)
        period = extras[0].get("period")
        values["sine_frequency2"] = 2 * math.pi / float(period) if period else extras[0].get("frequency", 1.0)
    return SineSettings(**values)


def spec(settings: SineSettings, name: str = "sine") -> DataSpec:
    """Spec of a generated sine."""
    opts = settings.kwargs()
    if "extra_sines" in opts:
        # Kept as tuples of (key, value) pairs so the spec stays hashable; rebuilt in build().
        opts["extra_sines"] = tuple(tuple(sorted(s.items())) for s in opts["extra_sines"])
    return DataSpec("sine", name, tuple(sorted(opts.items())))


def build(s: DataSpec, seq_len: int):
    kw = dict(s.options)
    if "extra_sines" in kw:
        kw["extra_sines"] = [dict(pairs) for pairs in kw["extra_sines"]]
    return data.sine_dataset(seq_len=seq_len, **kw)


def _apply_preset() -> None:
    sess = session.get()
    sess.sine = settings_from_preset(data.SINE_PRESETS.get(session.widget_value("sine_preset"), {}))


def draw() -> DataSpec:
    st.selectbox(
        "Preset", list(data.SINE_PRESETS), **controls.view_kwargs("sine_preset", after=_apply_preset)
    )
    controls.settings_grid([s.name for s in group("sine")], name="sine")
    return spec(session.get().sine)


SOURCE = Source("sine", "Sine wave", "Sine", draw, build)
