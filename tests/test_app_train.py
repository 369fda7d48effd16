"""The Train page (landing) through streamlit.testing: controls, buttons, live settings, divergence."""

import time

import numpy as np
import pytest
from app_helpers import (
    array_len,
    array_values,
    button_labels,
    chart_elements,
    chart_specs,
    chart_titled,
    click,
    go,
    metric,
    metric_delta,
    number,
    open_app,
    press,
    run_until,
    session,
    sidebar_text,
    texts,
    trainer,
    use_text,
)

from dashboard.session import button_key, key
from rnn_core.settings import PRESETS, SCHEMA
from rnn_core.trainer import Trainer


def reset_warnings(at) -> list[str]:
    return [w.value for w in at.warning if "Reset" in w.value]


def test_landing_page_is_train_ready_with_the_sine_task():
    at = open_app()
    assert at.title[0].value == "Train"
    for label in ("Start", "Pause", "Step", "Step ×N", "Reset"):
        assert label in button_labels(at)
    assert metric(at, "Step") == "0"
    assert metric(at, "Validation RMSE") != "—"
    assert "vs persistence" in str([m.proto.delta_description for m in at.metric])
    ds = session(at).dataset
    assert ds.kind == "regression" and ds.seq_len == 50 and ds.train_windows == 100 and ds.val_windows == 50
    # the sidebar status names the data and the model
    side = sidebar_text(at)
    assert "Sine" in side and "RNN" in side and "paused" in side


def test_step_takes_exactly_one_update():
    at = open_app()
    press(at, "step")
    assert not at.exception
    # The worker takes the step on its own: on a loaded machine the first rerun may come first.
    assert run_until(at, lambda: session(at).state.mode == "paused")
    assert metric(at, "Step") == "1"
    assert trainer(at).step_count == 1
    assert session(at).state.pending_steps == 0 and session(at).state.mode == "paused"


def test_step_n_takes_n_updates():
    at = open_app()
    at.number_input(key=key("step_n")).set_value(7).run()
    press(at, "step_n")
    # Step ×N trains in the worker on its own: on a busy machine the first run may see only some
    # of the steps, and the fragment's next reruns the rest.
    assert run_until(at, lambda: session(at).state.pending_steps == 0)
    assert not at.exception
    assert trainer(at).step_count == 7
    assert metric(at, "Step") == "7"
    assert session(at).state.mode == "paused"


def test_the_loss_chart_shows_the_evaluation_of_the_weights_shown_once_paused(monkeypatch):
    from dashboard import live

    at = open_app()
    at.number_input(key=key("step_n")).set_value(7).run()
    # No evaluation comes with the answers while the steps are taken: only the paused page's.
    monkeypatch.setattr(live, "EVAL_MIN_INTERVAL", 1e9)
    session(at).run.last_eval_time = time.perf_counter()
    press(at, "step_n")
    assert run_until(at, lambda: session(at).state.mode == "paused")
    at.run()  # a page drawn paused, as after any click
    step = trainer(at).step_count
    assert step == 7
    validation = [t for t in chart_titled(at, "Loss")["data"] if t.get("name") == "validation"]
    assert validation, "no validation curve on the loss chart"
    # The metric tiles show the exact evaluation at this step: so does the chart's curve.
    assert step in array_values(validation[0]["x"]).astype(int)


def test_start_trains_and_pause_stops():
    at = open_app()
    press(at, "start")
    assert not at.exception
    assert session(at).state.mode == "running"
    assert at.button(key=button_key("start")).disabled and not at.button(key=button_key("pause")).disabled
    # The worker trains on its own, at a lower priority: on a loaded machine the first refresh
    # may come before its first step.
    assert run_until(at, lambda: trainer(at).step_count > 0)
    after_start = trainer(at).step_count
    assert run_until(at, lambda: trainer(at).step_count > after_start)  # and it goes on
    press(at, "pause")
    assert session(at).state.mode == "paused"
    paused_at = trainer(at).step_count
    at.run()
    assert trainer(at).step_count == paused_at
    assert metric(at, "Step") == str(paused_at)


