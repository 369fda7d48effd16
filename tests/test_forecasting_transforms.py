"""Target transforms: each inverse undoes its forward exactly, forecasts build on their own
predictions as a series built forward row by row does, nothing after an origin is read, and the
parameters come from the training rows only."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_core.errors import PlaygroundError
from rnn_core.forecasting.transforms import TRANSFORMS, Transform, describe, fit, suggest

SEASON = 4


def _series(n: int, seed: int, *, positive: bool) -> np.ndarray:
    """A wandering, trending series; positive (for log) or crossing zero."""
    rng = np.random.default_rng(seed)
    y = 10.0 * np.exp(np.cumsum(rng.normal(0.01, 0.1, size=n)))
    return y if positive else y - 12.0


def _close(actual, expected, y) -> None:
    """Equal up to rounding at the series' scale."""
    scale = float(np.max(np.abs(y)))
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale)


def _reference_path(name: str, y: np.ndarray, train_end: int, o: int, z_path) -> list[float]:
    """Rows o+1 .. o+H of the series built forward one row at a time from its known rows."""
    if name == "none":
        return [float(v) for v in z_path]
    if name == "log":
        return [math.exp(v) for v in z_path]
    if name == "detrend":
        b, a = np.polyfit(np.arange(train_end + 1), y[: train_end + 1], 1)
        return [v + a + b * (o + 1 + h) for h, v in enumerate(z_path)]
    m = 1 if name == "diff" else SEASON
    built = [float(v) for v in y[: o + 1]]
    for v in z_path:
        built.append(built[-m] + v)  # row len(built) builds on row len(built) - m
    return built[o + 1 :]


def _transformed_by_loop(name: str, y: np.ndarray, train_end: int) -> list[float]:
    """``apply``'s equations, element by element (NaN where a row has no predecessor)."""
    b, a = np.polyfit(np.arange(train_end + 1), y[: train_end + 1], 1)
    m = {"diff": 1, "seasonal_diff": SEASON}.get(name, 0)
    out = []
    for t, v in enumerate(y):
        if t < m:
            out.append(math.nan)
        elif name == "none":
            out.append(v)
        elif name == "log":
            out.append(math.log(v))
        elif name == "detrend":
            out.append(v - (a + b * t))
        else:
            out.append(v - y[t - m])
    return out


def test_every_transform_has_a_sentence_and_unknown_names_are_refused():
    for name in TRANSFORMS:
        text = describe(name)
        assert text.endswith(".") and text.count(". ") == 0 and len(text) > 20
    with pytest.raises(PlaygroundError, match="unknown target transform 'boxcox'; choose one of: none"):
        describe("boxcox")
    with pytest.raises(PlaygroundError, match="unknown target transform"):
        fit("boxcox", np.ones(10), train_end=5)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_apply_follows_the_equations_and_one_step_inversion_returns_y(name):
    y = _series(40, 1, positive=True)
    tr = fit(name, y, train_end=29, season=SEASON)
    assert tr.lag == {"diff": 1, "seasonal_diff": SEASON}.get(name, 0)
    z = tr.apply(y)
    assert z.shape == y.shape
    assert np.all(np.isnan(z[: tr.lag])) and np.all(np.isfinite(z[tr.lag :]))
    _close(z, _transformed_by_loop(name, y, 29), y)
    # one-step predictions made of the true transformed values: row t from origin t - 1
    t = np.arange(max(1, tr.lag), y.size)
    y_hat = tr.invert(z[t][:, None], t - 1, y)
    assert y_hat.shape == (t.size, 1)
    _close(y_hat[:, 0], y[t], y)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_closed_loop_inversion_equals_a_series_built_forward(name):
    rng = np.random.default_rng(7)
    y = _series(30, 2, positive=True)
    tr = fit(name, y, train_end=19, season=SEASON)
    origins = np.array([SEASON - 1, 10, 19, 29])  # the last: forecast beyond the data
    z_hat = rng.normal(0.0, 0.5, size=(4, 9))  # H = 9 > 2 seasons: predictions build on predictions
    y_hat = tr.invert(z_hat, origins, y)
    assert y_hat.shape == (4, 9)
    for b, o in enumerate(origins):
        _close(y_hat[b], _reference_path(name, y, 19, o, z_hat[b]), y)
    if name == "diff":  # the closed form of the brief
        _close(y_hat, y[origins][:, None] + np.cumsum(z_hat, axis=1), y)


@st.composite
def cases(draw):
    name = draw(st.sampled_from(TRANSFORMS))
    n = draw(st.integers(2 * SEASON + 2, 40))
    train_end = draw(st.integers(2 * SEASON - 1, n - 2))
    y = _series(n, draw(st.integers(0, 2**32 - 1)), positive=name == "log" or draw(st.booleans()))
    lo = {"diff": 0, "seasonal_diff": SEASON - 1}.get(name, 0)
    origins = draw(st.lists(st.integers(lo, n - 1), min_size=1, max_size=5))
    horizon = draw(st.integers(1, 12))
    z_seed = draw(st.integers(0, 2**32 - 1))
    return name, y, train_end, np.array(origins), horizon, z_seed


