"""Rolling-origin folds: a worked layout, sliding windows of fixed length, the too-short error,
and properties over many shapes (no training row reaches its period, time order, tiling)."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.folds import backtest_folds


def test_expanding_folds_by_hand():
    # N = 100, min_train 40 -> 60 rows to score in 4 periods of 15: 40..54, 55..69, 70..84, 85..99
    folds = backtest_folds(100, folds=4, horizon=3, seq_len=5, min_train=40)
    assert [(f.score_start, f.score_end) for f in folds] == [(40, 54), (55, 69), (70, 84), (85, 99)]
    assert [(f.train_start, f.train_end) for f in folds] == [(0, 39), (0, 54), (0, 69), (0, 84)]
    # fold 0 origins: o + 1 >= 40 and o + 3 <= 54 -> 39..51
    np.testing.assert_array_equal(folds[0].origins, np.arange(39, 52))
    assert [f.index for f in folds] == [0, 1, 2, 3]


def test_sliding_folds_keep_the_training_length():
    # N = 103, min_train 40, 4 folds -> P = 63 // 4 = 15, the 3 left over go to training: 43 rows
    folds = backtest_folds(103, folds=4, horizon=3, seq_len=5, mode="sliding", min_train=40)
    assert [(f.train_start, f.train_end) for f in folds] == [(0, 42), (15, 57), (30, 72), (45, 87)]
    assert {f.train_rows for f in folds} == {43}
    assert folds[-1].score_end == 102


def test_default_training_part_is_half_the_series():
    folds = backtest_folds(200, folds=5, horizon=4, seq_len=10)
    # min_train 100 -> periods of 20 from row 100
    assert folds[0].train_rows == 100
    assert [f.score_start for f in folds] == [100, 120, 140, 160, 180]


def test_too_short_for_that_many_folds_says_how_many_fit():
    # 50 rows, 30 for training: 20 left; a 6-step horizon fits 20 // 6 = 3 periods
    with pytest.raises(PlaygroundError, match=r"at most 3 fold\(s\)"):
        backtest_folds(50, folds=5, horizon=6, seq_len=4, min_train=30)
    assert len(backtest_folds(50, folds=3, horizon=6, seq_len=4, min_train=30)) == 3
    with pytest.raises(PlaygroundError, match="too short for a backtest"):
        backtest_folds(33, folds=1, horizon=6, seq_len=4, min_train=30)


def test_bad_settings_are_refused():
    with pytest.raises(PlaygroundError, match="backtest mode"):
        backtest_folds(100, horizon=2, seq_len=3, mode="rolling")
    with pytest.raises(PlaygroundError, match="at least 7"):
        backtest_folds(100, horizon=2, seq_len=5, min_train=6)
    with pytest.raises(PlaygroundError, match="number of folds"):
        backtest_folds(100, folds=0, horizon=2, seq_len=3)


@settings(max_examples=300, deadline=None)
@given(
    n_rows=st.integers(5, 3000),
    folds=st.integers(1, 10),
    horizon=st.integers(1, 40),
    seq_len=st.integers(1, 50),
    mode=st.sampled_from(["expanding", "sliding"]),
    min_share=st.one_of(st.none(), st.floats(0.0, 0.95)),
)
def test_fold_properties(n_rows, folds, horizon, seq_len, mode, min_share):
    min_train = None if min_share is None else max(seq_len + 2, int(min_share * n_rows))
    M = max(seq_len + 2, n_rows // 2) if min_train is None else min_train
    try:
        out = backtest_folds(
            n_rows, folds=folds, horizon=horizon, seq_len=seq_len, mode=mode, min_train=min_train
        )
    except PlaygroundError as err:
        assert (n_rows - M) // folds < horizon  # it really does not fit
        said = re.search(r"at most (\d+) fold", str(err))
        if said:  # and the count it names does
            fit = int(said.group(1))
            assert fit < folds
            assert (
                len(backtest_folds(n_rows, folds=fit, horizon=horizon, seq_len=seq_len, min_train=M)) == fit
            )
        return
    assert len(out) == folds
    length = out[0].score_end - out[0].score_start + 1
    assert length >= horizon
    assert out[-1].score_end == n_rows - 1  # the periods tile the end ...
    assert out[0].train_rows >= M
    for i, f in enumerate(out):
        assert f.index == i
        assert f.score_end - f.score_start + 1 == length  # ... in equal lengths ...
        if i:
            assert f.score_start == out[i - 1].score_end + 1  # ... in time order, without gaps
        assert 0 <= f.train_start <= f.train_end < f.score_start  # training ends before scoring
        assert f.origins.size and f.origins.min() >= seq_len - 1  # a full window at every origin
        assert f.origins.min() + 1 >= f.score_start and f.origins.max() + horizon <= f.score_end
        # every origin whose horizon fits the period, computed here
        expected = [
            o
            for o in range(n_rows)
            if o + 1 >= f.score_start and o + horizon <= f.score_end and o >= seq_len - 1
        ]
        np.testing.assert_array_equal(f.origins, expected)
        if mode == "expanding":
            assert f.train_start == 0
        else:
            assert f.train_rows == out[0].train_rows
