"""A stack of 1-3 recurrent layers with a linear head, forward and backward by hand.

The stack is ``torch.nn.RNN/LSTM/GRU(input_size, hidden_size, num_layers)`` followed by
``torch.nn.Linear(hidden_size, output_size)``; parameters carry PyTorch's names (prefixed
``rnn.`` and ``head.``) so a state dict moves between the two one to one. The per-layer maths
lives in :mod:`rnn_core.cells`; the network asks the registered cell's spec what it needs
(its state, its gates) and works unchanged for any registered cell.

Heads:

* ``regression`` (many-to-one): ``out = h_top[T-1] @ W^T + b``, shape (B, O).
* ``text`` (many-to-many): logits at every step, ``h_top @ W^T + b``, shape (T, B, O); the
  input is integer ids (T, B) looked up as columns of ``weight_ih_l0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.cells import CellSpec, LayerCache, Workspace, cell_spec, layer_backward, layer_forward
from rnn_core.config import ModelConfig
from rnn_core.errors import PlaygroundError
from rnn_core.init import init_params

State = np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass(eq=False)
class Cache:
    """What :meth:`Network.backward` needs from a forward pass: one cache per layer."""

    layers: list[LayerCache]


class Network:
    """Stacked recurrent layers of one registered cell (RNN, LSTM, GRU, ...) + linear head.

    ``params`` is a dict[str, ndarray] with keys exactly ``rnn.weight_ih_l{k}`` (G*H, D_k),
    ``rnn.weight_hh_l{k}`` (G*H, H), ``rnn.bias_ih_l{k}`` (G*H,), ``rnn.bias_hh_l{k}`` (G*H,),
    ``head.weight`` (O, H), ``head.bias`` (O,), with PyTorch's gate orders (LSTM i,f,g,o;
    GRU r,z,n; G = ``spec.gates``, 1/4/3). All arrays are in ``config.dtype``.

    Parameters
    ----------
    config : ModelConfig
    rng : np.random.Generator used for the initial weights only.
    """

    def __init__(self, config: ModelConfig, rng: np.random.Generator):
        self.config = config
        self.params: dict[str, np.ndarray] = init_params(config, rng)
        self._ws = Workspace()  # big per-sequence arrays, reused once nothing holds them

    @property
    def spec(self) -> CellSpec:
        """The registered cell of ``config.cell``: its kernels and what its state looks like."""
        return cell_spec(self.config.cell)

    # ------------------------------------------------------------------ state

    def zero_state(self, batch: int) -> State:
        """Zero initial state: (L, B, H), or a tuple (h, c) of (L, B, H) for a cell with a cell
        state (LSTM)."""
        c = self.config
        h = np.zeros((c.num_layers, batch, c.hidden_size), dtype=c.dtype)
        return (h, h.copy()) if self.spec.has_cell_state else h

    def _split_state(self, state0: State | None, batch: int):
        c, paired = self.config, self.spec.has_cell_state
        if state0 is None:
            state0 = self.zero_state(batch)
        want = (c.num_layers, batch, c.hidden_size)
        parts = state0 if paired else (state0,)
        if paired and not (isinstance(state0, (tuple, list)) and len(state0) == 2):
            raise PlaygroundError(
                f"the state of a {c.cell} network must be a tuple (h, c); pass None for zeros"
            )
        parts = tuple(np.asarray(p, dtype=c.dtype) for p in parts)
        for p in parts:
            if p.shape != want:
                raise PlaygroundError(f"state has shape {p.shape}, expected {want}; pass None for zeros")
        return parts[0], (parts[1] if paired else None)

    def _check_input(self, x) -> np.ndarray:
        c = self.config
        x = np.asarray(x)
        if c.head == "text":
            if x.ndim != 2 or x.dtype.kind not in "iu":
                raise PlaygroundError(
                    f"a text model takes integer ids of shape (T, B); got {x.dtype} {x.shape}"
                )
            if x.size and (x.min() < 0 or x.max() >= c.input_size):
                raise PlaygroundError(f"character ids must be from 0 to {c.input_size - 1}")
            return x.astype(np.intp, copy=False)
        if x.ndim != 3 or x.shape[2] != c.input_size:
            raise PlaygroundError(f"inputs must have shape (T, B, {c.input_size}); got {x.shape}")
        return np.ascontiguousarray(x, dtype=c.dtype)

    # ------------------------------------------------------------------ forward / backward

    def forward(self, x, state0: State | None = None, *, cache: bool = True):
        """Run the stack and the head over a sequence.

        Parameters
        ----------
        x : (T, B, D) floats (regression) or (T, B) integer ids (text).
        state0 : initial state, see :meth:`zero_state`; None means zeros.
        cache : keep what :meth:`backward` and :meth:`internals` need.

        Returns
        -------
        output : (B, O) from the top layer's last step (regression) or logits (T, B, O) (text)
        state : final state, shaped like ``state0``
        cache : Cache, or None when ``cache=False``
        """
        c, p = self.config, self.params
        x = self._check_input(x)
        T, B = x.shape[0], x.shape[1]
        if T < 1 or B < 1:
            raise PlaygroundError("a sequence needs at least one step and one sample")
        h0, c0 = self._split_state(state0, B)
        layers = []
        inp = x
        for k in range(c.num_layers):
            lc = layer_forward(
                c.cell,
                c.nonlinearity,
                p[f"rnn.weight_ih_l{k}"],
                p[f"rnn.weight_hh_l{k}"],
                p[f"rnn.bias_ih_l{k}"],
                p[f"rnn.bias_hh_l{k}"],
                inp,
                h0[k],
                None if c0 is None else c0[k],
                ws=self._ws,
            )
            layers.append(lc)
            inp = lc.hs[1:]  # (T, B, H)
        w, b = p["head.weight"], p["head.bias"]
        top = layers[-1].hs
        H = c.hidden_size
        if c.head == "regression":
            out = np.dot(top[T], w.T)  # (B, O)
            out += b
        else:
            out = self._ws.empty((T, B, c.output_size), c.dtype)  # (T, B, O)
            np.matmul(top[1:].reshape(T * B, H), w.T, out=out.reshape(T * B, -1))
            out += b
        h_fin = np.stack([lc.hs[T] for lc in layers])  # (L, B, H)
        state = (h_fin, np.stack([lc.cs[T] for lc in layers])) if self.spec.has_cell_state else h_fin
        return out, state, (Cache(layers) if cache else None)

    def backward(
        self,
        dout,
        cache: Cache,
        *,
        bptt: int | None = None,
        record: list | None = None,
        input_grad: bool = True,
    ):
        """Gradients of a scalar loss given its gradient ``dout`` with respect to the output.

        Parameters
        ----------
        dout : same shape as the forward's output.
        cache : from :meth:`forward` with ``cache=True``.
        bptt : truncate backpropagation through time to k steps (None: full). The recurrence is
            cut before step t whenever ``(T - t) % k == 0`` and ``0 < t < T``.
        record : None, or a list that receives one dict per layer (bottom first) with the total
            gradient reaching each of the layer's hidden states, ``"h"`` (T, B, H), and cell
            states, ``"c"`` (a cell with one): the gradient flowing back through time; and the
            gradient of its input projection, ``"input"`` (G, T, B, H).
        input_grad : False skips the input gradient (a training step does not need it).

        Returns
        -------
        grads : dict keyed like ``params``
        dx : (T, B, D) input gradient, or None for integer ids or ``input_grad=False``
        dstate0 : gradient of the initial state, shaped like it
        """
        if cache is None:
            raise PlaygroundError("backward needs the cache of forward(..., cache=True)")
        if bptt is not None and (
            isinstance(bptt, bool) or not isinstance(bptt, (int, np.integer)) or bptt < 1
        ):
            raise PlaygroundError(f"bptt must be a whole number of at least 1 or None; got {bptt!r}")
        c, p = self.config, self.params
        layers = cache.layers
        top = layers[-1].hs
        T, B, H = top.shape[0] - 1, top.shape[1], top.shape[2]
        dout = np.asarray(dout, dtype=c.dtype)
        w = p["head.weight"]
        grads: dict[str, np.ndarray] = {}
        if c.head == "regression":
            if dout.shape != (B, c.output_size):
                raise PlaygroundError(f"dout must have shape {(B, c.output_size)}; got {dout.shape}")
            grads["head.weight"] = np.dot(dout.T, top[T])  # (O, H)
            grads["head.bias"] = dout.sum(axis=0)
            dhs, dh_last = None, np.dot(dout, w)  # (B, H)
        else:
            if dout.shape != (T, B, c.output_size):
                raise PlaygroundError(f"dout must have shape {(T, B, c.output_size)}; got {dout.shape}")
            d2 = dout.reshape(T * B, -1)
            grads["head.weight"] = np.dot(d2.T, top[1:].reshape(T * B, H))
            grads["head.bias"] = d2.sum(axis=0)
            dhs = self._ws.empty((T, B, H), c.dtype)
            np.matmul(d2, w, out=dhs.reshape(T * B, H))
            dh_last = None
        dh0s, dc0s = [None] * len(layers), [None] * len(layers)
        recorded: list[dict | None] = [None] * len(layers)
        dx = None
        for k in range(len(layers) - 1, -1, -1):
            lc = layers[k]
            need_dx = k > 0 or (input_grad and lc.x.ndim == 3)
            if record is not None:
                recorded[k] = {}
            (dw_ih, dw_hh, db_ih, db_hh), dx, dh0s[k], dc0s[k] = layer_backward(
                lc,
                p[f"rnn.weight_ih_l{k}"],
                p[f"rnn.weight_hh_l{k}"],
                dhs,
                dh_last,
                bptt=bptt,
                need_dx=need_dx,
                ws=self._ws,
                record=recorded[k],
            )
            grads[f"rnn.weight_ih_l{k}"] = dw_ih
            grads[f"rnn.weight_hh_l{k}"] = dw_hh
            grads[f"rnn.bias_ih_l{k}"] = db_ih
            grads[f"rnn.bias_hh_l{k}"] = db_hh
            dhs, dh_last = dx, None
        if record is not None:
            record.extend(recorded)
        grads = {name: grads[name] for name in p}  # same order as params
        dh0 = np.stack(dh0s)
        dstate0 = (dh0, np.stack(dc0s)) if self.spec.has_cell_state else dh0
        return grads, dx, dstate0

    # ------------------------------------------------------------------ inspection

    def internals(self, cache: Cache, b: int = 0) -> dict[str, np.ndarray]:
        """Per-time arrays (T, H) of sample ``b`` for the dashboard.

        Keys: each of the cell's ``spec.internal_names`` with the layer index k appended:
        ``h{k}`` per layer; LSTM also ``c{k}``, ``i{k}``, ``f{k}``, ``o{k}``, ``g{k}``; GRU also
        ``r{k}``, ``z{k}``, ``n{k}``. Gates are activations (after sigmoid/tanh).
        """
        if cache is None:
            raise PlaygroundError("internals need the cache of forward(..., cache=True)")
        out: dict[str, np.ndarray] = {}
        for k, lc in enumerate(cache.layers):
            for name, arr in cell_spec(lc.cell).internals(lc, b).items():
                out[f"{name}{k}"] = arr
        return out

    def recurrent_radius(self) -> float | None:
        """The largest spectral radius of the layers' recurrent matrices ``W_hh``: above 1 the
        linearised state can grow from step to step, well below it the gradient through time
        shrinks. A plain RNN's only; a gated cell's state does not pass through one square matrix."""
        if self.spec.gates != 1:
            return None
        return max(
            float(np.max(np.abs(np.linalg.eigvals(self.params[f"rnn.weight_hh_l{k}"]))))
            for k in range(self.config.num_layers)
        )

    def n_params(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(v.size for v in self.params.values()))
