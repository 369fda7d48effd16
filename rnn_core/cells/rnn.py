"""The vanilla (Elman) cell, PyTorch's ``torch.nn.RNN``::

    h' = act(W_ih x + b_ih + W_hh h + b_hh),   act = tanh, sigmoid or relu

One gate block (G = 1). A sigmoid is evaluated as ``0.5*tanh(x/2) + 0.5`` with the weights and
the projected input pre-scaled by 1/2 (see :func:`gate_scale`).
"""

from __future__ import annotations

import numpy as np

from rnn_core.cells.common import (
    CellSpec,
    LayerCache,
    _cut_steps,
    _empty,
    gradients_from_preactivations,
    project,
)
from rnn_core.threads import single_thread

NAME = "rnn"
PERM = (0,)


def gate_scale(nonlinearity: str, dtype) -> np.ndarray | None:
    """(1,) factor 0.5 for the sigmoid (evaluated through ``tanh``), else None."""
    return np.array([0.5], dtype) if nonlinearity == "sigmoid" else None


def rnn_forward(xp, h0, w_hh, nonlinearity, scale, hs):
    """Vanilla RNN over a sequence.

    xp : (T, B, H) projected inputs incl. both biases, pre-scaled by ``scale`` (sigmoid).
    h0 : (B, H); w_hh : (H, H); hs : (T+1, B, H) output buffer, filled in place.
    """
    w_t = np.ascontiguousarray((w_hh * scale[0]).T if scale is not None else w_hh.T)  # (H, H)
    hs[0] = h0
    for h_prev, h, x in zip(hs[:-1], hs[1:], xp, strict=True):  # (B, H) views, made in C
        np.matmul(h_prev, w_t, out=h)
        h += x
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        elif nonlinearity == "sigmoid":
            np.tanh(h, out=h)
            h *= 0.5
            h += 0.5
        else:
            np.maximum(h, 0.0, out=h)
    return hs


def rnn_backward(dhs, dh_last, hs, w_hh, nonlinearity, bptt, ws=None, record=None):
    """Backward of :func:`rnn_forward`.

    dhs : (T, B, H) gradient of every output, or None; dh_last : (B, H) extra gradient of the
    last output, or None; record : None, or a dict whose ``"h"`` (T, B, H) receives the total
    gradient reaching each output h_t. Returns (dpre (T, B, H) gradient of the
    pre-activations, dh0 (B, H)).
    """
    T, B, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    h = hs[1:]
    dpre = _empty(ws, (T, B, H), hs.dtype)  # first the activation's derivative, in one go
    if nonlinearity == "tanh":  # 1 - h^2
        np.multiply(h, h, out=dpre)
        np.subtract(1.0, dpre, out=dpre)
    elif nonlinearity == "sigmoid":  # h (1 - h)
        np.subtract(1.0, h, out=dpre)
        dpre *= h
    else:
        np.greater(h, 0.0, out=dpre)
    w = np.ascontiguousarray(w_hh)
    dh = np.zeros((B, H), dtype=hs.dtype)  # gradient reaching h_t, carried backwards
    if dh_last is not None:
        dh += dh_last
    cuts = _cut_steps(T, bptt)
    for t in range(T - 1, -1, -1):
        d = dpre[t]
        if dhs is not None:
            dh += dhs[t]
        if record is not None:
            record["h"][t] = dh
        np.multiply(dh, d, out=d)
        np.matmul(d, w, out=dh)
        if t in cuts:
            dh.fill(0.0)
    return dpre, dh


def layer_forward(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None) -> LayerCache:
    """One vanilla layer over a sequence; see ``CellSpec.layer_forward`` (``c0`` is unused).

    Returns a LayerCache whose ``hs[1:]`` (T, B, H) are the outputs; ``gates`` stays None.
    """
    T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
    dt = w_hh.dtype
    scale = gate_scale(nonlinearity, dt)
    hs = _empty(ws, (T + 1, B, H), dt)
    xp = project(x, w_ih, b_ih + b_hh, PERM, scale, ws)  # (1, T, B, H)
    with single_thread():  # a chain of small products: threads only add hand-over latency
        rnn_forward(xp[0], h0, w_hh, nonlinearity, scale, hs)
    return LayerCache(NAME, nonlinearity, x, hs)


def layer_backward(
    cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None, record=None
):
    """Backward of :func:`layer_forward`; see ``CellSpec.layer_backward``. dc0 is None."""
    with single_thread():
        dpre, dh0 = rnn_backward(dhs, dh_last, cache.hs, w_hh, cache.nonlinearity, bptt, ws, record)
    if record is not None:
        record["input"] = dpre[None].copy()
    grads, dx = gradients_from_preactivations(dpre[None], cache, w_ih, PERM, need_dx, ws)
    return grads, dx, dh0, None


SPEC = CellSpec(
    name=NAME,
    gates=1,
    perm=PERM,
    gate_names="",
    layer_forward=layer_forward,
    layer_backward=layer_backward,
    gate_scale=gate_scale,
)
