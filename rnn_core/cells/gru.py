"""The GRU cell, PyTorch's ``torch.nn.GRU``, gates stacked r,z,n::

    r,z = sigmoid(W_ih x + b_ih + W_hh h + b_hh)  (their blocks)
    n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),   h' = (1-z)*n + z*h

``b_hn`` sits inside ``r*(.)``, so only the r and z blocks of ``bias_hh`` fold into the input
projection. The sigmoid rows are pre-scaled by 1/2 so that one ``tanh`` evaluates r and z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.cells.common import (
    CellSpec,
    LayerCache,
    _cut_steps,
    _empty,
    bias_gradient,
    project,
    project_backward,
    recurrent_backward,
    to_blocks,
)
from rnn_core.threads import single_thread

NAME = "gru"
PERM = (0, 1, 2)

# The GRU backward keeps four gradient blocks per step in the order [hn, r, z, n]: the first
# three are the gradients of W_hh h + b_hh (blocks n, r, z), the last three those of the input
# projection (blocks r, z, n), both contiguous views without a copy.
GRU_HH_PERM = (2, 0, 1)


def gate_scale(nonlinearity: str, dtype) -> np.ndarray:
    """(3,) factors of the blocks r,z,n: 0.5 for the sigmoids, 1 for tanh."""
    return np.array([0.5, 0.5, 1.0], dtype)


@dataclass(eq=False)
class GruCache(LayerCache):
    """LayerCache plus ``hn`` (T, B, H) = W_hn h + b_hn and ``hmn`` (T, B, H) = h_prev - n."""

    hn: np.ndarray | None = None
    hmn: np.ndarray | None = None


def gru_forward(xp, h0, w_hh, b_hn, scale, hs, hn, hmn):
    """GRU over a sequence; ``xp`` becomes the gate activations r,z,n.

    xp : (3, T, B, H) projected inputs; biases folded in are b_ih (all blocks) + b_hh (r, z
    blocks only, since b_hn sits inside r*(.)); pre-scaled by ``scale``.
    h0 : (B, H); w_hh : (3H, H); b_hn : (H,). Buffers filled in place: hs (T+1, B, H),
    hn (T, B, H) = W_hn h + b_hn, hmn (T, B, H) = h - n.
    """
    _, T, B, H = xp.shape
    w_t = np.ascontiguousarray((to_blocks(w_hh, PERM) * scale[:, None, None]).transpose(0, 2, 1))
    gh = np.empty((3, B, H), dtype=xp.dtype)
    tmp = np.empty((B, H), dtype=xp.dtype)
    hs[0] = h0
    for t in range(T):
        a = xp[:, t]
        rz = a[:2]
        r, z, n = a
        np.matmul(hs[t], w_t, out=gh)
        rz += gh[:2]
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        np.add(gh[2], b_hn, out=hn[t])
        np.multiply(r, hn[t], out=tmp)
        n += tmp
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=hmn[t])
        h = hs[t + 1]
        np.multiply(z, hmn[t], out=h)
        h += n
    return hs


def gru_backward(dhs, dh_last, hs, gates, hn, hmn, w_hh, bptt, ws=None, record=None):
    """Backward of :func:`gru_forward` (``record``: None, or a dict whose ``"h"`` (T, B, H)
    receives the total gradient reaching each h_t).

    Returns (grad (4, T, B, H) blocks [hn, r, z, n] as described at ``GRU_HH_PERM``,
    dh0 (B, H)).
    """
    _, T, B, H = gates.shape
    dt = hs.dtype
    w = to_blocks(w_hh, GRU_HH_PERM)  # (3, H, H) blocks n, r, z
    grad = _empty(ws, (4, T, B, H), dt)
    dh = np.zeros((B, H), dtype=dt)
    dhz = np.empty((B, H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    deriv = np.empty((2, B, H), dtype=dt)
    rec = np.empty((3, B, H), dtype=dt)
    if dh_last is not None:
        dh += dh_last
    cuts = _cut_steps(T, bptt)
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        if record is not None:
            record["h"][t] = dh
        a = gates[:, t]
        r, z, n = a
        d = grad[:, t]
        dhn, dr, dz, dn = d
        np.multiply(dh, z, out=dhz)  # direct path h_prev -> h
        np.multiply(dh, hmn[t], out=dz)
        np.subtract(dh, dhz, out=dn)  # dn = dh (1 - z)
        np.multiply(n, n, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        dn *= tmp  # now the gradient of the n pre-activation
        np.multiply(dn, r, out=dhn)
        np.multiply(dn, hn[t], out=dr)
        np.subtract(1.0, a[:2], out=deriv)
        deriv *= a[:2]
        d[1:3] *= deriv
        np.matmul(d[:3], w, out=rec)
        np.add(rec[0], rec[1], out=dh)
        dh += rec[2]
        dh += dhz
        if t in cuts:
            dh.fill(0.0)
    return grad, dh


def layer_forward(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None) -> GruCache:
    """One GRU layer over a sequence; see ``CellSpec.layer_forward`` (``c0`` is unused).

    Returns a GruCache whose ``hs[1:]`` (T, B, H) are the outputs and ``gates`` (3, T, B, H)
    the activations r,z,n.
    """
    T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
    dt = w_hh.dtype
    scale = gate_scale(nonlinearity, dt)
    hs = _empty(ws, (T + 1, B, H), dt)
    bias = b_ih.copy()
    bias[: 2 * H] += b_hh[: 2 * H]
    xp = project(x, w_ih, bias, PERM, scale, ws)  # (3, T, B, H)
    cache = GruCache(NAME, nonlinearity, x, hs)
    cache.hn = _empty(ws, (T, B, H), dt)
    cache.hmn = _empty(ws, (T, B, H), dt)
    with single_thread():  # a chain of small products: threads only add hand-over latency
        gru_forward(xp, h0, w_hh, b_hh[2 * H :], scale, hs, cache.hn, cache.hmn)
    cache.gates = xp
    return cache


def layer_backward(
    cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None, record=None
):
    """Backward of :func:`layer_forward`; see ``CellSpec.layer_backward``. dc0 is None."""
    hs = cache.hs
    with single_thread():
        grad, dh0 = gru_backward(dhs, dh_last, hs, cache.gates, cache.hn, cache.hmn, w_hh, bptt, ws, record)
    dw_hh, db_hh = recurrent_backward(grad[:3], hs, GRU_HH_PERM)
    dxp = grad[1:]  # blocks r, z, n
    if record is not None:
        record["input"] = dxp.copy()
    db_ih = bias_gradient(dxp.reshape(3, -1, dxp.shape[3])).reshape(-1)  # PERM is PyTorch's order
    dw_ih, dx = project_backward(dxp, cache.x, w_ih, PERM, need_dx, ws)
    return (dw_ih, dw_hh, db_ih, db_hh), dx, dh0, None


SPEC = CellSpec(
    name=NAME,
    gates=3,
    perm=PERM,
    gate_names="rzn",
    layer_forward=layer_forward,
    layer_backward=layer_backward,
    gate_scale=gate_scale,
)
