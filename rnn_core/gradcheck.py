"""The in-app gradient check: the backward against central differences, and the tutorials' formula.

The scalar checked is ``L(theta) = sum(u * f(theta))``: ``f`` the network's output on a small
batch (regression (B, O), text logits (T, B, O)) and ``u`` a fixed upstream gradient of the
same shape. With ``u = dloss/dout`` at the current weights (what :func:`validation_batch` gives)
the chain rule makes ``dL/dtheta`` exactly the training loss's gradient there, so the numbers
checked are the ones the optimizer uses; any other ``u`` (the tests' random one) checks the
backward just as well. Everything runs on a float64 copy of the weights, with full BPTT.

For a sample of entries ``theta_j`` of every parameter, the numerical gradient is the five-point
central difference (error O(eps^4))::

    n_j = (8 (L(theta + eps e_j) - L(theta - eps e_j))
           - (L(theta + 2 eps e_j) - L(theta - 2 eps e_j))) / (12 eps)

and its relative error against the backward's ``a_j``::

    rel_j = |a_j - n_j| / max(|a_j|, |n_j|, floor),   floor = FLOOR * max |a| over all parameters

The differences' rounding noise is around 1e-12 of the largest gradient: the floor keeps an entry
whose gradient is that small from reading as a large relative error, and a pass still needs
``|a_j - n_j|`` below 1e-10 of the largest gradient there. A ReLU network's entries whose
perturbation moves a unit across the kink at 0 are skipped and counted: a difference across a
kink measures neither side's slope.

Entries are drawn in a random order per parameter, the parameters taking turns, until the time
budget is spent: a small model is checked whole, a large one (an LSTM-128 text model has 120,000
parameters) on an equal sample of every parameter, and the result says how many of how many.

The tutorials' gradient
-----------------------
The popular from-scratch RNN tutorials (sigmoid units, U(0, 1) weights, SGD at 1e-4,
``bptt_truncate = 5``: the ``tutorial`` preset) compute the recurrent weights' "gradient"
inside their backward loop as::

    for t in range(T):
        ...
        for i in range(t - 1, max(-1, t - bptt_truncate - 1), -1):
            ...
            dW_i = np.dot(W, layers[t]['prev_s'])  # (H, 1): W h_{t-1}
            ...
            dW_t += dW_i                             # broadcast into every column of (H, H)
        dW += dW_t                                   # dW_t is never reset between the t

so, with ``n_t = min(t, bptt_truncate)`` inner passes at step t (t from 0)::

    dW[:, k] = sum_t sum_{s <= t} n_s * W h_{s-1}      (every column k the same)

The product ``W h_{t-1}`` is the forward's ``mulw`` again, where the gradient needs the outer
product ``dpre_t h_{t-1}^T`` of the pre-activation's gradient with the previous state: the
formula never sees the loss, the target or the error, so the update it drives is the same
whatever the network predicts. :func:`tutorial_weight_hh_gradient` is that formula for
``weight_hh_l0``, summed over the windows of the batch (the tutorials take one at a time), before
their clipping to +-10. The tutorials write a plain RNN only; for an LSTM or GRU the same formula
is applied to the stacked gate blocks of ``weight_hh_l0`` ((G*H, H), ``W h_{t-1}`` of (G*H,)).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnn_core.errors import PlaygroundError
from rnn_core.network import Network

EPS = 1e-3
"""Step of the five-point stencil: its truncation error (~eps^4) and its rounding error
(~1e-16 / eps) are both far below the tolerance at this step."""
RELU_EPS = 1e-4
"""The step for a ReLU network: a smaller step crosses fewer kinks, and between kinks the network
is a polynomial in each weight, so the stencil stays accurate."""
FLOOR = 1e-4
"""Gradients below this fraction of the largest one are compared absolutely (see the module)."""
TOLERANCE = 1e-6
"""A correct backward stays below this max relative error; a wrong line lands far above."""
TUTORIAL_BPTT = 5
"""The tutorials' ``bptt_truncate``."""
TUTORIAL_PARAM = "rnn.weight_hh_l0"
SERIES_WINDOWS = 4
TEXT_CHUNKS = 2
SERIES_STEPS = 64
"""Most timesteps of a checked window: a longer one keeps its last steps."""
TEXT_STEPS = 32
"""Characters of a checked text chunk (at most the sequence length)."""


