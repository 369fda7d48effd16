"""Figures of a regression series: the data preview with the split shaded, one-step predictions
against the actual values, and the closed-loop forecast beyond the data."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.common import (
    ACTUAL_COLOR,
    FORECAST_COLOR,
    PARAM_COLORS,
    PREVIEW_POINTS,
    TRAIN_COLOR,
    TRAIN_FILL,
    VAL_COLOR,
    VAL_FILL,
    base_layout,
    f32,
    note,
    thin,
)


def _scalar(value):
    """An axis position plotly serialises correctly: datetimes as ISO text, numbers as float.

    (A NumPy datetime64 in a shape would be written as integer nanoseconds, which a date axis
    cannot place.)
    """
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="ms"))
    if isinstance(value, (np.integer, np.floating)):
        return float(value)
    return value


def shade_split(
    fig: go.Figure,
    train_span: tuple | None,
    val_span: tuple | None,
    *,
    row: int | str | None = None,
) -> None:
    """Shade the training and validation ranges of the x-axis, labelled inside the plot."""
    kw = {} if row is None else {"row": row, "col": 1}
    for span, fill, label in ((train_span, TRAIN_FILL, "train"), (val_span, VAL_FILL, "validation")):
        if span is None:
            continue
        fig.add_vrect(
            x0=_scalar(span[0]),
            x1=_scalar(span[1]),
            fillcolor=fill,
            line_width=0,
            layer="below",
            annotation_text=label,
            annotation_position="top left",
            annotation_font={"size": 11, "color": "#555"},
            **kw,
        )


class Thinner:
    """Thins every curve of one figure to at most ``max_points`` points and remembers whether any
    curve lost points, so the figure can say so."""

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points
        self.longest = 0
        self.drawn = 0

    def __call__(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """``(N,)`` positions and values (any shape with N elements) -> at most ``max_points`` of each."""
        xs, ys = np.asarray(xs), np.ravel(ys)
        idx = thin(len(xs), self.max_points)
        if len(idx) < len(xs):
            self.longest = max(self.longest, len(xs))
            self.drawn = max(self.drawn, len(idx))
        return xs[idx], ys[idx]

    def add_note(self, fig: go.Figure) -> None:
        if self.longest:
            note(
                fig,
                f"Thinned for drawing: at most {self.drawn:,} evenly spaced<br>"
                f"points per curve (longest has {self.longest:,})",
            )


def split_spans(x_axis: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray) -> tuple[tuple, tuple]:
    """x-ranges ``(first, last)`` covered by the training and validation targets."""
    tr = (x_axis[int(np.min(train_idx))], x_axis[int(np.max(train_idx))]) if len(train_idx) else None
    va = (x_axis[int(np.min(val_idx))], x_axis[int(np.max(val_idx))]) if len(val_idx) else None
    return tr, va


def series_figure(
    x: np.ndarray,
    target: np.ndarray,
    *,
    target_name: str,
    x_label: str = "x",
    extras: Mapping[str, np.ndarray] | None = None,
    train_span: tuple | None = None,
    val_span: tuple | None = None,
    title: str = "Series in original units",
) -> go.Figure:
    """The target series (and any extra input columns, one panel each) with the split shaded.

    Parameters
    ----------
    x : (N,) positions or datetime64 values
    target : (N,) target values in original units
    extras : name -> (N,) values of extra input columns, drawn in their own panels below
    train_span, val_span : (x0, x1) ranges shaded as training and validation
    """
    extras = dict(extras or {})
    rows = 1 + len(extras)
    idx = thin(len(x))
    fig = make_subplots(
        rows=rows,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[3] + [1] * (rows - 1),
        subplot_titles=["", *extras],
    )
    fig.add_trace(
        go.Scatter(
            x=f32(np.asarray(x)[idx]),
            y=f32(np.asarray(target)[idx]),
            name=target_name,
            mode="lines",
            line={"color": ACTUAL_COLOR, "width": 1.5},
        ),
        row=1,
        col=1,
    )
    for r, (name, values) in enumerate(extras.items(), start=2):
        fig.add_trace(
            go.Scatter(
                x=f32(np.asarray(x)[idx]),
                y=f32(np.asarray(values)[idx]),
                name=name,
                mode="lines",
                line={"color": PARAM_COLORS[(r - 1) % len(PARAM_COLORS)], "width": 1},
            ),
            row=r,
            col=1,
        )
    shade_split(fig, train_span, val_span, row="all" if rows > 1 else None)
    fig.update_xaxes(title_text=x_label, row=rows, col=1)
    fig.update_yaxes(title_text=target_name, row=1, col=1)
    return base_layout(fig, title=title, revision="series", height=300 + 110 * (rows - 1))


def predictions_figure(
    x_train: np.ndarray,
    pred_train: np.ndarray,
    actual_train: np.ndarray,
    x_val: np.ndarray,
    pred_val: np.ndarray,
    actual_val: np.ndarray,
    *,
    y_label: str = "value",
    x_label: str = "x",
    title: str = "One-step predictions vs actual",
    max_points: int = PREVIEW_POINTS,
) -> go.Figure:
    """Actual values as one line, one-step predictions on the training and validation windows.

    All arrays are 1-D in original units; the validation range is shaded. Each curve is drawn
    with at most ``max_points`` evenly spaced points (its first and last among them; values
    below 2 count as 2), and a note in the plot says when a curve was thinned.
    """
    thinned = Thinner(max_points)
    x_all = np.concatenate([np.asarray(x_train), np.asarray(x_val)])
    y_all = np.concatenate([np.ravel(actual_train), np.ravel(actual_val)])
    order = np.argsort(x_all, kind="stable")
    xs, ys = thinned(x_all[order], y_all[order])
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f32(xs),
            y=f32(ys),
            name="actual",
            mode="lines",
            line={"color": ACTUAL_COLOR, "width": 2},
        )
    )
    for xs, ys, name, color in (
        (*thinned(x_train, pred_train), "predicted (train)", TRAIN_COLOR),
        (*thinned(x_val, pred_val), "predicted (validation)", VAL_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=f32(xs),
                y=f32(ys),
                name=name,
                mode="lines",
                line={"color": color, "width": 1.6, "dash": "dot"},
            )
        )
    if len(x_val):
        shade_split(fig, None, (np.min(x_val), np.max(x_val)))
    thinned.add_note(fig)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return base_layout(fig, title=title, revision="predictions")


def forecast_figure(
    x_hist: np.ndarray,
    y_hist: np.ndarray,
    x_future: np.ndarray,
    y_future: np.ndarray,
    *,
    x_val: np.ndarray | None = None,
    pred_val: np.ndarray | None = None,
    band: tuple[np.ndarray, np.ndarray, str] | None = None,
    held_out: tuple[np.ndarray, np.ndarray] | None = None,
    y_label: str = "value",
    x_label: str = "x",
    max_points: int = PREVIEW_POINTS,
) -> go.Figure:
    """History, one-step validation predictions and a closed-loop forecast beyond the data.

    ``band`` is ``(lower, upper, label)``, an interval for each forecast step drawn as a shaded
    band under the forecast (the steps without a finite interval are left out of it);
    ``held_out`` the test period's ``(x, actual)``, drawn once it has been scored.
    Each curve is drawn with at most ``max_points`` evenly spaced points (its first and last
    among them; values below 2 count as 2), and a note in the plot says when a curve was
    thinned. The forecast's legend entry and shaded range still cover every forecast step.
    """
    thinned = Thinner(max_points)
    xs, ys = thinned(x_hist, y_hist)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f32(xs),
            y=f32(ys),
            name="actual",
            mode="lines",
            line={"color": ACTUAL_COLOR, "width": 1.6},
        )
    )
    if x_val is not None and pred_val is not None:
        xs, ys = thinned(x_val, pred_val)
        fig.add_trace(
            go.Scatter(
                x=f32(xs),
                y=f32(ys),
                name="one-step (validation)",
                mode="lines",
                line={"color": VAL_COLOR, "width": 1.6, "dash": "dot"},
            )
        )
    if held_out is not None and len(held_out[0]):
        xs, ys = thinned(*held_out)
        fig.add_trace(
            go.Scatter(
                x=f32(xs),
                y=f32(ys),
                name="actual (test period)",
                mode="lines",
                line={"color": ACTUAL_COLOR, "width": 1.6, "dash": "dash"},
            )
        )
    if band is not None:
        lower, upper, label = band
        n = int(np.sum(np.isfinite(lower) & np.isfinite(upper)))
        if n:
            xb = np.asarray(x_future)[:n]
            xs, lo = thinned(xb, np.asarray(lower)[:n])
            _, hi = thinned(xb, np.asarray(upper)[:n])
            fig.add_trace(go.Scatter(x=f32(xs), y=f32(lo), mode="lines", line={"width": 0},
                                     name="lower bound", showlegend=False, hoverinfo="skip"))  # fmt: skip
            fig.add_trace(
                go.Scatter(
                    x=f32(xs),
                    y=f32(hi),
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor="rgba(237, 174, 73, 0.30)",
                    name=label,
                )
            )
    xs, ys = thinned(x_future, y_future)
    fig.add_trace(
        go.Scatter(
            x=f32(xs),
            y=f32(ys),
            name=f"forecast ({len(x_future)} steps, closed loop)",
            mode="lines+markers",
            marker={"size": 3},
            line={"color": FORECAST_COLOR, "width": 2},
        )
    )
    if len(x_future):
        fig.add_vrect(
            x0=_scalar(x_future[0]),
            x1=_scalar(x_future[-1]),
            fillcolor="rgba(237, 174, 73, 0.12)",
            line_width=0,
            layer="below",
            annotation_text="forecast",
            annotation_position="top left",
        )
    thinned.add_note(fig)
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return base_layout(fig, title="Validation predictions and forecast", revision="forecast", height=380)
