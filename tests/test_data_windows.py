"""Windowing, split and normalisation properties of regression datasets (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.data import build_series_dataset
from rnn_core.errors import PlaygroundError


@st.composite
def series_cases(draw):
    seq_len = draw(st.integers(1, 12))
    n = draw(st.integers(seq_len + 2, seq_len + 60))
    c = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    frac = draw(st.floats(0.05, 0.9))
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, c)) * rng.uniform(0.1, 100, size=c) + rng.uniform(-50, 50, size=c)
    return raw, seq_len, frac


def _build(raw, seq_len, frac):
    cols = [f"c{i}" for i in range(raw.shape[1])]
    return build_series_dataset(raw, name="t", columns=cols, seq_len=seq_len, val_fraction=frac)


@settings(max_examples=60, deadline=None)
@given(series_cases())
def test_every_target_is_the_row_right_after_its_window(case):
    raw, seq_len, frac = case
    ds = _build(raw, seq_len, frac)
    for X, y, idx in ((ds.train_X, ds.train_y, ds.train_idx), (ds.val_X, ds.val_y, ds.val_idx)):
        assert X.shape == (seq_len, len(idx), raw.shape[1])
        back = X * ds.input_scale + ds.input_shift
        for b, t in enumerate(idx):
            np.testing.assert_allclose(back[:, b, :], raw[t - seq_len : t], rtol=1e-9, atol=1e-9)
            assert ds.to_raw(y[b, 0]) == pytest.approx(raw[t, 0], rel=1e-9, abs=1e-9)
    assert ds.train_windows + ds.val_windows == raw.shape[0] - seq_len
    assert ds.train_windows >= 1 and ds.val_windows >= 1


@settings(max_examples=60, deadline=None)
@given(series_cases())
def test_no_validation_target_at_or_before_a_training_target(case):
    ds = _build(*case)
    assert ds.val_idx.min() > ds.train_idx.max()


@settings(max_examples=60, deadline=None)
@given(series_cases(), st.floats(-1e6, 1e6), st.integers(0, 10))
def test_statistics_come_from_the_training_rows_only(case, new_value, tail):
    raw, seq_len, frac = case
    ds = _build(raw, seq_len, frac)
    last = ds.train_idx.max()
    train_rows = raw[: last + 1]
    np.testing.assert_allclose(ds.input_shift, train_rows.mean(axis=0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ds.input_scale, train_rows.std(axis=0), rtol=1e-9)
    # changing anything after the last training target changes no statistic
    changed = raw.copy()
    changed[last + 1 :] = new_value
    ds2 = build_series_dataset(
        changed, name="t", columns=ds.columns, seq_len=seq_len, n_train=ds.train_windows
    )
    np.testing.assert_array_equal(ds2.input_shift, ds.input_shift)
    np.testing.assert_array_equal(ds2.input_scale, ds.input_scale)


@settings(max_examples=60, deadline=None)
@given(series_cases())
def test_denormalising_a_normalised_series_returns_it(case):
    raw, seq_len, frac = case
    ds = _build(raw, seq_len, frac)
    norm = ds.normalise(raw)
    np.testing.assert_allclose(norm * ds.input_scale + ds.input_shift, raw, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(ds.to_raw(norm[:, 0]), raw[:, 0], rtol=1e-12, atol=1e-9)
    assert ds.target_shift == ds.input_shift[0] and ds.target_scale == ds.input_scale[0]


def test_constant_column_gets_unit_scale_and_a_note():
    raw = np.column_stack([np.arange(20.0), np.full(20, 7.25)])
    ds = build_series_dataset(raw, name="t", columns=["a", "flat"], seq_len=3)
    assert ds.input_scale[1] == 1.0
    assert np.all(np.isfinite(ds.train_X)) and np.all(np.isfinite(ds.val_X))
    assert any("flat" in n and "constant" in n for n in ds.report["notes"])


def test_explicit_split_and_fraction_rule():
    raw = np.arange(30.0)
    ds = build_series_dataset(raw, name="t", columns=["v"], seq_len=5, val_fraction=0.2)
    assert (ds.train_windows, ds.val_windows) == (20, 5)  # 25 windows, round(5.0) validate
    ds = build_series_dataset(raw, name="t", columns=["v"], seq_len=5, n_train=24)
    assert (ds.train_windows, ds.val_windows) == (24, 1)


@pytest.mark.parametrize("n", [0, 1, 6])
def test_series_shorter_than_window_plus_two_names_the_minimum(n):
    with pytest.raises(PlaygroundError, match=r"at least 7 \(sequence length 5 \+ 2\)"):
        build_series_dataset(np.arange(float(n)), name="t", columns=["v"], seq_len=5)


def test_windows_are_views_not_copies():
    ds = build_series_dataset(np.arange(1000.0), name="t", columns=["v"], seq_len=50)
    assert not ds.train_X.flags.writeable
    assert ds.train_X.base is not None


def test_overflowing_values_are_a_playground_error():
    raw = np.tile([1e308, -1e308], 10)
    with pytest.raises(PlaygroundError, match="too large"):
        build_series_dataset(raw, name="t", columns=["v"], seq_len=3)
