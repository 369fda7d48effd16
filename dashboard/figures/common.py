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


SUBTITLE_LINE = 16
"""Pixels a line of notes under a chart's title adds to the top margin (and to the height)."""

LEGEND_GAP = 72
"""Pixels from the bottom of a plot to the top of its legend: room for the tick labels and the
x-axis title between them."""


def legend_y(height: int) -> float:
    """The legend's place below the plot, in fractions of the plot's height (plotly's unit), for
    a figure ``height`` pixels tall: :data:`LEGEND_GAP` pixels down whatever the height, as far
    as the plot's height can be told before the legend's rows are known."""
    plot = max(height - MARGIN["t"] - 130, 120)  # less the title, the axis and about two rows
    return -min(LEGEND_GAP / plot, 0.45)


def base_layout(fig: go.Figure, *, title: str, revision: str, height: int = 360) -> go.Figure:
    """Title, size, margins, legend and a constant ``uirevision`` (a user's zoom survives redraws)."""
    sub = fig.layout.title.subtitle.text
    lines = sub.count("<br>") + 1 if sub else 0
    fig.update_layout(
        template=TEMPLATE,
        title={
            "text": title,
            "x": 0,
            "xanchor": "left",
            "font": {"size": 15},
            "subtitle": {"font": {"size": 12, "color": "#555"}},
        },
        height=height + SUBTITLE_LINE * lines,
        margin={**MARGIN, "t": MARGIN["t"] + SUBTITLE_LINE * lines},
        uirevision=revision,
        # Below the plot: above it, legends collide with the title and the chart's tool bar.
        legend={"orientation": "h", "yanchor": "top", "y": legend_y(height), "xanchor": "left", "x": 0.0},
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
    """A message on the chart: in the middle of an empty chart (saying why it is empty), else
    under the title (where no curve can run beneath it), after any note already there."""
    if not center:
        before = fig.layout.title.subtitle.text
        fig.update_layout(title_subtitle_text=f"{before}<br>{text}" if before else text)
        return
    fig.add_annotation(
        text=text,
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
        xanchor="center",
        yanchor="middle",
        showarrow=False,
        align="left",
        font={"size": 14, "color": "#555"},
        bgcolor="rgba(255, 255, 255, 0.8)",
    )
