"""Figures of a model's internals over one window: hidden or cell activations and gate values."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figures.common import base_layout, f32


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
    base_layout(fig, title=title, revision="heatmap")
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
    base_layout(fig, title=title, revision="gates", height=max(320, 130 * len(names) + 60))
    fig.update_layout(hovermode="closest")
    return fig
