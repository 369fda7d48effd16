"""The sine generator: the tutorials' default exactly, settings and presets."""

import numpy as np
import pytest
from data_helpers import loop_persistence

from rnn_core.data import SINE_PRESETS, sine_dataset, sine_series
from rnn_core.errors import PlaygroundError


def test_default_is_the_tutorials_task_exactly():
    ds = sine_dataset()
    wave = np.sin(np.arange(200))
    np.testing.assert_array_equal(ds.raw[:, 0], wave)
    assert ds.train_X.shape == (50, 100, 1) and ds.val_X.shape == (50, 50, 1)
    assert ds.train_y.shape == (100, 1) and ds.val_y.shape == (50, 1)
    # window k holds sin(k..k+49) and predicts sin(k+50); training windows k = 0..99
    for k in (0, 37, 99):
        np.testing.assert_allclose(ds.to_raw(ds.train_X[:, k, 0]), wave[k : k + 50], atol=1e-12)
        assert ds.to_raw(ds.train_y[k, 0]) == pytest.approx(wave[k + 50], abs=1e-12)
    for k in (0, 49):
        np.testing.assert_allclose(ds.to_raw(ds.val_X[:, k, 0]), wave[100 + k : 150 + k], atol=1e-12)
        assert ds.to_raw(ds.val_y[k, 0]) == pytest.approx(wave[150 + k], abs=1e-12)
    assert list(ds.val_idx) == list(range(150, 200))
    # statistics of rows 0..149 (the training windows and targets)
    assert ds.target_shift == pytest.approx(wave[:150].mean(), abs=1e-15)
    assert ds.target_scale == pytest.approx(wave[:150].std(), rel=1e-12)
    assert ds.input_size == 1 and ds.kind == "regression" and ds.x_label == "x"
    np.testing.assert_array_equal(ds.x_axis, np.arange(200.0))


def test_default_baselines_by_hand():
    ds = sine_dataset()
    wave = np.sin(np.arange(200))
    rmse, mae = loop_persistence(list(wave), range(150, 200))
    assert ds.baselines["persistence_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["persistence_mae"] == pytest.approx(mae, rel=1e-12)
    # a pure sinusoid obeys s[t] = 2 cos(1) s[t-1] - s[t-2]: a linear model is (almost) exact
    assert ds.baselines["linear_rmse"] < 1e-6


def test_generator_settings_compose():
    x, y = sine_series(
        length=300,
        amplitude=2.0,
        period=25.0,
        phase=0.5,
        extra_sines=[{"amplitude": 0.3, "frequency": 0.9}, {"amplitude": 0.1, "period": 7, "phase": 1.0}],
        trend=0.01,
        damping=0.002,
    )
    t = np.arange(300.0)
    expect = (
        2.0 * np.sin(2 * np.pi / 25 * t + 0.5) + 0.3 * np.sin(0.9 * t) + 0.1 * np.sin(2 * np.pi / 7 * t + 1.0)
    ) * np.exp(-0.002 * t) + 0.01 * t
    np.testing.assert_allclose(y, expect, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(x, t)


def test_noise_is_seeded():
    _, a = sine_series(noise=0.2, seed=3)
    _, b = sine_series(noise=0.2, seed=3)
    _, c = sine_series(noise=0.2, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    resid = a - np.sin(np.arange(200))
    assert 0.15 < resid.std() < 0.25


def test_other_length_uses_the_validation_fraction():
    ds = sine_dataset(length=500, seq_len=20, val_fraction=0.2)
    assert (ds.train_windows, ds.val_windows) == (384, 96)


@pytest.mark.parametrize("name", sorted(SINE_PRESETS))
def test_presets_build(name):
    ds = sine_dataset(**SINE_PRESETS[name])
    assert ds.train_windows > 0 and ds.val_windows > 0
    assert np.all(np.isfinite(ds.raw))
    assert set(ds.baselines) == {
        "persistence_rmse",
        "persistence_mae",
        "mean_rmse",
        "mean_mae",
        "linear_rmse",
        "linear_mae",
    }


def test_presets_cover_the_named_four():
    assert {"clean sine", "noisy sine", "two-tone", "damped"} <= set(SINE_PRESETS)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"length": 30}, "at least 52"),
        ({"frequency": 1.0, "period": 6.0}, "not both"),
        ({"noise": -1.0}, "noise"),
        ({"amplitude": float("nan")}, "amplitude"),
        ({"extra_sines": [{"frequency": 1.0}] * 3}, "at most 3 sines"),
        ({"extra_sines": [{"freq": 1.0}]}, "unknown setting"),
        ({"seq_len": 0}, "sequence length"),
        ({"period": 0}, "period"),
        ({"trend": 1e308}, "overflows.*trend"),
        ({"noise": 1e308, "amplitude": 1e308}, "overflows.*noise"),
    ],
)
def test_bad_settings_are_playground_errors(kwargs, words):
    with pytest.raises(PlaygroundError, match=words):
        sine_dataset(**kwargs)
