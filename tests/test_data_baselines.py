"""Baselines recomputed independently: persistence and mean by loops, linear by lstsq, n-grams by hand."""

import json
import math

import numpy as np
import pytest
from data_helpers import loop_persistence, loop_rmse_mae, lstsq_linear

from rnn_core.data import build_series_dataset, ngram_bpc


def test_regression_baselines_match_independent_computations():
    rng = np.random.default_rng(5)
    n, seq_len = 120, 6
    t = np.arange(n)
    target = 10 + 3 * np.sin(t / 4) + rng.normal(0, 0.5, n)
    extra = 50 + 5 * np.cos(t / 7) + rng.normal(0, 1.0, n)
    raw = np.column_stack([target, extra])
    ds = build_series_dataset(raw, name="t", columns=["y", "x"], seq_len=seq_len, val_fraction=0.25)

    rmse, mae = loop_persistence(list(target), ds.val_idx)
    assert ds.baselines["persistence_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["persistence_mae"] == pytest.approx(mae, rel=1e-12)

    train_mean = sum(target[i] for i in ds.train_idx) / len(ds.train_idx)
    rmse, mae = loop_rmse_mae([train_mean] * len(ds.val_idx), [target[i] for i in ds.val_idx])
    assert ds.baselines["mean_rmse"] == pytest.approx(rmse, rel=1e-12)
    assert ds.baselines["mean_mae"] == pytest.approx(mae, rel=1e-12)

    pred = lstsq_linear(raw, seq_len, ds.train_idx, ds.val_idx)
    rmse, mae = loop_rmse_mae(pred, target[ds.val_idx])
    assert ds.baselines["linear_rmse"] == pytest.approx(rmse, rel=1e-7)
    assert ds.baselines["linear_mae"] == pytest.approx(mae, rel=1e-7)
    assert not any("ridge" in n for n in ds.report["notes"])


def test_linear_baseline_with_more_features_than_windows_is_finite():
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(30, 3))
    ds = build_series_dataset(raw, name="t", columns=["a", "b", "c"], seq_len=20, n_train=5)
    assert math.isfinite(ds.baselines["linear_rmse"])
    assert any("ridge" in n for n in ds.report["notes"])


def test_unigram_and_bigram_bpc_by_hand():
    # vocab a=0, b=1, c=2 ; train "abab" ; val "bc"
    train = np.array([0, 1, 0, 1])
    val = np.array([1, 2])
    got = ngram_bpc(train, val, 3)
    # unigram counts a:2 b:2 c:0, N=4, V=3 -> p(b)=3/7, p(c)=1/7
    uni = -(math.log2(3 / 7) + math.log2(1 / 7)) / 2
    # bigrams: ab x2, ba x1 ; starts a:2 b:1
    # first val 'b' follows last train 'b': p(b|b) = (0+1)/(1+3); then p(c|b) = (0+1)/(1+3)
    bi = -(math.log2(1 / 4) + math.log2(1 / 4)) / 2
    assert got["unigram_bpc"] == pytest.approx(uni, rel=1e-12)
    assert got["bigram_bpc"] == pytest.approx(bi, rel=1e-12)


def test_bigram_seen_pair_by_hand():
    train = np.array([0, 1, 0, 1, 0])  # "ababa": ab x2, ba x2 ; starts a:2 b:2
    val = np.array([1, 0])  # 'b' after 'a', then 'a' after 'b'
    got = ngram_bpc(train, val, 2)
    bi = -(math.log2(3 / 4) + math.log2(3 / 4)) / 2
    uni = -(math.log2(3 / 7) + math.log2(4 / 7)) / 2  # counts a:3 b:2, N=5, V=2
    assert got["bigram_bpc"] == pytest.approx(bi, rel=1e-12)
    assert got["unigram_bpc"] == pytest.approx(uni, rel=1e-12)


def test_single_character_vocabulary_scores_plain_zero():
    got = ngram_bpc(np.zeros(10, dtype=np.int64), np.zeros(4, dtype=np.int64), 1)
    # every character is certain; shown as 0, not "-0.0" in the JSON and the dashboard
    assert json.dumps(got) == '{"unigram_bpc": 0.0, "bigram_bpc": 0.0}'
