"""One window in slow motion: the forward pass step by step, then the backward pass step by step.

For one window (series) or chunk (text) of a split, read from a zero state, :func:`trace`
returns per timestep t what the textbook figure of an unrolled recurrent network draws: the
input x_t, every layer's hidden state h_t (and cell state c_t for an LSTM), the gate
activations (PyTorch's names: LSTM i, f, g, o; GRU r, z, n), the output at t, and from the
backward pass of the window's loss the total gradient reaching every h_t (and c_t), with its
norm. Nothing is recomputed here: the states and gates are the cache of
:meth:`~rnn_core.network.Network.forward` (read through :meth:`~rnn_core.network.Network.internals`)
and the gradients are what :meth:`~rnn_core.network.Network.backward` records in the cells' own
time loops (``record=``), the same numbers training uses and :mod:`rnn_core.through_time` shows.

The window's loss is the task's training loss: a series' squared error of its one prediction at
the last step; a text's cross-entropy, mean over the chunk's T positions (every step is scored,
so gradient enters at every step). ``last_only=True`` scores only the last step of a text, so
what reaches earlier states is carried back through time alone.

:func:`window_trace` picks the window out of a task's dataset and converts what it can to the
data's units. What it returns is bounded for the page: at most :data:`MAX_STEPS` steps (the
last ones) and :data:`MAX_UNITS` units per state (the first ones); the norms are over every unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core import losses, through_time
from rnn_core.errors import PlaygroundError
from rnn_core.tasks.base import check_index, check_split

MAX_STEPS = 400
"""Most timesteps returned by :func:`window_trace` (the last ones of a longer window)."""

MAX_UNITS = 64
"""Most units per state returned by :func:`window_trace` (the first ones of a bigger layer)."""

TOP_CHARS = 5
"""Next characters listed per step for a text model, most likely first."""


def window_loss(
    out: np.ndarray, y: np.ndarray, head: str, last_only: bool = False
) -> tuple[float, np.ndarray]:
    """The loss of one window and its gradient with respect to the output: the squared error of
    a regression's prediction ``out`` (1, O) against ``y`` (1, O); a text's cross-entropy of the
    logits ``out`` (T, 1, V) against the ids ``y`` (T, 1), mean over the T steps, or of the last
    step alone (``last_only``, the others get zero gradient)."""
    if head == "regression" or not last_only:
        return losses.mse(out, y) if head == "regression" else losses.softmax_cross_entropy(out, y)
    loss = losses.softmax_cross_entropy(out[-1:], y[-1:])[0]
    return loss, through_time.final_step_grad(out, y, head)


def trace(network: Any, x: np.ndarray, y: np.ndarray, *, last_only: bool = False) -> dict[str, Any]:
    """The forward and backward pass of one window ``x``, step by step, from a zero state.

    Parameters
    ----------
    network : Network
    x : (T, 1, D) floats (regression) or (T, 1) integer ids (text): one window.
    y : (1, O) normalised target (regression) or (T, 1) ids of the next characters (text).
    last_only : a text's loss on its last step only (see :func:`window_loss`).

    Returns
    -------
    dict with, in the network's dtype (every unit, every step):

    - ``output``: the network's output, (O,) at the last step (regression) or logits (T, V);
    - ``loss``: the window's loss (float);
    - ``layers``: one dict per layer, bottom first: ``"h"`` (T, H) the hidden states h_1..h_T,
      ``"c"`` (T, H) the cell states (a cell with one), ``"gates"`` {name: (T, H)} the gate
      activations (none for a plain RNN), ``"dh"`` (T, H) the total gradient of the loss
      reaching each h_t, ``"dc"`` likewise for c_t, and their norms over the units
      ``"dh_norm"``, ``"dc_norm"`` (T,);
    - ``inject``: (T,) the norm of the gradient the loss puts into the top layer's h_t directly,
      through the head, before anything flows back through time (a regression: the last step);
    - ``readout`` (regression): (T,) the head's first output read from the top layer's h_t at
      every step, normalised; the last one is the prediction.
    """
    c = network.config
    if np.asarray(x).shape[1:2] != (1,):
        raise PlaygroundError(f"slow motion takes one window, shaped (T, 1, ...); got {np.shape(x)}")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        out, _, cache = network.forward(x, None, cache=True)
        out = np.array(out, copy=True)  # the network's workspace may hand its array out again
        inside = network.internals(cache, 0)
        loss, dout = window_loss(out, y, c.head, last_only)
        recorded: list[dict[str, np.ndarray]] = []
        network.backward(dout, cache, record=recorded, input_grad=False)
        w = network.params["head.weight"]
        if c.head == "regression":
            inject = np.zeros(len(inside["h0"]), dtype=out.dtype)
            inject[-1] = np.linalg.norm(dout[0] @ w)
            readout = inside[f"h{c.num_layers - 1}"] @ w[0] + network.params["head.bias"][0]  # (T,)
        else:
            inject = np.linalg.norm(dout[:, 0] @ w, axis=1)  # (T,)
    gate_names = network.spec.gate_names
    layers = []
    for k, rec in enumerate(recorded):
        layer: dict[str, Any] = {
            "h": inside[f"h{k}"],
            "gates": {g: inside[f"{g}{k}"] for g in _pytorch_order(gate_names)},
            "dh": rec["h"][:, 0].copy(),
        }
        layer["dh_norm"] = np.linalg.norm(layer["dh"], axis=1)
        if "c" in rec:
            layer["c"] = inside[f"c{k}"]
            layer["dc"] = rec["c"][:, 0].copy()
            layer["dc_norm"] = np.linalg.norm(layer["dc"], axis=1)
        layers.append(layer)
    found = {"loss": float(loss), "layers": layers, "inject": inject}
    if c.head == "regression":
        return {"output": out[0], "readout": readout, **found}
    return {"output": out[:, 0], **found}


def _pytorch_order(names: str) -> list[str]:
    """A cell's gate letters in PyTorch's order (LSTM i, f, g, o; GRU r, z, n); others as given."""
    for order in ("ifgo", "rzn"):
        if sorted(names) == sorted(order):
            return list(order)
    return list(names)


def window_count(dataset: Any, split: str) -> int:
    """Windows (series) or whole chunks with a next character after every position (text) in
    ``split``: the indices :func:`window_trace` accepts are 0 .. this - 1."""
    check_split(split)
    if getattr(dataset, "kind", "") == "text":
        ids = dataset.val_ids if split == "val" else dataset.train_ids
        return max(1, (len(ids) - 1) // int(dataset.seq_len))
    return int(dataset.val_windows if split == "val" else dataset.train_windows)


def window_trace(
    task: Any, network: Any, split: str = "val", index: int = 0, *, last_only: bool = False
) -> dict:
    """:func:`trace` of window ``index`` of ``split``, bounded and in the data's terms.

    Returns a plain dict of float32 arrays and lists, each per step cut to the last
    :data:`MAX_STEPS` steps and each state to the first :data:`MAX_UNITS` units:

    - ``kind`` ("series"/"text"), ``cell``, ``num_layers``, ``hidden`` (H), ``units`` (drawn),
      ``steps`` (the window's length), ``t0`` (the window's step of the first returned one),
      ``split``, ``index``, ``loss``, ``last_only``;
    - ``layers`` and ``inject`` as in :func:`trace` (norms over every unit);
    - a series: ``x`` (T, C) the inputs in the model's units (the data's without a target
      transform), ``columns``, ``prediction`` and ``target`` (floats, the data's units, the last
      step's), ``readout`` (T,) what the head reads from every h_t in the data's units, and
      ``next`` (T,) the value each readout would predict (the next row's target; the last step's
      is the target) for a series whose next row it is; both None where they do not apply (a
      target transform, a memory task); ``answer``, a memory task's steps (indices into the
      returned ones) whose inputs the target is made of (echo: one; adding: the two marked);
    - a text: ``chars`` (T,) the characters read, ``targets`` (T,) the next ones, ``top_chars``
      (T, k) and ``top_probs`` (T, k) the most likely next characters, ``target_prob`` (T,) the
      probability given to the right one and ``step_loss`` (T,) its cross-entropy in nats.
    """
    ds = task.dataset
    n = window_count(ds, split)
    check_index(index, n)
    index = int(index)
    t = int(ds.seq_len)
    text = getattr(ds, "kind", "") == "text"
    if text:
        ids = np.asarray(ds.val_ids if split == "val" else ds.train_ids, dtype=np.int64)
        x = ids[index * t : index * t + t][: max(len(ids) - 1 - index * t, 0)]
        if len(x) < 1:
            raise PlaygroundError(f"the {split} text is too short for a chunk with a next character")
        y = ids[index * t + 1 : index * t + 1 + len(x)]
        found = trace(network, x.reshape(-1, 1), y.reshape(-1, 1), last_only=last_only)
    else:
        X = ds.val_X if split == "val" else ds.train_X
        y_all = ds.val_y if split == "val" else ds.train_y
        x = np.asarray(X[:, index : index + 1], dtype=network.config.dtype)  # (T, 1, C)
        y = np.asarray(y_all, dtype=x.dtype).reshape(-1, 1)[index : index + 1]  # (1, 1)
        found = trace(network, x, y)
    steps = len(found["inject"])
    keep = slice(max(steps - MAX_STEPS, 0), steps)
    result: dict[str, Any] = {
        "kind": "text" if text else "series",
        "cell": network.config.cell,
        "num_layers": int(network.config.num_layers),
        "hidden": int(network.config.hidden_size),
        "units": min(int(network.config.hidden_size), MAX_UNITS),
        "steps": steps,
        "t0": keep.start,
        "split": split,
        "index": index,
        "loss": found["loss"],
        "last_only": bool(last_only and text),
        "layers": [_bounded(layer, keep) for layer in found["layers"]],
        "inject": _f32(found["inject"][keep]),
    }
    if text:
        result.update(_text_outputs(ds, found["output"], x, y, keep))
    else:
        result.update(_series_outputs(ds, found, x[:, 0], split, index, keep))
    return result


def _f32(a: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(a, dtype=np.float32)


def _bounded(layer: dict[str, Any], keep: slice) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in layer.items():
        if name == "gates":
            out[name] = {g: _f32(v[keep, :MAX_UNITS]) for g, v in value.items()}
        elif name.endswith("_norm"):
            out[name] = _f32(value[keep])
        else:
            out[name] = _f32(value[keep, :MAX_UNITS])
    return out


def _text_outputs(ds: Any, logits: np.ndarray, x: np.ndarray, y: np.ndarray, keep: slice) -> dict[str, Any]:
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged model's logits
        p = losses.softmax(np.asarray(logits, dtype=np.float64))  # (T, V)
    top = np.argsort(-p, axis=1, kind="stable")[:, :TOP_CHARS]  # (T, k)
    rows = np.arange(len(p))
    target_prob = p[rows, y]
    vocab = ds.vocab
    with np.errstate(divide="ignore", invalid="ignore"):
        step_loss = -np.log(target_prob)
    return {
        "chars": [vocab[i] for i in x[keep]],
        "targets": [vocab[i] for i in y[keep]],
        "top_chars": [[vocab[i] for i in row] for row in top[keep]],
        "top_probs": _f32(np.take_along_axis(p, top, axis=1)[keep]),
        "target_prob": _f32(target_prob[keep]),
        "step_loss": _f32(step_loss[keep]),
    }


def _series_outputs(
    ds: Any, found: dict, x: np.ndarray, split: str, index: int, keep: slice
) -> dict[str, Any]:
    raw_x = np.asarray(x, dtype=np.float64) * ds.input_scale + ds.input_shift  # (T, C) model units
    row = int(np.asarray(ds.val_idx if split == "val" else ds.train_idx)[index])
    y_raw = np.asarray(ds.raw, dtype=np.float64)[:, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        pred = ds.to_original(ds.to_raw(found["output"][:1])[None, :], [row - 1], y_raw)[0, 0]
    readout = nxt = None
    if ds.transform is None:  # with a transform a readout is a change, not a value of the series
        readout = ds.to_raw(found["readout"])
        if ds.forecastable:  # the row after each step's is the next input row, then the target
            nxt = np.append(raw_x[1:, 0], y_raw[row])
    answer: list[int] = []  # a memory task's steps that hold what the target is made of
    if getattr(ds, "task", None) == "echo" and ds.lag:
        answer = [len(raw_x) - 1 - int(ds.lag)]
    elif getattr(ds, "task", None) == "adding":
        answer = [int(i) for i in np.nonzero(raw_x[:, 1] > 0.5)[0]]
    return {
        "answer": [i - keep.start for i in answer if i >= keep.start],
        "x": _f32(raw_x[keep]),
        "columns": list(ds.columns),
        "prediction": float(pred),
        "target": float(y_raw[row]),
        "readout": None if readout is None else _f32(readout[keep]),
        "next": None if nxt is None else _f32(nxt[keep]),
    }
