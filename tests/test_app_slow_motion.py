"""The Model page's slow motion through time: trace a window (a running run pauses first), step
through its forward and backward pass, play it to the end, on a series and on a text model."""

from __future__ import annotations

from dataclasses import replace

from app_helpers import array_len, chart_titled, go, open_app, press, session, texts, trainer, use_text

from dashboard.session import key


def _titles(at) -> list[str]:
    from app_helpers import _title, chart_specs

    return [_title(s) for s in chart_specs(at)]


def test_model_page_steps_a_series_window_forward_and_back():
    at = open_app("model")
    assert not any("step 1" in t for t in _titles(at))  # nothing traced before the button
    press(at, "slow_motion")
    assert not at.exception, at.exception
    assert {"Input x_t, step 1 of 50", "Prediction", "State and gates at step 1"} <= set(_titles(at))
    found = session(at).run.memo["slow_motion"][2]
    assert found["steps"] == 50 and found["step"] == trainer(at).step_count
    press(at, "slow_motion_next")
    assert session(at).view.sm_t == 1 and "Input x_t, step 2 of 50" in _titles(at)
    assert "The prediction comes at the last step" in str(chart_titled(at, "Prediction")["layout"])
    at.radio(key=key("sm_phase")).set_value("backward").run()
    assert not at.exception, at.exception
    assert session(at).view.sm_t == 49 and "Gradient at step 50" in _titles(at)
    norms = chart_titled(at, "Backward pass")["data"]
    assert array_len(norms[0]["x"]) == 1  # the backward pass has reached the last step only
    press(at, "slow_motion_back")
    assert array_len(chart_titled(at, "Backward pass")["data"][0]["x"]) == 2
    at.run()  # the same weights: the trace is kept, not fetched again
    assert session(at).run.memo["slow_motion"][2] is found and "Gradient at step 49" in _titles(at)
    assert "squared error" in texts(at.caption)


def test_trace_pauses_a_running_run_and_play_stops_at_the_end():
    at = open_app()
    press(at, "start")
    go(at, "model")
    press(at, "slow_motion")
    assert not at.exception, at.exception
    assert not session(at).state.moving and not trainer(at).moving
    session(at).view.sm_t = 46
    press(at, "slow_motion_play")  # the first step comes at once, the rest on the fragment's timer
    assert session(at).view.sm_playing and session(at).view.sm_t == 47
    for _ in range(3):
        at.run()
    assert not at.exception, at.exception
    view = session(at).view
    assert view.sm_t == 49 and not view.sm_playing
    assert "Prediction" in str(chart_titled(at, "Prediction")["layout"]["title"])
    press(at, "slow_motion_play")  # Play at the end starts the pass again
    assert session(at).view.sm_t == 1


def test_a_text_lstm_shows_characters_and_next_character_guesses():
    at = open_app()
    session(at).settings = replace(session(at).settings, cell="lstm", hidden_size=80)
    use_text(at)
    go(at, "model")
    press(at, "slow_motion")
    assert not at.exception, at.exception
    assert any(t.startswith("Next character after") for t in _titles(at))
    state = chart_titled(at, "State and gates")
    rows = state["data"][0]["y"]
    assert rows == [
        "h  hidden",
        "c  cell",
        "i  input gate",
        "f  forget gate",
        "g  candidate",
        "o  output gate",
    ]
    assert "The first 64 of 80 units" in str(state["layout"])
    assert any("Input x_t: step 1" in m.value for m in at.markdown)
    at.toggle(key=key("sm_last_only")).set_value(True).run()  # paused: traced again at once
    assert session(at).run.memo["slow_motion"][2]["last_only"]
    at.radio(key=key("sm_phase")).set_value("backward").run()
    assert not at.exception, at.exception
    assert "last character's cross-entropy" in texts(at.caption)
