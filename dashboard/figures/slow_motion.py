"""Figures of one window in slow motion: the input with the current step marked, the states and
gates at that step as heat strips, the prediction, and in the backward pass the gradient's norm
by step (filled in from the end back to the current step) and its strip at that step. Arrays
come from :func:`rnn_core.slow_motion.window_trace`; ``t`` is an index into its steps and the
axes show window steps from 1 (``t0 + t + 1``)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.figures.common import ACTUAL_COLOR, PARAM_COLORS, VAL_COLOR, base_layout, f32, log_y, note

GATE_LABELS = {
    "h": "h  hidden",
    "c": "c  cell",
    "i": "i  input gate",
    "f": "f  forget gate",
    "g": "g  candidate",
    "o": "o  output gate",
    "r": "r  reset gate",
    "z": "z  update gate",
    "n": "n  candidate",
}
"""Row labels of the state strips (PyTorch's gate letters)."""

FADED = "#c9ccd6"
ROW_PX = 24
"""Pixels per row of a heat strip."""


def steps_axis(found: dict) -> np.ndarray:
    """Window steps (from 1) of the traced steps."""
    return np.arange(len(found["inject"])) + int(found["t0"]) + 1


def _cursor(fig: go.Figure, step: int) -> None:
    fig.add_vline(x=step, line={"color": VAL_COLOR, "width": 1.5, "dash": "dot"})


def _window_axis(fig: go.Figure, steps: np.ndarray) -> None:
    fig.update_xaxes(title_text="step t in the window", range=[steps[0] - 0.5, steps[-1] + 0.5])


def input_figure(found: dict, t: int, *, backward: bool = False) -> go.Figure:
    """A series window's inputs by step (every column), with the inputs at t marked: bright up to
    step t and faded after it (the forward pass), or bright from the last step back to t (the
    backward pass, which runs right to left)."""
    fig = go.Figure()
    steps = steps_axis(found)
    x = np.asarray(found["x"], dtype=float)
    seen = slice(t, len(steps)) if backward else slice(0, t + 1)
    for j, name in enumerate(found["columns"]):
        color = PARAM_COLORS[j % len(PARAM_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=f32(steps),
                y=f32(x[:, j]),
                mode="lines",
                line={"color": FADED, "width": 1.5},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(go.Scatter(
            x=f32(steps[seen]), y=f32(x[seen, j]), mode="lines", name=str(name),
            line={"color": color, "width": 2}, showlegend=len(found["columns"]) > 1,
        ))  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=f32(steps[t : t + 1]),
                y=f32(x[t : t + 1, j]),
                mode="markers",
                marker={"color": color, "size": 11, "line": {"color": "white", "width": 1.5}},
                showlegend=False,
                hovertemplate=f"x_t ({name}) = %{{y:.3g}}<extra></extra>",
            )
        )
    for i in found.get("answer") or []:  # a memory task: where the answer lies
        fig.add_vrect(x0=steps[i] - 0.5, x1=steps[i] + 0.5, fillcolor="#edae49", opacity=0.35, line_width=0,
                      annotation_text="answer", annotation_position="top left")  # fmt: skip
    _cursor(fig, int(steps[t]))
    _window_axis(fig, steps)
    fig.update_yaxes(title_text="input x_t")
    return base_layout(
        fig, title=f"Input x_t, step {steps[t]} of {found['steps']}", revision="sm-input", height=280
    )


def _strip(
    rows: list[tuple[str, np.ndarray]],
    *,
    zmax: float,
    title: str,
    revision: str,
    hover: str,
    subtitle: str = "",
) -> go.Figure:
    """Rows of values over units as one heatmap, a row per (label, values (U,)), top row first,
    coloured on a fixed symmetric range ±``zmax``."""
    z = np.array([np.asarray(v, dtype=float) for _, v in rows])  # (rows, U)
    labels = [label for label, _ in rows]
    fig = go.Figure(go.Heatmap(
        z=f32(z), x=f32(np.arange(z.shape[1])), y=labels, zmin=-zmax, zmax=zmax, colorscale="RdBu_r",
        colorbar={"thickness": 10, "len": 1.0, "nticks": 3 if len(rows) < 4 else 5, "exponentformat": "e"},
        xgap=1, ygap=2,
        hovertemplate=f"%{{y}}<br>unit %{{x}}<br>{hover} %{{z:.3g}}<extra></extra>",
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text="unit", showgrid=False)
    if subtitle:
        note(fig, subtitle)
    base_layout(fig, title=title, revision=revision, height=130 + ROW_PX * max(len(rows), 3))
    fig.update_layout(hovermode="closest")
    return fig


def state_figure(found: dict, t: int) -> go.Figure:
    """Every layer's h_t (and c_t) and gates at step t as heat strips over the units, the top
    layer first. Colours run from -1 (blue) to 1 (red): a sigmoid gate between 0 (white, shut)
    and 1 (red, open); values beyond ±1 (an LSTM's c, a ReLU's h) show at full colour."""
    rows: list[tuple[str, np.ndarray]] = []
    many = len(found["layers"]) > 1
    for k in range(len(found["layers"]) - 1, -1, -1):
        layer = found["layers"][k]
        prefix = f"L{k} " if many else ""
        rows.append((prefix + GATE_LABELS["h"], layer["h"][t]))
        if "c" in layer:
            rows.append((prefix + GATE_LABELS["c"], layer["c"][t]))
        rows += [(prefix + GATE_LABELS.get(g, g), v[t]) for g, v in layer["gates"].items()]
    step = steps_axis(found)[t]
    cut = f"The first {found['units']} of {found['hidden']} units" if found["units"] < found["hidden"] else ""
    title = f"State and gates at step {step}"
    return _strip(rows, zmax=1.0, title=title, revision="sm-state", hover="value", subtitle=cut)


def gradient_strip_figure(found: dict, t: int) -> go.Figure:
    """Every layer's ∂L/∂h_t (and ∂L/∂c_t) at step t over the units, on one colour range for the
    whole window (the largest value anywhere), so a gradient that fades on its way back fades
    here too."""
    rows: list[tuple[str, np.ndarray]] = []
    many = len(found["layers"]) > 1
    peak = 0.0
    for k in range(len(found["layers"]) - 1, -1, -1):
        layer = found["layers"][k]
        prefix = f"L{k} " if many else ""
        for which in ("h", "c"):
            if f"d{which}" in layer:
                values = np.asarray(layer[f"d{which}"], dtype=float)
                finite = np.abs(values[np.isfinite(values)])
                peak = max(peak, float(finite.max()) if finite.size else 0.0)
                rows.append((f"{prefix}∂L/∂{which}", values[t]))
    step = steps_axis(found)[t]
    zmax = peak if peak > 0 else 1.0
    scale = f"Colours run to ±{zmax:.2g}, the largest gradient anywhere in the window"
    title = f"Gradient at step {step}"
    return _strip(rows, zmax=zmax, title=title, revision="sm-grad-strip", hover="∂L/∂·", subtitle=scale)


def gradient_norm_figure(found: dict, t: int) -> go.Figure:
    """‖∂L/∂h_t‖ (solid) and ‖∂L/∂c_t‖ (dashed) per layer by step on a log axis, drawn from the
    last step back to step t (the steps the backward pass has reached), with grey markers where
    the loss enters the top layer directly."""
    fig = go.Figure()
    steps = steps_axis(found)
    reached = slice(t, len(steps))
    for k, layer in enumerate(found["layers"]):
        for which, dash in (("h", None), ("c", "dash")):
            if f"d{which}_norm" not in layer:
                continue
            norms = np.asarray(layer[f"d{which}_norm"], dtype=float)[reached]
            keep = np.isfinite(norms) & (norms > 0)
            fig.add_trace(go.Scatter(
                x=f32(steps[reached][keep]), y=f32(norms[keep]), name=f"‖∂L/∂{which}‖, layer {k}",
                mode="lines+markers", marker={"size": 4},
                line={"color": PARAM_COLORS[k % len(PARAM_COLORS)], "width": 2, "dash": dash},
            ))  # fmt: skip
    inject = np.asarray(found["inject"], dtype=float)[reached]
    keep = np.isfinite(inject) & (inject > 0)
    fig.add_trace(
        go.Scatter(
            x=f32(steps[reached][keep]),
            y=f32(inject[keep]),
            mode="markers",
            name="loss enters here",
            marker={"color": "#8d99ae", "size": 7, "symbol": "triangle-down"},
        )
    )
    log_y(fig, "gradient norm")
    _all_norms_range(fig, found)
    _cursor(fig, int(steps[t]))
    _window_axis(fig, steps)
    return base_layout(
        fig, title="Backward pass: gradient reaching each h_t", revision="sm-grad-norm", height=320
    )


def _all_norms_range(fig: go.Figure, found: dict) -> None:
    """The log axis fixed by the whole window's norms, so it does not move as steps fill in."""
    values = [np.asarray(layer[n], dtype=float) for layer in found["layers"] for n in ("dh_norm", "dc_norm")
              if n in layer] + [np.asarray(found["inject"], dtype=float)]  # fmt: skip
    allv = np.concatenate(values)
    allv = allv[np.isfinite(allv) & (allv > 0)]
    if allv.size:
        lo, hi = np.log10(allv.min()), np.log10(allv.max())
        pad = max((hi - lo) * 0.08, 0.3)
        fig.update_yaxes(range=[lo - pad, hi + pad])


def prediction_figure(found: dict, t: int, *, y_label: str = "value") -> go.Figure:
    """A series window's prediction: what the head reads from h at every step up to t (the
    network is scored at the last step only), the value each readout would be aiming at where
    there is one, and at the last step the prediction against the target."""
    fig = go.Figure()
    steps = steps_axis(found)
    last = len(steps) - 1
    if found.get("next") is not None:
        fig.add_trace(go.Scatter(x=f32(steps), y=f32(found["next"]), mode="lines", name="next value",
                                 line={"color": FADED, "width": 1.5, "dash": "dot"}))  # fmt: skip
    if found.get("readout") is not None:
        fig.add_trace(
            go.Scatter(
                x=f32(steps[: t + 1]),
                y=f32(found["readout"][: t + 1]),
                mode="lines",
                name="head reads h_t",
                line={"color": PARAM_COLORS[2], "width": 2},
            )
        )
    fig.add_trace(go.Scatter(x=[float(steps[last])], y=[found["target"]], mode="markers", name="target",
                             marker={"color": ACTUAL_COLOR, "size": 12, "symbol": "x"}))  # fmt: skip
    if t == last:
        fig.add_trace(go.Scatter(x=[float(steps[last])], y=[found["prediction"]], mode="markers",
                                 name="prediction", marker={"color": VAL_COLOR, "size": 12}))  # fmt: skip
        err = found["prediction"] - found["target"]
        note(fig, f"Prediction {found['prediction']:.4g}, target {found['target']:.4g} (error {err:+.3g})")
    else:
        note(fig, f"The prediction comes at the last step, {steps[last]}")
    _cursor(fig, int(steps[t]))
    _window_axis(fig, steps)
    fig.update_yaxes(title_text=y_label)
    return base_layout(fig, title="Prediction", revision="sm-pred", height=300)


def next_char_figure(found: dict, t: int, visible=str) -> go.Figure:
    """A text model's most likely next characters after step t, as bars, the right one (the
    character that does come next) in red, added below the others when it is not among them."""
    chars = [visible(ch) for ch in found["top_chars"][t]]
    probs = [float(p) for p in found["top_probs"][t]]
    right = visible(found["targets"][t])
    if right not in chars:
        chars.append(right)
        probs.append(float(found["target_prob"][t]))
    colors = [VAL_COLOR if ch == right else "#8d99ae" for ch in chars]
    fig = go.Figure(go.Bar(
        x=f32(probs), y=[f"'{ch}'" for ch in chars], orientation="h", marker={"color": colors},
        text=[f"{p:.0%}" for p in probs], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    ))  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text="probability", range=[0, 1.12], tickformat=".0%")
    step = steps_axis(found)[t]
    title = f"Next character after '{visible(found['chars'][t])}' (step {step})"
    p, loss = found["target_prob"][t], found["step_loss"][t]
    note(fig, f"Right answer '{right}': p = {p:.2f}, loss {loss:.2f} nats")
    fig = base_layout(fig, title=title, revision="sm-next", height=120 + 26 * len(chars))
    fig.update_layout(hovermode="closest", showlegend=False)
    return fig
