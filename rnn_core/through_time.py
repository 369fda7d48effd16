"""What happens through time inside a recurrent network, measured on a small fixed probe.

The views that make recurrent networks hard to train visible:

- **gradient flow**: the norm of the gradient of the *final step's* loss with respect to each
  hidden state h_t (and cell state c_t), per layer, by lag (steps back from the end). It is the
  total gradient the backward pass carries back through time, recorded in the cells' own time
  loops (``Network.backward(record=...)``), so it is exactly what training uses;
- **input saliency** and **memory span**: the mean ``|d y_hat / d x_t|`` by lag per input
  column, and the largest lag whose saliency is at least :data:`SPAN_FRACTION` of the peak;
- **recurrent spectrum**: the eigenvalues, spectral radius and largest singular value of every
  recurrent block ``W_hh`` (one per gate for LSTM and GRU);
- **state trajectory**: the probe's hidden states on their top two principal components.

The probe is a few validation windows picked evenly (:func:`probe_windows`), the same at every
step of a run, so changes over training are the model's, not the sample's. Everything here is
small: a forward and a backward pass over the probe, a few eigen- and singular-value problems
of (H, H) matrices.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core import losses
from rnn_core.cells import cell_spec, layer_backward, layer_forward

PROBE_WINDOWS = 8
"""Validation windows in the probe."""

SPAN_FRACTION = 0.01
"""The memory span reaches back to the last lag whose saliency is at least this share of the peak."""

VANISHED_RATIO, EXPLODED_RATIO = 1e-3, 1e3
"""A lag-k / lag-0 gradient ratio below the first means the gradient vanished before reaching
lag k; above the second, that it explodes on its way back."""

FLOW_LAGS = (1, 5, 10, 20, 40)
"""Lags whose gradient ratios the command line reports (those the window reaches)."""


def probe_windows(n_windows: int, n: int = PROBE_WINDOWS) -> np.ndarray:
    """Indices of ``n`` windows spread evenly over ``n_windows`` (all of them if fewer)."""
    if n_windows <= n:
        return np.arange(n_windows)
    return np.unique(np.linspace(0, n_windows - 1, n).round().astype(int))


def final_step_grad(out: np.ndarray, y: np.ndarray, head: str) -> np.ndarray:
    """The gradient, with respect to the network's output, of the loss at the final step only:
    the mean squared error of a regression's one output, or the cross-entropy of a text model's
    last prediction (its other steps get zero)."""
    if head == "regression":
        return losses.mse(out, y)[1]
    dout = np.zeros_like(out)
    dout[-1:] = losses.softmax_cross_entropy(out[-1:], y[-1:])[1]
    return dout


def state_gradients(network: Any, x: np.ndarray, y: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Per layer (bottom first), the total gradient of the final step's loss with respect to
    each hidden state, ``"h"`` (T, B, H), and each cell state, ``"c"``, for a cell with one."""
    with np.errstate(over="ignore", invalid="ignore"):
        out, _, cache = network.forward(x, None, cache=True)
        recorded: list[dict[str, np.ndarray]] = []
        network.backward(final_step_grad(out, y, network.config.head), cache, record=recorded)
    return [{k: v.copy() for k, v in layer.items() if k != "input"} for layer in recorded]


def by_lag(per_step: np.ndarray) -> np.ndarray:
    """``(T, ...)`` in time order -> the same by lag: lag 0 is the last step."""
    return np.asarray(per_step)[::-1]