def test_steps_per_second_shows_the_last_rate_when_paused_not_zero():
    at = open_app()
    assert metric(at, "Steps/s") == "—"  # nothing measured yet
    press(at, "start")
    at.run().run()  # two ticks logged before the third draws the numbers
    running = metric(at, "Steps/s")
    assert number(running) > 0 and metric_delta(at, "Steps/s") == ""
    press(at, "pause")
    paused = metric(at, "Steps/s")
    assert number(paused) > 0 and metric_delta(at, "Steps/s") == "paused"
    at.run()
    assert metric(at, "Steps/s") == paused  # the last measured rate stays while paused
    press(at, "reset")
    assert metric(at, "Steps/s") == "—"


def test_speed_setting_caps_updates_per_refresh():
    at = open_app()
    at.select_slider(key=key("speed")).set_value("2").run()
    press(at, "start")
    first = trainer(at).step_count
    at.run()
    assert first == 2 and trainer(at).step_count == 4


def test_reset_reinitialises_with_the_same_seed():
    at = open_app()
    before = {k: v.copy() for k, v in trainer(at).network.params.items()}
    at.number_input(key=key("step_n")).set_value(5).run()
    press(at, "step_n")
    assert run_until(at, lambda: session(at).state.pending_steps == 0)
    assert trainer(at).step_count == 5
    press(at, "reset")
    assert not at.exception
    assert trainer(at).step_count == 0
    assert metric(at, "Step") == "0"
    for k, v in trainer(at).network.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_learning_rate_schedule_and_clipping_apply_mid_training_without_reset():
    at = open_app()
    press(at, "step")
    tr = trainer(at)
    # Any learning rate can be typed, not only a slider's choices.
    at.number_input(key=key("lr")).set_value(0.0017).run()
    at.selectbox(key=key("lr_schedule")).set_value("constant").run()
    # Clipping is two numbers where 0 means off: value clipping only.
    at.number_input(key=key("clip_norm")).set_value(0.0).run()
    at.number_input(key=key("clip_value")).set_value(2.5).run()
    assert not at.exception
    assert trainer(at) is tr and tr.step_count == 1
    tc = tr.train_config
    assert tc.lr == 0.0017 and tc.lr_schedule == "constant"
    assert tc.clip_norm is None and tc.clip_value == pytest.approx(2.5)
    assert at.number_input(key=key("lr")).value == 0.0017
    assert not reset_warnings(at)
    # the next update uses the new rate (constant schedule: exactly the rate typed)
    press(at, "step")
    assert not at.exception and tr.step_count == 2
    assert tr.history.downsample(10, columns=["lr"])["lr"][-1] == pytest.approx(0.0017, rel=1e-12)


def test_zero_switches_off_the_settings_that_can_be_off():
    at = open_app()
    at.number_input(key=key("bptt")).set_value(4).run()
    at.number_input(key=key("clip_value")).set_value(3.0).run()
    assert (session(at).settings.bptt, session(at).settings.clip_value) == (4, 3.0)
    at.number_input(key=key("bptt")).set_value(0).run()
    at.number_input(key=key("clip_value")).set_value(0.0).run()
    at.number_input(key=key("clip_norm")).set_value(0.0).run()
    assert not at.exception
    s = session(at).settings
    assert (s.bptt, s.clip_norm, s.clip_value) == (None, None, None)
    press(at, "reset")
    tc = trainer(at).train_config
    assert (tc.bptt, tc.clip_norm, tc.clip_value) == (None, None, None)
    assert at.number_input(key=key("bptt")).value == 0 and at.number_input(key=key("clip_norm")).value == 0


def test_shape_changes_wait_for_reset_and_say_so():
    at = open_app()
    at.number_input(key=key("hidden_size")).set_value(16).run()
    at.selectbox(key=key("cell")).set_value("gru").run()
    warnings = " ".join(reset_warnings(at))
    assert "hidden size: 32 → 16" in warnings and "cell: rnn → gru" in warnings
    assert trainer(at).config.hidden_size == 32
    press(at, "reset")
    assert not at.exception
    assert trainer(at).config.hidden_size == 16 and trainer(at).config.cell == "gru"
    assert not reset_warnings(at)


