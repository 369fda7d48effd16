"""Losses with their gradients, and a stable softmax.

* :func:`mse`: mean over all elements, ``mean((pred - target)^2)`` (``torch.nn.MSELoss()``).
* :func:`softmax_cross_entropy`: mean over the T*B positions of ``-log softmax(logits)[target]``
  (``torch.nn.functional.cross_entropy`` on the flattened positions), computed from
  ``logits - max`` so that large logits neither overflow nor lose the small probabilities.
"""

from __future__ import annotations

import numpy as np

from rnn_core.errors import PlaygroundError


def mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over all elements.

    Parameters
    ----------
    pred, target : arrays of the same shape, e.g. (B, O).

    Returns
    -------
    loss : float
    dpred : gradient of the loss with respect to ``pred``, shaped like it.
    """
    pred = np.asarray(pred)
    target = np.asarray(target, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise PlaygroundError(f"prediction shape {pred.shape} differs from target shape {target.shape}")
    diff = pred - target
    loss = float(np.vdot(diff, diff)) / diff.size
    diff *= 2.0 / diff.size
    return loss, diff


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Softmax over the last axis of ``logits / temperature``; same shape as ``logits``."""
    if not temperature > 0:
        raise PlaygroundError(f"temperature must be above 0; got {temperature!r}")
    z = np.array(logits, dtype=np.result_type(logits, np.float32), copy=True)
    if temperature != 1.0:
        z /= temperature
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def softmax_cross_entropy(logits: np.ndarray, targets: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy, mean over all T*B positions.

    Parameters
    ----------
    logits : (T, B, V) floats.
    targets : (T, B) integer class ids in [0, V).

    Returns
    -------
    loss : float, in nats per position
    dlogits : (T, B, V), ``(softmax(logits) - onehot(targets)) / (T*B)``
    """
    logits = np.asarray(logits)
    targets = np.asarray(targets)
    if logits.shape[:-1] != targets.shape:
        raise PlaygroundError(f"targets shape {targets.shape} does not match logits shape {logits.shape}")
    V = logits.shape[-1]
    n = targets.size
    z = logits.reshape(n, V) - logits.reshape(n, V).max(axis=1, keepdims=True)  # (N, V), max 0
    rows = np.arange(n)
    t = targets.reshape(n)
    picked = z[rows, t]  # (N,)
    np.exp(z, out=z)
    s = z.sum(axis=1)  # (N,) >= 1, so its log is safe
    loss = float(np.sum(np.log(s)) - np.sum(picked)) / n
    z *= (1.0 / n) / s[:, None]
    z[rows, t] -= 1.0 / n
    return loss, z.reshape(logits.shape)
