"""The memory tasks in the app through streamlit.testing: chosen on the Data page, trained on the
Train page, a prediction per window on Predict, the Model page, and the vanishing-gradients preset."""

import numpy as np
from app_helpers import (
    array_values,
    button_labels,
    chart_titled,
    click,
    go,
    metric,
    open_app,
    press,
    run_until,
    session,
    texts,
    trainer,
)

from dashboard.session import key
from rnn_core.data import MemoryDataset
from rnn_core.settings import PRESETS

USE = "Use this data"


def choose_memory(at, task: str, **numbers):
    go(at, "data")
    at.radio(key=key("data_kind")).set_value("memory").run()
    at.selectbox(key=key("memory_task")).set_value(task).run()
    for name, value in numbers.items():
        at.number_input(key=key(name)).set_value(value).run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_adding_problem_on_the_data_page_then_train_predict_and_model():
    at = open_app()
    choose_memory(at, "adding", memory_windows=1000, memory_seed=3)
    assert metric(at, "Windows") == "1,000"
    assert metric(at, "Training windows") == "800" and metric(at, "Validation windows") == "200"
    assert metric(at, "Input columns") == "2"
    baselines = at.dataframe[1].value
    assert "constant 1 (the expected sum)" in baselines.index
    assert 0.3 < baselines.loc["constant 1 (the expected sum)", "RMSE"] < 0.5
    click(at, USE)
    assert not at.exception
    ds = session(at).dataset
    assert isinstance(ds, MemoryDataset) and ds.task == "adding"
    assert ds.train_windows + ds.val_windows == 1000 and ds.seq_len == session(at).settings.seq_len
    # the preview draws the first windows' marked values where the marker column is 1
    fig = chart_titled(at, "training windows and their targets")
    marked = [t for t in fig["data"] if t.get("mode") == "markers"]
    assert len(marked) == 3
    for w, trace in enumerate(marked):
        np.testing.assert_array_equal(array_values(trace["x"]), np.flatnonzero(ds.inputs[:, w, 1] == 1))
    assert "target" in fig["layout"]["annotations"][0]["text"]

    go(at, "train")
    at.number_input(key=key("step_n")).set_value(5).run()
    press(at, "step_n")
    assert run_until(at, lambda: session(at).state.pending_steps == 0)
    assert not at.exception and trainer(at).step_count >= 5
    assert metric(at, "Validation RMSE") != "—"

    go(at, "predict")
    assert "does not apply" in texts(at.info)
    table = at.dataframe[0].value
    assert {"RNN (one-step)", "constant 1", "mean"} == set(table.index)
    assert list(table["RMSE"]) == sorted(table["RMSE"])
    assert chart_titled(at, "by window")

    go(at, "model")
    assert not at.exception


def test_echo_lag_longer_than_the_window_is_an_error_on_the_page():
    at = open_app()
    before = session(at).dataset
    go(at, "data")
    at.radio(key=key("data_kind")).set_value("memory").run()
    at.selectbox(key=key("memory_task")).set_value("echo").run()
    seq_len = session(at).settings.seq_len
    at.number_input(key=key("memory_lag")).set_value(seq_len).run()
    assert not at.exception
    assert any("does not fit" in e.value for e in at.error)
    assert any("sequence length" in c.value.lower() and "Train page" in c.value for c in at.caption)
    assert USE not in button_labels(at)
    assert session(at).dataset is before
    at.number_input(key=key("memory_lag")).set_value(seq_len - 1).run()
    click(at, USE)
    assert session(at).dataset.lag == seq_len - 1


def test_vanishing_preset_switches_to_the_adding_problem_and_says_what_to_watch():
    preset = PRESETS["vanishing"]
    at = open_app()
    assert session(at).dataset.kind == "regression" and not isinstance(session(at).dataset, MemoryDataset)
    at.selectbox(key=key("preset")).set_value("vanishing").run()
    press(at, "preset")
    assert not at.exception
    ds = session(at).dataset
    assert isinstance(ds, MemoryDataset) and ds.task == "adding"
    assert ds.seq_len == preset.values["seq_len"]
    tr = trainer(at)
    assert (tr.config.cell, tr.config.nonlinearity) == ("rnn", "tanh")
    assert tr.train_config.lr == preset.values["lr"]
    assert "LSTM" in texts(at.info) and "Vanishing" in texts(at.info)
    # the Data page offers the task now in use
    go(at, "data")
    assert at.radio(key=key("data_kind")).value == "memory"
    assert at.selectbox(key=key("memory_task")).value == "adding"
    assert any("This is the data the model trains on" in s.value for s in at.success)
