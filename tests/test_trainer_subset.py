"""Capped evaluation and predictions: an evenly spaced subset of windows for live views of long
series, equal to the exact figures where they overlap and identical to them on small data."""

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.trainer import Trainer


@pytest.fixture(scope="module")
def long_trainer():
    """2,000 rows of a noisy sine: some 1,600 training and 400 validation windows of 20."""
    ds = sine_dataset(seq_len=20, length=2000, frequency=0.1, noise=0.1, val_fraction=0.2, seed=4)
    tr = Trainer.create(ds, hidden_size=8, train=TrainConfig(seed=3))
    tr.run(20)
    return tr


@pytest.mark.parametrize("split", ["train", "val"])
def test_capped_predictions_equal_the_exact_ones_at_their_windows(long_trainer, split):
    x_all, pred_all, actual_all = long_trainer.predictions(split)
    n = len(x_all)
    x, pred, actual = long_trainer.predictions(split, max_points=50)
    assert len(x) == len(pred) == len(actual) == 50
    # Evenly spaced positions among the split's windows, first and last included.
    pos = np.searchsorted(x_all, x)
    assert pos[0] == 0 and pos[-1] == n - 1
    gaps = np.diff(pos)
    assert gaps.min() >= (n - 1) // 49 - 1 and gaps.max() <= (n - 1) // 49 + 2
    np.testing.assert_array_equal(x, x_all[pos])
    np.testing.assert_allclose(pred, pred_all[pos], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(actual, actual_all[pos])


@pytest.mark.parametrize("cap", [1, 2, 7, 379])
def test_the_cap_is_respected_and_keeps_the_last_window(long_trainer, cap):
    x_all, _, _ = long_trainer.predictions("val")
    x, pred, _ = long_trainer.predictions("val", max_points=cap)
    assert len(x) == len(pred) == cap
    assert x[-1] == x_all[-1]


def test_a_cap_of_at_least_the_window_count_changes_nothing(long_trainer):
    for split in ("train", "val"):
        exact = long_trainer.predictions(split)
        for cap in (len(exact[0]), 10**6):
            for a, b in zip(exact, long_trainer.predictions(split, max_points=cap), strict=True):
                np.testing.assert_array_equal(a, b)


def test_small_data_gives_identical_results_with_or_without_a_cap():
    tr = Trainer.create(sine_dataset(), hidden_size=8, train=TrainConfig(seed=5))
    tr.run(10)
    exact, capped = tr.evaluate(), tr.evaluate(max_windows=3000)
    for key in ("train_loss", "train_rmse", "train_mae", "val_loss", "val_rmse", "val_mae", "val_windows"):
        assert capped[key] == exact[key], key
    assert exact["val_windows"] == 50 and not exact["val_estimate"] and not capped["val_estimate"]
    for a, b in zip(tr.predictions("val"), tr.predictions("val", max_points=3000), strict=True):
        np.testing.assert_array_equal(a, b)


def test_capped_evaluation_scores_the_predicted_subset(long_trainer):
    exact = long_trainer.evaluate(train=False)
    n_val = len(long_trainer.dataset.val_y)
    assert n_val > 300
    assert exact["val_windows"] == n_val and exact["val_estimate"] is False
    est = long_trainer.evaluate(max_windows=40)
    assert est["val_windows"] == 40 and est["val_estimate"] is True
    _, pred, actual = long_trainer.predictions("val", max_points=40)
    assert est["val_rmse"] == pytest.approx(float(np.sqrt(np.mean((pred - actual) ** 2))), rel=1e-12)
    assert est["val_mae"] == pytest.approx(float(np.mean(np.abs(pred - actual))), rel=1e-12)
    _, pt, at = long_trainer.predictions("train", max_points=40)
    assert est["train_rmse"] == pytest.approx(float(np.sqrt(np.mean((pt - at) ** 2))), rel=1e-12)
    # An estimate, not the exact figure, yet close to it on a stationary series.
    assert est["val_rmse"] != exact["val_rmse"]
    assert est["val_rmse"] == pytest.approx(exact["val_rmse"], rel=0.3)


@pytest.mark.parametrize("bad", [0, -5])
def test_a_cap_below_one_is_an_error(long_trainer, bad):
    with pytest.raises(PlaygroundError, match="at least 1"):
        long_trainer.predictions("val", max_points=bad)
    with pytest.raises(PlaygroundError, match="at least 1"):
        long_trainer.evaluate(max_windows=bad)