@settings(max_examples=80, deadline=None)
@given(cases())
def test_inverting_true_transformed_paths_returns_the_series(case):
    name, y, train_end, origins, horizon, _ = case
    tr = fit(name, y, train_end=train_end, season=SEASON)
    z = tr.apply(y)
    origins = np.minimum(origins, y.size - 1 - horizon)  # paths that end inside the data
    keep = origins >= max(0, tr.lag - 1)
    origins = origins[keep]
    rows = origins[:, None] + np.arange(1, horizon + 1)  # (B, H)
    _close(tr.invert(z[rows], origins, y), y[rows], y)


@settings(max_examples=80, deadline=None)
@given(cases())
def test_random_paths_invert_like_the_forward_reference_and_ignore_rows_after_the_origin(case):
    name, y, train_end, origins, horizon, z_seed = case
    tr = fit(name, y, train_end=train_end, season=SEASON)
    z_hat = np.random.default_rng(z_seed).normal(0.0, 0.3, size=(origins.size, horizon))
    y_hat = tr.invert(z_hat, origins, y)
    for b, o in enumerate(origins):
        _close(y_hat[b], _reference_path(name, y, train_end, int(o), z_hat[b]), y)
        poisoned = y.copy()
        poisoned[o + 1 :] = np.nan
        np.testing.assert_array_equal(tr.invert(z_hat[b : b + 1], [o], poisoned)[0], y_hat[b])
        # the first horizon reads row o + 1 - lag: poisoning it must show where y is read at all
        poisoned[o + 1 - max(tr.lag, 1)] = np.nan
        reads_y = name in ("diff", "seasonal_diff")
        assert np.isnan(tr.invert(z_hat[b : b + 1], [o], poisoned)[0, 0]) == reads_y


@settings(max_examples=40, deadline=None)
@given(cases(), st.floats(0.5, 1e4))
def test_parameters_come_from_the_training_rows_only(case, new_value):
    name, y, train_end, *_ = case
    tr = fit(name, y, train_end=train_end, season=SEASON)
    changed = y.copy()
    changed[train_end + 1 :] = new_value
    assert fit(name, changed, train_end=train_end, season=SEASON) == tr
    if name == "detrend":
        b, a = np.polyfit(np.arange(train_end + 1), y[: train_end + 1], 1)
        scale = float(np.max(np.abs(y)))
        assert tr.intercept == pytest.approx(a, rel=1e-9, abs=1e-9 * scale)
        assert tr.slope == pytest.approx(b, rel=1e-9, abs=1e-9 * scale)


def test_detrend_line_is_not_the_whole_series_line():
    y = np.concatenate([np.arange(20.0), np.full(10, 100.0)])  # a jump after the training rows
    tr = fit("detrend", y, train_end=19)
    assert tr.intercept == pytest.approx(0.0, abs=1e-12) and tr.slope == pytest.approx(1.0)
    z = tr.apply(y)
    np.testing.assert_allclose(z[20:], 100.0 - np.arange(20.0, 30.0), atol=1e-12)


def test_a_saved_transform_comes_back_equal_and_inverts_alike():
    y = _series(30, 3, positive=False)
    z_hat = np.linspace(-1, 1, 12).reshape(2, 6)
    for name in TRANSFORMS:
        if name == "log":
            y = y + 20.0
        tr = fit(name, y, train_end=20, season=SEASON)
        back = Transform.from_dict(json.loads(json.dumps(tr.to_dict())))
        assert back == tr
        np.testing.assert_array_equal(back.invert(z_hat, [5, 29], y), tr.invert(z_hat, [5, 29], y))


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "diff", "lag": 0, "train_end": 5, "intercept": 0.0, "slope": 0.0},
        {"name": "seasonal_diff", "lag": 1, "train_end": 5, "intercept": 0.0, "slope": 0.0},
        {"name": "log", "lag": 0, "train_end": 5, "intercept": 1.0, "slope": 0.0},
        {"name": "detrend", "lag": 0, "train_end": -1, "intercept": 1.0, "slope": 0.5},
        {"name": "detrend", "lag": 0, "train_end": 5, "intercept": float("nan"), "slope": 0.5},
        {"name": "detrend", "lag": 0, "train_end": 5},
        {"name": "sqrt", "lag": 0, "train_end": 5, "intercept": 0.0, "slope": 0.0},
        [1, 2],
    ],
)
def test_a_damaged_saved_transform_is_refused(bad):
    with pytest.raises(PlaygroundError):
        Transform.from_dict(bad)


