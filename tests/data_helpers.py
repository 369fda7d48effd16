"""Independent reference computations for the data tests (plain loops, no library code)."""

from __future__ import annotations

import math

import numpy as np


def loop_rmse_mae(pred, actual) -> tuple[float, float]:
    sq = ab = 0.0
    for p, a in zip(pred, actual, strict=True):
        sq += (p - a) ** 2
        ab += abs(p - a)
    return math.sqrt(sq / len(actual)), ab / len(actual)


def loop_persistence(series, val_idx) -> tuple[float, float]:
    """Persistence errors by a plain loop: predict each validation target by the row before it."""
    preds = [series[t - 1] for t in val_idx]
    actual = [series[t] for t in val_idx]
    return loop_rmse_mae(preds, actual)


def lstsq_linear(raw: np.ndarray, seq_len: int, train_idx, val_idx) -> np.ndarray:
    """Linear autoregression fitted with an explicit design matrix in original units."""

    def design(idx):
        return np.array([np.concatenate([raw[t - seq_len : t].ravel(), [1.0]]) for t in idx])

    w, *_ = np.linalg.lstsq(design(train_idx), raw[train_idx, 0], rcond=None)
    return design(val_idx) @ w


def csv_bytes(rows: list[list[str]], sep: str = ",", encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Rows of strings joined into CSV bytes (no quoting: callers pass simple fields)."""
    return (newline.join(sep.join(r) for r in rows) + newline).encode(encoding)
