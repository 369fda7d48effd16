"""Trainer on character text: carried-state streams, random windows, bits/char, sampling."""

import dataclasses
import math

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.data import text_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer

PATTERN = "the cat sat on the mat. "


@pytest.fixture(scope="module")
def pattern():
    return text_dataset(PATTERN * 120, seq_len=16, val_fraction=0.1)


@pytest.fixture(scope="module")
def learned(pattern):
    tr = Trainer.create(pattern, hidden_size=48, train=TrainConfig(batch_size=8, lr=1e-2, seed=4))
    tr.run(250)
    return tr


def test_stream_mode_walks_contiguous_streams_and_carries_state(pattern):
    t, b = pattern.seq_len, 4
    tr = Trainer.create(pattern, hidden_size=8, train=TrainConfig(batch_size=b, lr=1e-3))
    ids = pattern.train_ids
    length = len(ids) // b
    starts = np.arange(b) * length

    def chunk(k):  # (T, B) inputs and targets of the k-th chunk of every stream
        pos = starts[None, :] + k * t + np.arange(t)[:, None]
        return ids[pos], ids[pos + 1]

    x0, y0 = chunk(0)
    params0 = {k: v.copy() for k, v in tr.network.params.items()}
    m0 = tr.step()
    # The first chunk is read from a zero state with the initial weights.
    logits, _, _ = _forward_with(tr, params0, x0, None)
    assert m0["loss"] == pytest.approx(_ce(logits, y0), rel=1e-12)

    # The second chunk starts from the state the first one ended in (with the weights of then).
    _, state1, _ = _forward_with(tr, params0, x0, None)
    x1, y1 = chunk(1)
    params1 = {k: v.copy() for k, v in tr.network.params.items()}
    m1 = tr.step()
    carried, _, _ = _forward_with(tr, params1, x1, state1)
    fresh, _, _ = _forward_with(tr, params1, x1, None)
    assert m1["loss"] == pytest.approx(_ce(carried, y1), rel=1e-12)
    assert abs(_ce(fresh, y1) - m1["loss"]) > 1e-6
    assert m1["epoch"] == pytest.approx(2 * t * b / len(ids))


