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

* Gate-major layout: per-step gate arrays are (G, B, H), one contiguous (B, H) block per gate,
  so every elementwise operation runs over contiguous memory (slicing gate columns out of a
  (B, G*H) array costs numpy a loop per row). Inside the kernels the LSTM gates are ordered
  i,f,o,g so that the three sigmoid gates are one block; parameters keep PyTorch's order.
* The input projection of all T steps is one (batched) matmul, or, for integer ids, one row
  lookup in the transposed weight with the biases folded in, before the time loop.
* ``sigmoid(x) = 0.5*tanh(x/2) + 0.5``: sigmoid rows of the weights and of the projected input
  are pre-scaled by 1/2, so one ``tanh`` call covers every gate of a step.
* Every step writes into preallocated arrays with ``out=``; the backward keeps the per-step
  pre-activation gradients so that the weight gradients are one matmul per gate after the loop.
* The (T, B, .) arrays come from a :class:`Workspace` that hands an array out again once
  nothing references it any more: fresh multi-megabyte arrays cost page faults on every call
  (measured: 20-30% of a training step at the benchmark sizes).

Truncated BPTT to ``k`` steps cuts the carried gradient between steps t-1 and t whenever
``(T - t) % k == 0`` and ``0 < t < T``: chunks are aligned to the end of the sequence, so a
many-to-one loss gets exactly ``k`` steps back, and ``k >= T`` is full BPTT.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from rnn_core.threads import single_thread

# internal gate block j holds PyTorch's block PERM[cell][j]
PERM = {"rnn": (0,), "lstm": (0, 1, 3, 2), "gru": (0, 1, 2)}
# names of the internal gate blocks, for the dashboard
GATE_NAMES = {"rnn": "", "lstm": "ifog", "gru": "rzn"}


def gate_scale(cell: str, nonlinearity: str, dtype) -> np.ndarray | None:
    """Per internal gate block factor so that one ``tanh`` evaluates every gate.

    Returns (G,) with 0.5 for sigmoid blocks and 1 otherwise, or None when no block is a sigmoid.
    """
    if cell == "rnn":
        return np.array([0.5], dtype) if nonlinearity == "sigmoid" else None
    return np.array([0.5, 0.5, 0.5, 1.0] if cell == "lstm" else [0.5, 0.5, 1.0], dtype)


