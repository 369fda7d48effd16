"""Forecast metrics worked by hand, sMAPE's refusal near zero, and the season detector's cases."""

import math

import numpy as np
import pytest

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.metrics import (
    coverage,
    mae,
    mase,
    mase_scale,
    rmse,
    smape,
    smape_applies,
    winkler,
)
from rnn_core.forecasting.season import Season, autocorrelation, detect_season


def test_mae_and_rmse_by_hand_overall_and_per_column():
    actual = np.array([[1.0, 2.0], [3.0, 4.0]])
    pred = np.array([[2.0, 2.0], [0.0, 8.0]])
    # errors 1, 0, 3, 4 -> MAE 8/4 = 2, RMSE sqrt((1 + 0 + 9 + 16) / 4) = sqrt(6.5)
    assert mae(actual, pred) == pytest.approx(2.0)
    assert rmse(actual, pred) == pytest.approx(math.sqrt(6.5))
    # per column (axis 0): MAE (1+3)/2, (0+4)/2 ; RMSE sqrt(10/2), sqrt(16/2)
    np.testing.assert_allclose(mae(actual, pred, axis=0), [2.0, 2.0])
    np.testing.assert_allclose(rmse(actual, pred, axis=0), [math.sqrt(5.0), math.sqrt(8.0)])


def test_mase_hand_worked_example():
    y_train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # m = 1: |3-1| + |2-3| + |5-2| + |4-5| = 2 + 1 + 3 + 1 = 7 over 4 differences -> scale 1.75
    scale = mase_scale(y_train, 1)
    assert scale.value == pytest.approx(1.75)
    assert scale.season == 1 and scale.note is None
    actual, pred = np.array([6.0, 5.0]), np.array([4.0, 5.5])
    # MAE = (|6-4| + |5-5.5|) / 2 = 2.5 / 2 = 1.25 ; MASE = 1.25 / 1.75 = 5/7
    assert mase(actual, pred, scale) == pytest.approx(5.0 / 7.0)
    assert mase(actual, pred, 1.75) == pytest.approx(5.0 / 7.0)


def test_mase_scale_seasonal_by_hand():
    y_train = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    # m = 2: |2-1| + |5-3| + |4-2| + |6-5| = 1 + 2 + 2 + 1 = 6 over 4 -> 1.5
    scale = mase_scale(y_train, Season(2, "test"))
    assert scale.value == pytest.approx(1.5)
    assert scale.season == 2


def test_mase_scale_falls_back_to_one_step_when_shorter_than_two_seasons():
    y_train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])  # 5 rows < 2 seasons of 4
    scale = mase_scale(y_train, 4)
    assert scale.season == 1
    assert scale.value == pytest.approx(1.75)  # as the m = 1 example above
    assert "two seasons" in scale.note and "persistence" in scale.note


def test_mase_scale_of_a_constant_training_part_is_nan_with_a_reason():
    scale = mase_scale(np.full(30, 4.2), 1)
    assert math.isnan(scale.value)
    assert "does not change" in scale.note
    assert math.isnan(mase(np.array([4.0]), np.array([4.5]), scale))


def test_mase_scale_rejects_a_bad_season():
    with pytest.raises(PlaygroundError, match="season length"):
        mase_scale(np.arange(10.0), 0)


def test_smape_by_hand_and_both_zero_counts_zero():
    actual, pred = np.array([100.0, 200.0, 0.0]), np.array([110.0, 180.0, 0.0])
    terms = [200 * 10 / 210, 200 * 20 / 380, 0.0]
    assert smape(actual, pred) == pytest.approx(sum(terms) / 3)


def test_smape_applies_far_from_zero():
    ok, reason = smape_applies(100 + 50 * np.sin(np.arange(200) / 5))
    assert ok, reason


@pytest.mark.parametrize(
    ("series", "words"),
    [
        (np.sin(np.arange(100) / 4 + 0.1), "changes sign"),
        (np.linspace(1.0, 100.0, 100), "tenth of its range"),  # 1 is within 9.9 of zero
        (np.array([0.0, 1.0, 2.0]), "reaches zero"),
        (np.linspace(-100.0, -3.0, 50), "tenth of its range"),  # negative, but near zero too
    ],
)
def test_smape_refused_near_zero(series, words):
    ok, reason = smape_applies(series)
    assert not ok
    assert words in reason and "MASE" in reason


def test_smape_margin_is_relative_to_the_range():
    # range 10; min |y| 1.5 passes the tenth (1.0), 0.5 does not
    assert smape_applies(np.linspace(1.5, 11.5, 30))[0]
    assert not smape_applies(np.linspace(0.5, 10.5, 30))[0]


def test_winkler_by_hand():
    lower, upper = np.zeros(3), np.full(3, 2.0)
    actual = np.array([1.0, 3.0, -0.5])
    # level 0.8 -> alpha 0.2 -> penalty 2/alpha = 10 per unit outside; width 2
    # inside: 2 ; above by 1: 2 + 10 * 1 = 12 ; below by 0.5: 2 + 10 * 0.5 = 7 ; mean 21/3 = 7
    assert winkler(actual, lower, upper, 0.8) == pytest.approx(7.0)
    # level 0.5 -> penalty 4: 2, 6, 4 -> mean 4
    assert winkler(actual, lower, upper, 0.5) == pytest.approx(4.0)
    assert coverage(actual, lower, upper) == pytest.approx(1 / 3)


