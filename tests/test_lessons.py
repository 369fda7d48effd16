"""Lessons and presentation mode: every lesson is a link that loads its data and settings, the
Train page then shows Start/Pause/Step/Reset and the lesson's own settings only, a lesson can be
picked and left in the app, a bad lesson link is one notice, and the two lessons about
divergence do what their text says (pure mapping, the engine and the real app, AppTest)."""

from __future__ import annotations

import pytest
from app_helpers import APP, open_app, press, session
from streamlit.testing.v1 import AppTest

from dashboard import lessons, links
from dashboard.lessons import LESSONS, Lesson
from dashboard.session import button_key, key
from dashboard.sources import memory
from rnn_core.config import RunSettings
from rnn_core.data import load_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.runs import make_trainer
from rnn_core.settings import PRESETS, SCHEMA

HIDDEN = ("preset", "hidden_size", "seed", "batch_size")
"""Settings widgets of the full Train page; a lesson shows those among them it names only."""


def open_link(params: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params = dict(params)
    at.run()
    assert not at.exception, at.exception
    return at


def shown_settings(at: AppTest) -> set[str]:
    """The settings and view choices whose widgets the page draws (by their widget keys)."""
    widgets = [*at.number_input, *at.selectbox, *at.select_slider, *at.toggle]
    names = {name for name in [*SCHEMA, *HIDDEN, "speed", "step_n"] if key(name) in {w.key for w in widgets}}
    return names


# ---------------------------------------------------------------------------------- the links


@pytest.mark.parametrize("lesson_id", list(LESSONS))
def test_a_lesson_link_stands_for_its_data_and_settings_and_comes_back_as_itself(lesson_id):
    lesson = LESSONS[lesson_id]
    link = links.decode({"lesson": lesson_id}, pages=("", "dataset"))
    assert link.problems == []
    expected = {**PRESETS[lesson.preset].values, **lesson.changes}
    assert {k: getattr(link.settings, k) for k in expected} == expected
    assert link.view["lesson"] == lesson_id and link.view["present"] is True
    assert links.encode(link.settings, link.spec, sine_hint=link.sine, lesson=lesson_id, present=True)[0] == {
        "lesson": lesson_id
    }


def test_lesson_data_is_what_the_text_names():
    assert links.decode({"lesson": "vanishing"}).spec == memory.spec("adding")
    assert links.decode({"lesson": "vanishing"}).view["time_views"] is True
    made = links.decode({"lesson": "persistence"})
    assert made.spec.kind == "sine"
    assert (made.sine.sine_length, made.sine.sine_noise, made.sine.sine_amplitude2) == (300, 0.3, 0.5)
    words = links.decode({"lesson": "words"}).spec
    assert words.kind == "text" and "grammar" in words.name


def test_a_change_in_a_lesson_travels_as_the_lesson_plus_that_change():
    link = links.decode({"lesson": "exploding", "clip_norm": "1", "present": "0"})
    assert link.settings.clip_norm == 1.0 and link.settings.lr == 3.0 and link.view["present"] is False
    params, _ = links.encode(link.settings, link.spec, lesson="exploding", present=False)
    assert params == {"lesson": "exploding", "clip_norm": "1", "present": "0"}
    # back to a default the lesson changes: written out, or the lesson's value would come back
    params, _ = links.encode(
        RunSettings(**{**vars(link.settings), "lr": 3e-3}), link.spec, lesson="exploding"
    )
    assert links.decode(params).settings.lr == 3e-3
    other = links.decode({"lesson": "vanishing", "data": "sine"})
    assert (
        other.spec.kind == "sine"
        and links.encode(other.settings, other.spec, lesson="vanishing")[0]["data"] == "sine"
    )


def test_bad_lesson_and_present_values_are_named_and_left_out():
    link = links.decode({"lesson": "exploded", "present": "maybe", "lr": "0.01"})
    assert len(link.problems) == 2
    assert "`lesson=exploded`: no such lesson; lessons: tutorial, exploding" in link.problems[0]
    assert "`present=maybe`" in link.problems[1]
    assert link.settings.lr == 0.01 and link.view["lesson"] == "" and link.view["present"] is False
    assert links.decode({"present": "1"}).view["present"] is True
    assert links.presenting({"lesson": "words"}) and not links.presenting({"lesson": "words", "present": "0"})
    assert not links.presenting({"lesson": "nope"})


def test_a_lesson_naming_an_unknown_setting_or_value_is_refused():
    with pytest.raises(PlaygroundError, match="unknown setting 'learning_rate' in lesson 'x'"):
        lessons.check(Lesson("x", "X", "", changes={"learning_rate": 1.0}))
    with pytest.raises(PlaygroundError, match="clip norm"):
        lessons.check(Lesson("x", "X", "", changes={"clip_norm": -1.0}))
    with pytest.raises(PlaygroundError, match="unknown control"):
        lessons.check(Lesson("x", "X", "", controls=("clipping",)))


# ---------------------------------------------------------------------------------- the engine


def test_exploding_lesson_diverges_and_clipping_keeps_it_finite():
    """What lesson 2 says: its settings diverge within a few steps; with clip norm 1 they do not."""
    ds = load_dataset("sine")
    values = links.decode({"lesson": "exploding"}).settings
    wild = make_trainer(ds, vars(values))
    for _ in range(5):
        if wild.step()["diverged"]:
            break
    assert wild.diverged and wild.step_count <= 3
    tame = make_trainer(ds, {**vars(values), "clip_norm": 1.0})
    assert not any(tame.step()["diverged"] for _ in range(30))


# ---------------------------------------------------------------------------------- the app


def test_a_lesson_link_opens_in_presentation_mode_with_its_own_controls_only():
    at = open_link({"lesson": "exploding"})
    assert at.markdown[0].value.startswith("### Lesson 2: Exploding gradients")
    assert shown_settings(at) == {"clip_norm", "lr"}
    buttons = {b.key for b in at.button}
    assert {button_key(n) for n in ("start", "pause", "step", "reset")} <= buttons
    assert button_key("step_n") not in buttons and button_key("preset") not in buttons
    sess = session(at)
    assert (
        sess.settings.lr == 3.0
        and sess.settings.clip_norm is None
        and sess.trainer.config.nonlinearity == "relu"
    )
    assert at.query_params == {"lesson": "exploding"} and not at.warning
    at.number_input(key=key("clip_norm")).set_value(1.0).run()
    assert at.query_params == {"lesson": "exploding", "clip_norm": "1"}


def test_picking_a_lesson_in_the_sidebar_loads_it_and_leaving_brings_every_control_back():
    at = open_app()
    assert {"preset", "hidden_size", "speed"} <= shown_settings(at)
    press(at, "lesson_persistence")
    sess = session(at)
    assert sess.data_spec.kind == "sine" and len(sess.dataset.raw) == 300 and sess.sine.sine_trend == 0.005
    assert sess.view.present
    assert shown_settings(at) == {"hidden_size", "seq_len"}
    assert at.query_params == {"lesson": "persistence"}
    press(at, "lesson_leave")
    assert {"preset", "hidden_size", "speed"} <= shown_settings(at) and not session(at).view.present
    assert at.query_params == dict(lessons.LESSONS["persistence"].data)  # the data stays


def test_an_unknown_lesson_is_one_notice_and_the_full_page():
    at = open_link({"lesson": "exploded"})
    assert len(at.warning) == 1 and "`lesson=exploded`: no such lesson" in at.warning[0].value
    assert {"preset", "hidden_size"} <= shown_settings(at)
    assert not session(at).view.present
