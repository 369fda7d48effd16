"""Shareable links: every setting and every data source that can travel goes through the URL and
back unchanged, a bad link is reported in one notice with the rest applied, and a session opened
from a link trains the same steps with the same numbers (pure mapping and the real app, AppTest)."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest
from app_helpers import APP, go, open_app, press, session, upload
from hypothesis import given, settings
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from dashboard import links
from dashboard.sections import share
from dashboard.session import key
from dashboard.sources import memory, sine
from dashboard.sources import text as text_source
from rnn_core.config import RunSettings, SineSettings
from rnn_core.data import TEXT_SAMPLES
from rnn_core.settings import SCHEMA

PAGES = ("", "dataset", "predictions", "model-files", "side-by-side")

CHANGED = {
    "cell": "lstm",
    "nonlinearity": "relu",
    "hidden_size": 12,
    "num_layers": 2,
    "init": "orthogonal",
    "forget_bias": 0.5,
    "dtype": "float32",
    "seq_len": 24,
    "optimizer": "momentum",
    "lr": 0.0123456789,  # more digits than the schema's short format keeps
    "lr_schedule": "constant",
    "steps": 777,
    "momentum": 0.8,
    "weight_decay": 1e-5,
    "batch_size": 7,
    "clip_norm": None,  # off, where the default is on
    "clip_value": 2.5,  # on, where the default is off
    "bptt": 9,
    "patience": 300,
    "seed": 4242,
    "text_mode": "random",
    "sine_length": 321,
    "sine_amplitude": 1.5,
    "sine_frequency": 2 * math.pi / 37,
    "sine_phase": -0.25,
    "sine_amplitude2": 0.4,
    "sine_frequency2": 0.7,
    "sine_noise": 0.05,
    "sine_trend": 0.002,
    "sine_damping": 0.001,
    "sine_seed": 9,
}
"""A value other than the default for every setting of the schema, all at once (a model builds)."""


def changed_settings() -> tuple[RunSettings, SineSettings]:
    run = {k: v for k, v in CHANGED.items() if SCHEMA[k].group != "sine"}
    return RunSettings(**run), SineSettings(**{k: v for k, v in CHANGED.items() if SCHEMA[k].group == "sine"})


def round_trip(settings: RunSettings, spec, hint=None, page: str = "") -> links.Link:
    params, why = links.encode(settings, spec, sine_hint=hint, page=page)
    assert why == ""
    return links.decode(params, PAGES)


# ---------------------------------------------------------------------------------- pure mapping


def test_the_changed_values_cover_every_setting_and_differ_from_its_default():
    assert set(CHANGED) == set(SCHEMA)
    assert [n for n, v in CHANGED.items() if v == SCHEMA[n].default] == []


def test_a_default_experiment_is_an_empty_link_and_an_empty_link_the_defaults():
    params, why = links.encode(RunSettings(), sine.spec(SineSettings()))
    assert params == {} and why == ""
    link = links.decode({}, PAGES)
    assert (link.settings, link.sine, link.spec, link.problems, link.given) == (
        RunSettings(), SineSettings(), sine.spec(SineSettings()), [], False
    )  # fmt: skip


def test_one_changed_setting_is_one_parameter_in_its_own_name_and_text():
    params, _ = links.encode(RunSettings(hidden_size=64), sine.spec(SineSettings()))
    assert params == {"hidden_size": "64"}
    params, _ = links.encode(RunSettings(clip_norm=None, bptt=20), sine.spec(SineSettings()))
    assert params == {"clip_norm": "off", "bptt": "20"}


@pytest.mark.parametrize("name", list(SCHEMA))
def test_every_setting_round_trips_alone(name):
    if SCHEMA[name].group == "sine":
        hint = SineSettings(**{name: CHANGED[name]})
        link = round_trip(RunSettings(), sine.spec(hint), hint)
        assert link.sine == hint and link.spec == sine.spec(hint)
    else:
        settings_ = RunSettings(**{name: CHANGED[name]})
        link = round_trip(settings_, sine.spec(SineSettings()))
        assert getattr(link.settings, name) == CHANGED[name] and link.settings == settings_
    assert link.problems == []


def test_every_setting_round_trips_together_with_the_page():
    run, sine_settings = changed_settings()
    link = round_trip(run, sine.spec(sine_settings), sine_settings, page="predictions")
    assert (link.settings, link.sine, link.page, link.problems) == (run, sine_settings, "predictions", [])


def _value(s):
    if s.choices:
        return hs.sampled_from(s.choices)
    lo, hi = float(s.lo), float(s.hi)
    if s.integer:
        lo = int(lo) + (1 if s.lo_open else 0)
        values = hs.integers(lo, min(int(hi), 2**32 - 1))
    else:
        values = hs.floats(lo, hi, exclude_min=s.lo_open, exclude_max=s.hi_open, allow_nan=False)
    return hs.one_of(hs.none(), values) if s.off else values


@settings(max_examples=60, deadline=None)
@given(hs.fixed_dictionaries({n: _value(s) for n, s in SCHEMA.items() if s.group != "sine"}))
def test_any_run_settings_round_trip_exactly(values):
    settings_ = RunSettings(**values)
    link = round_trip(settings_, sine.spec(SineSettings()))
    assert link.settings == settings_ and link.problems == []


@settings(max_examples=60, deadline=None)
@given(hs.fixed_dictionaries({n: _value(s) for n, s in SCHEMA.items() if s.group == "sine"}))
def test_any_sine_generator_round_trips_exactly(values):
    sine_settings = SineSettings(**values)
    spec = sine.spec(sine_settings)
    link = round_trip(RunSettings(), spec, sine_settings)
    assert link.spec == spec and link.sine == sine_settings and link.problems == []
    # Without the session's settings, from the spec alone: the same data.
    assert round_trip(RunSettings(), spec).spec == spec


MEMORY_SPECS = [
    memory.spec("echo"),
    memory.spec("echo", k=7, windows=600, seed=3),
    memory.spec("adding"),
    memory.spec("adding", windows=900, seed=11),
]


@pytest.mark.parametrize("spec", MEMORY_SPECS, ids=lambda s: s.name + str(dict(s.options)))
def test_memory_tasks_round_trip(spec):
    link = round_trip(RunSettings(), spec)
    assert link.spec == spec and link.view["data_kind"] == "memory" and link.problems == []


@pytest.mark.parametrize("label", list(TEXT_SAMPLES))
def test_every_built_in_text_sample_round_trips_with_its_options(label):
    for options in ({"lowercase": False, "val_fraction": 0.1, "max_vocab": 0},
                    {"lowercase": True, "val_fraction": 0.25, "max_vocab": 40}):  # fmt: skip
        spec = text_source.spec(TEXT_SAMPLES[label](), label, **options)
        params, _ = links.encode(RunSettings(), spec)
        assert params["data"] == "text" and len(params["text"]) <= len(label)
        link = links.decode(params, PAGES)
        assert link.spec == spec and link.view["text_sample"] == label and link.problems == []


def test_uploaded_and_pasted_data_cannot_travel_and_say_so():
    table_spec = text_source.spec(b"some uploaded bytes " * 40, "notes.txt", lowercase=False,
                                  val_fraction=0.1, max_vocab=0)  # fmt: skip
    pasted = text_source.spec(
        "pasted words " * 40, "pasted text", lowercase=False, val_fraction=0.1, max_vocab=0
    )
    for spec, what in ((table_spec, "uploaded file"), (pasted, "pasted text")):
        params, why = links.encode(RunSettings(seed=3), spec)
        assert params == {"seed": "3"}
        assert what in why and "cannot travel" in why and "default sine" in why


def test_a_bad_link_lists_each_bad_parameter_with_why_and_applies_the_rest():
    params = {
        "hidden_size": "5000",  # out of range
        "lr": "fast",  # malformed
        "hiden_size": "8",  # unknown (a typo)
        "colour": "red",  # unknown
        "clip_value": "-1",  # out of range
        "memory_lag": "5",  # only for a memory task
        "page": "nowhere",
        "cell": "gru",
        "seed": "17",
        "clip_norm": "off",
        "sine_noise": "0.2",
    }
    link = links.decode(params, PAGES)
    assert link.settings == RunSettings(cell="gru", seed=17, clip_norm=None)
    assert link.sine == SineSettings(sine_noise=0.2)
    bad = {p.split("`")[1].split("=")[0]: p for p in link.problems}
    assert set(bad) == {"hidden_size", "lr", "hiden_size", "colour", "clip_value", "memory_lag", "page"}
    assert "from 1 to 1024" in bad["hidden_size"] and "a number" in bad["lr"]
    assert "did you mean hidden_size" in bad["hiden_size"] and "no such setting" in bad["colour"]
    assert "memory" in bad["memory_lag"] and "dataset" in bad["page"]


def test_a_bad_data_parameter_keeps_the_default_data_and_its_options_are_reported():
    link = links.decode({"data": "weather.csv", "text": "zen", "text_val": "0.9"}, PAGES)
    assert link.spec == sine.spec(SineSettings())
    assert len(link.problems) == 3 and "cannot travel" in link.problems[0]
    link = links.decode(
        {"data": "text", "text": "war and peace", "text_val": "0.9", "sine_noise": "1"}, PAGES
    )
    assert link.spec == sine.spec(SineSettings())
    assert len(link.problems) == 3 and any("samples: zen" in p for p in link.problems)


def test_the_share_url_is_the_apps_root_whatever_page_the_browser_is_on():
    assert links.base_url("http://host:8501/dataset", PAGES) == "http://host:8501"
    assert links.base_url("https://x.org/app/side-by-side/", PAGES) == "https://x.org/app"
    assert links.base_url("http://host:8501", PAGES) == "http://host:8501"
    assert links.base_url(None, PAGES) is None


# ---------------------------------------------------------------------------------- the app (AppTest)


def open_link(params: dict, *, url: str | None = None) -> AppTest:
    """A fresh session opened from a link with these query parameters."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params = dict(params)
    if url is not None:
        at.context = {"url": url}
    at.run()
    assert not at.exception, at.exception
    return at


