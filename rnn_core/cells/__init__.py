"""The recurrent cells and their registry: a cell is its kernels plus one :func:`register` call.

Each cell lives in a module of its own (:mod:`~rnn_core.cells.rnn`, :mod:`~rnn_core.cells.lstm`,
:mod:`~rnn_core.cells.gru`) with its forward and backward side by side, and describes itself to
the engine with a :class:`CellSpec`: number of gate blocks, internal gate order, gate names,
cell state, gate scale, special initial biases and one layer's forward and backward. The
network and the initialisation ask the spec and never test a cell's name.

Adding a cell::

    from rnn_core.cells import CellSpec, register

    register(CellSpec(name="mgu", gates=2, perm=(0, 1), gate_names="fn",
                      layer_forward=mgu_layer_forward, layer_backward=mgu_layer_backward))

This package must not import :mod:`rnn_core.config` at module level: the configuration takes its
list of cells from :func:`cell_names`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from rnn_core.cells import gru, lstm, rnn
from rnn_core.cells.common import (
    CellSpec,
    LayerCache,
    Workspace,
    from_blocks,
    gradients_from_preactivations,
    no_gate_scale,
    no_special_biases,
    project,
    project_backward,
    recurrent_backward,
    scatter_add,
    to_blocks,
)
from rnn_core.errors import PlaygroundError

__all__ = [
    "CELLS",
    "GATE_NAMES",
    "CellSpec",
    "LayerCache",
    "Workspace",
    "cell_names",
    "cell_spec",
    "from_blocks",
    "gradients_from_preactivations",
    "layer_backward",
    "layer_forward",
    "no_gate_scale",
    "no_special_biases",
    "project",
    "project_backward",
    "recurrent_backward",
    "register",
    "scatter_add",
    "to_blocks",
]

CELLS: dict[str, CellSpec] = {}


def register(spec: CellSpec) -> CellSpec:
    """Make ``spec`` selectable as ``ModelConfig(cell=spec.name)``; returns it.

    Raises ValueError when the name is taken (remove the old entry from ``CELLS`` first to
    swap a cell) and TypeError for anything but a :class:`CellSpec`.
    """
    if not isinstance(spec, CellSpec):
        raise TypeError(f"register takes a CellSpec; got {type(spec).__name__}")
    if spec.name in CELLS:
        raise ValueError(f"a cell named {spec.name!r} is already registered")
    CELLS[spec.name] = spec
    return spec


def cell_names() -> tuple[str, ...]:
    """Names of the registered cells, in registration order (the built-ins rnn, lstm, gru first)."""
    return tuple(CELLS)


def cell_spec(name: str) -> CellSpec:
    """The registered spec called ``name``.

    Raises
    ------
    PlaygroundError naming the valid choices when no cell has that name.
    """
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise PlaygroundError(f"cell must be one of {', '.join(CELLS)}; got {name!r}") from None


class _GateNames(Mapping[str, str]):
    """Read-only view cell name -> ``gate_names`` that follows the registry."""

    def __getitem__(self, name: str) -> str:
        return cell_spec(name).gate_names

    def __iter__(self) -> Iterator[str]:
        return iter(CELLS)

    def __len__(self) -> int:
        return len(CELLS)


GATE_NAMES: Mapping[str, str] = _GateNames()

register(rnn.SPEC)
register(lstm.SPEC)
register(gru.SPEC)


def layer_forward(cell, nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0=None, ws=None) -> LayerCache:
    """Run one layer of the registered cell ``cell`` over a whole sequence.

    Parameters
    ----------
    cell : a name from :func:`cell_names`; nonlinearity applies to the vanilla cell only.
    w_ih (G*H, D), w_hh (G*H, H), b_ih, b_hh (G*H,) : PyTorch's layout.
    x : (T, B, D) floats or (T, B) integer ids.
    h0 : (B, H); c0 : (B, H) for a cell with a cell state, else ignored.
    ws : Workspace for the (T, B, .) arrays, or None.

    Returns
    -------
    LayerCache whose ``hs[1:]`` (T, B, H) are the outputs.
    """
    spec = cell_spec(cell)
    cache = spec.layer_forward(nonlinearity, w_ih, w_hh, b_ih, b_hh, x, h0, c0, ws)
    cache.cell = spec.name  # the backward is looked up by this name, so it must be the spec's
    return cache


def layer_backward(
    cache: LayerCache,
    w_ih,
    w_hh,
    dhs,
    dh_last,
    dc_last=None,
    *,
    bptt=None,
    need_dx=True,
    ws=None,
    record=None,
):
    """Backward of :func:`layer_forward`, by the cell named in ``cache.cell``.

    Parameters
    ----------
    cache : from :func:`layer_forward`.
    w_ih, w_hh : the layer's weights.
    dhs : (T, B, H) gradient of every output, or None.
    dh_last, dc_last : (B, H) gradient of the final hidden (and cell) state, or None.
    bptt : truncation length k, or None for full BPTT.
    need_dx : also return the input gradient (T, B, D).
    ws : Workspace for temporaries, or None.
    record : None, or a dict to receive the total gradient reaching every output, ``"h"``
        (T, B, H), and for a cell with a cell state every cell state, ``"c"`` (T, B, H); and
        the gradient of the layer's input projection at every step, ``"input"`` (G, T, B, H):
        what each step's input contributes, a text model's characters included.

    Returns
    -------
    grads : (dw_ih, dw_hh, db_ih, db_hh) shaped like the parameters
    dx : (T, B, D) or None
    dh0 : (B, H); dc0 : (B, H) for a cell with a cell state, else None
    """
    spec = cell_spec(cache.cell)
    if record is None:
        return spec.layer_backward(
            cache, w_ih, w_hh, dhs, dh_last, dc_last, bptt=bptt, need_dx=need_dx, ws=ws
        )
    T, B, H = cache.hs.shape[0] - 1, cache.hs.shape[1], cache.hs.shape[2]
    for name in ("h", "c") if spec.has_cell_state else ("h",):
        record[name] = np.empty((T, B, H), dtype=cache.hs.dtype)
    return spec.layer_backward(
        cache, w_ih, w_hh, dhs, dh_last, dc_last, bptt=bptt, need_dx=need_dx, ws=ws, record=record
    )
