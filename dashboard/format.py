"""Short texts of numbers, models and data for tiles, captions and the sidebar."""

from __future__ import annotations

import math


def format_epoch(epoch: float) -> str:
    """Epochs with fewer decimals as they grow, so the metric fits its narrow column."""
    if epoch < 10:
        return f"{epoch:.2f}"
    return f"{epoch:.1f}" if epoch < 100 else f"{epoch:,.0f}"


def fmt(value, spec: str = ".4g") -> str:
    """A number for a metric tile; tiny values in short scientific form so they fit."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if spec.endswith("g") and value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return format(value, spec)


def finite(value) -> bool:
    return value is not None and math.isfinite(value)


def x_label(ds) -> str:
    """The x-axis title of a series: the generated sine's "x" is a time step."""
    return "time step" if ds.x_label in ("x", "", None) else str(ds.x_label)


def model_summary(tr) -> str:
    cfg = tr.config
    act = f" · {cfg.nonlinearity}" if cfg.cell == "rnn" else ""
    layers = "layer" if cfg.num_layers == 1 else "layers"
    shape = f"{cfg.hidden_size} units × {cfg.num_layers} {layers}"
    return f"{cfg.cell.upper()}{act} · {shape} · {tr.network.n_params():,} parameters"


def data_summary(ds) -> str:
    if ds is None:
        return "—"
    if ds.kind == "text":
        return f"{len(ds.train_ids) + len(ds.val_ids):,} characters, {ds.vocab_size} distinct"
    return f"{ds.raw.shape[0]:,} rows · {ds.train_windows:,} train / {ds.val_windows:,} validation windows"