def to_blocks(w: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """(G*H, X) in PyTorch's gate order -> contiguous (G, H, X) in the internal order ``perm``."""
    g = len(perm)
    return w.reshape(g, w.shape[0] // g, -1)[list(perm)]


def from_blocks(b: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`to_blocks`: (G, H, X) internal -> (G*H, X) in PyTorch's order."""
    out = np.empty_like(b)
    out[list(perm)] = b
    return out.reshape(b.shape[0] * b.shape[1], b.shape[2])


class Workspace:
    """A pool of large arrays reused across calls, keyed by shape and dtype.

    An array is handed out again only when nothing but the pool references it (checked with
    ``sys.getrefcount``; views count, since they reference their base), so a cache or an output
    the caller still holds is never overwritten. Not thread-safe: one workspace per network,
    one thread at a time per network.
    """

    MIN_BYTES = 1 << 16  # smaller arrays come from malloc's own free lists anyway
    MAX_PER_SHAPE = 4
    MAX_SHAPES = 32
    _FREE_REFS = 3  # the pool's list, the loop variable and getrefcount's argument

    def __init__(self) -> None:
        self._pool: dict[tuple, list[np.ndarray]] = {}

    def empty(self, shape: tuple[int, ...], dtype) -> np.ndarray:
        """An uninitialised array like ``np.empty(shape, dtype)``, reused when possible."""
        dtype = np.dtype(dtype)
        shape = tuple(int(n) for n in shape)
        if int(np.prod(shape)) * dtype.itemsize < self.MIN_BYTES:
            return np.empty(shape, dtype)
        key = (shape, dtype.str)
        arrays = self._pool.pop(key, [])
        self._pool[key] = arrays  # most recently used last
        for arr in arrays:
            if sys.getrefcount(arr) <= self._FREE_REFS:
                return arr
        arr = np.empty(shape, dtype)
        if len(arrays) < self.MAX_PER_SHAPE:
            arrays.append(arr)
        while len(self._pool) > self.MAX_SHAPES:
            del self._pool[next(iter(self._pool))]
        return arr


def _empty(ws: Workspace | None, shape, dtype) -> np.ndarray:
    return np.empty(shape, dtype) if ws is None else ws.empty(shape, dtype)


def _cut(t: int, T: int, bptt: int | None) -> bool:
    """True when the gradient carried from step t into step t-1 is dropped."""
    return bptt is not None and 0 < t < T and (T - t) % bptt == 0


# --------------------------------------------------------------------------- input projection


def project(x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray, perm, scale, ws=None) -> np.ndarray:
    """Input projection of every timestep at once, ``(x W_ih^T + bias) * scale``, gate-major.

    Parameters
    ----------
    x : (T, B, D) float inputs, or (T, B) integer ids (then a row lookup in ``W_ih^T``;
        one-hot in meaning, never materialised).
    w_ih : (G*H, D); bias : (G*H,) biases folded into the projection (PyTorch's order).
    perm : internal gate order, see ``PERM``; scale : (G,) or None, see :func:`gate_scale`.
    ws : Workspace for the result, or None.

    Returns
    -------
    (G, T, B, H) C-contiguous array.
    """
    G = len(perm)
    wb = to_blocks(w_ih, perm)  # (G, H, D)
    bb = to_blocks(bias[:, None], perm)[:, :, 0]  # (G, H)
    if scale is not None:
        wb *= scale[:, None, None]
        bb *= scale[:, None]
    H = wb.shape[1]
    if x.ndim == 2:  # ids: the table holds the biases, so the lookup is the whole projection
        T, B = x.shape
        table = np.empty((G, wb.shape[2], H), dtype=wb.dtype)  # (G, V, H)
        np.add(wb.transpose(0, 2, 1), bb[:, None, :], out=table)
        xp = _empty(ws, (G, T, B, H), wb.dtype)
        # ids are validated by the caller; mode="clip" lets take write straight into ``out``
        return np.take(table, x, axis=1, out=xp, mode="clip")  # (G, T, B, H)
    T, B, D = x.shape
    x2 = x.reshape(T * B, D)
    xp = _empty(ws, (G, T * B, H), wb.dtype)
    if D == 1:  # an outer product; BLAS is slow for an inner dimension of 1
        np.multiply(x2, wb[:, None, :, 0], out=xp)
    else:
        np.matmul(x2, wb.transpose(0, 2, 1), out=xp)
    xp += bb[:, None, :]
    return xp.reshape(G, T, B, H)


def project_backward(dxp: np.ndarray, x: np.ndarray, w_ih: np.ndarray, perm, need_dx: bool, ws=None):
    """Gradients of :func:`project` with respect to ``W_ih`` and the input.

    Parameters
    ----------
    dxp : (G, T, B, H) gradient of the (unscaled) pre-activations, internal gate order.
    x : (T, B, D) floats or (T, B) ids, as given to the forward.
    w_ih : (G*H, D); perm : internal gate order.
    need_dx : compute the input gradient (skipped for the first layer of a text model).
    ws : Workspace for temporaries, or None.

    Returns
    -------
    dw_ih : (G*H, D) in PyTorch's order
    dx : (T, B, D) or None (ids, or not needed)
    """
    G, T, B, H = dxp.shape
    d3 = dxp.reshape(G, T * B, H)
    if x.ndim == 2:
        dwb = scatter_add(x.reshape(-1), d3, w_ih.shape[1], ws)  # (V, G, H)
        return from_blocks(dwb.transpose(1, 2, 0), perm), None
    D = x.shape[2]
    x2 = x.reshape(T * B, D)
    dw_ih = from_blocks(np.matmul(d3.transpose(0, 2, 1), x2), perm)  # (G*H, D)
    dx = None
    if need_dx:
        per_gate = np.matmul(d3, to_blocks(w_ih, perm), out=_empty(ws, (G, T * B, D), dxp.dtype))
        dx = np.sum(per_gate, axis=0, out=_empty(ws, (T * B, D), dxp.dtype)).reshape(T, B, D)
    return dw_ih, dx


def scatter_add(ids: np.ndarray, values: np.ndarray, n: int, ws=None) -> np.ndarray:
    """``out[ids[j]] += values[:, j]`` for all j, as (n, G, H): the backward of a row lookup.

    values : (G, N, H). The ids are sorted once, the values gathered in that order and each
    run of equal ids summed with a matrix-vector product. Measured with numpy 2.4 at the S2
    benchmark size (N=2048, G*H=512, n=80, one thread): this 1.1 ms, ``np.add.at`` 6.8-7.6 ms,
    ``np.bincount`` per column 8.7 ms, gather + ``np.add.reduceat`` 4.5 ms.
    """
    G, N, H = values.shape
    out = np.zeros((n, G, H), dtype=values.dtype)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    bounds = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, N]
    gathered = np.take(values, order, axis=1, out=_empty(ws, values.shape, values.dtype), mode="clip")
    ones = np.ones(N, dtype=values.dtype)
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        np.matmul(ones[: b - a], gathered[:, a:b], out=out[sorted_ids[a]])  # sum of the run
    return out


def recurrent_backward(dgh: np.ndarray, hs: np.ndarray, perm):
    """Gradients of ``W_hh`` and ``b_hh`` from the per-step gradients of ``W_hh h + b_hh``.

    dgh : (G, T, B, H) internal order ``perm``; hs : (T+1, B, H) states, hs[:-1] the inputs.
    Returns dw_hh (G*H, H) and db_hh (G*H,) in PyTorch's order.
    """
    G, T, B, H = dgh.shape
    d3 = dgh.reshape(G, T * B, H)
    hprev = hs[:-1].reshape(T * B, H)
    dw = np.matmul(d3.transpose(0, 2, 1), hprev)  # (G, H, H)
    db = d3.sum(axis=1)  # (G, H)
    return from_blocks(dw, perm), from_blocks(db[:, :, None], perm)[:, 0]


# --------------------------------------------------------------------------- caches


@dataclass(eq=False)
class LayerCache:
    """Everything one layer's backward needs; all arrays preallocated per sequence.

    ``hs`` (T+1, B, H) holds the initial state at index 0, so ``hs[:-1]`` are the previous
    states of every step and ``hs[1:]`` the outputs. ``gates`` (G, T, B, H) holds activations
    (not pre-activations) in the internal order, named by ``GATE_NAMES[cell]``.
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

    xp : (T, B, H) projected inputs incl. both biases, pre-scaled by ``scale`` (sigmoid).
    h0 : (B, H); w_hh : (H, H); hs : (T+1, B, H) output buffer, filled in place.
    """
    T = xp.shape[0]
    w_t = np.ascontiguousarray((w_hh * scale[0]).T if scale is not None else w_hh.T)  # (H, H)
    hs[0] = h0
    for t in range(T):
        h = hs[t + 1]
        np.matmul(hs[t], w_t, out=h)
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


def rnn_backward(dhs, dh_last, hs, w_hh, nonlinearity, bptt, ws=None):
    """Backward of :func:`rnn_forward`.

    dhs : (T, B, H) gradient of every output, or None; dh_last : (B, H) extra gradient of the
    last output, or None. Returns (dpre (T, B, H) gradient of the pre-activations, dh0 (B, H)).
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
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        np.multiply(dh, dpre[t], out=dpre[t])
        np.matmul(dpre[t], w, out=dh)
        if _cut(t, T, bptt):
            dh.fill(0.0)
    return dpre, dh


# --------------------------------------------------------------------------- LSTM


def lstm_forward(xp, h0, c0, w_hh, scale, hs, cs, tc):
    """LSTM over a sequence; ``xp`` becomes the gate activations.

    xp : (4, T, B, H) projected inputs incl. both biases, internal order i,f,o,g, pre-scaled
    by ``scale``; overwritten in place by the activations. h0, c0 : (B, H); w_hh : (4H, H).
    Buffers filled in place: hs, cs (T+1, B, H), tc (T, B, H) tanh of the cell state.
    """
    _, T, B, H = xp.shape
    w_t = np.ascontiguousarray((to_blocks(w_hh, PERM["lstm"]) * scale[:, None, None]).transpose(0, 2, 1))
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


def lstm_backward(dhs, dh_last, dc_last, hs, cs, tc, gates, w_hh, bptt, ws=None):
    """Backward of :func:`lstm_forward`.

    dhs : (T, B, H) or None; dh_last, dc_last : (B, H) or None (gradients of the final state).
    Returns (dpre (4, T, B, H) gradient of the gate pre-activations, internal order i,f,o,g;
    dh0, dc0 (B, H)).
    """
    _, T, B, H = gates.shape
    dt = hs.dtype
    w = to_blocks(w_hh, PERM["lstm"])  # (4, H, H)
    dpre = _empty(ws, (4, T, B, H), dt)
    dh = np.zeros((B, H), dtype=dt)
    dc = np.zeros((B, H), dtype=dt)
    tmp = np.empty((B, H), dtype=dt)
    deriv = np.empty((4, B, H), dtype=dt)
    rec = np.empty((4, B, H), dtype=dt)
    if dh_last is not None:
        dh += dh_last
    if dc_last is not None:
        dc += dc_last
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
        a = gates[:, t]
        i, f, o, g = a
        d = dpre[:, t]  # first the gradient of the activations, then of the pre-activations
        di, df, do, dg = d
        tct = tc[t]
        np.multiply(dh, tct, out=do)
        np.multiply(tct, tct, out=tmp)
        np.subtract(1.0, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp  # dc now: total gradient of c_t
        np.multiply(dc, g, out=di)
        np.multiply(dc, cs[t], out=df)
        np.multiply(dc, i, out=dg)
        np.subtract(1.0, a, out=deriv)
        deriv[:3] *= a[:3]  # sigmoid: a (1 - a)
        np.add(1.0, g, out=tmp)
        deriv[3] *= tmp  # tanh: (1 - a)(1 + a)
        d *= deriv
        np.matmul(d, w, out=rec)
        np.add(rec[0], rec[1], out=dh)  # three adds beat one np.sum(axis=0) at this size
        dh += rec[2]
        dh += rec[3]
        dc *= f
        if _cut(t, T, bptt):
            dh.fill(0.0)
            dc.fill(0.0)
    return dpre, dh, dc


# --------------------------------------------------------------------------- GRU

# The GRU backward keeps four gradient blocks per step in the order [hn, r, z, n]: the first
# three are the gradients of W_hh h + b_hh (blocks n, r, z), the last three those of the input
# projection (blocks r, z, n), both contiguous views without a copy.
GRU_HH_PERM = (2, 0, 1)


def gru_forward(xp, h0, w_hh, b_hn, scale, hs, hn, hmn):
    """GRU over a sequence; ``xp`` becomes the gate activations r,z,n.

    xp : (3, T, B, H) projected inputs; biases folded in are b_ih (all blocks) + b_hh (r, z
    blocks only, since b_hn sits inside r*(.)); pre-scaled by ``scale``.
    h0 : (B, H); w_hh : (3H, H); b_hn : (H,). Buffers filled in place: hs (T+1, B, H),
    hn (T, B, H) = W_hn h + b_hn, hmn (T, B, H) = h - n.
    """
    _, T, B, H = xp.shape
    w_t = np.ascontiguousarray((to_blocks(w_hh, PERM["gru"]) * scale[:, None, None]).transpose(0, 2, 1))
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


def gru_backward(dhs, dh_last, hs, gates, hn, hmn, w_hh, bptt, ws=None):
    """Backward of :func:`gru_forward`.

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
    for t in range(T - 1, -1, -1):
        if dhs is not None:
            dh += dhs[t]
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
        if _cut(t, T, bptt):
            dh.fill(0.0)
    return grad, dh


# --------------------------------------------------------------------------- one layer


def layer_forward(cell, nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None) -> LayerCache:
    """Run one layer over a whole sequence.

    Parameters
    ----------
    cell : "rnn", "lstm" or "gru"; nonlinearity applies to "rnn" only.
    w_ih (G*H, D), w_hh (G*H, H), b_ih, b_hh (G*H,) : PyTorch's layout.
    x : (T, B, D) floats or (T, B) integer ids.
    h0 : (B, H); c0 : (B, H) for LSTM.
    ws : Workspace for the (T, B, .) arrays, or None.

    Returns
    -------
    LayerCache whose ``hs[1:]`` (T, B, H) are the outputs.
    """
    H = w_hh.shape[1]
    T, B = x.shape[0], x.shape[1]
    dt = w_hh.dtype
    scale = gate_scale(cell, nonlinearity, dt)
    hs = _empty(ws, (T + 1, B, H), dt)
    if cell == "gru":
        bias = b_ih.copy()
        bias[: 2 * H] += b_hh[: 2 * H]
    else:
        bias = b_ih + b_hh
    xp = project(x, w_ih, bias, PERM[cell], scale, ws)  # (G, T, B, H)
    cache = LayerCache(cell, nonlinearity, x, hs)
    if cell == "lstm":
        cache.cs = _empty(ws, (T + 1, B, H), dt)
        cache.tc = _empty(ws, (T, B, H), dt)
    elif cell == "gru":
        cache.hn = _empty(ws, (T, B, H), dt)
        cache.hmn = _empty(ws, (T, B, H), dt)
    with single_thread():  # a chain of small products: threads only add hand-over latency
        if cell == "rnn":
            rnn_forward(xp[0], h0, w_hh, nonlinearity, scale, hs)
        elif cell == "lstm":
            lstm_forward(xp, h0, c0, w_hh, scale, hs, cache.cs, cache.tc)
        else:
            gru_forward(xp, h0, w_hh, b_hh[2 * H :], scale, hs, cache.hn, cache.hmn)
    if cell != "rnn":
        cache.gates = xp
    return cache


def layer_backward(
    cache: LayerCache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None, need_dx=True, ws=None
):
    """Backward of :func:`layer_forward`.

    Parameters
    ----------
    cache : from :func:`layer_forward`.
    w_ih, w_hh : the layer's weights.
    dhs : (T, B, H) gradient of every output, or None.
    dh_last, dc_last : (B, H) gradient of the final hidden (and LSTM cell) state, or None.
    bptt : truncation length k, or None for full BPTT.
    need_dx : also return the input gradient (T, B, D).
    ws : Workspace for temporaries, or None.

    Returns
    -------
    grads : (dw_ih, dw_hh, db_ih, db_hh) shaped like the parameters
    dx : (T, B, D) or None
    dh0 : (B, H); dc0 : (B, H) for LSTM, else None
    """
    hs, cell = cache.hs, cache.cell
    dc0 = None
    with single_thread():
        if cell == "gru":
            grad, dh0 = gru_backward(dhs, dh_last, hs, cache.gates, cache.hn, cache.hmn, w_hh, bptt, ws)
        elif cell == "rnn":
            dpre, dh0 = rnn_backward(dhs, dh_last, hs, w_hh, cache.nonlinearity, bptt, ws)
        else:
            dpre, dh0, dc0 = lstm_backward(
                dhs, dh_last, dc_last, hs, cache.cs, cache.tc, cache.gates, w_hh, bptt, ws
            )
    if cell == "gru":
        dw_hh, db_hh = recurrent_backward(grad[:3], hs, GRU_HH_PERM)
        dxp = grad[1:]  # blocks r, z, n
        db_ih = dxp.reshape(3, -1, dxp.shape[3]).sum(axis=1).reshape(-1)
    else:
        dxp = dpre[None] if cell == "rnn" else dpre
        dw_hh, db_hh = recurrent_backward(dxp, hs, PERM[cell])
        db_ih = db_hh.copy()
    dw_ih, dx = project_backward(dxp, cache.x, w_ih, PERM[cell], need_dx, ws)
    return (dw_ih, dw_hh, db_ih, db_hh), dx, dh0, dc0