def test_log_needs_every_value_positive_including_after_the_training_rows():
    y = np.array([3.0, 1.0, -2.1, 4.0, 0.0, 5.0, -0.5, 2.0])
    with pytest.raises(PlaygroundError, match=r"3 value\(s\) ≤ 0 \(smallest -2.1\): choose another"):
        fit("log", y, train_end=5)
    late = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, -1.0])
    with pytest.raises(PlaygroundError, match="log transform needs every value above 0"):
        fit("log", late, train_end=3)
    tr = fit("log", np.arange(1.0, 9.0), train_end=3)
    with pytest.raises(PlaygroundError, match="log transform needs every value above 0"):
        tr.apply(late)


@pytest.mark.parametrize("season", [1, 0, -3, 2.5, True, None])
def test_seasonal_diff_needs_a_season_of_at_least_two(season):
    with pytest.raises(PlaygroundError, match="season of at least 2 rows"):
        fit("seasonal_diff", np.arange(50.0), train_end=40, season=season)


def test_seasonal_diff_needs_two_seasons_of_training_rows():
    y = np.arange(50.0)
    with pytest.raises(PlaygroundError, match=r"season 12 needs at least 24 training rows.*has 23"):
        fit("seasonal_diff", y, train_end=22, season=12)
    assert fit("seasonal_diff", y, train_end=23, season=12).lag == 12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "diff", "y": np.arange(5.0), "train_end": 5}, "last training row must be a row number"),
        ({"name": "diff", "y": np.arange(5.0), "train_end": 2.0}, "last training row must be a row number"),
        ({"name": "diff", "y": np.arange(5.0), "train_end": 0}, "needs at least 2 training rows"),
        ({"name": "detrend", "y": np.arange(5.0), "train_end": 0}, "needs at least 2 training rows"),
        ({"name": "none", "y": [1.0, np.nan, 2.0], "train_end": 1}, "missing or infinite values"),
        ({"name": "none", "y": np.ones((4, 2)), "train_end": 1}, "one column of values"),
    ],
)
def test_fit_refuses_bad_input_with_a_fix(kwargs, message):
    with pytest.raises(PlaygroundError, match=message):
        fit(**kwargs)


def test_invert_refuses_origins_without_enough_known_rows_and_bad_shapes():
    y = np.arange(1.0, 21.0)
    tr = fit("seasonal_diff", y, train_end=15, season=SEASON)
    with pytest.raises(PlaygroundError, match=r"origins must be rows 3 to 19.*got 2:"):
        tr.invert(np.zeros((2, 3)), [5, 2], y)
    with pytest.raises(PlaygroundError, match=r"origins must be rows 3 to 19.*got 20:"):
        tr.invert(np.zeros((1, 3)), [20], y)
    with pytest.raises(PlaygroundError, match="one origin per forecast"):
        tr.invert(np.zeros((2, 3)), [5], y)
    with pytest.raises(PlaygroundError, match="one origin per forecast"):
        tr.invert(np.zeros(3), [5, 6, 7], y)
    with pytest.raises(PlaygroundError, match="integers"):
        tr.invert(np.zeros((1, 3)), [5.0], y)


def test_suggest_detrend_for_a_line_with_noise():
    rng = np.random.default_rng(0)
    t = np.arange(200)
    name, reason = suggest(-20.0 + 0.3 * t + rng.normal(0, 1, 200))
    assert name == "detrend", reason
    assert "line explains" in reason


def test_suggest_diff_for_a_random_walk_with_drift():
    rng = np.random.default_rng(1)
    name, reason = suggest(np.cumsum(0.5 + rng.normal(0, 1, 300)) - 40.0)
    assert name == "diff", reason


def test_suggest_log_for_exponential_growth():
    rng = np.random.default_rng(2)
    t = np.arange(200)
    name, reason = suggest(5.0 * np.exp(0.03 * t + rng.normal(0, 0.05, 200)))
    assert name == "log", reason
    assert "multiplicative" in reason


def test_suggest_seasonal_diff_for_a_drifting_season_only_when_told_the_season():
    rng = np.random.default_rng(3)
    t = np.arange(240)
    y = 0.1 * t + 3.0 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, 240)
    name, reason = suggest(y, season=12)
    assert name == "seasonal_diff", reason
    assert "season of 12 rows" in reason
    assert suggest(y)[0] != "seasonal_diff"


def test_suggest_nothing_for_stationary_series():
    rng = np.random.default_rng(4)
    noise = 3.0 + rng.normal(0, 1, 200)
    sine = np.sin(np.linspace(0, 8 * np.pi, 300))
    for y in (noise, sine, np.full(50, 2.0), np.arange(5.0)):
        name, reason = suggest(y)
        assert name is None, reason
        assert reason
    assert "no clear trend" in suggest(noise)[1]
