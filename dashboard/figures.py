"""Pure figure builders: arrays in, ``plotly.graph_objects.Figure`` out.

Nothing here touches Streamlit or session state, so every chart is unit-tested with synthetic
arrays. The live charts are redrawn several times a second, hence the conventions:

- numeric arrays are sent as float32 (plotly encodes NumPy arrays as typed binary, half the
  bytes of float64) and long series are thinned to a few thousand points before plotting;
- SVG traces (``go.Scatter``), not WebGL: a handful of redraws per second of a few hundred
  points is cheap in SVG, and WebGL contexts run out when many charts are re-created;
- every figure has a constant ``uirevision`` so a user's zoom survives the next refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from rnn_core.history import downsample_indices

TRAIN_COLOR = "#3a6ea5"
VAL_COLOR = "#d1495b"
ACTUAL_COLOR = "#2b2d42"
FORECAST_COLOR = "#edae49"
BASELINE_COLOR = "#8d99ae"
TRAIN_FILL = "rgba(58, 110, 165, 0.08)"
VAL_FILL = "rgba(209, 73, 91, 0.10)"
PARAM_COLORS = ("#3a6ea5", "#d1495b", "#00798c", "#edae49", "#66a182", "#8e6c8a", "#2e4057", "#f18f01")

PREVIEW_POINTS = 3000
"""Most points drawn per series in previews; CSVs may hold a million rows."""

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 20}


def f32(values) -> np.ndarray:
    """Numbers as a float32 array (datetimes and strings are returned unchanged)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        with np.errstate(over="ignore"):  # beyond float32's range is drawn as infinite anyway
            return arr.astype(np.float32, copy=False)
    return arr


def thin(n_rows: int, n: int = PREVIEW_POINTS) -> np.ndarray:
    """Indices of at most ``n`` evenly spaced rows, first and last always included."""
    return downsample_indices(n_rows, n)


def visible_char(ch: str) -> str:
    """A printable stand-in for whitespace and control characters in chart labels."""
    return {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}.get(ch, ch if ch.isprintable() else repr(ch)[1:-1])


def _base_layout(fig: go.Figure, *, title: str, revision: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin=_MARGIN,
        uirevision=revision,
        # Below the plot: above it, legends collide with the title and the chart's tool bar.
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0.0},
        hovermode="x unified",
    )
    return fig


FEW_POINTS = 20
"""Curves with at most this many points get markers: a line through one point is invisible."""

NO_STEPS_YET = "No steps yet: press <b>Start</b> or <b>Step</b>"


MIN_DECADES = 2.0
"""Least span of a log axis in decades. Over a few decades plotly labels 2, 3, 4, 5 between the
powers of ten, which on a projector reads as a linear scale, so narrow axes get a tick per power
of ten only."""


def _log_y(fig: go.Figure, title: str) -> None:
    """A log y-axis labelled in powers of ten (SI prefixes such as "100µ" or "1B" read as units)."""
    fig.update_yaxes(type="log", title_text=title, exponentformat="power", showexponent="all")
    ys = [np.asarray(t.y, dtype=float) for t in fig.data if t.y is not None and len(t.y)]
    ys = np.concatenate(ys) if ys else np.zeros(0)
    ys = ys[np.isfinite(ys) & (ys > 0)]
    if ys.size:
        lo, hi = np.log10(ys.min()), np.log10(ys.max())
        if hi - lo < 2 * MIN_DECADES:
            fig.update_yaxes(dtick=1)  # powers of ten only
        if hi - lo < MIN_DECADES:
            mid = (lo + hi) / 2
            fig.update_yaxes(range=[mid - MIN_DECADES / 2, mid + MIN_DECADES / 2])


def _step_axis(fig: go.Figure) -> None:
    """The optimizer-step x-axis: whole steps only (no "step 1.5" over the first few steps)."""
    xs = [np.asarray(t.x, dtype=float) for t in fig.data if t.x is not None and len(t.x)]
    xs = np.concatenate(xs) if xs else np.zeros(0)
    xs = xs[np.isfinite(xs)]
    fig.update_xaxes(title_text="optimizer step")
    if xs.size and xs.max() - xs.min() < 10:
        fig.update_xaxes(dtick=1, tick0=0)


def _curve_mode(n_points: int, mode: str = "lines") -> str:
    return f"{mode}+markers" if n_points <= FEW_POINTS and "markers" not in mode else mode