@dataclass(frozen=True)
class ParamCheck:
    """One parameter: its max relative error over ``checked`` of its ``total`` entries (a
    random sample), and the sampled entries skipped at a ReLU kink (not among ``checked``)."""

    name: str
    max_rel_error: float
    checked: int
    total: int
    below_floor: int = 0
    """Checked entries whose gradient is below the floor on both sides (compared absolutely)."""
    at_kink: int = 0


@dataclass(frozen=True)
class TutorialCheck:
    """The tutorials' ``dW`` of :data:`TUTORIAL_PARAM` against the same central differences:
    max relative error and cosine (1 = same direction) over the same ``checked`` entries."""

    name: str
    max_rel_error: float
    cosine: float
    checked: int
    note: str


@dataclass(frozen=True)
class GradCheck:
    """What :func:`check` found on ``batch`` sequences of ``steps`` steps; ``complete`` is False
    when the budget ran out before every entry (up to ``entries_per_param`` each) was checked."""

    params: tuple[ParamCheck, ...]
    tutorial: TutorialCheck
    seconds: float
    batch: int
    steps: int
    eps: float = EPS
    tolerance: float = TOLERANCE
    complete: bool = True

    @property
    def max_rel_error(self) -> float:
        """The largest relative error over every checked entry of every parameter."""
        return max((p.max_rel_error for p in self.params if p.checked), default=math.nan)

    @property
    def checked(self) -> int:
        return sum(p.checked for p in self.params)

    @property
    def total(self) -> int:
        return sum(p.total for p in self.params)

    @property
    def passed(self) -> bool:
        return self.checked > 0 and self.max_rel_error < self.tolerance


def tutorial_weight_hh_gradient(w_hh: np.ndarray, hs: np.ndarray, bptt_truncate: int = TUTORIAL_BPTT):
    """The tutorials' ``dW`` (see the module docstring), summed over the windows.

    Parameters
    ----------
    w_hh : (G*H, H) recurrent weights; hs : (T+1, B, H) states, ``hs[t]`` the state before step t.

    Returns
    -------
    (G*H, H): every column the same vector ``sum_t sum_{s<=t} n_s * sum_b W h_{s-1}``.
    """
    T = hs.shape[0] - 1
    dW = np.zeros_like(w_hh)
    dW_t = np.zeros_like(w_hh)
    for t in range(T):
        for _ in range(t - 1, max(-1, t - bptt_truncate - 1), -1):
            dW_i = hs[t] @ w_hh.T  # (B, G*H): W h_{t-1} of each window; the loss never enters
            dW_t += dW_i.sum(axis=0)[:, None]  # into every column, as their (H, 1) broadcasts
        dW += dW_t
    return dW


def float64_copy(network: Network) -> Network:
    """A float64 network with a copy of ``network``'s weights (the original stays as it is)."""
    config = dataclasses.replace(network.config, dtype="float64")
    copy = Network(config, np.random.default_rng(0))  # initial weights replaced just below
    copy.params = {k: np.array(v, dtype=np.float64) for k, v in network.params.items()}
    return copy


def validation_batch(task: Any, network: Network, windows: int | None = None, steps: int | None = None):
    """A small batch of the task's validation data (its training data if it has too little), and
    the gradient of the task's loss at the network's output on it, in float64.

    Series: ``windows`` (default 4) evenly spaced windows, their last ``steps`` (default 64)
    timesteps, x (T, B, C). Text: ``windows`` (default 2) evenly spaced chunks of ``steps``
    (default 32, at most the sequence length) characters of the validation text, x (T, B) ids,
    targets the next characters. Returns ``(x, upstream)``.
    """
    ds = task.dataset
    if task.kind == "text":
        ids = np.asarray(ds.val_ids, dtype=np.int64)
        if len(ids) < 3:
            ids = np.asarray(ds.train_ids, dtype=np.int64)
        T = max(1, min(int(ds.seq_len), steps or TEXT_STEPS, len(ids) - 1))
        starts = np.linspace(0, len(ids) - T - 1, windows or TEXT_CHUNKS).astype(int)
        pos = starts[None, :] + np.arange(T)[:, None]  # (T, B)
        x, y = ids[pos], ids[pos + 1]
    else:
        X, Y = ds.val_X, ds.val_y
        if X.shape[1] == 0:
            X, Y = ds.train_X, ds.train_y
        idx = np.unique(np.linspace(0, X.shape[1] - 1, windows or SERIES_WINDOWS).astype(int))
        x = np.asarray(X[-(steps or SERIES_STEPS) :, idx], dtype=np.float64)  # (T, B, C)
        y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)[idx]  # (B, 1)
    out, _, _ = float64_copy(network).forward(x, None, cache=False)
    _, upstream = task.loss(out, y)
    return x, upstream


