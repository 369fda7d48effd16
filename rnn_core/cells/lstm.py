"""The LSTM cell, PyTorch's ``torch.nn.LSTM``, gates stacked i,f,g,o in the parameters::

    i,f,o = sigmoid(.), g = tanh(.) of (W_ih x + b_ih + W_hh h + b_hh)  (their blocks)
    c' = f*c + i*g,   h' = o*tanh(c')

Inside the kernels the gates are ordered i,f,o,g so that the three sigmoid gates are one
block, evaluated with the tanh gate in one ``tanh`` call (sigmoid rows pre-scaled by 1/2).
The forget-gate block of ``bias_ih`` starts at ``config.forget_bias`` (Jozefowicz et al. 2015).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.cells.common import (
    CellSpec,
    LayerCache,
    _cut_steps,
    _empty,
    gradients_from_preactivations,
    project,
    to_blocks,
)
from rnn_core.threads import single_thread

NAME = "lstm"
PERM = (0, 1, 3, 2)  # internal i,f,o,g from PyTorch's i,f,g,o


def gate_scale(nonlinearity: str, dtype) -> np.ndarray:
    """(4,) factors of the internal blocks i,f,o,g: 0.5 for the sigmoids, 1 for tanh."""
    return np.array([0.5, 0.5, 0.5, 1.0], dtype)


def init_biases(b_ih: np.ndarray, b_hh: np.ndarray, config) -> None:
    """Set PyTorch's block 1 (f) of ``bias_ih`` to ``config.forget_bias``, in place."""
    H = config.hidden_size
    b_ih[H : 2 * H] = config.forget_bias


@dataclass(eq=False)
class LstmCache(LayerCache):
    """LayerCache plus ``tc`` (T, B, H) = tanh(c_t); ``cs`` holds the cell states."""

    tc: np.ndarray | None = None


def lstm_forward(xp, h0, c0, w_hh, scale, hs, cs, tc):
    """LSTM over a sequence; ``xp`` becomes the gate activations.

    xp : (4, T, B, H) projected inputs incl. both biases, internal order i,f,o,g, pre-scaled
    by ``scale``; overwritten in place by the activations. h0, c0 : (B, H); w_hh : (4H, H).
    Buffers filled in place: hs, cs (T+1, B, H), tc (T, B, H) tanh of the cell state.
    """
    _, T, B, H = xp.shape
    w_t = np.ascontiguousarray((to_blocks(w_hh, PERM) * scale[:, None, None]).transpose(0, 2, 1))
    rec = np.empty((4, B, H), dtype=xp.dtype)
    ig = np.empty((B, H), dtype=xp.dtype)
    hs[0] = h0
    cs[0] = c0
    for t in range(T):
        a = xp[:, t]  # (4, B, H)
        np.matmul(hs[t], w_t, out=rec)
        a += rec
        np.tanh(a, out=a)
        s = a[:3]  # sigmoid gates from their tanh
        s *= 0.5
        s += 0.5
        i, f, o, g = a
        c = cs[t + 1]
        np.multiply(f, cs[t], out=c)
        np.multiply(i, g, out=ig)
        c += ig
        np.tanh(c, out=tc[t])
        np.multiply(o, tc[t], out=hs[t + 1])
    return hs