def test_every_hyperparameter_widget_reaches_the_trainer():
    at = open_app()
    # settings that only apply to one cell or optimizer are enabled once it is chosen
    at.selectbox(key=key("cell")).set_value("lstm")
    at.selectbox(key=key("optimizer")).set_value("momentum")
    at.run()
    at.number_input(key=key("num_layers")).set_value(2)
    at.number_input(key=key("forget_bias")).set_value(2.0)
    at.number_input(key=key("hidden_size")).set_value(24)
    at.number_input(key=key("seq_len")).set_value(20)
    at.number_input(key=key("batch_size")).set_value(8)
    at.number_input(key=key("momentum")).set_value(0.5)
    at.number_input(key=key("bptt")).set_value(4)
    at.selectbox(key=key("init")).set_value("orthogonal")
    at.number_input(key=key("seed")).set_value(3)
    at.selectbox(key=key("dtype")).set_value("float32")
    at.number_input(key=key("lr")).set_value(0.02)
    at.selectbox(key=key("lr_schedule")).set_value("constant")
    at.number_input(key=key("steps")).set_value(800)
    at.number_input(key=key("weight_decay")).set_value(0.001)
    at.number_input(key=key("clip_norm")).set_value(2.0)
    at.number_input(key=key("clip_value")).set_value(3.0)
    at.run()
    press(at, "reset")
    assert not at.exception
    tr = trainer(at)
    cfg, tc = tr.config, tr.train_config
    assert (cfg.cell, cfg.num_layers, cfg.hidden_size, cfg.init, cfg.dtype) == (
        "lstm",
        2,
        24,
        "orthogonal",
        "float32",
    )
    assert cfg.forget_bias == 2.0
    assert (tc.optimizer, tc.momentum, tc.batch_size, tc.bptt, tc.seed) == ("momentum", 0.5, 8, 4, 3)
    assert (tc.lr, tc.lr_schedule, tc.steps, tc.weight_decay) == (0.02, "constant", 800, 0.001)
    assert (tc.clip_norm, tc.clip_value) == (2.0, 3.0)
    assert tr.dataset.seq_len == 20
    assert not reset_warnings(at)
    # LSTM: the internals panel offers the gate view; choose it and a layer
    at.radio(key=key("inside")).set_value("gates").run()
    at.selectbox(key=key("layer")).set_value(1).run()
    assert not at.exception
    assert chart_titled(at, "gates, layer 1")
    press(at, "step")
    assert not at.exception and trainer(at).step_count == 1


def test_tutorial_preset_reproduces_the_tutorials_settings():
    at = open_app()
    at.selectbox(key=key("preset")).set_value("tutorial").run()
    assert "Tutorials" in PRESETS["tutorial"].label
    press(at, "preset")  # Load preset: fills in the settings
    assert trainer(at).config.hidden_size == 32  # nothing rebuilt before Reset
    press(at, "reset")
    assert not at.exception
    tr = trainer(at)
    cfg, tc = tr.config, tr.train_config
    assert (cfg.cell, cfg.nonlinearity, cfg.hidden_size, cfg.init) == ("rnn", "sigmoid", 100, "uniform")
    assert (tc.optimizer, tc.bptt, tc.clip_value, tc.clip_norm, tc.seed) == ("sgd", 5, 10.0, None, 12161)
    assert tc.lr == pytest.approx(1e-4)
    assert at.number_input(key=key("hidden_size")).value == 100
    press(at, "step")
    assert trainer(at).step_count == 1


def blow_up(at):
    """Train 60 healthy steps (SGD at 0.001, relu, no clipping), then Start at lr 10 until it diverges.

    Returns the settings the healthy steps were taken with.
    """
    at.selectbox(key=key("preset")).set_value("blowup").run()
    press(at, "preset")
    at.number_input(key=key("lr")).set_value(0.001).run()
    press(at, "reset")
    at.number_input(key=key("step_n")).set_value(60).run()
    press(at, "step_n")
    assert run_until(at, lambda: session(at).state.pending_steps == 0)
    assert trainer(at).step_count == 60 and not trainer(at).diverged
    healthy_settings = session(at).run.built
    at.number_input(key=key("lr")).set_value(10.0).run()
    assert trainer(at).train_config.lr == 10.0  # live: no Reset
    press(at, "start")
    assert run_until(at, lambda: session(at).run.divergence is not None), (
        "lr 10 without clipping should blow up"
    )
    assert not at.exception
    return healthy_settings


