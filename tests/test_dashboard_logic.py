"""The dashboard's plain-Python parts: settings dataclasses, data specs, the load boundary."""

import dataclasses
import logging

import numpy as np
import pytest

from dashboard import controls, datasource, panels, state
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import SINE_PRESETS
from rnn_core.errors import PlaygroundError


def test_hyperparams_map_onto_train_config_with_clipping_modes():
    hp = controls.Hyperparams(optimizer="sgd", lr=1e-4, bptt=5, clip_mode="value", clip_value=10.0, seed=7)
    tc = hp.train_config()
    assert (tc.optimizer, tc.lr, tc.bptt, tc.clip_norm, tc.clip_value, tc.seed) == (
        "sgd",
        1e-4,
        5,
        None,
        10.0,
        7,
    )
    assert controls.Hyperparams(bptt=0).train_config().bptt is None
    assert controls.Hyperparams(clip_mode="none").clipping == (None, None)
    assert controls.Hyperparams(clip_mode="both", clip_norm=2.0, clip_value=3.0).clipping == (2.0, 3.0)


def test_invalid_settings_are_refused_by_the_engine_config():
    with pytest.raises(PlaygroundError):
        controls.Hyperparams(batch_size=0).train_config()


def test_reset_is_needed_for_shape_changes_but_not_for_live_ones():
    built = controls.Hyperparams()
    live = dataclasses.replace(built, lr=0.1, clip_mode="value", clip_value=2.0)
    assert live.changes_needing_reset(built) == []
    assert live.live_changes(built)
    shaped = dataclasses.replace(built, hidden_size=64, cell="lstm", window=20)
    changes = shaped.changes_needing_reset(built)
    assert (
        "hidden size: 32 → 64" in changes
        and "cell: rnn → lstm" in changes
        and "window length: 50 → 20" in changes
    )
    assert not shaped.live_changes(built)


def test_every_preset_is_valid_and_the_tutorial_one_matches_the_tutorials():
    for name in controls.PRESETS:
        hp = controls.Hyperparams(**controls.preset_values(name))
        hp.train_config()
        ModelConfig(**{k: v for k, v in hp.model_kwargs().items()})
        assert hp.lr in controls.LR_CHOICES, name
    tutorial = controls.Hyperparams(
        **controls.preset_values(next(n for n in controls.PRESETS if "Tutorial" in n))
    )
    assert (tutorial.nonlinearity, tutorial.hidden_size, tutorial.lr, tutorial.optimizer) == (
        "sigmoid",
        100,
        1e-4,
        "sgd",
    )
    assert (tutorial.bptt, tutorial.clipping, tutorial.init, tutorial.seed) == (
        5,
        (None, 10.0),
        "uniform",
        12161,
    )


def test_settings_recovered_from_a_loaded_models_configs():
    model = ModelConfig(cell="gru", hidden_size=12, num_layers=2, init="orthogonal", dtype="float32")
    train = TrainConfig(optimizer="rmsprop", lr=0.0029, clip_norm=None, clip_value=4.0, bptt=7, seed=3)
    hp = controls.hyperparams_from_configs(model, train, window=30)
    assert (hp.cell, hp.hidden_size, hp.num_layers, hp.dtype, hp.window) == ("gru", 12, 2, "float32", 30)
    assert hp.lr == 3e-3  # snapped to the nearest choice the slider offers
    assert (hp.clip_mode, hp.clip_value, hp.bptt, hp.seed) == ("value", 4.0, 7, 3)


def test_a_snapped_learning_rate_is_mentioned_and_an_exact_one_is_not():
    note = state.lr_note(0.002, 3e-3)
    assert "learning rate 0.002" in note and "shown as 0.003" in note
    assert "goes on at 0.002" in note
    assert state.lr_note(1e-3, 1e-3) == ""
    assert state.lr_note(0.1 + 0.2 - 0.2, 0.1) == ""  # float noise is not a different rate


def test_sine_presets_become_widget_values():
    two_tone = controls.sine_settings_from_preset(SINE_PRESETS["two-tone"])
    assert two_tone.frequency == pytest.approx(0.3)
    assert (two_tone.amplitude2, two_tone.frequency2) == (0.5, 1.1)
    kw = two_tone.kwargs()
    assert kw["extra_sines"] == [{"amplitude": 0.5, "frequency": 1.1}]
    assert "extra_sines" not in controls.SineSettings().kwargs()


def test_data_specs_compare_by_content_and_build_for_a_window():
    a = datasource.sine_spec(controls.SineSettings().kwargs())
    b = datasource.sine_spec(controls.SineSettings().kwargs())
    assert a == b and hash(a) == hash(b)
    assert a != datasource.sine_spec(controls.SineSettings(noise=0.1).kwargs())
    ds = a.build(20)
    assert ds.seq_len == 20 and ds.raw.shape == (200, 1)
    two = datasource.sine_spec(controls.sine_settings_from_preset(SINE_PRESETS["two-tone"]).kwargs())
    np.testing.assert_allclose(
        two.build(50).raw[:, 0], np.sin(0.3 * np.arange(200)) + 0.5 * np.sin(1.1 * np.arange(200))
    )

    t1 = datasource.text_spec("hello " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    t2 = datasource.text_spec("hello " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    t3 = datasource.text_spec("HELLO " * 100, "t", lowercase=False, val_fraction=0.1, max_vocab=0)
    assert t1 == t2 and t1 != t3
    assert t1.build(8).vocab_size == 5


def test_guarded_turns_errors_into_messages_without_tracebacks(caplog):
    ok, err = datasource.guarded("do it", lambda: 42)
    assert (ok, err) == (42, None)

    def user_error():
        raise PlaygroundError("CSV has no numeric column; found: name, city")

    assert datasource.guarded("read", user_error) == (None, "CSV has no numeric column; found: name, city")

    def bug():
        raise KeyError("internal detail")

    with caplog.at_level(logging.ERROR):
        result, err = datasource.guarded("load the model", bug)
    assert result is None
    assert err.startswith("Could not load the model: unexpected KeyError")
    assert "internal detail" not in err and "Traceback" not in err
    assert "internal detail" in caplog.text  # the details go to the server log


def test_csv_spec_keeps_the_table_out_of_equality():
    class Table:  # stands in for a parsed table; only its digest takes part in comparisons
        pass

    one = datasource.csv_spec(
        Table(), "a.csv", "abc", target="y", inputs=("x",), missing="drop", val_fraction=0.2
    )
    two = datasource.csv_spec(
        Table(), "a.csv", "abc", target="y", inputs=("x",), missing="drop", val_fraction=0.2
    )
    assert one == two
    assert one != dataclasses.replace(two, payload_id="other")


def test_metric_numbers_fit_their_tiles():
    assert panels.fmt(None) == "—" and panels.fmt(float("nan")) == "—"
    assert panels.fmt(0.000412, ".3g") == "4.12e-04"
    assert panels.fmt(0.0629, ".3g") == "0.0629"
    assert panels.fmt(12.5, ".3f") == "12.500"


@pytest.mark.parametrize(
    ("epoch", "shown"),
    [(0.0, "0.00"), (2.24, "2.24"), (42.125, "42.1"), (193.56, "194"), (12345.4, "12,345")],
)
def test_epoch_metric_stays_short(epoch, shown):
    assert panels.format_epoch(epoch) == shown
