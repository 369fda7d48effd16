"""The dashboard's plain-Python parts: run settings, rebuild notes, data specs, the load boundary."""

import dataclasses
import logging

import numpy as np
import pytest

from dashboard.actions import load_note, rebuild_notes
from dashboard.format import fmt, format_epoch
from dashboard.guard import guarded
from dashboard.session import Run, Session
from dashboard.sources import csv as csv_source
from dashboard.sources import sine, text
from rnn_core.config import ModelConfig, RunSettings, SineSettings, TrainConfig
from rnn_core.data import SINE_PRESETS, sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.settings import PRESETS
from rnn_core.trainer import Trainer


def test_run_settings_map_onto_train_config_with_either_clipping():
    rs = RunSettings(optimizer="sgd", lr=1e-4, bptt=5, clip_norm=None, clip_value=10.0, seed=7)
    tc = rs.train_config()
    assert (tc.optimizer, tc.lr, tc.bptt, tc.clip_norm, tc.clip_value, tc.seed) == (
        "sgd",
        1e-4,
        5,
        None,
        10.0,
        7,
    )
    none = RunSettings(clip_norm=None, clip_value=None).train_config()
    assert (none.clip_norm, none.clip_value) == (None, None)
    both = RunSettings(clip_norm=2.0, clip_value=3.0).train_config()
    assert (both.clip_norm, both.clip_value) == (2.0, 3.0)
    mc = RunSettings(cell="gru", hidden_size=12, num_layers=2).model_config()
    assert (mc.cell, mc.hidden_size, mc.num_layers) == ("gru", 12, 2)


def test_invalid_settings_are_refused_and_the_session_keeps_the_old_value():
    with pytest.raises(PlaygroundError, match="batch"):
        RunSettings(batch_size=0)
    sess = Session()
    before = sess.settings
    with pytest.raises(PlaygroundError):
        sess.set_value("batch_size", 0)
    assert sess.settings is before
    sess.set_value("batch_size", 8)
    assert sess.settings.batch_size == 8 and sess.value("batch_size") == 8


def _session_built_with(built: RunSettings) -> Session:
    # rebuild_notes only compares the settings with what the run was built from
    return Session(settings=built, runs=[Run(trainer=None, built=built)])


def test_reset_is_needed_for_shape_changes_but_not_for_live_ones():
    built = RunSettings()
    sess = _session_built_with(built)
    sess.settings = dataclasses.replace(built, lr=0.1, clip_norm=None, clip_value=2.0)
    assert rebuild_notes(sess) == []
    assert set(sess.settings.differences(built, live=True)) == {"lr", "clip_norm", "clip_value"}
    sess.settings = dataclasses.replace(built, hidden_size=64, cell="lstm", seq_len=20)
    notes = rebuild_notes(sess)
    assert (
        "hidden size: 32 → 64" in notes
        and "cell: rnn → lstm" in notes
        and "sequence length: 50 → 20" in notes
    )
    assert len(notes) == 3
    assert sess.settings.differences(built, live=True) == []


def test_every_preset_is_valid_and_kept_exactly_and_the_tutorial_one_matches_the_tutorials():
    for name, preset in PRESETS.items():
        rs = RunSettings(**preset.values)
        rs.train_config()
        rs.model_config()
        for k, v in preset.values.items():  # no value is moved to a widget's nearest choice
            assert getattr(rs, k) == v, (name, k)
    tutorial = RunSettings(**PRESETS["tutorial"].values)
    assert (tutorial.nonlinearity, tutorial.hidden_size, tutorial.lr, tutorial.optimizer) == (
        "sigmoid",
        100,
        1e-4,
        "sgd",
    )
    assert (tutorial.bptt, tutorial.clip_norm, tutorial.clip_value, tutorial.init, tutorial.seed) == (
        5,
        None,
        10.0,
        "uniform",
        12161,
    )


def test_settings_recovered_from_a_loaded_models_configs_are_exact():
    model = ModelConfig(cell="gru", hidden_size=12, num_layers=2, init="orthogonal", dtype="float32")
    train = TrainConfig(optimizer="rmsprop", lr=0.0029, clip_norm=None, clip_value=4.0, bptt=7, seed=3)
    rs = RunSettings.from_configs(model, train, 30)
    assert (rs.cell, rs.hidden_size, rs.num_layers, rs.dtype, rs.seq_len) == ("gru", 12, 2, "float32", 30)
    # Formerly snapped to 3e-3, the nearest choice of the learning-rate slider; now kept as saved.
    assert rs.lr == 0.0029
    assert (rs.clip_norm, rs.clip_value, rs.bptt, rs.seed, rs.optimizer) == (None, 4.0, 7, 3, "rmsprop")


def _loaded(optimizer: str, steps: int) -> Trainer:
    ds = sine_dataset(seq_len=10)
    tr = Trainer.create(ds, train=TrainConfig(optimizer=optimizer, lr=0.002))
    tr.run(steps)
    return Trainer.load(tr.save(), ds)


