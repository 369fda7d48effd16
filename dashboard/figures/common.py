"""What every figure shares: colours, the float32 and thinning helpers, layout, axes and notes."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

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

MARGIN = {"l": 10, "r": 10, "t": 40, "b": 20}

MIN_DECADES = 2.0
"""Least span of a log axis in decades. Over a few decades plotly labels 2, 3, 4, 5 between the
powers of ten, which on a projector reads as a linear scale, so narrow axes get a tick per power
of ten only."""


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


TEXT_COLOR, GRID_COLOR, AXIS_COLOR = "#31333f", "#e6e9ef", "#a3a8b8"

TEMPLATE = go.layout.Template(
    layout={
        "font": {"family": '"Source Sans", "Source Sans Pro", sans-serif', "size": 13, "color": TEXT_COLOR},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "colorway": list(PARAM_COLORS),
        "xaxis": {"gridcolor": GRID_COLOR, "linecolor": AXIS_COLOR, "zerolinecolor": GRID_COLOR,
                  "automargin": True},
        "yaxis": {"gridcolor": GRID_COLOR, "linecolor": AXIS_COLOR, "zerolinecolor": GRID_COLOR,
                  "automargin": True},
        "hoverlabel": {"font": {"family": '"Source Sans", sans-serif'}},
    }
)  # fmt: skip
"""The app's look for every figure: the page's font and text colour, light grids on white, the
parameter colours in turn. Figures carry it themselves, so they look the same in the app's chart
element, in ``st.plotly_chart`` and exported."""


def base_layout(fig: go.Figure, *, title: str, revision: str, height: int = 360) -> go.Figure:
    """Title, size, margins, legend and a constant ``uirevision`` (a user's zoom survives redraws)."""
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        height=height,
        margin=MARGIN,
        uirevision=revision,
        # Below the plot: above it, legends collide with the title and the chart's tool bar.
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "xanchor": "left", "x": 0.0},
        hovermode="x unified",
    )
    return fig


def log_y(fig: go.Figure, title: str) -> None:
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


def step_axis(fig: go.Figure) -> None:
    """The optimizer-step x-axis: whole steps only (no "step 1.5" over the first few steps)."""
    xs = [np.asarray(t.x, dtype=float) for t in fig.data if t.x is not None and len(t.x)]
    xs = np.concatenate(xs) if xs else np.zeros(0)
    xs = xs[np.isfinite(xs)]
    fig.update_xaxes(title_text="optimizer step")
    if xs.size and xs.max() - xs.min() < 10:
        fig.update_xaxes(dtick=1, tick0=0)


def note(fig: go.Figure, text: str, *, center: bool = False) -> None:
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