def _relative_errors(a: np.ndarray, n: np.ndarray, floor: float) -> np.ndarray:
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), floor)


def _round_robin(rng: np.random.Generator, sizes: dict[str, int], cap: int | None):
    """``(name, flat index)`` pairs: each parameter's entries in a random order of their own,
    the parameters taking turns, so that wherever the budget stops every parameter has had an
    equal share (or all its entries, when it has fewer)."""
    orders = {n: rng.permutation(s)[: s if cap is None else cap] for n, s in sizes.items()}
    for k in range(max((len(o) for o in orders.values()), default=0)):
        for name, order in orders.items():
            if k < len(order):
                yield name, int(order[k])


def check(
    network: Network,
    x: np.ndarray,
    upstream: np.ndarray,
    *,
    rng: np.random.Generator,
    state0: Any = None,
    budget_seconds: float = 3.0,
    entries_per_param: int | None = None,
    eps: float | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> GradCheck:
    """Check ``network.backward`` against central differences on ``x`` (see the module docstring).

    Parameters
    ----------
    network : the model; its weights are copied to float64 and left untouched.
    x : (T, B, D) floats or (T, B) ids; upstream : shaped like the output, (B, O) or (T, B, O).
    rng : draws which entries are checked.
    state0 : initial state as for :meth:`Network.forward`, None for zeros.
    budget_seconds : wall time the whole check may take; entries are checked until it is spent.
    entries_per_param : at most this many entries of each parameter (None: as many as fit).
    eps : step of the differences (None: :data:`EPS`, :data:`RELU_EPS` for a ReLU network).
    on_progress : called as ``on_progress(done, total)`` after each entry; ``total`` is the
        number of entries expected to fit the budget (revised as the entries are timed).

    Returns
    -------
    GradCheck, the parameters in ``network.params`` order.
    """
    t0 = time.perf_counter()
    net = float64_copy(network)
    if not all(np.isfinite(p).all() for p in net.params.values()):
        raise PlaygroundError("the weights are not finite (the run diverged): roll back or reset first")
    x = np.asarray(x)
    if x.dtype.kind == "f":
        x = x.astype(np.float64)
    u = np.asarray(upstream, dtype=np.float64)
    if state0 is not None:
        state0 = _float64_state(state0)
    kinked = net.config.cell == "rnn" and net.config.nonlinearity == "relu"
    eps = float(eps if eps is not None else RELU_EPS if kinked else EPS)

    def objective() -> tuple[float, bytes | None]:
        """``L`` at the current weights, and which ReLU units are active (None for other cells)."""
        out, _, cache = net.forward(x, state0, cache=kinked)
        pattern = b"".join(np.packbits(lc.hs[1:] > 0).tobytes() for lc in cache.layers) if kinked else None
        return float(np.vdot(u, out)), pattern

    with np.errstate(over="ignore", invalid="ignore"):
        out, _, cache = net.forward(x, state0)
        if u.shape != out.shape:
            raise PlaygroundError(f"upstream must have the output's shape {out.shape}; got {u.shape}")
        grads, _, _ = net.backward(u, cache)
        tutorial = tutorial_weight_hh_gradient(net.params[TUTORIAL_PARAM], cache.layers[0].hs)
        del cache
        sweep = _Sweep(net.params, objective, eps, entries_per_param)
        sweep.run(rng, t0 + budget_seconds, on_progress)
    scale = max(float(np.max(np.abs(g))) for g in grads.values())
    floor = FLOOR * scale if scale > 0 else FLOOR
    results = tuple(sweep.summary(name, grads[name], floor) for name in net.params)
    theirs = sweep.summary(TUTORIAL_PARAM, tutorial, floor)
    a, n = sweep.pairs(TUTORIAL_PARAM, tutorial)
    norms = float(np.linalg.norm(a) * np.linalg.norm(n))
    cosine = float(np.dot(a, n) / norms) if norms > 0 else math.nan
    summary = TutorialCheck(
        TUTORIAL_PARAM, theirs.max_rel_error, cosine, theirs.checked, _tutorial_note(net.config.cell)
    )
    T, B = x.shape[0], x.shape[1]
    seconds = time.perf_counter() - t0
    return GradCheck(results, summary, seconds, int(B), int(T), eps=eps, complete=sweep.complete)


class _Sweep:
    """The central differences of sampled entries, until a deadline (see the module docstring)."""

    def __init__(self, params: dict[str, np.ndarray], objective, eps: float, cap: int | None) -> None:
        self.params, self.objective, self.eps, self.cap = params, objective, eps, cap
        self.numeric: dict[str, list[float]] = {n: [] for n in params}
        self.used: dict[str, list[int]] = {n: [] for n in params}
        self.kinks = dict.fromkeys(params, 0)
        self.done = 0
        self.complete = True

    def run(self, rng: np.random.Generator, deadline: float, on_progress) -> None:
        sizes = {n: p.size for n, p in self.params.items()}
        everything = sum(min(s, self.cap or s) for s in sizes.values())
        _, base = self.objective()
        started = time.perf_counter()
        for name, j in _round_robin(rng, sizes, self.cap):
            now = time.perf_counter()
            if self.done and now + (now - started) / self.done > deadline:  # the next one would not fit
                self.complete = False
                return
            self._entry(name, j, base)
            if on_progress is not None:
                rate = self.done / max(time.perf_counter() - started, 1e-9)
                fits = self.done + int(max(deadline - time.perf_counter(), 0.0) * rate)
                on_progress(self.done, max(self.done, min(everything, fits)))

    def _entry(self, name: str, j: int, base: bytes | None) -> None:
        flat = self.params[name].reshape(-1)  # a view: writing it perturbs the network
        old, f, crossed = flat[j], {}, False
        for step in (-2, -1, 1, 2):
            flat[j] = old + step * self.eps
            f[step], pattern = self.objective()
            crossed = crossed or pattern != base
        flat[j] = old
        self.done += 1
        if crossed:
            self.kinks[name] += 1
            return
        self.numeric[name].append((8 * (f[1] - f[-1]) - (f[2] - f[-2])) / (12 * self.eps))
        self.used[name].append(j)

    def pairs(self, name: str, gradient: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``gradient``'s checked entries of parameter ``name`` and their central differences."""
        picked = gradient.reshape(-1)[np.asarray(self.used[name], dtype=np.intp)]
        return picked, np.asarray(self.numeric[name], dtype=np.float64)

    def summary(self, name: str, gradient: np.ndarray, floor: float) -> ParamCheck:
        a, n = self.pairs(name, gradient)
        worst = float(_relative_errors(a, n, floor).max()) if n.size else math.nan
        tiny = int(np.sum(np.maximum(np.abs(a), np.abs(n)) < floor))
        return ParamCheck(name, worst, int(n.size), int(self.params[name].size), tiny, self.kinks[name])


def _float64_state(state0: Any) -> Any:
    if isinstance(state0, (tuple, list)):
        return tuple(np.asarray(s, dtype=np.float64) for s in state0)
    return np.asarray(state0, dtype=np.float64)


def _tutorial_note(cell: str) -> str:
    if cell == "rnn":
        return "their formula for a plain RNN's recurrent weights, as they write it"
    return (
        f"the tutorials write a plain RNN only; for this {cell.upper()} their formula is applied to "
        "the stacked gate blocks of the recurrent weights"
    )
