"""The forecast-honesty figures, from synthetic arrays."""

from __future__ import annotations

import numpy as np

from dashboard.figures import forecast_figure
from dashboard.figures.forecasting import coverage_figure, horizon_figure


def test_error_by_horizon_draws_the_model_first_and_boldest_and_the_mase_line():
    errors = {
        "persistence": {"mase": np.array([1.0, 2.0, 3.0])},
        "RNN": {"mase": np.array([0.5, 0.7, 0.9])},
        "training mean": {"mase": np.array([4.0, 4.0, 4.0])},
    }
    fig = horizon_figure(errors, metric="mase", period="test")
    names = [t.name for t in fig.data]
    assert names == ["RNN", "persistence", "training mean"]
    assert fig.data[0].line.width > max(t.line.width for t in fig.data[1:])
    assert len({t.line.color for t in fig.data}) == 3  # no method shares the model's colour
    np.testing.assert_allclose(fig.data[1].y, [1.0, 2.0, 3.0])
    assert list(fig.data[0].x) == [1, 2, 3]
    assert [s.y0 for s in fig.layout.shapes] == [1.0]  # MASE 1: as good as seasonal naive
    assert "test" in fig.layout.title.text


def test_coverage_bars_in_percent_against_the_nominal_level():
    fig = coverage_figure(np.array([0.5, 0.8, 1.0]), 0.8)
    np.testing.assert_allclose(fig.data[0].y, [50, 80, 100])
    assert fig.layout.shapes[0].y0 == 80


def test_the_forecast_band_covers_only_the_finite_steps_and_the_test_values_are_drawn():
    x = np.arange(20.0)
    xf = np.arange(20.0, 30.0)
    lower = np.r_[np.arange(5.0), np.full(5, -np.inf)]
    upper = np.r_[np.arange(5.0) + 2, np.full(5, np.inf)]
    fig = forecast_figure(x, np.sin(x), xf, np.ones(10), band=(lower, upper, "80% interval"),
                          held_out=(xf[:4], np.full(4, 3.0)))  # fmt: skip
    by_name = {t.name: t for t in fig.data}
    band = by_name["80% interval"]
    assert band.fill == "tonexty" and len(band.x) == 5
    np.testing.assert_allclose(band.y, upper[:5])
    np.testing.assert_allclose(by_name["lower bound"].y, lower[:5])
    np.testing.assert_allclose(by_name["actual (test period)"].y, [3.0] * 4)
