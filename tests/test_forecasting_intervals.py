"""Split-conformal intervals: the finite-sample rank by hand, infinite widths when calibration is
too short, the report by a plain loop, and nominal coverage on a Gaussian AR(1) series."""

import math

import numpy as np
import pytest

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.intervals import (
    band,
    calibration_rank,
    conformal_halfwidths,
    interval_report,
    min_calibration,
)


def test_halfwidth_is_the_finite_sample_rank_by_hand():
    rng = np.random.default_rng(0)
    col0 = rng.permutation(np.arange(1.0, 10.0))  # |residuals| 1..9, n = 9
    col1 = -10 * col0  # signs do not matter
    # level 0.8: k = ceil((9 + 1) * 0.8) = 8 -> the 8th smallest, 8 and 80
    got = conformal_halfwidths(np.column_stack([col0, col1]), 0.8)
    np.testing.assert_array_equal(got.halfwidths, [8.0, 80.0])
    assert got.rank == 8 and got.n == 9 and got.note is None
    # level 0.5: k = ceil(10 * 0.5) = 5
    np.testing.assert_array_equal(conformal_halfwidths(col0[:, None], 0.5).halfwidths, [5.0])


def test_rank_is_exact_where_floats_would_round_up():
    # in floats (99 + 1) * 0.55 is 55.00000000000001 and (24 + 1) * 0.56 is 14.000000000000002
    assert calibration_rank(99, 0.55) == 55
    assert calibration_rank(24, 0.56) == 14
    assert calibration_rank(9, 0.8) == 8
    assert calibration_rank(19, 0.9) == 18  # 20 * 0.9 = 18 exactly
    assert calibration_rank(99, 0.95) == 95


def test_too_few_calibration_origins_give_infinite_widths_and_say_so():
    # n = 3, level 0.8: k = ceil(4 * 0.8) = 4 > 3
    got = conformal_halfwidths(np.ones((3, 2)), 0.8)
    assert np.all(np.isinf(got.halfwidths))
    assert "too few" in got.note and "at least 4" in got.note
    # 4 origins are enough: k = ceil(5 * 0.8) = 4 <= 4, the largest
    assert min_calibration(0.8) == 4
    assert conformal_halfwidths(np.arange(4.0)[:, None], 0.8).halfwidths[0] == 3.0
    # level 0.95 needs n >= 0.95 / 0.05 = 19
    assert min_calibration(0.95) == 19
    assert np.isinf(conformal_halfwidths(np.ones((18, 1)), 0.95).halfwidths[0])
    assert np.isfinite(conformal_halfwidths(np.ones((19, 1)), 0.95).halfwidths[0])


def test_band_and_report_by_hand():
    forecast = np.array([[1.0, 2.0], [3.0, 4.0]])
    lower, upper = band(forecast, np.array([0.5, 1.0]))
    np.testing.assert_array_equal(lower, [[0.5, 1.0], [2.5, 3.0]])
    np.testing.assert_array_equal(upper, [[1.5, 3.0], [3.5, 5.0]])
    actual = np.array([[1.2, 5.0], [2.0, 4.0]])
    rep = interval_report(actual, lower, upper, 0.5)  # penalty 2 / 0.5 = 4
    # horizon 1: 1.2 inside (width 1) -> 1 ; 2.0 below 2.5 by 0.5 -> 1 + 4 * 0.5 = 3
    # horizon 2: 5.0 above 3.0 by 2 -> 2 + 4 * 2 = 10 ; 4.0 inside -> 2
    np.testing.assert_allclose(rep["winkler_by_horizon"], [2.0, 6.0])
    assert rep["winkler"] == pytest.approx(4.0)
    np.testing.assert_allclose(rep["coverage_by_horizon"], [0.5, 0.5])
    assert rep["coverage"] == pytest.approx(0.5)
    assert rep["origins"] == 2 and rep["level"] == 0.5


def test_band_refuses_mismatched_or_negative_widths():
    with pytest.raises(PlaygroundError, match="one half-width per horizon"):
        band(np.zeros((3, 4)), np.ones(3))
    with pytest.raises(PlaygroundError, match="zero or positive"):
        band(np.zeros((3, 2)), np.array([1.0, -1.0]))


def test_conformal_intervals_cover_an_ar1_series_at_the_nominal_level():
    rng = np.random.default_rng(11)
    phi, N, H, level = 0.7, 8000, 6, 0.8
    y = np.zeros(N)
    e = rng.normal(size=N)
    for t in range(1, N):
        y[t] = phi * y[t - 1] + e[t]
    # the forecaster, written here: an AR(1) coefficient by least squares on the first 500 rows,
    # iterated h steps
    phi_hat = float(np.dot(y[1:500], y[:499]) / np.dot(y[:499], y[:499]))

    def forecast(origins):  # (B,) -> (B, H)
        return np.array([[phi_hat**h * y[o] for h in range(1, H + 1)] for o in origins])

    def truth(origins):
        return np.array([[y[o + h] for h in range(1, H + 1)] for o in origins])

    # thousands of origins: neighbouring ones share errors, so the coverage of a few hundred
    # would wander several points from run to run
    calib = np.arange(500, 3500)  # 3000 calibration origins
    test = np.arange(3500, N - H)  # 4494 scored origins
    widths = conformal_halfwidths(truth(calib) - forecast(calib), level)
    # the 6-step error variance of an AR(1) grows with h: so must the widths
    assert np.all(np.diff(widths.halfwidths) > 0)
    lower, upper = band(forecast(test), widths.halfwidths)
    actual = truth(test)
    rep = interval_report(actual, lower, upper, level)
    assert test.size >= 1000
    assert abs(rep["coverage"] - level) <= 0.05, rep["coverage"]
    assert np.all(np.abs(rep["coverage_by_horizon"] - level) <= 0.05), rep["coverage_by_horizon"]
    # Winkler by a plain loop over the same intervals
    alpha = 1 - level
    total = 0.0
    for b in range(test.size):
        for h in range(H):
            lo, hi, a = lower[b, h], upper[b, h], actual[b, h]
            total += (hi - lo) + (2 / alpha) * (max(lo - a, 0.0) + max(a - hi, 0.0))
    assert rep["winkler"] == pytest.approx(total / actual.size, rel=1e-12)


def test_infinite_intervals_cover_everything_and_score_inf():
    widths = conformal_halfwidths(np.ones((2, 3)), 0.9)
    lower, upper = band(np.zeros((5, 3)), widths.halfwidths)
    rep = interval_report(np.ones((5, 3)), lower, upper, 0.9)
    assert rep["coverage"] == 1.0
    assert rep["winkler"] == math.inf