def test_the_load_note_says_where_training_goes_on_and_what_starts_fresh():
    adam = load_note(_loaded("adam", 4))
    assert "from step 4" in adam and "optimizer state" in adam and "Adam" in adam
    assert "RNN" in adam and "32 units" in adam
    # the learning rate is shown exactly, so there is nothing to explain about it
    assert "shown as" not in adam and "slider" not in adam
    sgd = load_note(_loaded("sgd", 3))
    assert "from step 3" in sgd and "optimizer state" not in sgd and "start fresh" in sgd
    fresh = load_note(_loaded("adam", 0))
    assert "from step" not in fresh and "from 0" in fresh


def test_sine_presets_become_widget_values():
    two_tone = sine.settings_from_preset(SINE_PRESETS["two-tone"])
    assert two_tone.sine_frequency == pytest.approx(0.3)
    assert (two_tone.sine_amplitude2, two_tone.sine_frequency2) == (0.5, 1.1)
    kw = two_tone.kwargs()
    assert kw["extra_sines"] == [{"amplitude": 0.5, "frequency": 1.1}]
    assert "extra_sines" not in SineSettings().kwargs()
    damped = sine.settings_from_preset(SINE_PRESETS["damped"])
    assert (damped.sine_length, damped.sine_frequency, damped.sine_damping) == (400, 0.25, 0.006)


def test_data_specs_compare_by_content_and_build_for_a_sequence_length():
    a = sine.spec(SineSettings())
    b = sine.spec(SineSettings())
    assert a == b and hash(a) == hash(b)
    assert a != sine.spec(SineSettings(sine_noise=0.1))
    ds = a.build(20)
    assert ds.seq_len == 20 and ds.raw.shape == (200, 1)
    two = sine.spec(sine.settings_from_preset(SINE_PRESETS["two-tone"]))
    assert hash(two) == hash(sine.spec(sine.settings_from_preset(SINE_PRESETS["two-tone"])))
    np.testing.assert_allclose(
        two.build(50).raw[:, 0], np.sin(0.3 * np.arange(200)) + 0.5 * np.sin(1.1 * np.arange(200))
    )

    t1 = text.spec("hello " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    t2 = text.spec("hello " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    t3 = text.spec("HELLO " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    assert t1 == t2 and t1 != t3
    assert t1.build(8).vocab_size == 5


def test_guarded_turns_errors_into_messages_without_tracebacks(caplog):
    ok, err = guarded("do it", lambda: 42)
    assert (ok, err) == (42, None)

    def user_error():
        raise PlaygroundError("CSV has no numeric column; found: name, city")

    assert guarded("read", user_error) == (None, "CSV has no numeric column; found: name, city")

    def bug():
        raise KeyError("internal detail")

    with caplog.at_level(logging.ERROR):
        result, err = guarded("load the model", bug)
    assert result is None
    assert err.startswith("Could not load the model: unexpected KeyError")
    assert "internal detail" not in err and "Traceback" not in err
    assert "internal detail" in caplog.text  # the details go to the server log


def test_csv_spec_keeps_the_table_out_of_equality():
    class Table:  # stands in for a parsed table; only its digest takes part in comparisons
        pass

    one = csv_source.spec(
        Table(), "a.csv", "abc", target="y", inputs=("x",), missing="drop", val_fraction=0.2
    )
    two = csv_source.spec(
        Table(), "a.csv", "abc", target="y", inputs=("x",), missing="drop", val_fraction=0.2
    )
    assert one == two
    assert one != dataclasses.replace(two, payload_id="other")


def test_metric_numbers_fit_their_tiles():
    assert fmt(None) == "—" and fmt(float("nan")) == "—"
    assert fmt(0.000412, ".3g") == "4.12e-04"
    assert fmt(0.0629, ".3g") == "0.0629"
    assert fmt(12.5, ".3f") == "12.500"


@pytest.mark.parametrize(
    ("epoch", "shown"),
    [(0.0, "0.00"), (2.24, "2.24"), (42.125, "42.1"), (193.56, "194"), (12345.4, "12,345")],
)
def test_epoch_metric_stays_short(epoch, shown):
    assert format_epoch(epoch) == shown


def test_slow_steps_refresh_less_often_and_paused_runs_not_at_all():
    from dashboard import live

    def interval_after(cpu_per_step: float) -> float | None:
        sess = Session()
        tr = Trainer(sine_dataset(seq_len=8, length=64), ModelConfig(hidden_size=4))
        sess.runs = [Run(trainer=tr, built=RunSettings())]
        sess.set_mode("running")
        for _ in range(5):  # answers as the worker sends them: steps taken and their CPU time
            live._absorb(sess, sess.state, sess.run, {"taken": 12, "busy": 12 * cpu_per_step, "moving": True})
        return live.refresh_interval(sess)

    fast, lstm, glacial = interval_after(0.001), interval_after(0.033), interval_after(1.0)
    assert fast == pytest.approx(0.4)  # a quick sine run redraws as often as ever
    assert fast < lstm <= 1.0
    assert lstm / 0.033 >= 20  # a slow run shows a couple of dozen new steps per redraw
    assert glacial == pytest.approx(1.0)  # however slow, the page says something every second

    paused = Session()
    paused.runs = [Run(trainer=Trainer(sine_dataset(seq_len=8, length=64), ModelConfig(hidden_size=4)),
                       built=RunSettings())]  # fmt: skip
    assert live.refresh_interval(paused) is None