def built(at: AppTest) -> RunSettings:
    tr = session(at).trainer
    return RunSettings.from_configs(tr.config, tr.train_config, int(tr.dataset.seq_len))


def test_every_setting_travels_from_a_session_through_its_url_into_a_fresh_one():
    at = open_app()
    run, sine_settings = changed_settings()
    sess = session(at)
    sess.settings, sess.sine = run, sine_settings
    sess.requests.data = sine.spec(sine_settings)  # as "Use this data" asks
    at.run()
    assert session(at).data_spec == sine.spec(sine_settings)
    fresh = open_link(at.query_params)
    got = session(fresh)
    assert (got.settings, got.sine, got.data_spec) == (run, sine_settings, sine.spec(sine_settings))
    assert built(fresh) == run  # the first model is built from the link, not from the defaults
    assert not fresh.warning
    assert fresh.number_input(key=key("hidden_size")).value == run.hidden_size
    assert fresh.selectbox(key=key("cell")).value == run.cell
    assert fresh.query_params == at.query_params


def test_a_changed_widget_is_in_the_url_at_once_and_the_page_too():
    at = open_app()
    assert at.query_params == {}
    at.number_input(key=key("lr")).set_value(0.0007).run()
    assert at.query_params == {"lr": "0.0007"}
    at.selectbox(key=key("cell")).set_value("gru").run()
    go(at, "predict")
    assert at.query_params == {"page": "predictions", "lr": "0.0007", "cell": "gru"}
    fresh = open_link(at.query_params)
    assert [t.value for t in fresh.title] == ["Predict"]
    assert session(fresh).settings == RunSettings(lr=0.0007, cell="gru")
    assert fresh.query_params == at.query_params


