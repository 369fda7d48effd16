"""Parameter initialisation for :class:`rnn_core.network.Network`.

* ``xavier`` (default): Glorot uniform, ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``,
  drawn per gate block, so each (H, D) block is scaled as a layer of its own.
* ``orthogonal``: input weights as ``xavier``; each (H, H) recurrent gate block an orthogonal
  matrix (QR of a Gaussian matrix with the sign fix of Saxe et al. 2014, so that the
  distribution is uniform over orthogonal matrices).
* ``uniform``: every weight ``U(0, 1)``, the "RNN from scratch" tutorials' choice, kept as a
  teachable bad example (all-positive weights saturate the units).

Biases are zero unless the cell's spec sets some (``CellSpec.init_biases``): the LSTM sets
the forget-gate block of ``bias_ih`` to ``config.forget_bias`` (Jozefowicz et al. 2015: a
positive forget bias helps memory early on). The number of gate blocks G is the spec's.
Only the generator passed in is used, so a seed fixes every number.
"""

from __future__ import annotations

import numpy as np

from rnn_core.cells import cell_spec
from rnn_core.config import ModelConfig


def _xavier(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (rows + cols))
    return rng.uniform(-limit, limit, size=(rows, cols))


def _orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def init_params(config: ModelConfig, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fresh parameters for ``config``, keyed by PyTorch's names.

    Returns
    -------
    dict with, for each layer k, ``rnn.weight_ih_l{k}`` (G*H, D_k), ``rnn.weight_hh_l{k}``
    (G*H, H), ``rnn.bias_ih_l{k}`` and ``rnn.bias_hh_l{k}`` (G*H,), then ``head.weight``
    (O, H) and ``head.bias`` (O,); all in ``config.dtype``.
    """
    spec = cell_spec(config.cell)
    H, G = config.hidden_size, spec.gates
    dtype = np.dtype(config.dtype)
    params: dict[str, np.ndarray] = {}
    for k in range(config.num_layers):
        d = config.input_size if k == 0 else H
        if config.init == "uniform":
            w_ih = rng.uniform(0.0, 1.0, size=(G * H, d))
            w_hh = rng.uniform(0.0, 1.0, size=(G * H, H))
        else:
            w_ih = np.concatenate([_xavier(rng, H, d) for _ in range(G)])
            if config.init == "orthogonal":
                w_hh = np.concatenate([_orthogonal(rng, H) for _ in range(G)])
            else:
                w_hh = np.concatenate([_xavier(rng, H, H) for _ in range(G)])
        b_ih = np.zeros(G * H)
        b_hh = np.zeros(G * H)
        spec.init_biases(b_ih, b_hh, config)
        params[f"rnn.weight_ih_l{k}"] = w_ih.astype(dtype)
        params[f"rnn.weight_hh_l{k}"] = w_hh.astype(dtype)
        params[f"rnn.bias_ih_l{k}"] = b_ih.astype(dtype)
        params[f"rnn.bias_hh_l{k}"] = b_hh.astype(dtype)
    if config.init == "uniform":
        head = rng.uniform(0.0, 1.0, size=(config.output_size, H))
    else:
        head = _xavier(rng, config.output_size, H)
    params["head.weight"] = head.astype(dtype)
    params["head.bias"] = np.zeros(config.output_size, dtype=dtype)
    return params
