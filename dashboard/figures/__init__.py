"""Pure figure builders: arrays in, ``plotly.graph_objects.Figure`` out.

Nothing here touches Streamlit or session state, so every chart is unit-tested with synthetic
arrays. The live charts are redrawn several times a second, hence the conventions:

- numeric arrays are sent as float32 (plotly encodes NumPy arrays as typed binary, half the
  bytes of float64) and long series are thinned to a few thousand points before plotting;
- SVG traces (``go.Scatter``), not WebGL: a handful of redraws per second of a few hundred
  points is cheap in SVG, and WebGL contexts run out when many charts are re-created;
- every figure has a constant ``uirevision`` so a user's zoom survives the next refresh.

Modules: :mod:`~dashboard.figures.common` (colours, helpers, layout, axes, notes),
:mod:`~dashboard.figures.series` (data preview, predictions, forecast),
:mod:`~dashboard.figures.training` (loss, gradient norms, accuracy),
:mod:`~dashboard.figures.internals` (activation and gate heatmaps),
:mod:`~dashboard.figures.text` (character counts, next-character probabilities),
:mod:`~dashboard.figures.sweep` (a sweep's summary) and :mod:`~dashboard.figures.compare` (the
Compare page's live runs, overlaid).
Every builder is importable from this package directly.
"""

from dashboard.figures.common import (
    ACTUAL_COLOR,
    BASELINE_COLOR,
    FORECAST_COLOR,
    MIN_DECADES,
    PARAM_COLORS,
    PREVIEW_POINTS,
    TRAIN_COLOR,
    TRAIN_FILL,
    VAL_COLOR,
    VAL_FILL,
    f32,
    thin,
    visible_char,
)
from dashboard.figures.compare import RUN_COLORS, compare_loss_figure, compare_predictions_figure, run_color
from dashboard.figures.internals import gates_figure, heatmap_figure
from dashboard.figures.series import forecast_figure, predictions_figure, series_figure, split_spans
from dashboard.figures.sweep import sweep_figure
from dashboard.figures.text import char_counts_figure, probs_figure
from dashboard.figures.training import (
    FEW_POINTS,
    NO_STEPS_YET,
    accuracy_figure,
    grad_norm_figure,
    loss_figure,
)

__all__ = [
    "ACTUAL_COLOR",
    "BASELINE_COLOR",
    "FEW_POINTS",
    "FORECAST_COLOR",
    "MIN_DECADES",
    "NO_STEPS_YET",
    "PARAM_COLORS",
    "PREVIEW_POINTS",
    "RUN_COLORS",
    "TRAIN_COLOR",
    "TRAIN_FILL",
    "VAL_COLOR",
    "VAL_FILL",
    "accuracy_figure",
    "char_counts_figure",
    "compare_loss_figure",
    "compare_predictions_figure",
    "f32",
    "forecast_figure",
    "gates_figure",
    "grad_norm_figure",
    "heatmap_figure",
    "loss_figure",
    "predictions_figure",
    "probs_figure",
    "run_color",
    "series_figure",
    "split_spans",
    "sweep_figure",
    "thin",
    "visible_char",
]
