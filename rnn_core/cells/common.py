"""What every recurrent cell shares: the array pool, the input projection, gate-block layouts,
the weight gradients of the projections, the per-layer cache and the :class:`CellSpec` a cell
registers itself with.

Parameters keep PyTorch's layout: ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih``
and ``bias_hh`` (G*H,), gate blocks stacked in PyTorch's order. Inside the kernels the gates are
gate-major, (G, T, B, H) or (G, B, H) with one contiguous (B, H) block per gate, so every
elementwise operation runs over contiguous memory (slicing gate columns out of a (B, G*H) array
costs numpy a loop per row). A cell may order its blocks differently inside, described by its
``perm``: internal block j holds PyTorch's block ``perm[j]``.

Speed notes (why the code looks the way it does):

* The input projection of all T steps is one (batched) matmul of ``[x, 1]`` with
  ``[W_ih^T; bias]`` (the biases ride in the product), or, for integer ids, one row lookup in
  the transposed weight with the biases folded in, before the time loop.
* Bias gradients are products with a vector of ones; truncation points are a set computed once.
* The weight gradients of a gated cell take the pre-activation gradients laid out one row per
  position, (T*B, G*H) (:func:`to_rows`; the LSTM's backward writes them so), and are one
  product each: G products of (H, T*B) x (T*B, H) cost about a third more in float64 than
  one of (H, T*B) x (T*B, G*H). The time loops keep gate-major blocks: elementwise work on
  row-strided gate blocks costs several times as much.
* ``sigmoid(x) = 0.5*tanh(x/2) + 0.5``: a cell may pre-scale the sigmoid rows of its weights and
  of the projected input by 1/2 (its ``gate_scale``), so one ``tanh`` call covers every gate.
* The (T, B, .) arrays come from a :class:`Workspace` that hands an array out again once
  nothing references it any more: fresh multi-megabyte arrays cost page faults on every call
  (measured: 20-30% of a training step at the benchmark sizes).

Truncated BPTT to ``k`` steps cuts the carried gradient between steps t-1 and t whenever
``(T - t) % k == 0`` and ``0 < t < T`` (:func:`_cut`): chunks are aligned to the end of the
sequence, so a many-to-one loss gets exactly ``k`` steps back, and ``k >= T`` is full BPTT.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # only for annotations: rnn_core.config may import this package
    from rnn_core.config import ModelConfig


def to_blocks(w: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """(G*H, X) in PyTorch's gate order -> contiguous (G, H, X) in the internal order ``perm``."""
    g = len(perm)
    return w.reshape(g, w.shape[0] // g, -1)[list(perm)]


def from_blocks(b: np.ndarray, perm: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`to_blocks`: (G, H, X) internal -> (G*H, X) in PyTorch's order."""
    out = np.empty_like(b)
    out[list(perm)] = b
    return out.reshape(b.shape[0] * b.shape[1], b.shape[2])


def _identity(perm) -> bool:
    return tuple(perm) == tuple(range(len(perm)))


def _reorder(w: np.ndarray, perm) -> np.ndarray:
    """(G*H, X) with blocks in the internal order ``perm`` -> PyTorch's order."""
    return w if _identity(perm) else from_blocks(w.reshape(len(perm), -1, w.shape[1]), perm)


def _rows(d: np.ndarray) -> np.ndarray | None:
    """(N, G*H) view of a (G, ..., H) array whose memory is laid out (..., G, H), one row per
    position holding every gate; None for any other layout (e.g. gate-major)."""
    moved = np.moveaxis(d, 0, -2)
    return moved.reshape(-1, d.shape[0] * d.shape[-1]) if moved.flags.c_contiguous else None


def to_rows(d: np.ndarray, perm, ws: Workspace | None = None) -> tuple[np.ndarray, tuple[int, ...]]:
    """``(rows, order)``: the (G, T, B, H) gradients ``d`` (internal order ``perm``) as a view
    whose memory is (T, B, G, H) (see :func:`_rows`), so the weight gradients over all
    positions are one product each, not G; ``order`` is the view's block order. ``d`` itself
    when already so laid out, else a copy in PyTorch's order."""
    if _rows(d) is not None:
        return d, tuple(perm)
    buf = _empty(ws, (*d.shape[1:-1], d.shape[0], d.shape[-1]), d.dtype)  # (T, B, G, H)
    view = np.moveaxis(buf, -2, 0)
    for j, p in enumerate(perm):
        np.copyto(view[p], d[j])
    return view, tuple(range(len(perm)))


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
        if math.prod(shape) * dtype.itemsize < self.MIN_BYTES:
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


def _cut_steps(T: int, bptt: int | None) -> frozenset[int]:
    """Every t for which :func:`_cut` is true: a set lookup per step in the time loops."""
    return frozenset(t for t in range(1, T) if _cut(t, T, bptt))


# --------------------------------------------------------------------------- input projection


def project(x: np.ndarray, w_ih: np.ndarray, bias: np.ndarray, perm, scale, ws=None) -> np.ndarray:
    """Input projection of every timestep at once, ``(x W_ih^T + bias) * scale``, gate-major.

    Parameters
    ----------
    x : (T, B, D) float inputs, or (T, B) integer ids (then a row lookup in ``W_ih^T``;
        one-hot in meaning, never materialised).
    w_ih : (G*H, D); bias : (G*H,) biases folded into the projection (PyTorch's order).
    perm : the cell's internal gate order; scale : (G,) or None, see ``CellSpec.gate_scale``.
    ws : Workspace for the result, or None.

    Returns
    -------
    (G, T, B, H) C-contiguous array.
    """
    if x.ndim == 2:  # ids: the table holds the biases, so the lookup is the whole projection
        table = lookup_table(w_ih, bias, perm, scale)  # (G, V, H)
        G, _, H = table.shape
        xp = _empty(ws, (G, *x.shape, H), table.dtype)
        # ids are validated by the caller; mode="clip" lets take write straight into ``out``
        return np.take(table, x, axis=1, out=xp, mode="clip")  # (G, T, B, H)
    G, (T, B, D) = len(perm), x.shape
    wb = to_blocks(w_ih, perm)  # (G, H, D)
    H = wb.shape[1]
    # [x, 1] @ [W_ih^T; bias]: the biases ride in the product. Adding them in a pass of their own
    # over the (G, T*B, H) result costs more than the product itself when the input is narrow.
    xa = _empty(ws, (T * B, D + 1), wb.dtype)
    xa[:, :D] = x.reshape(T * B, D)
    xa[:, D] = 1.0
    wa = np.empty((G, D + 1, H), dtype=wb.dtype)
    wa[:, :D] = wb.transpose(0, 2, 1)
    wa[:, D] = to_blocks(bias[:, None], perm)[:, :, 0]
    if scale is not None:
        wa *= scale[:, None, None]
    xp = np.matmul(xa, wa, out=_empty(ws, (G, T * B, H), wb.dtype))
    return xp.reshape(G, T, B, H)


def lookup_table(w_ih: np.ndarray, bias: np.ndarray, perm, scale) -> np.ndarray:
    """``(W_ih^T + bias) * scale`` as (G, V, H): row v is what input id v projects to."""
    wb = to_blocks(w_ih, perm)  # (G, H, V)
    table = np.empty((wb.shape[0], wb.shape[2], wb.shape[1]), dtype=wb.dtype)  # (G, V, H)
    np.add(wb.transpose(0, 2, 1), to_blocks(bias[:, None], perm)[:, None, :, 0], out=table)
    if scale is not None:
        table *= scale[:, None, None]
    return table


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
    rows = _rows(dxp) if G > 1 else None
    if rows is not None:  # (T*B, G*H): one product per gradient
        if x.ndim == 2:
            dwb = scatter_add(x.reshape(-1), dxp.reshape(G, T * B, H), w_ih.shape[1], ws)  # (V, G, H)
            return _reorder(np.ascontiguousarray(dwb.reshape(-1, G * H).T), perm), None
        x2 = x.reshape(T * B, x.shape[2])
        dx = None
        if need_dx:
            w = w_ih if _identity(perm) else to_blocks(w_ih, perm).reshape(G * H, -1)
            dx = np.matmul(rows, w, out=_empty(ws, x2.shape, dxp.dtype)).reshape(x.shape)
        return _reorder(np.ascontiguousarray((x2.T @ rows).T), perm), dx
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

    values : (G, N, H), gate-major or a view of (N, G, H) rows (then whole rows are gathered).
    The ids are sorted once, the values gathered in that order and each run of equal ids
    summed with a matrix-vector product. Measured with numpy 2.4 at the S2
    benchmark size (N=2048, G*H=512, n=80, one thread): this 1.1 ms, ``np.add.at`` 6.8-7.6 ms,
    ``np.bincount`` per column 8.7 ms, gather + ``np.add.reduceat`` 4.5 ms.
    """
    G, N, H = values.shape
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    bounds = np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1
    starts = np.r_[0, bounds]
    ends = np.r_[bounds, N]
    ones = np.ones(N, dtype=values.dtype)
    rows = _rows(values)
    if rows is not None:  # (N, G*H): gather whole rows, sum each run with one product
        out = np.zeros((n, G * H), dtype=values.dtype)
        gathered = np.take(rows, order, axis=0, out=_empty(ws, rows.shape, values.dtype), mode="clip")
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            np.matmul(ones[: b - a], gathered[a:b], out=out[sorted_ids[a]])
        return out.reshape(n, G, H)
    out = np.zeros((n, G, H), dtype=values.dtype)
    gathered = np.take(values, order, axis=1, out=_empty(ws, values.shape, values.dtype), mode="clip")
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        np.matmul(ones[: b - a], gathered[:, a:b], out=out[sorted_ids[a]])  # sum of the run
    return out


def recurrent_backward(dgh: np.ndarray, hs: np.ndarray, perm):
    """Gradients of ``W_hh`` and ``b_hh`` from the per-step gradients of ``W_hh h + b_hh``.

    dgh : (G, T, B, H) internal order ``perm``; hs : (T+1, B, H) states, hs[:-1] the inputs.
    Returns dw_hh (G*H, H) and db_hh (G*H,) in PyTorch's order.
    """
    G, T, B, H = dgh.shape
    hprev = hs[:-1].reshape(T * B, H)
    rows = _rows(dgh) if G > 1 else None
    if rows is not None:  # (T*B, G*H): all gates in one product
        db = np.matmul(np.ones(T * B, dtype=rows.dtype), rows)
        dw = np.ascontiguousarray((hprev.T @ rows).T)  # (G*H, H); this order of the product is the faster
        return _reorder(dw, perm), _reorder(db[:, None], perm)[:, 0]
    d3 = dgh.reshape(G, T * B, H)
    dw = np.matmul(d3.transpose(0, 2, 1), hprev)  # (G, H, H)
    return from_blocks(dw, perm), from_blocks(bias_gradient(d3)[:, :, None], perm)[:, 0]


def bias_gradient(d3: np.ndarray) -> np.ndarray:
    """(G, H) sums over the N rows of ``d3`` (G, N, H), as a product with a vector of ones:
    BLAS streams the rows several times faster than ``d3.sum(axis=1)`` reduces them."""
    return np.matmul(np.ones(d3.shape[1], dtype=d3.dtype), d3)


# --------------------------------------------------------------------------- caches


@dataclass(eq=False)
class LayerCache:
    """Everything one layer's backward needs; all arrays preallocated per sequence.

    ``hs`` (T+1, B, H) holds the initial state at index 0, so ``hs[:-1]`` are the previous
    states of every step and ``hs[1:]`` the outputs. ``gates`` (G, T, B, H) holds activations
    (not pre-activations) in the internal order, named by the spec's ``gate_names``. A cell
    that needs more buffers subclasses this dataclass next to its kernels.
    """

    cell: str
    nonlinearity: str
    x: np.ndarray  # (T, B, D) floats or (T, B) ids
    hs: np.ndarray  # (T+1, B, H)
    gates: np.ndarray | None = None
    cs: np.ndarray | None = None  # (T+1, B, H) cell states, cs[0] = c0, when the cell has them


def gradients_from_preactivations(dpre: np.ndarray, cache: LayerCache, w_ih, perm, need_dx, ws=None):
    """Parameter and input gradients of a cell whose every gate block is a function of
    ``W_ih x + b_ih + W_hh h + b_hh``, so both biases get the same gradient.

    Parameters
    ----------
    dpre : (G, T, B, H) gradient of those pre-activations, internal order ``perm``.
    cache : the layer's cache (its ``x`` and ``hs``); w_ih : (G*H, D).
    need_dx : also compute the input gradient; ws : Workspace for temporaries, or None.

    Returns
    -------
    grads : (dw_ih, dw_hh, db_ih, db_hh) shaped like the parameters, PyTorch's order
    dx : (T, B, D) or None
    """
    rows, order = to_rows(dpre, perm, ws)  # one row per position
    dw_hh, db_hh = recurrent_backward(rows, cache.hs, order)
    dw_ih, dx = project_backward(rows, cache.x, w_ih, order, need_dx, ws)
    return (dw_ih, dw_hh, db_hh.copy(), db_hh), dx


# --------------------------------------------------------------------------- registration


def no_gate_scale(nonlinearity: str, dtype) -> np.ndarray | None:
    """The gate scale of a cell that evaluates its gates without the one-``tanh`` trick."""
    return None


def no_special_biases(b_ih: np.ndarray, b_hh: np.ndarray, config: ModelConfig) -> None:
    """Leave both biases at zero."""


@dataclass(frozen=True)
class CellSpec:
    """How one recurrent cell plugs into the engine; register it with ``rnn_core.cells.register``.

    Attributes
    ----------
    name : the ``ModelConfig.cell`` value that selects the cell.
    gates : G, the number of (H, .) gate blocks stacked in ``weight_ih``/``weight_hh``.
    perm : (G,) internal gate order: internal block j holds PyTorch's block ``perm[j]``.
    gate_names : one letter per internal block for :meth:`internals` (``""``: none shown).
    layer_forward : ``(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None)``
        -> :class:`LayerCache`; x (T, B, D) floats or (T, B) ids, h0 and c0 (B, H).
    layer_backward : ``(cache, w_ih, w_hh, dhs, dh_last, dc_last=None, *, bptt=None,
        need_dx=True, ws=None)`` -> ``((dw_ih, dw_hh, db_ih, db_hh), dx, dh0, dc0)``; dhs (T, B, H)
        or None, dh_last and dc_last (B, H) or None, dc0 None without a cell state. A cell
        that takes ``record=`` (a dict of preallocated ``"h"`` and, with a cell state, ``"c"``
        arrays (T, B, H)) fills them with the total gradient reaching each state in its time
        loop: what the through-time views show (:mod:`rnn_core.through_time`).
    has_cell_state : the state is a pair (h, c) and the cache fills ``cs``.
    gate_scale : ``(nonlinearity, dtype)`` -> (G,) factor applied to each internal block's
        pre-activation before one shared ``tanh`` (0.5 for a sigmoid block), or None.
    init_biases : ``(b_ih, b_hh, config)``: set any nonzero initial bias in place; both are
        (G*H,) float64 zeros in PyTorch's order when called.
    """

    name: str
    gates: int
    perm: tuple[int, ...]
    gate_names: str
    layer_forward: Callable[..., LayerCache]
    layer_backward: Callable[..., tuple]
    has_cell_state: bool = False
    gate_scale: Callable[[str, object], np.ndarray | None] = no_gate_scale
    init_biases: Callable[[np.ndarray, np.ndarray, ModelConfig], None] = no_special_biases

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"a cell name must be an identifier such as 'lstm'; got {self.name!r}")
        if sorted(self.perm) != list(range(self.gates)):
            raise ValueError(f"perm must order the blocks 0..{self.gates - 1}; got {self.perm!r}")
        names = self.gate_names
        if names and (len(names) != self.gates or len(set(names)) != len(names)):
            raise ValueError(f"gate_names needs {self.gates} distinct letters or none; got {names!r}")
        if set(names) & {"h", "c"}:
            raise ValueError(f"gate_names must not use h or c, the state names; got {names!r}")

    @property
    def internal_names(self) -> tuple[str, ...]:
        """Keys of :meth:`internals`: ``"h"``, ``"c"`` with a cell state, then the gate names."""
        return ("h", *(("c",) if self.has_cell_state else ()), *self.gate_names)

    def internals(self, cache: LayerCache, b: int) -> dict[str, np.ndarray]:
        """Copies of sample ``b``'s per-step arrays, each (T, H), keyed by :attr:`internal_names`."""
        out = {"h": cache.hs[1:, b].copy()}
        if self.has_cell_state:
            out["c"] = cache.cs[1:, b].copy()
        for j, name in enumerate(self.gate_names):
            out[name] = cache.gates[j, :, b].copy()
        return out
