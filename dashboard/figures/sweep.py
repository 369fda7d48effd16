"""A sweep's summary: each combination's mean validation metric over the seeds, with its spread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from dashboard.figures.common import PARAM_COLORS, base_layout, log_y


def sweep_figure(lines: Sequence[Mapping], names: Sequence[str], metric: str, *, label: str) -> go.Figure:
    """Grouped bars: one group per value of the first varied setting, one bar per combination of
    the others, the height the mean of ``metric`` over the seeds and the error bar one standard
    deviation. Combinations with no finished run are left out (the table says why)."""
    first, rest = names[0], list(names[1:])
    fig = go.Figure()
    groups: dict[str, list[Mapping]] = {}
    for line in lines:
        key = ", ".join(f"{n}={line[n]}" for n in rest) or label
        groups.setdefault(key, []).append(line)
    for k, (key, members) in enumerate(groups.items()):
        shown = [m for m in members if m[f"{metric}_mean"] is not None]
        fig.add_trace(
            go.Bar(
                x=[str(m[first]) for m in shown],
                y=[m[f"{metric}_mean"] for m in shown],
                error_y={"type": "data", "array": [m[f"{metric}_std"] or 0.0 for m in shown]},
                name=key,
                marker={"color": PARAM_COLORS[k % len(PARAM_COLORS)]},
                customdata=[m["runs"] - m["failed"] for m in shown],
                hovertemplate=f"{first}=%{{x}}<br>{label} %{{y:.4g}} ± %{{error_y.array:.2g}}"
                "<br>%{customdata} seeds<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(barmode="group", showlegend=bool(rest))
    fig.update_xaxes(title_text=first, type="category")
    log_y(fig, label)  # the bars are means over the seeds, the error bars one standard deviation
    return base_layout(fig, title=f"Sweep: {label} by {first}", revision="sweep")