DATA_CHOICES = {
    "text": {"data_kind": "text", "text_sample": "Zen of Python", "text_lower": True, "text_val": 0.2,
             "text_vocab": 30},
    "echo": {"data_kind": "memory", "memory_task": "echo", "memory_lag": 12, "memory_windows": 800,
             "memory_seed": 5},
    "adding": {"data_kind": "memory", "memory_task": "adding", "memory_windows": 700, "memory_seed": 2},
}  # fmt: skip


@pytest.mark.parametrize("kind", list(DATA_CHOICES))
def test_each_data_source_a_link_can_hold_travels(kind):
    at = open_app("data")
    for name, value in DATA_CHOICES[kind].items():
        widget = {"data_kind": at.radio, "text_lower": at.checkbox, "text_val": at.slider}.get(name)
        if widget is None:
            widget = at.selectbox if name in ("text_sample", "memory_task") else at.number_input
        widget(key=key(name)).set_value(value).run()
    press(at, "use_data")
    spec = session(at).data_spec
    assert spec.kind == DATA_CHOICES[kind]["data_kind"]
    assert at.query_params["data"] == kind and at.query_params["page"] == "dataset"
    fresh = open_link(at.query_params)
    assert session(fresh).data_spec == spec and session(fresh).dataset is not None
    assert [t.value for t in fresh.title] == ["Data"]
    assert fresh.radio(key=key("data_kind")).value == spec.kind
    assert any("This is the data the model trains on" in s.value for s in fresh.success)
    assert not fresh.warning