def test_divergence_pauses_explains_and_offers_a_rollback_to_the_last_healthy_step():
    at = open_app()
    healthy_settings = blow_up(at)
    sess = session(at)
    tr = trainer(at)
    assert sess.state.mode == "paused"
    assert "diverged" in sidebar_text(at)
    [notice] = [e.value for e in at.error if "diverged" in e.value]
    healthy = tr.healthy_step
    assert healthy is not None and 0 < healthy <= 60  # a state from before the learning rate went up
    assert f"step {healthy:,}" in notice
    # no "+nan" under a validation score that could not be computed
    assert "nan" not in metric_delta(at, "Validation RMSE").lower()
    # the count shown is the trainer's, and it stays paused
    assert metric(at, "Step") == f"{tr.step_count:,}"
    stopped = tr.step_count
    at.run()
    assert tr.step_count == stopped and sess.state.mode == "paused"
    # Roll back: the weights of the healthy step, exactly those a fresh run reaches in as many steps
    assert "Roll back" in button_labels(at)
    press(at, "roll_back")
    assert not at.exception
    assert trainer(at) is tr and tr.step_count == healthy
    assert all(np.isfinite(p).all() for p in tr.network.params.values())
    replay = Trainer(tr.dataset, healthy_settings.model_config(), healthy_settings.train_config())
    replay.run(healthy)
    for k, v in replay.network.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v, err_msg=k)
    # the settings stay as they are (lr 10), the notice is gone, the page says where it is
    assert tr.train_config.lr == 10.0 and session(at).settings.lr == 10.0
    assert session(at).run.divergence is None and session(at).state.mode == "paused"
    assert not [e for e in at.error if "diverged" in e.value]
    assert any(f"step {healthy:,}" in s.value for s in at.success)
    assert metric(at, "Step") == f"{healthy:,}"


def test_rolling_back_with_the_advice_changes_the_settings_it_names():
    at = open_app()
    blow_up(at)
    tr = trainer(at)
    healthy = tr.healthy_step
    advice = tr.divergence_advice()
    advised = dict(advice["settings"])
    assert advised.get("lr", 10.0) < 10.0, advised  # lr 10 without clipping: a lower rate is advised
    # why it blew up and what to change, in a sentence on the page
    assert advice["text"] in texts(at.caption) and "learning rate" in advice["text"]
    [label] = [b for b in button_labels(at) if b.startswith("Roll back and")]
    for name, value in advised.items():
        assert f"{SCHEMA[name].phrase} {SCHEMA[name].format(value)}" in label, (name, label)
    click(at, label)
    assert not at.exception
    sess = session(at)
    assert trainer(at) is tr and tr.step_count == healthy and sess.run.divergence is None
    for name, value in advised.items():
        assert getattr(sess.settings, name) == value, name
        assert getattr(tr.train_config, name) == value, name  # live settings reach the trainer at once
    assert not reset_warnings(at)


def test_heatmap_window_and_split_controls():
    at = open_app()
    at.radio(key=key("split")).set_value("train").run()
    at.slider(key=key("window")).set_value(99).run()
    assert not at.exception
    assert (session(at).view.split, session(at).view.window) == ("train", 99)
    at.slider(key=key("window")).set_value(3).run()
    assert not at.exception
    assert session(at).view.window == 3


def test_pages_keep_settings_and_training_state_when_switching():
    at = open_app()
    at.number_input(key=key("hidden_size")).set_value(12).run()
    press(at, "start")
    go(at, "data")
    # training goes on behind other pages
    running_on_data_page = trainer(at).step_count
    at.run()
    assert trainer(at).step_count > running_on_data_page
    go(at, "train")
    assert at.number_input(key=key("hidden_size")).value == 12
    assert session(at).settings.hidden_size == 12
    assert session(at).state.mode == "running"


def test_big_models_heatmap_shows_a_readable_slice():
    at = open_app()
    at.number_input(key=key("hidden_size")).set_value(200).run()
    press(at, "reset")
    assert not at.exception
    [heat] = [s for s in chart_specs(at) if s["layout"]["title"]["text"].startswith("Hidden activations")]
    assert heat["data"][0]["type"] == "heatmap" and "first 128 units" in heat["layout"]["title"]["text"]
    z = heat["data"][0]["z"]
    rows = z["shape"].split(",")[0] if isinstance(z, dict) else len(z)
    assert int(rows) == 128


def test_sine_charts_name_their_x_axis_time_step():
    at = open_app()
    pred = chart_titled(at, "predictions")
    assert pred["layout"]["xaxis"]["title"]["text"] == "time step"


