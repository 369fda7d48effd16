"""The Compare page's live runs through streamlit.testing, on the app's real Dask workers: runs
side by side under one Start / Pause / Step / Reset, their charts and table, a run moved to
the Train page, identical batches for equal seeds, a diverging run pausing alone, bad input."""

from __future__ import annotations

import time

import numpy as np
from app_helpers import array_values, chart_titled, go, open_app, press, run_until, session, use_text

from dashboard.session import key


def _compare(at):
    return go(at, "compare")


def _lanes(at):
    return session(at).comparison.lanes


def _steps(at) -> list[int]:
    return [lane.run.trainer.step_count for lane in _lanes(at)]


def _train_until(at, done, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, at.exception
        if done():
            return
        time.sleep(0.25)
    raise AssertionError(f"not reached in {seconds} s; steps {_steps(at)}")


def _history(lane) -> np.ndarray:
    return lane.run.trainer.history.downsample(10_000, columns=["loss"])["loss"]


def test_an_rnn_and_an_lstm_train_live_side_by_side_and_one_moves_to_train():
    at = _compare(open_app())
    assert session(at).comparison is None
    press(at, "compare_start")  # builds the two runs (the defaults: run 2 is an LSTM), then starts
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [lane.run.trainer.config.cell for lane in _lanes(at)] == ["rnn", "lstm"]
    _train_until(at, lambda: min(_steps(at)) >= 30)
    assert all(lane.state.mode == "running" for lane in _lanes(at))

    loss = chart_titled(at, "Loss, run by run")
    names = [t["name"] for t in loss["data"]]
    assert {"Run 1 training", "Run 2 training", "Run 1 validation", "Run 2 validation"} <= set(names)
    for trace in loss["data"]:
        if trace["name"].endswith("training"):
            assert len(array_values(trace["x"])) >= 10  # each run's curve has its own steps
    pred = chart_titled(at, "Validation predictions")
    assert [t["name"] for t in pred["data"]] == ["actual", "Run 1", "Run 2"]
    assert len(array_values(pred["data"][1]["y"])) == len(array_values(pred["data"][0]["y"]))

    press(at, "compare_pause")
    steps = _steps(at)
    at.run()
    assert _steps(at) == steps  # paused means paused, every run
    table = at.dataframe[0].value
    assert list(table["Run"]) == ["Run 1", "Run 2"] and list(table["Cell"]) == ["RNN", "LSTM"]
    assert list(table["Step"]) == steps and list(table["State"]) == ["paused", "paused"]
    assert table["Radius"][1] == "—" and float(table["Radius"][0]) > 0
    for lane, shown in zip(_lanes(at), table["Memory span"], strict=True):  # from the run's own probe
        assert shown == f"{lane.run.trainer.through_time('val', 0, 0)['span']} steps"
    for lane in _lanes(at):  # paused: the numbers shown are exact, for the weights shown
        assert lane.run.last_eval["step"] == lane.run.trainer.step_count
        assert not lane.run.last_eval.get("val_estimate")

    lstm = _lanes(at)[1].run.trainer
    press(at, "compare_promote_2")
    sess = session(at)
    assert sess.trainer is lstm and sess.settings.cell == "lstm" and sess.trainer.step_count == steps[1]
    assert _lanes(at)[1].run is None and _lanes(at)[0].run is not None
    assert any("Run 2" in s.value and "Train page" in s.value for s in at.success)
    go(at, "train")
    assert "LSTM" in " ".join(m.value for m in at.markdown if "Model" in m.value)
    assert int(at.metric[0].value) == steps[1]


def test_runs_with_the_same_seed_and_settings_take_the_same_steps():
    at = _compare(open_app())
    at.number_input(key=key("compare_count")).set_value(3).run()
    at.selectbox(key=key("compare_setting_2")).set_value("—").run()  # run 2: run 1 again
    at.selectbox(key=key("compare_setting_3")).set_value("seed").run()
    at.text_input(key=key("compare_value_3")).set_value("7").run()
    press(at, "compare_reset")
    assert not at.error, [e.value for e in at.error]
    for _ in range(3):
        press(at, "compare_step")
        _train_until(at, lambda: not any(lane.state.moving for lane in _lanes(at)), 30)
    assert _steps(at) == [3, 3, 3]
    one, two, three = (_history(lane) for lane in _lanes(at))
    assert len(one) == 3 and np.array_equal(one, two)  # same data, split and batches: bit for bit
    assert not np.array_equal(one, three)  # another seed: other weights and batches


def test_a_run_that_diverges_pauses_alone_and_the_others_go_on():
    at = open_app()
    at.selectbox(key=key("optimizer")).set_value("sgd").run()
    at.selectbox(key=key("nonlinearity")).set_value("relu").run()
    at.number_input(key=key("lr")).set_value(0.01).run()
    _compare(at)
    at.selectbox(key=key("compare_setting_2")).set_value("lr").run()
    at.text_input(key=key("compare_value_2")).set_value("10").run()
    press(at, "compare_start")
    assert [lane.run.built.lr for lane in _lanes(at)] == [0.01, 10.0]
    _train_until(at, lambda: _lanes(at)[1].run.divergence is not None)
    first, second = _lanes(at)
    assert second.state.mode == "paused" and first.state.mode == "running"
    assert any("Run 2 diverged" in w.value and "paused alone" in w.value for w in at.warning)
    before = first.run.trainer.step_count
    _train_until(at, lambda: first.run.trainer.step_count > before + 20)
    assert list(at.dataframe[0].value["State"]) == ["training", "diverged"]
    press(at, "compare_pause")
    press(at, "compare_start")  # Start again: the healthy run trains, the diverged one stays paused
    assert first.state.moving and not second.state.moving


def test_a_bad_change_says_why_and_keeps_the_runs_there_are():
    at = _compare(open_app())
    press(at, "compare_reset")
    built = [lane.run.trainer for lane in _lanes(at)]
    at.selectbox(key=key("compare_setting_2")).set_value("lr").run()
    at.text_input(key=key("compare_value_2")).set_value("lots").run()
    assert any("run 2" in w.value.lower() for w in at.warning), [w.value for w in at.warning]
    press(at, "compare_reset")
    assert not at.exception
    assert any("were not built" in e.value and "run 2" in e.value for e in at.error), [
        e.value for e in at.error
    ]
    assert [lane.run.trainer for lane in _lanes(at)] == built and not any(t.closed for t in built)
    at.text_input(key=key("compare_value_2")).set_value("0.03").run()
    press(at, "compare_reset")
    assert not at.error and [lane.run.built.lr for lane in _lanes(at)] == [0.003, 0.03]
    assert all(t.closed for t in built)  # the old runs were freed in their workers
    assert run_until(at, lambda: at.dataframe[0].value["Step"].tolist() == [0, 0])


def test_text_runs_show_a_sampled_line_each_and_the_sidebar_names_the_runs():
    at = open_app()
    use_text(at)
    _compare(at)
    press(at, "compare_reset")
    assert not at.error, [e.value for e in at.error]
    press(at, "compare_step")
    _train_until(at, lambda: _steps(at) == [1, 1], 30)
    at.run()
    lines = [c.value for c in at.code]
    assert len(lines) == 2 and all(len(line) >= 50 for line in lines), lines
    captions = " ".join(c.value for c in at.caption)
    assert "Run 1 · step 1" in captions and "Run 2 · step 1" in captions
    table = at.dataframe[0].value
    assert "Val bits/char" in table and "÷ unigram" in table
    assert "**Compare** · 2 runs" in " ".join(m.value for m in at.sidebar.markdown)