def test_an_actual_on_a_bound_is_covered_without_penalty():
    actual, lower, upper = np.array([0.0, 2.0, 2.5]), np.zeros(3), np.full(3, 2.0)
    assert coverage(actual, lower, upper) == pytest.approx(2 / 3)
    # width 2 each; only 2.5 is outside, by 0.5: (2 + 2 + 2 + 10 * 0.5) / 3
    assert winkler(actual, lower, upper, 0.8) == pytest.approx(11 / 3)


def test_winkler_with_an_infinite_interval_is_inf_not_nan():
    got = winkler(np.array([1.0]), np.array([-np.inf]), np.array([np.inf]), 0.9)
    assert got == math.inf


def test_metrics_refuse_nan_and_mismatched_shapes():
    with pytest.raises(PlaygroundError, match="NaN"):
        mae(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(PlaygroundError, match="same shape"):
        rmse(np.zeros(3), np.zeros(4))
    with pytest.raises(PlaygroundError, match="lower bound is above"):
        coverage(np.zeros(2), np.ones(2), np.zeros(2))
    with pytest.raises(PlaygroundError, match="between 0 and 1"):
        winkler(np.zeros(2), np.zeros(2), np.ones(2), 80)


# ---------------------------------------------------------------- season


def _dates(start, count, step):
    return np.arange(np.datetime64(start), count * step, step)[:count].astype("datetime64[ns]")


@pytest.mark.parametrize(
    ("dates", "length", "name"),
    [
        (np.arange("2000-01", "2010-01", dtype="datetime64[M]").astype("datetime64[ns]"), 12, "monthly"),
        (np.arange("2000-01-01", "2000-05-01", dtype="datetime64[D]").astype("datetime64[ns]"), 7, "daily"),
        (np.arange("2000-01-03", "2004-01-03", 7, dtype="datetime64[D]"), 52, "weekly"),
        (np.arange("2000-01", "2020-01", 3, dtype="datetime64[M]"), 4, "quarterly"),
        (np.arange("2000-01-01T00", "2000-01-11T00", dtype="datetime64[h]"), 24, "hourly"),
    ],
)
def test_calendar_season_from_median_spacing(dates, length, name):
    y = np.random.default_rng(0).normal(size=dates.size)  # no cycle: the calendar decides
    s = detect_season(y, dates=dates)
    assert s.length == length
    assert s.how == f"{name} dates: {length}"


def test_sunspot_like_cycle_of_eleven_is_found():
    for seed in range(5):
        rng = np.random.default_rng(seed)
        t = np.arange(300)
        # the trend (150 over the series) dwarfs the cycle (amplitude 20) until it is removed
        y = 50 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 11) + rng.normal(0, 8, t.size)
        s = detect_season(y)
        assert s.length == 11, (seed, s)
        assert s.how == "autocorrelation peak at lag 11"


def test_the_echo_of_a_cycle_at_twice_its_length_is_not_taken_for_it():
    # with noise as strong as the cycle, the peak at lag 22 sometimes outgrows the one at 11
    found = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        t = np.arange(200)
        y = 50 + 0.5 * t + 20 * np.sin(2 * np.pi * t / 11) + rng.normal(0, 18, t.size)
        found.append(detect_season(y).length)
    assert not {22, 44} & set(found), found
    assert found.count(11) >= 25, found


def test_yearly_dates_leave_the_cycle_to_the_data():
    t = np.arange(200)
    y = 20 * np.sin(2 * np.pi * t / 11) + np.random.default_rng(3).normal(0, 5, t.size)
    years = np.arange("1800", "2000", dtype="datetime64[Y]").astype("datetime64[ns]")
    s = detect_season(y, dates=years)
    assert s.length == 11
    assert "yearly" in s.how and "lag 11" in s.how


@pytest.mark.parametrize("seed", range(4))
def test_no_season_in_noise_or_an_autoregression(seed):
    rng = np.random.default_rng(seed)
    assert detect_season(rng.normal(size=400)).length == 1
    e = rng.normal(size=600)
    ar = np.zeros(600)
    for i in range(1, 600):
        ar[i] = 0.8 * ar[i - 1] + e[i]
    s = detect_season(ar)
    assert s == Season(1, "no season found: 1")
    assert detect_season(np.cumsum(e)).length == 1  # a random walk's wobbles are no season


def test_short_or_constant_series_has_no_season():
    assert detect_season(np.arange(5.0)).length == 1
    assert detect_season(np.full(50, 3.0)).length == 1


def test_numeric_positions_are_not_dates():
    t = np.arange(120)
    y = np.sin(2 * np.pi * t / 12) + 0.1 * np.random.default_rng(1).normal(size=t.size)
    assert detect_season(y, dates=t.astype(float)).length == 12


def test_dates_of_the_wrong_length_are_refused():
    with pytest.raises(PlaygroundError, match="one time stamp per training row"):
        detect_season(np.zeros(10), dates=_dates("2000-01-01", 5, np.timedelta64(1, "D")))


def test_autocorrelation_matches_a_direct_sum():
    x = np.random.default_rng(2).normal(size=37)
    x -= x.mean()
    r = autocorrelation(x, 10)
    direct = [np.sum(x[: x.size - k] * x[k:]) / np.sum(x * x) for k in range(11)]
    np.testing.assert_allclose(r, direct, atol=1e-12)
