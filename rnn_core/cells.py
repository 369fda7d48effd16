"""One recurrent layer's whole-sequence forward and backward, for RNN, LSTM and GRU.

Equations are PyTorch's (``torch.nn.RNN``, ``torch.nn.LSTM``, ``torch.nn.GRU``), with its
parameter layout: ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` and ``bias_hh``
(G*H,), gates stacked in the order LSTM i,f,g,o and GRU r,z,n::

    rnn   h' = act(W_ih x + b_ih + W_hh h + b_hh)
    lstm  i,f,o = sigmoid(.), g = tanh(.) of (W_ih x + b_ih + W_hh h + b_hh)
          c' = f*c + i*g,   h' = o*tanh(c')
    gru   r,z = sigmoid(W_ih x + b_ih + W_hh h + b_hh)  (their blocks)
          n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),   h' = (1-z)*n + z*h

Speed notes (why the code looks the way it does):

* The input projection of all T steps is one matmul (or, for integer ids, one row lookup in
  the transposed weight with the biases folded in) before the time loop.
* ``sigmoid(x) = 0.5*tanh(x/2) + 0.5``: the sigmoid gate rows of the weights and the projected
  input are pre-scaled by 1/2, so one ``tanh`` call covers every gate of a step.
* Every step writes into preallocated (T, B, .) arrays with ``out=``; the backward keeps the
  per-step pre-activation gradients so that the weight gradients are one big matmul after the
  loop.

Truncated BPTT to ``k`` steps cuts the carried gradient between steps t-1 and t whenever
``(T - t) % k == 0`` and ``0 < t < T``: chunks are aligned to the end of the sequence, so a
many-to-one loss gets exactly ``k`` steps back, and ``k >= T`` is full BPTT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def gate_scale(cell: str, nonlinearity: str, hidden: int, dtype) -> np.ndarray | None:
    """Per-row factor applied to pre-activations so that one ``tanh`` evaluates every gate.

    Returns (G*H,) with 0.5 on sigmoid rows and 1 elsewhere, or None when no row is a sigmoid.
    """
    if cell == "rnn":
        return np.full(hidden, 0.5, dtype) if nonlinearity == "sigmoid" else None
    blocks = [0.5, 0.5, 1.0, 0.5] if cell == "lstm" else [0.5, 0.5, 1.0]
    return np.repeat(np.asarray(blocks, dtype), hidden)


def _cut(t: int, T: int, bptt: int | None) -> bool:
    """True when the gradient carried from step t into step t-1 is dropped."""
    return bptt is not None and 0 < t < T and (T - t) % bptt == 0


# --------------------------------------------------------------------------- input projection


def project(x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    """Input projection of every timestep at once, ``(x W_ih^T + bias) * scale``.

    Parameters
    ----------
    x : (T, B, D) float inputs, or (T, B) integer ids (then a row lookup in ``W_ih^T``;
        one-hot in meaning, never materialised).
    w_ih : (G*H, D)
    bias : (G*H,) biases folded into the projection.
    scale : (G*H,) or None, see :func:`gate_scale`.

    Returns
    -------
    (T, B, G*H) array, a fresh C-contiguous buffer.
    """
    gh = w_ih.shape[0]
    if scale is not None:
        w_ih = w_ih * scale[:, None]
        bias = bias * scale
    if x.ndim == 2:  # ids: the table already holds the biases, so the lookup is the projection
        table = w_ih.T + bias  # (V, G*H)
        return np.take(table, x, axis=0)  # (T, B, G*H)
    T, B, D = x.shape
    xp = np.empty((T, B, gh), dtype=w_ih.dtype)
    np.dot(x.reshape(T * B, D), w_ih.T, out=xp.reshape(T * B, gh))
    xp += bias
    return xp


def project_backward(dxp: np.ndarray, x: np.ndarray, w_ih: np.ndarray, need_dx: bool):
    """Gradients of :func:`project` with respect to ``W_ih`` and the input.

    Parameters
    ----------
    dxp : (T, B, G*H) gradient of the (unscaled) pre-activations.
    x : (T, B, D) floats or (T, B) ids, as given to the forward.
    w_ih : (G*H, D)
    need_dx : compute the input gradient (skipped for the first layer of a text model).

    Returns
    -------
    dw_ih : (G*H, D)
    dx : (T, B, D) or None (ids, or not needed)
    """
    gh, d = w_ih.shape
    dxp2 = dxp.reshape(-1, gh)  # (T*B, G*H)
    if x.ndim == 2:
        dw_t = _scatter_rows(x.reshape(-1), dxp2, d)  # (V, G*H)
        return np.ascontiguousarray(dw_t.T), None
    x2 = x.reshape(-1, d)
    dw_ih = np.dot(dxp2.T, x2)  # (G*H, D)
    dx = np.dot(dxp2, w_ih).reshape(x.shape) if need_dx else None
    return dw_ih, dx


def _scatter_rows(ids: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """``out[ids[j]] += rows[j]`` for all j, as (n, C): the backward of a row lookup.

    Sorting the ids once and summing each run with ``np.add.reduceat`` is several times
    faster than ``np.add.at`` at our sizes (see ``rnn_core.bench``).
    """
    out = np.zeros((n, rows.shape[1]), dtype=rows.dtype)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    out[sorted_ids[starts]] = np.add.reduceat(rows[order], starts, axis=0)
    return out


# --------------------------------------------------------------------------- caches


@dataclass(eq=False)
class LayerCache:
    """Everything one layer's backward needs; all arrays preallocated per sequence.

    ``hs`` (T+1, B, H) holds the initial state at index 0, so ``hs[:-1]`` are the previous
    states of every step and ``hs[1:]`` the outputs. ``gates`` holds activations (not
    pre-activations): LSTM (T, B, 4H) i,f,g,o; GRU (T, B, 3H) r,z,n.
    """

    cell: str
    nonlinearity: str
    x: np.ndarray  # (T, B, D) floats or (T, B) ids
    hs: np.ndarray  # (T+1, B, H)
    gates: np.ndarray | None = None
    cs: np.ndarray | None = None  # LSTM (T+1, B, H) cell states, cs[0] = c0
    tc: np.ndarray | None = None  # LSTM (T, B, H) tanh(c_t)
    hn: np.ndarray | None = None  # GRU (T, B, H) W_hn h + b_hn
    hmn: np.ndarray | None = None  # GRU (T, B, H) h_prev - n


# --------------------------------------------------------------------------- vanilla RNN


def rnn_forward(xp, h0, w_hh, nonlinearity, scale, hs):
    """Vanilla RNN over a sequence.

    xp : (T, B, H) projected inputs incl. both biases, pre-scaled by ``scale``.
    h0 : (B, H); w_hh : (H, H); hs : (T+1, B, H) output buffer, filled in place.
    """
    T = xp.shape[0]
    w_t = (w_hh * scale[:, None]).T if scale is not None else w_hh.T  # (H, H)
    hs[0] = h0
    for t in range(T):
        h = hs[t + 1]
        np.dot(hs[t], w_t, out=h)
        h += xp[t]
        if nonlinearity == "tanh":
            np.tanh(h, out=h)
        elif nonlinearity == "sigmoid":
            np.tanh(h, out=h)
            h *= 0.5
            h += 0.5
        else:
            np.maximum(h, 0.0, out=h)
    return hs


def rnn_backward(dhs, dh_last, hs, w_hh, nonlinearity, bptt):
    """Backward of :func:`rnn_forward`.

    dhs : (T, B, H) gradient of every output, or None; dh_last : (B, H) extra gradient of the
    last output, or None. Returns (dpre (T, B, H) gradient of the pre-activations, dh0 (B, H)).
    """
    T, B, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    dpre = np.empty((T, B, H), dtype=hs.dtype)
    dh = np.zeros((B, H), dtype=hs.dtype)  # gradient reaching h_t, carried backwards
    deriv = np.empty((B, H), dtype=hs.dtype)
    if dh_last is not None:
        dh += dh_last
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        h = hs[t + 1]
        if nonlinearity == "tanh":  # 1 - h^2
            np.multiply(h, h, out=deriv)
            np.subtract(1.0, deriv, out=deriv)
        elif nonlinearity == "sigmoid":  # h (1 - h)
            np.subtract(1.0, h, out=deriv)
            deriv *= h
        else:
            np.greater(h, 0.0, out=deriv)
        np.multiply(dh, deriv, out=dpre[t])
        np.dot(dpre[t], w_hh, out=dh)
        if _cut(t, T, bptt):
            dh.fill(0.0)
    return dpre, dh


# --------------------------------------------------------------------------- LSTM


def lstm_forward(xp, h0, c0, w_hh, scale, hs, cs, tc, gates):
    """LSTM over a sequence.

    xp : (T, B, 4H) projected inputs incl. both biases, pre-scaled by ``scale``.
    h0, c0 : (B, H); w_hh : (4H, H). Buffers filled in place: hs, cs (T+1, B, H),
    tc (T, B, H) tanh of the cell state, gates (T, B, 4H) activations i,f,g,o.
    """
    T, B, H = tc.shape
    w_t = (w_hh * scale[:, None]).T  # (H, 4H)
    off = np.where(scale == 0.5, 0.5, 0.0).astype(xp.dtype)  # (4H,) sigmoid = .5 tanh + .5
    ig = np.empty((B, H), dtype=xp.dtype)
    rec = np.empty((B, 4 * H), dtype=xp.dtype)
    hs[0] = h0
    cs[0] = c0
    for t in range(T):
        a = gates[t]  # (B, 4H); may be the very buffer of xp[t], hence ``rec``
        np.dot(hs[t], w_t, out=rec)
        np.add(rec, xp[t], out=a)
        np.tanh(a, out=a)
        a *= scale
        a += off
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        c = cs[t + 1]
        np.multiply(f, cs[t], out=c)
        np.multiply(i, g, out=ig)
        c += ig
        np.tanh(c, out=tc[t])
        np.multiply(o, tc[t], out=hs[t + 1])
    return hs


def lstm_backward(dhs, dh_last, dc_last, hs, cs, tc, gates, w_hh, bptt):
    """Backward of :func:`lstm_forward`.

    dhs : (T, B, H) or None; dh_last, dc_last : (B, H) or None (gradients of the final state).
    Returns (dpre (T, B, 4H) gradient of the gate pre-activations, dh0, dc0 (B, H)).
    """
    T, B, H = tc.shape
    dt = hs.dtype
    dpre = np.empty((T, B, 4 * H), dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    dc = np.zeros((B, H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    deriv = np.empty((B, 4 * H), dtype=dt)
    shifted = np.empty((B, 4 * H), dtype=dt)
    lo = np.zeros(4 * H, dtype=dt)
    lo[2 * H : 3 * H] = -1.0  # derivative (1 - a)(a - lo): sigmoid a(1-a), tanh (1-a)(1+a)
    if dh_last is not None:
        dh += dh_last
    if dc_last is not None:
        dc += dc_last
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        a = gates[t]
        i, f, g, o = a[:, :H], a[:, H : 2 * H], a[:, 2 * H : 3 * H], a[:, 3 * H :]
        d = dpre[t]  # first the gradient of the activations, then of the pre-activations
        tct = tc[t]
        np.multiply(dh, tct, out=d[:, 3 * H :])  # do
        np.multiply(tct, tct, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp  # dc now: total gradient of c_t
        np.multiply(dc, g, out=d[:, :H])  # di
        np.multiply(dc, cs[t], out=d[:, H : 2 * H])  # df
        np.multiply(dc, i, out=d[:, 2 * H : 3 * H])  # dg
        np.subtract(1.0, a, out=deriv)
        np.subtract(a, lo, out=shifted)
        deriv *= shifted
        d *= deriv
        np.dot(d, w_hh, out=dh)
        dc *= f
        if _cut(t, T, bptt):
            dh.fill(0.0)
            dc.fill(0.0)
    return dpre, dh, dc


# --------------------------------------------------------------------------- GRU


def gru_forward(xp, h0, w_hh, b_hn, scale, hs, gates, hn, hmn):
    """GRU over a sequence.

    xp : (T, B, 3H) projected inputs; biases folded in are b_ih (all blocks) + b_hh (r, z
    blocks only, since b_hn sits inside r*(.)); pre-scaled by ``scale``.
    h0 : (B, H); w_hh : (3H, H); b_hn : (H,). Buffers filled in place: hs (T+1, B, H),
    gates (T, B, 3H) activations r,z,n, hn (T, B, H) = W_hn h + b_hn, hmn (T, B, H) = h - n.
    """
    T, B, H = hn.shape
    w_t = (w_hh * scale[:, None]).T  # (H, 3H)
    gh = np.empty((B, 3 * H), dtype=xp.dtype)
    hs[0] = h0
    for t in range(T):
        a = gates[t]
        rz = a[:, : 2 * H]
        n = a[:, 2 * H :]
        np.dot(hs[t], w_t, out=gh)
        np.add(gh[:, : 2 * H], xp[t, :, : 2 * H], out=rz)
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        np.add(gh[:, 2 * H :], b_hn, out=hn[t])
        np.multiply(a[:, :H], hn[t], out=n)
        n += xp[t, :, 2 * H :]
        np.tanh(n, out=n)
        np.subtract(hs[t], n, out=hmn[t])
        h = hs[t + 1]
        np.multiply(a[:, H : 2 * H], hmn[t], out=h)
        h += n
    return hs


def gru_backward(dhs, dh_last, hs, gates, hn, hmn, w_hh, bptt):
    """Backward of :func:`gru_forward`.

    Returns (dgh (T, B, 3H) gradient of W_hh h + b_hh per block [r_pre, z_pre, hn],
    dn (T, B, H) gradient of the n pre-activation, dh0 (B, H)).
    """
    T, B, H = hn.shape
    dt = hs.dtype
    dgh = np.empty((T, B, 3 * H), dtype=dt)
    dn = np.empty((T, B, H), dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    dhz = np.empty((B, H), dtype=dt)
    deriv = np.empty((B, 2 * H), dtype=dt)
    if dh_last is not None:
        dh += dh_last
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        a = gates[t]
        rz = a[:, : 2 * H]
        r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
        d = dgh[t]
        dnt = dn[t]
        np.multiply(dh, z, out=dhz)  # direct path h_prev -> h
        np.multiply(dh, hmn[t], out=d[:, H : 2 * H])  # dz
        np.subtract(dh, dhz, out=dnt)  # dn = dh (1 - z)
        np.multiply(n, n, out=dh)  # dh is free until the matmul below
        np.subtract(1.0, dh, out=dh)
        dnt *= dh  # gradient of the n pre-activation
        np.multiply(dnt, r, out=d[:, 2 * H :])  # d hn
        np.multiply(dnt, hn[t], out=d[:, :H])  # dr
        np.subtract(1.0, rz, out=deriv)
        deriv *= rz
        d[:, : 2 * H] *= deriv
        np.dot(d, w_hh, out=dh)
        dh += dhz
        if _cut(t, T, bptt):
            dh.fill(0.0)
    return dgh, dn, dh


# --------------------------------------------------------------------------- one layer


def layer_forward(cell, nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None) -> LayerCache:
    """Run one layer over a whole sequence.

    Parameters
    ----------
    cell : "rnn", "lstm" or "gru"; nonlinearity applies to "rnn" only.
    w_ih (G*H, D), w_hh (G*H, H), b_ih, b_hh (G*H,) : PyTorch's layout.
    x : (T, B, D) floats or (T, B) integer ids.
    h0 : (B, H); c0 : (B, H) for LSTM.

    Returns
    -------
    LayerCache whose ``hs[1:]`` (T, B, H) are the outputs.
    """
    H = w_hh.shape[1]
    T, B = x.shape[0], x.shape[1]
    dt = w_hh.dtype
    scale = gate_scale(cell, nonlinearity, H, dt)
    hs = np.empty((T + 1, B, H), dtype=dt)
    if cell == "gru":
        bias = b_ih.copy()
        bias[: 2 * H] += b_hh[: 2 * H]
    else:
        bias = b_ih + b_hh
    xp = project(x, w_ih, bias, scale)  # (T, B, G*H)
    cache = LayerCache(cell, nonlinearity, x, hs)
    if cell == "rnn":
        rnn_forward(xp, h0, w_hh, nonlinearity, scale, hs)
    elif cell == "lstm":
        cache.cs = np.empty((T + 1, B, H), dtype=dt)
        cache.tc = np.empty((T, B, H), dtype=dt)
        cache.gates = xp  # the projection buffer is overwritten step by step by the activations
        lstm_forward(xp, h0, c0, w_hh, scale, hs, cache.cs, cache.tc, xp)
    else:
        cache.gates = np.empty((T, B, 3 * H), dtype=dt)
        cache.hn = np.empty((T, B, H), dtype=dt)
        cache.hmn = np.empty((T, B, H), dtype=dt)
        gru_forward(xp, h0, w_hh, b_hh[2 * H :], scale, hs, cache.gates, cache.hn, cache.hmn)
    return cache


def layer_backward(cache: LayerCache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True):
    """Backward of :func:`layer_forward`.

    Parameters
    ----------
    cache : from :func:`layer_forward`.
    w_ih, w_hh : the layer's weights.
    dhs : (T, B, H) gradient of every output, or None.
    dh_last, dc_last : (B, H) gradient of the final hidden (and LSTM cell) state, or None.
    bptt : truncation length k, or None for full BPTT.
    need_dx : also return the input gradient (T, B, D).

    Returns
    -------
    grads : (dw_ih, dw_hh, db_ih, db_hh) shaped like the parameters
    dx : (T, B, D) or None
    dh0 : (B, H); dc0 : (B, H) for LSTM, else None
    """
    hs = cache.hs
    T, B, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
    hprev = hs[:-1].reshape(T * B, H)  # (T*B, H)
    dc0 = None
    if cache.cell == "gru":
        dgh, dn, dh0 = gru_backward(dhs, dh_last, hs, cache.gates, cache.hn, cache.hmn, w_hh, bptt)
        dgh2 = dgh.reshape(T * B, 3 * H)
        dw_hh = np.dot(dgh2.T, hprev)
        db_hh = dgh2.sum(axis=0)
        dxp = dgh.copy()
        dxp[:, :, 2 * H :] = dn
        db_ih = dxp.reshape(T * B, 3 * H).sum(axis=0)
    else:
        if cache.cell == "rnn":
            dxp, dh0 = rnn_backward(dhs, dh_last, hs, w_hh, cache.nonlinearity, bptt)
        else:
            dxp, dh0, dc0 = lstm_backward(
                dhs, dh_last, dc_last, hs, cache.cs, cache.tc, cache.gates, w_hh, bptt
            )
        dxp2 = dxp.reshape(T * B, -1)
        dw_hh = np.dot(dxp2.T, hprev)
        db_ih = dxp2.sum(axis=0)
        db_hh = db_ih.copy()
    dw_ih, dx = project_backward(dxp, cache.x, w_ih, need_dx)
    return (dw_ih, dw_hh, db_ih, db_hh), dx, dh0, dc0