def test_stream_wraps_around_and_resets_state(pattern):
    t, b = pattern.seq_len, 4
    tr = Trainer.create(pattern, hidden_size=8, train=TrainConfig(batch_size=b, lr=1e-3))
    per_pass = (len(pattern.train_ids) // b - 1) // t  # chunks that fit in each stream
    tr.run(per_pass)
    params = {k: v.copy() for k, v in tr.network.params.items()}
    m = tr.step()  # first chunk again, from zero state
    ids = pattern.train_ids
    length = len(ids) // b
    pos = (np.arange(b) * length)[None, :] + np.arange(t)[:, None]
    logits, _, _ = _forward_with(tr, params, ids[pos], None)
    assert m["loss"] == pytest.approx(_ce(logits, ids[pos + 1]), rel=1e-12)


def _forward_with(tr, params, x, state):
    saved = {k: v.copy() for k, v in tr.network.params.items()}
    for k, v in params.items():
        tr.network.params[k][...] = v
    try:
        return tr.network.forward(x, state, cache=False)
    finally:
        for k, v in saved.items():
            tr.network.params[k][...] = v


def _ce(logits, targets):
    z = logits - logits.max(axis=-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(logp, targets[..., None], axis=-1).mean())


def test_random_mode_is_reproducible(pattern):
    def go():
        train = TrainConfig(text_mode="random", batch_size=5, seed=9)
        tr = Trainer.create(pattern, hidden_size=8, train=train)
        return [m["loss"] for m in tr.run(10)], tr

    a, tr = go()
    b, _ = go()
    assert a == b and all(math.isfinite(v) for v in a)
    assert tr.epoch == pytest.approx(10 * 5 * pattern.seq_len / len(pattern.train_ids))


def test_untrained_model_scores_about_log2_vocab(pattern):
    tr = Trainer.create(pattern, hidden_size=8)
    ev = tr.evaluate()
    assert ev["val_bpc"] == pytest.approx(ev["val_loss"] / math.log(2))
    # Small random logits: close to the uniform code length of log2(V) bits per character.
    assert abs(ev["val_bpc"] - math.log2(pattern.vocab_size)) < 0.5
    assert 0 <= ev["val_accuracy"] <= 1
    assert set(ev["baselines"]) >= {"unigram_bpc", "bigram_bpc"}


def test_learned_pattern_beats_baselines_and_predicts_next_char(learned):
    ev = learned.evaluate()
    assert ev["val_bpc"] < ev["baselines"]["bigram_bpc"]
    assert ev["val_accuracy"] > 0.8
    probs = learned.next_char_probs("the cat sat on the m", k=5)
    assert len(probs) == 5
    assert probs[0][0] == "a" and probs[0][1] > 0.5
    values = [p for _, p in probs]
    assert values == sorted(values, reverse=True)
    assert sum(p for _, p in probs) <= 1 + 1e-9


def test_sampling(learned, pattern):
    s = learned.sample(60, temperature=0.5, prime="the ", rng=np.random.default_rng(0))
    assert s.startswith("the ") and len(s) == 64
    assert set(s) <= set(pattern.vocab)
    assert s == learned.sample(60, temperature=0.5, prime="the ", rng=np.random.default_rng(0))
    assert len(learned.sample(30)) == 30  # no prime: first character from the frequencies
    # Low temperature on a learned pattern reproduces it.
    assert "cat sat on the mat" in learned.sample(80, temperature=0.1, prime="the ")
    with pytest.raises(PlaygroundError, match="temperature"):
        learned.sample(5, temperature=0)
    unigram = learned.next_char_probs("", k=3)
    assert unigram[0][0] == " "  # the most common character of the pattern


def test_sampling_does_not_disturb_training(pattern):
    a = Trainer.create(pattern, hidden_size=8, train=TrainConfig(seed=5))
    b = Trainer.create(pattern, hidden_size=8, train=TrainConfig(seed=5))
    a.run(3)
    b.run(3)
    a.sample(20)
    a.next_char_probs("cat")
    assert a.step()["loss"] == b.step()["loss"]


def test_snapshot_restore_in_stream_mode(pattern):
    straight = Trainer.create(pattern, hidden_size=8, train=TrainConfig(batch_size=4, seed=2))
    straight.run(12)
    tr = Trainer.create(pattern, hidden_size=8, train=TrainConfig(batch_size=4, seed=2))
    tr.run(5)
    snap = tr.snapshot()
    tr.run(4)
    tr.restore(snap)
    tr.run(7)
    np.testing.assert_array_equal(tr.history["loss"], straight.history["loss"])
    for k, v in straight.network.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v)


def test_internals_and_series_only_methods(pattern):
    tr = Trainer.create(pattern, cell="gru", hidden_size=6)
    got = tr.internals("train", 2)
    assert {"h0", "r0", "z0", "n0"} <= set(got)
    assert all(v.shape == (pattern.seq_len, 6) for v in got.values())
    with pytest.raises(PlaygroundError, match="numeric series"):
        tr.forecast(5)
    with pytest.raises(PlaygroundError, match="numeric series"):
        tr.predictions()


def test_save_load_text_model(learned, pattern):
    data = learned.save()
    loaded = Trainer.load(data, pattern)
    assert loaded.evaluate()["val_bpc"] == learned.evaluate()["val_bpc"]
    other = text_dataset("abc " * 100, seq_len=16)
    with pytest.raises(PlaygroundError, match="vocabulary"):
        Trainer.load(data, other)


def test_text_shorter_than_a_window_is_refused(pattern):
    t = pattern.seq_len
    exact = dataclasses.replace(pattern, train_ids=pattern.train_ids[: t + 1])
    tr = Trainer.create(exact, hidden_size=4, train=TrainConfig(batch_size=8))
    assert math.isfinite(tr.run(3)[-1]["loss"])  # one chunk, read again and again
    short = dataclasses.replace(pattern, train_ids=pattern.train_ids[:t])
    with pytest.raises(PlaygroundError, match="shorter sequence length"):
        Trainer.create(short)