def test_live_charts_keep_their_element_and_their_zoom_revision_while_training():
    # The browser updates a chart in place when the element's key is the same on the next run,
    # and plotly keeps a zoom across updates only while the figure's uirevision stays the same.
    import json

    def charts(at) -> dict[str, tuple[str, dict]]:
        return {
            eid: (json.loads(data["figure"])["layout"].get("uirevision"), data["config"])
            for eid, data in chart_elements(at)
        }

    at = open_app()
    paused = charts(at)
    assert len(paused) == 4 and all(rev for rev, _ in paused.values())
    press(at, "start")
    moving = charts(at)
    assert moving.keys() == paused.keys()
    assert [rev for rev, _ in moving.values()] == [rev for rev, _ in paused.values()]
    # interactive while training too: a zoom taken during training has to stay
    assert not any(cfg.get("staticPlot") for _, cfg in moving.values())
    press(at, "pause")
    assert charts(at).keys() == paused.keys()


def test_the_through_time_views_update_while_training_and_close_on_request():
    at = open_app()
    assert len(chart_specs(at)) == 4  # closed until asked for: the page stays light for a class
    at.toggle(key=key("time_views")).set_value(True).run()
    titles = [s["layout"]["title"]["text"] for s in chart_specs(at)]
    views = {"Gradient through time", "Gradient reach over training", "Recurrent spectrum, layer 0",
             "Memory: what the prediction looks back at", "State trajectory, layer 0",
             "Spectrum and step Jacobian over training"}  # fmt: skip
    assert views <= set(titles)
    flow = chart_titled(at, "Gradient through time")
    assert len(flow["data"]) == 1 and array_len(flow["data"][0]["x"]) >= 2  # one layer's h, by lag
    press(at, "start")
    log = session(at).run.memo["tt_log"]
    deadline = time.monotonic() + 60
    while len(log) < 3 and time.monotonic() < deadline:  # measured every 2 s while training
        time.sleep(0.3)
        at.run()
    assert len(log) >= 3
    assert len({e["step"] for e in log}) == len(log)
    assert "Memory span" in [m.label for m in at.metric]
    span = session(at).run.trainer.through_time("val", 0, 0)["span"]
    assert metric(at, "Memory span") == f"{span} steps" and 0 <= span < session(at).settings.seq_len
    press(at, "pause")
    at.toggle(key=key("time_views")).set_value(False).run()
    titles = [s["layout"]["title"]["text"] for s in chart_specs(at)]
    assert len(titles) == 4 and "Gradient through time" not in titles
    assert "Memory span" not in [m.label for m in at.metric]
    go(at, "data")
    go(at, "train")
    assert not at.toggle(key=key("time_views")).value  # the choice survives a page switch


def test_on_text_the_memory_view_shades_each_character_by_its_pull_on_the_next():
    at = open_app()
    use_text(at)
    go(at, "train")
    at.toggle(key=key("time_views")).set_value(True).run()
    assert not at.exception
    found = session(at).run.trainer.through_time("val", 0, 0)["influence"]
    [shaded] = [h.proto.body for h in at.get("html") if "→" in h.proto.body]
    assert shaded.count("<span title=") == len(found["text"]) == session(at).dataset.seq_len
    peak = max(found["values"])
    strongest = int(np.argmax(found["values"]))
    full = f'title="{found["values"][strongest]:.3g}" style="background: rgba(209, 73, 91, 1.00)"'
    assert full in shaded  # the strongest pull gets the full shade
    assert peak > 0 and "next character" in " ".join(m.value for m in at.markdown)


def test_text_neurons_shade_the_chosen_units_activation_and_rank_the_trackers():
    at = open_app()
    use_text(at)
    go(at, "train")
    at.toggle(key=key("time_views")).set_value(True).run()
    found = session(at).run.trainer.through_time("val", 0, 0)["neurons"]
    [table] = [d.value for d in at.dataframe if "Tracks" in getattr(d.value, "columns", [])]
    assert list(table["Unit"]) == [u for u, _, _ in found["ranking"]]
    at.selectbox(key=key("neuron")).set_value(2).run()
    [shaded] = [
        h.proto.body for h in at.get("html") if h.proto.body.count("<span title=") == len(found["text"])
    ]
    assert f'title="{found["states"][0, 2]:.2f}"' in shaded  # unit 2's activation, not the best tracker's
