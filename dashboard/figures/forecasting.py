"""Figures of a forecast's honesty: the error at each horizon for the model and the simple
methods, and an interval's coverage at each horizon next to its nominal level."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.common import BASELINE_COLOR, FORECAST_COLOR, PARAM_COLORS, base_layout, f32, note

METRIC_TITLES = {"mase": "MASE", "rmse": "RMSE", "mae": "MAE"}
"""Axis titles of the metrics an errors-by-horizon chart can show."""

MODEL = "RNN"
"""The name the model's row carries in an errors-by-horizon table."""

OTHERS = tuple(c for c in PARAM_COLORS if c != FORECAST_COLOR)
"""Colours of the simple methods: never the model's own."""


def horizon_figure(
    errors: Mapping[str, Mapping[str, np.ndarray]],
    *,
    metric: str = "mase",
    period: str = "validation",
) -> go.Figure:
    """Error by horizon, one line per forecaster (the model first, bold), lower is better.

    Parameters
    ----------
    errors : mapping name -> mapping metric -> ndarray (H,)
        Per-horizon errors, e.g. from :func:`rnn_core.forecasting.horizon.errors_by_horizon`;
        the key :data:`MODEL` is drawn as the model.
    metric : {"mase", "rmse", "mae"}
    period : str
        Where the origins lie, for the title ("validation", "test", "backtest").
    """
    fig = go.Figure()
    others = [name for name in errors if name != MODEL]
    for i, name in enumerate([MODEL, *others] if MODEL in errors else others):
        values = np.asarray(errors[name][metric], dtype=np.float64)
        h = np.arange(1, len(values) + 1)
        model = name == MODEL
        fig.add_trace(
            go.Scatter(
                x=h,
                y=f32(values),
                name=name,
                mode="lines+markers",
                marker={"size": 6 if model else 4},
                line={
                    "color": FORECAST_COLOR if model else OTHERS[(i - 1) % len(OTHERS)],
                    "width": 3 if model else 1.5,
                    "dash": None if model else "dot",
                },
            )
        )
    if metric == "mase":
        fig.add_hline(y=1.0, line={"color": BASELINE_COLOR, "width": 1, "dash": "dash"})
    if not errors:
        note(fig, "No origin has a whole horizon in this period", center=True)
    fig.update_xaxes(
        title_text="horizon (steps ahead)", dtick=1 if len(errors) and _longest(errors) <= 24 else None
    )
    fig.update_yaxes(title_text=METRIC_TITLES[metric], rangemode="tozero")
    return base_layout(fig, title=f"Error by horizon ({period})", revision=f"horizon-{period}", height=340)


def coverage_figure(coverage: np.ndarray, level: float, *, period: str = "test") -> go.Figure:
    """Empirical coverage of the interval at each horizon ``(H,)`` against the nominal ``level``."""
    values = np.asarray(coverage, dtype=np.float64)
    bars = go.Bar(x=np.arange(1, len(values) + 1), y=f32(100 * values), name="covered",
                  marker={"color": FORECAST_COLOR})  # fmt: skip
    fig = go.Figure(bars)
    fig.add_hline(
        y=100 * level,
        line={"color": BASELINE_COLOR, "width": 2, "dash": "dash"},
        annotation_text=f"nominal {100 * level:g}%",
        annotation_position="bottom right",
    )
    fig.update_xaxes(title_text="horizon (steps ahead)")
    fig.update_yaxes(title_text="actual values inside (%)", range=[0, 105])
    return base_layout(fig, title=f"Interval coverage ({period})", revision=f"coverage-{period}", height=300)


def _longest(errors: Mapping[str, Mapping[str, np.ndarray]]) -> int:
    return max(len(next(iter(m.values()))) for m in errors.values())