def lstm_backward(dhs, dh_last, dc_last, hs, cs, tc, gates, w_hh, bptt, ws=None, record=None):
    """Backward of :func:`lstm_forward`.

    dhs : (T, B, H) or None; dh_last, dc_last : (B, H) or None (gradients of the final state);
    record : None, or a dict whose ``"h"`` and ``"c"`` (T, B, H) receive the total gradients
    reaching each h_t and c_t.
    Returns (dpre (4, T, B, H) gradient of the gate pre-activations, internal order i,f,o,g,
    a view of a (T, B, 4, H) array (see ``common.to_rows``); dh0, dc0 (B, H)).

    Each step's gradient is computed gate-major (contiguous blocks for the elementwise work
    and the recurrent product) and copied into its rows of ``dpre`` while it is in cache: the
    weight gradients then take all four gates in one product each, without a pass over all T
    to lay the gradient out that way afterwards.
    """
    _, T, B, H = gates.shape
    dt = hs.dtype
    w = to_blocks(w_hh, PERM)  # (4, H, H)
    dpre = np.moveaxis(_empty(ws, (T, B, 4, H), dt), 2, 0)  # (4, T, B, H) view, rows in memory
    dh = np.zeros((B, H), dtype=dt)
    dc = np.zeros((B, H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    dact = np.empty((4, B, H), dtype=dt)  # gradient of the activations
    di, df, do, dg = dact
    deriv = np.empty((4, B, H), dtype=dt)
    rec = np.empty((4, B, H), dtype=dt)
    if dh_last is not None:
        dh += dh_last
    if dc_last is not None:
        dc += dc_last
    cuts = _cut_steps(T, bptt)
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        if record is not None:
            record["h"][t] = dh
        a = gates[:, t]
        i, f, o, g = a
        tct = tc[t]
        np.multiply(dh, tct, out=do)
        np.multiply(do, tct, out=tmp)
        np.subtract(dh, tmp, out=tmp)  # dh (1 - tanh(c)^2)
        tmp *= o
        dc += tmp  # dc now: total gradient of c_t
        if record is not None:
            record["c"][t] = dc
        np.multiply(dc, g, out=di)
        np.multiply(dc, cs[t], out=df)
        np.multiply(dc, i, out=dg)
        np.subtract(1.0, a, out=deriv)
        deriv[:3] *= a[:3]  # sigmoid: a (1 - a)
        np.add(1.0, g, out=tmp)
        deriv[3] *= tmp  # tanh: (1 - a)(1 + a)
        dact *= deriv  # now the gradient of the pre-activations
        dpre[:, t] = dact
        np.matmul(dact, w, out=rec)
        np.add(rec[:2], rec[2:], out=rec[:2])  # two adds beat np.sum(axis=0) at this size
        np.add(rec[0], rec[1], out=dh)
        dc *= f
        if t in cuts:
            dh.fill(0.0)
            dc.fill(0.0)
    return dpre, dh, dc


def layer_forward(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None) -> LstmCache:
    """One LSTM layer over a sequence; see ``CellSpec.layer_forward`` (``c0`` (B, H) required).

    Returns an LstmCache whose ``hs[1:]`` (T, B, H) are the outputs and ``gates`` (4, T, B, H)
    the activations i,f,o,g.
    """
    T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
    dt = w_hh.dtype
    scale = gate_scale(nonlinearity, dt)
    hs = _empty(ws, (T + 1, B, H), dt)
    xp = project(x, w_ih, b_ih + b_hh, PERM, scale, ws)  # (4, T, B, H)
    cache = LstmCache(NAME, nonlinearity, x, hs)
    cache.cs = _empty(ws, (T + 1, B, H), dt)
    cache.tc = _empty(ws, (T, B, H), dt)
    with single_thread():  # a chain of small products: threads only add hand-over latency
        lstm_forward(xp, h0, c0, w_hh, scale, hs, cache.cs, cache.tc)
    cache.gates = xp
    return cache


def layer_backward(
    cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None, record=None
):
    """Backward of :func:`layer_forward`; see ``CellSpec.layer_backward``."""
    hs = cache.hs
    with single_thread():
        dpre, dh0, dc0 = lstm_backward(
            dhs, dh_last, dc_last, hs, cache.cs, cache.tc, cache.gates, w_hh, bptt, ws, record
        )
    if record is not None:
        record["input"] = dpre.copy()
    grads, dx = gradients_from_preactivations(dpre, cache, w_ih, PERM, need_dx, ws)
    return grads, dx, dh0, dc0


SPEC = CellSpec(
    name=NAME,
    gates=4,
    perm=PERM,
    gate_names="ifog",
    layer_forward=layer_forward,
    layer_backward=layer_backward,
    has_cell_state=True,
    gate_scale=gate_scale,
    init_biases=init_biases,
)
