"""The Compare page's sweep through streamlit.testing, on the app's real Dask workers."""

from __future__ import annotations

import json
import time

from app_helpers import chart_specs, open_app

from dashboard.session import SESSION_KEY, button_key, key


def _compare(at):
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    return at


def _wait_sweep(at, timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        bars = at.get("progress")
        if bars and "(running)" not in bars[0].proto.text:
            return bars[0].proto.text
        time.sleep(0.3)
    raise AssertionError("the sweep did not finish")


def test_a_sweep_from_the_page_trains_every_run_and_summarises_them():
    at = _compare(open_app())
    at.text_input(key=key("sweep_values_1")).set_value("rnn, gru").run()
    at.number_input(key=key("sweep_steps")).set_value(40).run()
    at.button(key=button_key("sweep")).click().run()
    assert not at.exception and not at.error
    assert _wait_sweep(at) == "4 of 4 runs finished (finished)"
    job = at.session_state[SESSION_KEY].sweep
    assert [(r["cell"], r["seed"]) for r in job.rows] == [("rnn", 0), ("rnn", 1), ("gru", 0), ("gru", 1)]
    assert all(r["steps"] == 40 and r["error"] is None for r in job.rows)
    [fig] = [s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Sweep")]
    assert [bar["x"] for bar in fig["data"]] == [["rnn", "gru"]]
    table = at.dataframe[0].value
    assert list(table["cell"]) == ["rnn", "rnn", "gru", "gru"] and "val_bpc" not in table
    assert not at.button(key=button_key("sweep")).disabled  # a new sweep may start
    assert json.loads(json.dumps(job.rows))  # the rows are plain data, ready for the CSV


def test_a_sweep_with_bad_values_says_why_and_starts_nothing():
    at = _compare(open_app())
    at.selectbox(key=key("sweep_setting_2")).set_value("lr").run()
    at.text_input(key=key("sweep_values_2")).set_value("0.001, lots").run()
    at.button(key=button_key("sweep")).click().run()
    assert not at.exception
    assert any("could not convert" in e.value or "number" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert at.session_state[SESSION_KEY].sweep is None
    at.selectbox(key=key("sweep_setting_2")).set_value("hidden_size").run()
    at.text_input(key=key("sweep_values_2")).set_value("4, 8, 16, 32, 64, 128, 256").run()
    at.button(key=button_key("sweep")).click().run()
    assert any("at most 24" in e.value for e in at.error), [e.value for e in at.error]


def test_cancel_stops_the_sweep_and_keeps_what_finished():
    at = _compare(open_app())
    at.number_input(key=key("sweep_steps")).set_value(3000).run()
    at.button(key=button_key("sweep")).click().run()
    job = at.session_state[SESSION_KEY].sweep
    assert job is not None and not job.over
    at.button(key=button_key("sweep_cancel")).click().run()
    assert job.cancelled and job.over
    text = _wait_sweep(at)
    assert text.endswith("(cancelled)") and int(text.split()[0]) == job.done < 4
    assert all(f.status in ("cancelled", "finished") for f in job.futures)
    assert not at.button(key=button_key("sweep")).disabled
