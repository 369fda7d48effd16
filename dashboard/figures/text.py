"""Figures of a character-level text task: character frequencies and next-character probabilities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from dashboard.figures.common import TRAIN_COLOR, base_layout, f32, visible_char


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
    return base_layout(fig, title=f"Character frequencies (top {len(items)})", revision="chars")


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
    base_layout(fig, title=title, revision="probs", height=max(240, 28 * len(pairs) + 80))
    fig.update_layout(hovermode="closest")
    return fig