def test_an_uploaded_csv_cannot_travel_and_the_copy_link_control_says_so():
    at = open_app("data")
    at.radio(key=key("data_kind")).set_value("csv").run()
    series = "t,v\n" + "".join(f"{i},{np.sin(i / 4):.4f}\n" for i in range(150))
    upload(at, "csv_file", "waves.csv", series.encode())
    press(at, "use_data")
    assert session(at).data_spec.kind == "csv"
    assert "data" not in at.query_params
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "waves.csv" in warnings and "cannot travel" in warnings


def test_a_bad_link_gives_one_notice_and_the_rest_applies():
    bad = {"hidden_size": "0", "optimizer": "adamax", "lr": "1e-2x", "speed": "11", "memory_lag": "abc"}
    at = open_link({**bad, "data": "echo", "memory_seed": "4", "cell": "lstm", "page": "model-files"})
    [notice] = at.warning
    for name, value in bad.items():
        assert f"`{name}={value}`" in notice.value
    sess = session(at)
    assert sess.settings == RunSettings(cell="lstm")
    assert sess.data_spec == memory.spec("echo", seed=4) and sess.trainer.config.cell == "lstm"
    assert [t.value for t in at.title] == ["Model"]
    assert at.query_params == {"page": "model-files", "data": "echo", "memory_seed": "4", "cell": "lstm"}
    at.run()
    assert not at.warning  # said once


def test_a_link_whose_data_does_not_fit_its_settings_says_so_and_uses_the_default_data():
    at = open_link({"data": "echo", "memory_lag": "60", "seed": "3"})  # the lag needs seq_len > 60
    [notice] = at.warning
    assert "k can be at most 49" in notice.value
    assert session(at).data_spec == sine.spec(SineSettings()) and built(at) == RunSettings(seed=3)


def test_the_copy_link_is_the_full_url_of_the_apps_root():
    at = open_link({"seed": "5", "page": "dataset"}, url="http://example.org:8501/dataset")
    assert shared_link(at) == "http://example.org:8501/?page=dataset&seed=5"
    assert shared_link(open_link({"seed": "5"})) == "?seed=5"  # no address known: the query string


def shared_link(at: AppTest) -> str:
    """The URL the sidebar's Copy link control holds."""
    [data] = [json.loads(el.proto.json) for el in at.sidebar.get("bidi_component")
              if el.proto.component_name == share.COMPONENT]  # fmt: skip
    return data["url"]


def test_a_session_from_a_link_trains_the_same_steps_with_the_same_numbers():
    changes = {"cell": "gru", "hidden_size": 10, "seed": 31, "lr": 0.02, "batch_size": 8}
    at = open_app()
    session(at).settings = replace(session(at).settings, **changes)
    press(at, "reset")
    at.number_input(key=key("step_n")).set_value(25).run()
    press(at, "step_n")
    fresh = open_link(at.query_params)
    fresh.number_input(key=key("step_n")).set_value(25).run()
    press(fresh, "step_n")
    for a in (at, fresh):
        for _ in range(20):
            if session(a).trainer.step_count >= 25 and session(a).state.mode == "paused":
                break
            a.run()
    ours, theirs = session(at).trainer, session(fresh).trainer
    assert ours.step_count == theirs.step_count == 25
    losses = [t.history.downsample(1000, columns=["loss"])["loss"] for t in (ours, theirs)]
    assert len(losses[0]) == 25 and np.array_equal(losses[0], losses[1])