def _note(fig: go.Figure, text: str, *, center: bool = False) -> None:
    """A message inside the plot area (an empty chart says why it is empty)."""
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5 if center else 0.01,
        y=0.5 if center else 0.99,
        xanchor="center" if center else "left",
        yanchor="middle" if center else "top",
        showarrow=False,
        align="left",
        font={"size": 14 if center else 12, "color": "#555"},
        bgcolor="rgba(255, 255, 255, 0.8)",
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


def _shade_split(
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


def split_spans(x_axis: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray) -> tuple[tuple, tuple]:
    """x-ranges ``(first, last)`` covered by the training and validation targets."""
    tr = (x_axis[int(np.min(train_idx))], x_axis[int(np.max(train_idx))]) if len(train_idx) else None
    va = (x_axis[int(np.min(val_idx))], x_axis[int(np.max(val_idx))]) if len(val_idx) else None
    return tr, va


# --------------------------------------------------------------------------------------------- data


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
    _shade_split(fig, train_span, val_span, row="all" if rows > 1 else None)
    fig.update_xaxes(title_text=x_label, row=rows, col=1)
    fig.update_yaxes(title_text=target_name, row=1, col=1)
    return _base_layout(fig, title=title, revision="series", height=300 + 110 * (rows - 1))


def char_counts_figure(counts: Mapping[str, int], *, top: int = 40) -> go.Figure:
    """Bar chart of the ``top`` most frequent characters, most frequent first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    fig = go.Figure(
        go.Bar(
            x=[visible_char(c) for c, _ in items],
            y=f32([n for _, n in items]),
            marker_color=TRAIN_COLOR,
            name="count",
        )
    )
    fig.update_xaxes(type="category", title_text="character")
    fig.update_yaxes(title_text="count")
    return _base_layout(fig, title=f"Character frequencies (top {len(items)})", revision="chars")


# ---------------------------------------------------------------------------------------- training


def loss_figure(
    steps: np.ndarray,
    train_loss: np.ndarray,
    eval_steps: np.ndarray | None = None,
    val_loss: np.ndarray | None = None,
    *,
    loss_label: str = "loss",
) -> go.Figure:
    """Training loss per step and validation loss per evaluation on a log y-axis.

    Non-positive and non-finite values are dropped (a log axis cannot place them).
    """
    fig = go.Figure()
    for xs, ys, name, color, mode in (
        (steps, train_loss, "training", TRAIN_COLOR, "lines"),
        (eval_steps, val_loss, "validation", VAL_COLOR, "lines+markers"),
    ):
        if xs is None or ys is None:
            continue
        xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        fig.add_trace(
            go.Scatter(
                x=f32(xs[keep]),
                y=f32(ys[keep]),
                name=name,
                mode=_curve_mode(int(keep.sum()), mode),
                line={"color": color, "width": 1.6},
                marker={"size": 7 if keep.sum() <= FEW_POINTS else 4},
                cliponaxis=False,  # a lone dot at step 0 is not cut in half by the axis
            )
        )
    _log_y(fig, loss_label)
    _step_axis(fig)
    fig.update_xaxes(rangemode="tozero")
    if np.asarray(steps).size == 0:
        _note(fig, NO_STEPS_YET + "<br>(the dot is the loss of the untrained model)", center=True)
        fig.update_xaxes(range=[0, 10])
    return _base_layout(fig, title="Loss", revision="loss")


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
) -> go.Figure:
    """Actual values as one line, one-step predictions on the training and validation windows.

    All arrays are 1-D in original units; the validation range is shaded.
    """
    x_all = np.concatenate([np.asarray(x_train), np.asarray(x_val)])
    y_all = np.concatenate([np.ravel(actual_train), np.ravel(actual_val)])
    order = np.argsort(x_all, kind="stable")
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f32(x_all[order]),
            y=f32(y_all[order]),
            name="actual",
            mode="lines",
            line={"color": ACTUAL_COLOR, "width": 2},
        )
    )
    for xs, ys, name, color in (
        (x_train, pred_train, "predicted (train)", TRAIN_COLOR),
        (x_val, pred_val, "predicted (validation)", VAL_COLOR),
    ):
        fig.add_trace(
            go.Scatter(
                x=f32(xs),
                y=f32(np.ravel(ys)),
                name=name,
                mode="lines",
                line={"color": color, "width": 1.6, "dash": "dot"},
            )
        )
    if len(x_val):
        _shade_split(fig, None, (np.min(x_val), np.max(x_val)))
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return _base_layout(fig, title=title, revision="predictions")


def forecast_figure(
    x_hist: np.ndarray,
    y_hist: np.ndarray,
    x_future: np.ndarray,
    y_future: np.ndarray,
    *,
    x_val: np.ndarray | None = None,
    pred_val: np.ndarray | None = None,
    y_label: str = "value",
    x_label: str = "x",
) -> go.Figure:
    """History, one-step validation predictions and a closed-loop forecast beyond the data."""
    idx = thin(len(x_hist))
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=f32(np.asarray(x_hist)[idx]),
            y=f32(np.asarray(y_hist)[idx]),
            name="actual",
            mode="lines",
            line={"color": ACTUAL_COLOR, "width": 1.6},
        )
    )
    if x_val is not None and pred_val is not None:
        fig.add_trace(
            go.Scatter(
                x=f32(x_val),
                y=f32(np.ravel(pred_val)),
                name="one-step (validation)",
                mode="lines",
                line={"color": VAL_COLOR, "width": 1.6, "dash": "dot"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=f32(x_future),
            y=f32(np.ravel(y_future)),
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
    fig.update_xaxes(title_text=x_label)
    fig.update_yaxes(title_text=y_label)
    return _base_layout(fig, title="Validation predictions and forecast", revision="forecast", height=380)


def _z_range(values: np.ndarray) -> tuple[float, float, str]:
    """Colour range: [0, 1] for non-negative activations (sigmoid gates), symmetric otherwise."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0, "Viridis"
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0:
        return 0.0, max(1.0, hi), "Viridis"
    m = max(abs(lo), abs(hi), 1e-12)
    m = 1.0 if m <= 1.0 else m
    return -m, m, "RdBu_r"


def heatmap_figure(values: np.ndarray, *, title: str = "Hidden activations", t0: int = 1) -> go.Figure:
    """A ``(T, H)`` activation array drawn as units (rows) × time (columns).

    The colour range is fixed ([-1, 1] for tanh-like values, [0, 1] for sigmoids, wider only if
    the values exceed it) so colours mean the same thing from one refresh to the next.
    """
    values = np.asarray(values, dtype=float)
    T, H = values.shape
    zmin, zmax, scale = _z_range(values)
    fig = go.Figure(
        go.Heatmap(
            z=f32(values.T),  # (H, T): one row per unit
            x=f32(np.arange(t0, t0 + T)),
            y=f32(np.arange(H)),
            zmin=zmin,
            zmax=zmax,
            colorscale=scale,
            colorbar={"thickness": 10},
            hovertemplate="t=%{x}<br>unit %{y}<br>%{z:.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="time step in window")
    fig.update_yaxes(title_text="unit", autorange="reversed")
    _base_layout(fig, title=title, revision="heatmap")
    fig.update_layout(hovermode="closest")
    return fig


def gates_figure(gates: Mapping[str, np.ndarray], *, title: str = "Gates") -> go.Figure:
    """One heatmap per gate (each ``(T, H)``), stacked, units × time, sharing the time axis."""
    names = list(gates)
    fig = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.1, subplot_titles=names
    )
    for r, name in enumerate(names, start=1):
        values = np.asarray(gates[name], dtype=float)
        zmin, zmax, scale = _z_range(values)
        T, H = values.shape
        # Each gate its own colour bar beside it: sigmoid gates run 0..1, a tanh candidate -1..1.
        lo, hi = fig.layout[f"yaxis{r if r > 1 else ''}"].domain
        fig.add_trace(
            go.Heatmap(
                z=f32(values.T),
                x=f32(np.arange(1, T + 1)),
                y=f32(np.arange(H)),
                zmin=zmin,
                zmax=zmax,
                colorscale=scale,
                colorbar={
                    "thickness": 10,
                    "len": hi - lo,
                    "y": (lo + hi) / 2,
                    "yanchor": "middle",
                    "nticks": 3,
                },
                name=name,
                hovertemplate=f"{name}<br>t=%{{x}}<br>unit %{{y}}<br>%{{z:.3f}}<extra></extra>",
            ),
            row=r,
            col=1,
        )
        fig.update_yaxes(autorange="reversed", showticklabels=False, row=r, col=1)
    fig.update_xaxes(title_text="time step in window", row=len(names), col=1)
    _base_layout(fig, title=title, revision="gates", height=max(320, 130 * len(names) + 60))
    fig.update_layout(hovermode="closest")
    return fig


def grad_norm_figure(
    steps: np.ndarray,
    norms: Mapping[str, np.ndarray],
    *,
    total: np.ndarray | None = None,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> go.Figure:
    """Gradient L2 norm per parameter over steps (log y) with the clipping threshold drawn.

    ``clip_norm`` is compared with the global norm (drawn as ``total``). ``clip_value`` clamps
    single elements; a parameter whose norm is below it cannot have had an element clipped,
    so it is drawn as a second, dotted threshold.
    """
    steps = np.asarray(steps, dtype=float)
    fig = go.Figure()
    vanished = []
    for k, (name, values) in enumerate(norms.items()):
        ys = np.asarray(values, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        finite = ys[np.isfinite(ys)]
        if finite.size and finite[-1] == 0:
            vanished.append(name)
        fig.add_trace(
            go.Scatter(
                x=f32(steps[keep]),
                y=f32(ys[keep]),
                name=name,
                mode=_curve_mode(int(keep.sum())),
                line={"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 1.2},
                marker={"size": 5},
            )
        )
    if total is not None:
        ys = np.asarray(total, dtype=float)
        keep = np.isfinite(ys) & (ys > 0)
        fig.add_trace(
            go.Scatter(
                x=f32(steps[keep]),
                y=f32(ys[keep]),
                name="global norm",
                mode=_curve_mode(int(keep.sum())),
                line={"color": ACTUAL_COLOR, "width": 2},
                marker={"size": 5},
            )
        )
    if not steps.size:
        _note(fig, NO_STEPS_YET, center=True)
    elif vanished:
        # A log axis has no place for 0, so these curves end or never appear: say why.
        names = [", ".join(vanished[i : i + 2]) for i in range(0, len(vanished), 2)]
        _note(
            fig, "Vanished (gradient exactly 0,<br>which a log axis cannot draw):<br>" + ",<br>".join(names)
        )
    x_ends = f32([steps.min(), steps.max()]) if steps.size else f32([0.0, 1.0])
    for value, label, dash in (
        (clip_norm, "clip norm", "dash"),
        (clip_value, "clip value (per element)", "dot"),
    ):
        if value is None:
            continue
        fig.add_trace(
            go.Scatter(
                x=x_ends,
                y=f32([value, value]),
                name=f"{label} {value:g}",
                mode="lines",
                line={"color": VAL_COLOR, "width": 2, "dash": dash},
                hoverinfo="skip",
            )
        )
    _log_y(fig, "gradient L2 norm (before clipping)")
    _step_axis(fig)
    return _base_layout(fig, title="Gradient norm per parameter", revision="grads")


def accuracy_figure(
    eval_steps: np.ndarray, accuracy: np.ndarray, *, baseline: float | None = None
) -> go.Figure:
    """Next-character accuracy on the validation text per evaluation, in percent."""
    xs = np.asarray(eval_steps, dtype=float)
    ys = np.asarray(accuracy, dtype=float)
    keep = np.isfinite(ys)
    fig = go.Figure(
        go.Scatter(
            x=f32(xs[keep]),
            y=f32(100 * ys[keep]),
            name="validation accuracy",
            mode="lines+markers",
            marker={"size": 4},
            line={"color": VAL_COLOR, "width": 1.8},
        )
    )
    if baseline is not None and xs.size:
        fig.add_trace(
            go.Scatter(
                x=f32([xs.min(), xs.max()]),
                y=f32([100 * baseline, 100 * baseline]),
                name="most frequent character",
                mode="lines",
                line={"color": BASELINE_COLOR, "dash": "dash"},
            )
        )
    fig.update_yaxes(title_text="next-character accuracy (%)", range=[0, 100])
    _step_axis(fig)
    return _base_layout(fig, title="Next-character accuracy", revision="accuracy")


def probs_figure(
    pairs: Sequence[tuple[str, float]], *, title: str = "Next-character probabilities"
) -> go.Figure:
    """Horizontal bars of ``(character, probability)`` pairs, most probable on top."""
    pairs = sorted(pairs, key=lambda p: -p[1])
    fig = go.Figure(
        go.Bar(
            x=f32([p for _, p in pairs]),
            y=[f"'{visible_char(c)}'" for c, _ in pairs],
            orientation="h",
            marker_color=TRAIN_COLOR,
            name="probability",
            text=[f"{p:.1%}" for _, p in pairs],
            textposition="auto",
        )
    )
    fig.update_yaxes(type="category", autorange="reversed")
    fig.update_xaxes(title_text="probability", range=[0, 1])
    _base_layout(fig, title=title, revision="probs", height=max(240, 28 * len(pairs) + 80))
    fig.update_layout(hovermode="closest")
    return fig
