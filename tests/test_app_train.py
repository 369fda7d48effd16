"""The Train page (landing) through streamlit.testing: controls, buttons, live settings, divergence."""

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import controls


def open_app() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def trainer(at: AppTest):
    return at.session_state["trainer"]


def test_landing_page_is_train_ready_with_the_sine_task():
    at = open_app()
    assert at.title[0].value == "Train"
    labels = [b.label for b in at.button]
    for label in ("Start", "Pause", "Step", "Step ×N", "Reset"):
        assert label in labels
    assert metric(at, "Step") == "0"
    assert metric(at, "Validation RMSE") != "—"
    assert "vs persistence" in str([m.proto.delta_description for m in at.metric])
    ds = at.session_state["dataset"]
    assert ds.kind == "regression" and ds.seq_len == 50 and ds.train_windows == 100 and ds.val_windows == 50
    # the sidebar status names the data and the model
    side = " ".join(m.value for m in at.sidebar.markdown)
    assert "Sine" in side and "RNN" in side and "paused" in side


def test_step_takes_exactly_one_update():
    at = open_app()
    at.button(key="btn_step").click().run()
    assert not at.exception
    assert metric(at, "Step") == "1"
    assert trainer(at).step_count == 1
    assert at.session_state["pending_steps"] == 0


def test_step_n_takes_n_updates():
    at = open_app()
    at.number_input(key="live_step_n").set_value(7).run()
    at.button(key="btn_step_n").click().run()
    # Step ×N spreads its steps over refreshes within a time budget: on a busy machine the
    # first run may take only some of them, and the fragment's next ticks take the rest.
    for _ in range(20):
        if at.session_state["pending_steps"] == 0:
            break
        at.run()
    assert not at.exception
    assert trainer(at).step_count == 7
    assert metric(at, "Step") == "7"


def test_start_trains_and_pause_stops():
    at = open_app()
    at.button(key="btn_start").click().run()
    assert not at.exception
    assert at.session_state["running"] is True
    assert at.button(key="btn_start").disabled and not at.button(key="btn_pause").disabled
    after_start = trainer(at).step_count
    assert after_start > 0
    at.run()
    assert trainer(at).step_count > after_start
    at.button(key="btn_pause").click().run()
    assert at.session_state["running"] is False
    paused_at = trainer(at).step_count
    at.run()
    assert trainer(at).step_count == paused_at
    assert metric(at, "Step") == str(paused_at)


def metric_delta(at: AppTest, label: str) -> str:
    return next(m.proto.delta for m in at.metric if m.label == label)


def test_steps_per_second_shows_the_last_rate_when_paused_not_zero():
    at = open_app()
    assert metric(at, "Steps/s") == "—"  # nothing measured yet
    at.button(key="btn_start").click().run()
    at.run().run()  # two ticks logged before the third draws the numbers
    running = metric(at, "Steps/s")
    assert number(running) > 0 and metric_delta(at, "Steps/s") == ""
    at.button(key="btn_pause").click().run()
    paused = metric(at, "Steps/s")
    assert number(paused) > 0 and metric_delta(at, "Steps/s") == "paused"
    at.run()
    assert metric(at, "Steps/s") == paused  # the last measured rate stays while paused
    at.button(key="btn_reset").click().run()
    assert metric(at, "Steps/s") == "—"


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_speed_setting_caps_updates_per_refresh():
    at = open_app()
    at.select_slider(key="live_speed").set_value("2").run()
    at.button(key="btn_start").click().run()
    first = trainer(at).step_count
    at.run()
    assert first == 2 and trainer(at).step_count == 4


def test_reset_reinitialises_with_the_same_seed():
    at = open_app()
    before = {k: v.copy() for k, v in trainer(at).network.params.items()}
    at.number_input(key="live_step_n").set_value(5).run()
    at.button(key="btn_step_n").click().run()
    assert trainer(at).step_count == 5
    at.button(key="btn_reset").click().run()
    assert not at.exception
    assert trainer(at).step_count == 0
    assert metric(at, "Step") == "0"
    for k, v in trainer(at).network.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_learning_rate_and_clipping_apply_mid_training_without_reset():
    at = open_app()
    at.button(key="btn_step").click().run()
    tr = trainer(at)
    at.select_slider(key="hp_lr").set_value(0.001).run()
    at.radio(key="hp_clip_mode").set_value("value").run()
    at.number_input(key="hp_clip_value").set_value(2.5).run()
    assert not at.exception
    assert trainer(at) is tr and tr.step_count == 1
    assert tr.optimizer.lr == pytest.approx(0.001)
    assert tr.train_config.clip_norm is None and tr.train_config.clip_value == pytest.approx(2.5)
    assert not [w for w in at.warning if "Reset" in w.value]


def test_shape_changes_wait_for_reset_and_say_so():
    at = open_app()
    at.number_input(key="hp_hidden_size").set_value(16).run()
    at.selectbox(key="hp_cell").set_value("gru").run()
    warnings = " ".join(w.value for w in at.warning)
    assert "Reset" in warnings and "hidden size: 32 → 16" in warnings and "cell: rnn → gru" in warnings
    assert trainer(at).config.hidden_size == 32
    at.button(key="btn_reset").click().run()
    assert not at.exception
    assert trainer(at).config.hidden_size == 16 and trainer(at).config.cell == "gru"
    assert not [w for w in at.warning if "Reset" in w.value]