def gradient_flow(network: Any, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Norms by lag of the gradients of :func:`state_gradients`: ``"h"`` and (a cell with a cell
    state) ``"c"`` as (L, T) arrays, row k for layer k, column j for lag j; each norm is over
    the probe's windows and units together."""
    return _norms_by_lag(state_gradients(network, x, y))


def _norms_by_lag(layers: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Recorded state gradients (per layer, ``"h"`` and maybe ``"c"`` (T, B, H)) -> their norms
    over windows and units by lag, (L, T) each."""
    return {
        which: np.stack([by_lag(np.sqrt((g[which] ** 2).sum(axis=(1, 2)))) for g in layers])
        for which in ("h", "c")
        if which in layers[0]
    }


def flow_ratios(norms_by_lag: np.ndarray, lags=FLOW_LAGS) -> dict[int, float]:
    """``{k: norm at lag k / norm at lag 0}`` for the lags the window reaches (one layer's row)."""
    norms = np.asarray(norms_by_lag, dtype=float)
    base = norms[0] if len(norms) else 0.0
    return {int(k): float(norms[k] / base) if base > 0 else float("nan") for k in lags if k < len(norms)}


def flow_verdict(norms_by_lag: np.ndarray) -> str | None:
    """``"vanishing"`` when the gradient at some lag is below :data:`VANISHED_RATIO` of lag 0's,
    ``"exploding"`` when above :data:`EXPLODED_RATIO` of it, else None."""
    norms = np.asarray(norms_by_lag, dtype=float)
    if len(norms) < 2 or not np.isfinite(norms).all() or norms[0] <= 0:
        return "exploding" if len(norms) and not np.isfinite(norms).all() else None
    ratio = norms[1:] / norms[0]
    if ratio.max() > EXPLODED_RATIO:
        return "exploding"
    if ratio.min() < VANISHED_RATIO:
        return "vanishing"
    return None


def saliency(network: Any, x: np.ndarray) -> np.ndarray:
    """Mean ``|d y_hat / d x_t|`` over the probe's windows (summed over the outputs), by lag:
    (T, C), row j for lag j. A regression's float inputs only (a text model's ids have none)."""
    with np.errstate(over="ignore", invalid="ignore"):
        out, _, cache = network.forward(x, None, cache=True)
        _, dx, _ = network.backward(np.ones_like(out), cache)
    return by_lag(np.abs(dx).mean(axis=1))


def memory_span(saliency_by_lag: np.ndarray, fraction: float = SPAN_FRACTION) -> int:
    """The largest lag whose saliency (the largest over the input columns) is at least
    ``fraction`` of the peak: how far back the inputs still move the prediction."""
    s = np.asarray(saliency_by_lag, dtype=float)
    s = s.max(axis=1) if s.ndim == 2 else s
    if not len(s) or not np.isfinite(s).all() or s.max() <= 0:
        return 0
    return int(np.nonzero(s >= fraction * s.max())[0].max())


def recurrent_blocks(params: dict[str, np.ndarray], cell: str, layer: int) -> dict[str, np.ndarray]:
    """The (H, H) recurrent blocks of ``rnn.weight_hh_l{layer}`` by gate name (PyTorch's order:
    LSTM i, f, g, o; GRU r, z, n), or ``{"h": W_hh}`` for a cell without gates."""
    spec = cell_spec(cell)
    w = np.asarray(params[f"rnn.weight_hh_l{layer}"])
    h = w.shape[1]
    if spec.gates == 1:
        return {"h": w}
    # internal block j holds PyTorch's block perm[j]; its letter is gate_names[j]
    names = {spec.perm[j]: spec.gate_names[j] for j in range(spec.gates)}
    return {names[b]: w[b * h : (b + 1) * h] for b in range(spec.gates)}


def spectrum(params: dict[str, np.ndarray], cell: str, num_layers: int) -> list[dict[str, dict[str, Any]]]:
    """Per layer, per recurrent block: its ``eigenvalues`` (complex, (H,)), ``radius`` (the
    largest modulus) and ``norm`` (the largest singular value)."""
    out = []
    for k in range(num_layers):
        layer = {}
        for name, block in recurrent_blocks(params, cell, k).items():
            if not np.isfinite(block).all():  # a diverged run: no spectrum to speak of
                layer[name] = {"eigenvalues": np.zeros(0, complex), "radius": np.nan, "norm": np.nan}
                continue
            eig = np.linalg.eigvals(block.astype(np.float64))
            layer[name] = {
                "eigenvalues": eig,
                "radius": float(np.abs(eig).max()),
                "norm": float(np.linalg.norm(block.astype(np.float64), 2)),
            }
        out.append(layer)
    return out


def principal_path(states: np.ndarray, path: np.ndarray, k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Project ``path`` (T, H) on the top ``k`` principal components of ``states`` (N, H): the
    components come from the SVD of the centred states. Returns the projection (T, k) and the
    share of the variance each component explains (k,)."""
    states = np.asarray(states, dtype=np.float64)
    mean = states.mean(axis=0)
    _, sv, vt = np.linalg.svd(states - mean, full_matrices=False)
    k = min(k, vt.shape[0])
    total = float((sv**2).sum())
    share = (sv[:k] ** 2) / total if total > 0 else np.zeros(k)
    return (np.asarray(path, dtype=np.float64) - mean) @ vt[:k].T, share


JACOBIAN_WINDOWS, JACOBIAN_STEPS, JACOBIAN_FULL_SIZE = 2, 12, 64
"""Windows of the probe and steps of each whose step Jacobians are taken, for states up to the
last number in size (a Jacobian costs a batched single-step pass and a singular-value
decomposition of an (S, S) matrix, S the state size; bigger states take fewer)."""


def step_jacobians(
    network: Any,
    x: np.ndarray,
    layer: int = 0,
    *,
    windows: int = JACOBIAN_WINDOWS,
    steps: int = JACOBIAN_STEPS,
) -> tuple[np.ndarray, np.ndarray]:
    """Jacobians of one step of layer ``layer``, ``d state_t / d state_{t-1}``, along the first
    ``windows`` windows of ``x`` at ``steps`` evenly spaced steps. The state is h, or (h, c) for
    a cell with a cell state. Each Jacobian comes from the cell's own backward pass over one
    step, run for every unit at once: row i is the gradient of the new state's unit i with
    respect to the old state. Returns the steps (n,) and the Jacobians (n, windows, S, S)."""
    c, p = network.config, network.params
    paired = network.spec.has_cell_state
    h_size = c.hidden_size
    size = 2 * h_size if paired else h_size
    if size > JACOBIAN_FULL_SIZE:  # a big state: fewer Jacobians, for about the same cost
        windows, steps = 1, max(3, int(steps * (JACOBIAN_FULL_SIZE / size) ** 2))
    with np.errstate(over="ignore", invalid="ignore"):
        _, _, cache = network.forward(x[:, :windows], None, cache=True)
    lc = cache.layers[layer]
    total = lc.hs.shape[0] - 1
    ts = (
        np.unique(np.linspace(1, total - 1, min(steps, total - 1)).round().astype(int))
        if total > 1
        else np.zeros(0, int)
    )
    w = [p[f"rnn.{n}_l{layer}"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    eye = np.eye(size, dtype=lc.hs.dtype)
    out = np.zeros((len(ts), lc.hs.shape[1], size, size))
    for i, t in enumerate(ts):
        for b in range(lc.hs.shape[1]):
            inp = np.repeat(lc.x[t : t + 1, b : b + 1], size, axis=1)  # (1, S, D) or (1, S) ids
            h0 = np.repeat(lc.hs[t][b : b + 1], size, axis=0)  # the state before step t
            c0 = np.repeat(lc.cs[t][b : b + 1], size, axis=0) if paired else None
            with np.errstate(over="ignore", invalid="ignore"):
                one = layer_forward(c.cell, c.nonlinearity, *w, inp, h0, c0)
                dc_last = eye[:, h_size:] if paired else None
                _, _, dh0, dc0 = layer_backward(
                    one, w[0], w[1], None, eye[:, :h_size], dc_last, need_dx=False
                )
            out[i, b] = np.concatenate([dh0, dc0], axis=1) if paired else dh0
    return ts, out


def mean_singular_value(jacobians: np.ndarray) -> float:
    """The mean singular value of a stack of Jacobians (nan when any is not finite)."""
    jacobians = np.asarray(jacobians, dtype=np.float64)
    if not jacobians.size or not np.isfinite(jacobians).all():
        return float("nan")
    return float(np.linalg.svd(jacobians, compute_uv=False).mean())


def probe(dataset: Any, dtype: Any, n: int = PROBE_WINDOWS) -> tuple[np.ndarray, np.ndarray]:
    """The probe: ``n`` validation windows spread evenly, with their targets. A series gives
    windows (T, n, C) and normalised targets (n, 1); a text gives ``n`` chunks of ``seq_len``
    ids (T, n) and the ids that follow each position (T, n)."""
    t = int(dataset.seq_len)
    if getattr(dataset, "kind", "") == "text":
        ids = np.asarray(dataset.val_ids, dtype=np.int64)
        chunks = max(1, (len(ids) - 1) // t)
        starts = probe_windows(chunks, n) * t
        pos = starts[None, :] + np.arange(t)[:, None]  # (T, n)
        return ids[pos], ids[pos + 1]
    idx = probe_windows(dataset.val_X.shape[1], n)
    x = np.asarray(dataset.val_X[:, idx], dtype=dtype)
    y = np.asarray(dataset.val_y, dtype=dtype).reshape(-1, 1)[idx]
    return x, y


def measure(
    network: Any, x: np.ndarray, y: np.ndarray, path: np.ndarray | None = None, layer: int = 0
) -> dict:
    """Every through-time view of ``network`` on the probe ``(x, y)``, in one place:

    - ``flow``: :func:`gradient_flow`'s norms by lag, ``"h"`` (and ``"c"``), (L, T);
    - ``saliency`` (T, C) by lag and the memory ``span`` (a regression; None for text);
    - ``spectrum``: :func:`spectrum` of every layer;
    - ``jacobian``: the mean singular value of layer ``layer``'s step Jacobians along the probe
      (:func:`step_jacobians`), the factor by which a step shrinks or stretches the gradient;
    - ``path`` and ``share``: the hidden states ``path`` (T, H) of one window of layer
      ``layer`` on the top two principal components of that layer's probe states (None
      without a ``path``).
    """
    c = network.config
    with np.errstate(over="ignore", invalid="ignore"):
        out, _, cache = network.forward(x, None, cache=True)
        states = cache.layers[layer].hs[1:].reshape(-1, c.hidden_size).copy()  # (T * n, H)
        recorded: list[dict[str, np.ndarray]] = []
        network.backward(final_step_grad(out, y, c.head), cache, record=recorded)
    result: dict[str, Any] = {
        "flow": _norms_by_lag(recorded),
        "saliency": None,
        "span": None,
        "path": None,
        "share": None,
    }
    if c.head == "regression":
        result["saliency"] = saliency(network, x)
        result["span"] = memory_span(result["saliency"])
    result["spectrum"] = spectrum(network.params, c.cell, c.num_layers)
    result["jacobian"] = mean_singular_value(step_jacobians(network, x, layer)[1])
    if path is not None and np.isfinite(states).all() and np.isfinite(path).all():
        result["path"], result["share"] = principal_path(states, path)
    return result


def summary(trainer: Any) -> dict[str, Any]:
    """What the through-time views show, measured on a trainer's current weights and its probe
    (the fields ``train --json`` reports): the ``memory_span`` (None for text), the largest
    ``spectral_radius`` of any recurrent block (every block's in ``spectrum``), the top layer's
    gradient ratios ``grad_flow`` (and ``grad_flow_c`` for a cell state) at the lags of
    :data:`FLOW_LAGS` the window reaches, and the mean singular value of the first layer's
    ``step_jacobian``."""
    found = trainer.through_time("val", 0, 0)
    blocks = {
        f"layer {k}": {name: b["radius"] for name, b in layer.items()}
        for k, layer in enumerate(found["spectrum"])
    }
    out: dict[str, Any] = {
        "memory_span": found["span"],
        "spectral_radius": max(r for layer in blocks.values() for r in layer.values()),
        "spectrum": blocks,
        "grad_flow": {str(k): v for k, v in flow_ratios(found["flow"]["h"][-1]).items()},
        "step_jacobian": found["jacobian"],
    }
    if "c" in found["flow"]:
        out["grad_flow_c"] = {str(k): v for k, v in flow_ratios(found["flow"]["c"][-1]).items()}
    return out


def character_influence(network: Any, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """How much each character of ``ids`` (T,) moves a text model's prediction of the next one:
    the norm of the gradient of the log-probability of the most likely next character with
    respect to each character's input (its column of the first layer's input weights, which
    the model adds at that step). Returns the influences (T,) and the predicted id."""
    x = np.asarray(ids, dtype=np.int64).reshape(-1, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        out, _, cache = network.forward(x, None, cache=True)
        predicted = int(np.argmax(out[-1, 0]))
        y = np.zeros_like(x)
        y[-1, 0] = predicted
        recorded: list[dict[str, np.ndarray]] = []
        network.backward(final_step_grad(out, y, "text"), cache, record=recorded)
    grad = recorded[0]["input"][:, :, 0, :]  # (G, T, H)
    return np.sqrt((grad**2).sum(axis=(0, 2))), predicted


NEURON_CHARS = 240
"""Characters of validation text the text-neurons view reads."""

BRACKETS = {"(": ")", "[": "]", "{": "}"}


def char_features(text: str) -> dict[str, np.ndarray]:
    """Simple per-character features of ``text`` a unit may track, each (len(text),): a space, a
    newline, inside double quotes, inside brackets (any depth), and the position in the word
    (letters so far, 0 outside words)."""
    n = len(text)
    out = {
        name: np.zeros(n)
        for name in ("space", "newline", "inside quotes", "inside brackets", "position in word")
    }
    quoted, depth, run = False, 0, 0
    closing = set(BRACKETS.values())
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch in BRACKETS:
            depth += 1
        elif ch in closing:
            depth = max(depth - 1, 0)
        run = run + 1 if ch.isalpha() else 0
        out["space"][i] = ch == " "
        out["newline"][i] = ch == "\n"
        out["inside quotes"][i] = quoted
        out["inside brackets"][i] = depth > 0
        out["position in word"][i] = run
    return out


def rank_units(
    states: np.ndarray, features: dict[str, np.ndarray], top: int = 8
) -> list[tuple[int, str, float]]:
    """The ``top`` (unit, feature, Pearson correlation) pairs of ``states`` (T, H) with the
    ``features`` (T,) each, strongest first by absolute correlation; constant features and
    units are left out."""
    states = np.asarray(states, dtype=np.float64)
    z = states - states.mean(axis=0)
    sd = np.sqrt((z**2).sum(axis=0))
    found = []
    for name, f in features.items():
        f = np.asarray(f, dtype=np.float64) - np.mean(f)
        norm = np.sqrt((f**2).sum())
        if norm == 0:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = (z * f[:, None]).sum(axis=0) / (sd * norm)
        for unit in np.nonzero(np.isfinite(corr) & (sd > 0))[0]:
            found.append((int(unit), name, float(corr[unit])))
    found.sort(key=lambda item: -abs(item[2]))
    return found[:top]