def test_every_hyperparameter_widget_reaches_the_trainer():
    at = open_app()
    at.selectbox(key="hp_cell").set_value("lstm")
    at.number_input(key="hp_num_layers").set_value(2)
    at.number_input(key="hp_window").set_value(20)
    at.number_input(key="hp_batch_size").set_value(8)
    at.selectbox(key="hp_optimizer").set_value("momentum")
    at.number_input(key="hp_momentum").set_value(0.5)
    at.number_input(key="hp_bptt").set_value(4)
    at.selectbox(key="hp_init").set_value("orthogonal")
    at.number_input(key="hp_seed").set_value(3)
    at.radio(key="hp_dtype").set_value("float32")
    at.radio(key="hp_clip_mode").set_value("both")
    at.run()
    at.button(key="btn_reset").click().run()
    assert not at.exception
    tr = trainer(at)
    cfg, tc = tr.config, tr.train_config
    assert (cfg.cell, cfg.num_layers, cfg.init, cfg.dtype) == ("lstm", 2, "orthogonal", "float32")
    assert (tc.optimizer, tc.momentum, tc.batch_size, tc.bptt, tc.seed) == ("momentum", 0.5, 8, 4, 3)
    assert tc.clip_norm is not None and tc.clip_value is not None
    assert tr.dataset.seq_len == 20
    # LSTM: the internals panel offers the gate view; choose it and a layer
    at.radio(key="live_view").set_value("gates").run()
    at.selectbox(key="live_layer").set_value(1).run()
    assert not at.exception
    at.button(key="btn_step").click().run()
    assert not at.exception and trainer(at).step_count == 1


def test_tutorial_preset_reproduces_the_tutorials_settings():
    at = open_app()
    name = next(n for n in controls.PRESETS if n.startswith("Tutorials"))
    at.selectbox(key="hp_preset").set_value(name).run()
    at.button[0].click().run()  # Load preset
    at.button(key="btn_reset").click().run()
    assert not at.exception
    tr = trainer(at)
    cfg, tc = tr.config, tr.train_config
    assert (cfg.cell, cfg.nonlinearity, cfg.hidden_size, cfg.init) == ("rnn", "sigmoid", 100, "uniform")
    assert (tc.optimizer, tc.bptt, tc.clip_value, tc.clip_norm, tc.seed) == ("sgd", 5, 10.0, None, 12161)
    assert tc.lr == pytest.approx(1e-4)
    at.button(key="btn_step").click().run()
    assert trainer(at).step_count == 1


def test_divergence_pauses_explains_and_keeps_finite_weights():
    at = open_app()
    name = next(n for n in controls.PRESETS if n.startswith("Blow up"))
    at.selectbox(key="hp_preset").set_value(name).run()
    at.button[0].click().run()
    at.select_slider(key="hp_lr").set_value(10.0)
    at.run()
    at.button(key="btn_reset").click().run()
    at.button(key="btn_start").click().run()
    for _ in range(20):
        if at.session_state["diverged"]:
            break
        at.run()
    assert not at.exception
    assert at.session_state["diverged"], "lr 10 without clipping should blow up"
    assert at.session_state["running"] is False
    assert any("diverged" in e.value and "learning rate" in e.value for e in at.error)
    # no "+nan" under a validation score that could not be computed
    assert "nan" not in metric_delta(at, "Validation RMSE").lower()
    assert all(np.isfinite(p).all() for p in trainer(at).network.params.values())
    stopped = trainer(at).step_count
    at.run()
    assert trainer(at).step_count == stopped


def test_heatmap_window_and_split_controls():
    at = open_app()
    at.radio(key="live_split").set_value("train").run()
    at.slider(key="live_window").set_value(99).run()
    assert not at.exception
    at.slider(key="live_window").set_value(3).run()
    assert not at.exception


def test_pages_keep_settings_and_training_state_when_switching():
    at = open_app()
    at.number_input(key="hp_hidden_size").set_value(12).run()
    at.button(key="btn_start").click().run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    # training goes on behind other pages
    running_on_data_page = trainer(at).step_count
    at.run()
    assert trainer(at).step_count > running_on_data_page
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.number_input(key="hp_hidden_size").value == 12
    assert at.session_state["running"] is True


def test_big_models_heatmap_shows_a_readable_slice():
    at = open_app()
    at.number_input(key="hp_hidden_size").set_value(200).run()
    at.button(key="btn_reset").click().run()
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [heat] = [s for s in specs if s["data"][0]["type"] == "heatmap"]
    assert "first 128 units" in heat["layout"]["title"]["text"]
    z = heat["data"][0]["z"]
    rows = z["shape"].split(",")[0] if isinstance(z, dict) else len(z)
    assert int(rows) == 128


def test_sine_charts_name_their_x_axis_time_step():
    at = open_app()
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    [pred] = [s for s in specs if "predictions" in s["layout"]["title"]["text"].lower()]
    assert pred["layout"]["xaxis"]["title"]["text"] == "time step"
