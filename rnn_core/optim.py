"""Optimizers with PyTorch's exact update rules, and gradient clipping.

Each update follows the single-tensor code path of ``torch.optim`` (version 2.x), so a run tracks
PyTorch's to rounding error. With ``wd`` the weight decay, the coupled (L2) optimizers first form
``g' = g + wd p`` from the parameter before its update (``torch.optim``'s ``weight_decay``) and
use ``g'`` wherever ``g`` appears below; ``adamw`` instead shrinks ``p`` before the Adam step:

* ``sgd``       p -= lr g'
* ``momentum``  b = momentum b + g'  (b = g' on the first step; dampening 0, no Nesterov); p -= lr b
* ``adagrad``   s += g'^2;  p -= lr g' / (sqrt(s) + 1e-10)  (lr_decay 0: torch's
                ``clr = lr / (1 + (t - 1) lr_decay)`` is lr)
* ``rmsprop``   v = 0.99 v + 0.01 g'^2;  p -= lr g' / (sqrt(v) + 1e-8)  (centered False, momentum 0)
* ``adam``      m = m + 0.1 (g' - m);  v = 0.999 v + 0.001 g'^2;
                p -= (lr / (1 - 0.9^t)) m / (sqrt(v) / sqrt(1 - 0.999^t) + 1e-8)
* ``adamw``     p *= 1 - lr wd; then the ``adam`` update with the plain ``g``
                (``torch.optim.AdamW``; its default wd of 0.01 is not ours: wd is always passed in)

The caller's gradient arrays are never written to: ``g'`` lives in a scratch array, so a trainer
that reports gradient norms sees the loss gradient, not the decayed one.

State arrays are keyed ``"<slot>:<param name>"`` (e.g. ``"exp_avg:rnn.weight_hh_l0"``) plus
``"step"`` and ``"lr"``, so :meth:`Optimizer.state_dict` can go straight into an ``.npz``.
``lr`` and ``weight_decay`` may be changed between steps; the state is kept. ``weight_decay`` is a
hyperparameter, as in ``torch.optim``, and is not part of the state.

Clipping (:func:`clip_gradients`) follows ``torch.nn.utils.clip_grad_norm_`` (factor
``clip_norm / (norm + 1e-6)`` when below 1) and then ``clip_grad_value_`` (clamp each element).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnn_core.errors import PlaygroundError


def _check_weight_decay(weight_decay: float) -> float:
    try:
        wd = float(weight_decay)
    except (TypeError, ValueError):
        wd = math.nan
    if not (math.isfinite(wd) and wd >= 0.0):
        raise PlaygroundError(
            f"weight_decay must be a finite number >= 0 (0 turns it off); got {weight_decay!r}"
        )
    return wd


class Optimizer:
    """Base class: in-place updates of a dict of parameters, state keyed by parameter name.

    Parameters
    ----------
    params : dict name -> ndarray, the arrays that :meth:`step` will update in place.
    lr : learning rate, settable at any time through the ``lr`` attribute.
    weight_decay : L2 coefficient ``wd`` (``g + wd p``), settable through the ``weight_decay``
        attribute; 0 turns it off. Not saved by :meth:`state_dict`.
    """

    name = "base"
    slots: tuple[str, ...] = ()

    def __init__(self, params: dict[str, np.ndarray], lr: float, weight_decay: float = 0.0):
        self.lr = float(lr)
        self.weight_decay = _check_weight_decay(weight_decay)
        self.step_count = 0
        self._buffers: dict[tuple[str, str], np.ndarray] = {}
        self.state = {slot: {k: np.zeros_like(v) for k, v in params.items()} for slot in self.slots}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every ``params[name]`` in place from ``grads[name]`` (which is left unchanged)."""
        self.step_count += 1
        for k, p in params.items():
            self._update(k, p, self._decayed(k, p, grads[k]))

    def _update(self, k: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def _decayed(self, k: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``g + weight_decay p`` in a scratch array, or ``g`` itself when the decay is 0."""
        if self.weight_decay == 0.0:
            return g
        out = self._scratch(k, p, "grad")
        np.multiply(p, self.weight_decay, out=out)
        out += g
        return out

    def _scratch(self, k: str, p: np.ndarray, tag: str = "tmp") -> np.ndarray:
        """A work array shaped like parameter ``k`` (not part of the state); one per ``tag``."""
        buf = self._buffers.get((tag, k))
        if buf is None or buf.shape != p.shape or buf.dtype != p.dtype:
            buf = self._buffers[(tag, k)] = np.empty_like(p)
        return buf

    def is_finite(self) -> bool:
        """True when every state array is free of NaN and infinity."""
        return all(np.isfinite(v).all() for arrays in self.state.values() for v in arrays.values())

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of all state arrays, plus ``step`` and ``lr`` as 0-d arrays."""
        d = {"step": np.array(self.step_count, dtype=np.int64), "lr": np.array(self.lr)}
        for slot, arrays in self.state.items():
            for k, v in arrays.items():
                d[f"{slot}:{k}"] = v.copy()
        return d

    def load_state_dict(self, d: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned (arrays are copied in; shapes must match)."""
        for slot, arrays in self.state.items():
            for k, v in arrays.items():
                key = f"{slot}:{k}"
                if key not in d:
                    raise PlaygroundError(f"optimizer state lacks {key!r}; it was saved for another model")
                src = np.asarray(d[key])
                if src.shape != v.shape:
                    raise PlaygroundError(f"optimizer state {key!r} is {src.shape}, expected {v.shape}")
                v[...] = src
        self.step_count = int(d.get("step", 0))
        if "lr" in d:
            self.lr = float(d["lr"])


class SGD(Optimizer):
    name = "sgd"

    def _update(self, k, p, g):
        tmp = self._scratch(k, p)
        np.multiply(g, self.lr, out=tmp)
        p -= tmp


class Momentum(Optimizer):
    name = "momentum"
    slots = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = float(momentum)

    def _update(self, k, p, g):
        buf = self.state["momentum_buffer"][k]
        if self.step_count == 1:
            buf[...] = g  # torch starts the buffer at g, not at momentum * 0 + g; same numbers
        else:
            buf *= self.momentum
            buf += g
        tmp = self._scratch(k, p)
        np.multiply(buf, self.lr, out=tmp)
        p -= tmp


class Adagrad(Optimizer):
    name = "adagrad"
    slots = ("sum",)
    eps = 1e-10

    def _update(self, k, p, g):
        s = self.state["sum"][k]
        tmp, den = self._scratch(k, p), self._scratch(k, p, "den")
        np.multiply(g, g, out=tmp)
        s += tmp
        np.sqrt(s, out=den)
        den += self.eps
        np.multiply(g, self.lr, out=tmp)  # torch's addcdiv_: (lr g) / den, in that order
        tmp /= den
        p -= tmp


class RMSprop(Optimizer):
    name = "rmsprop"
    slots = ("square_avg",)
    alpha = 0.99
    eps = 1e-8

    def _update(self, k, p, g):
        v = self.state["square_avg"][k]
        tmp, den = self._scratch(k, p), self._scratch(k, p, "den")
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.alpha
        v *= self.alpha
        v += tmp
        np.sqrt(v, out=den)
        den += self.eps
        np.multiply(g, self.lr, out=tmp)
        tmp /= den
        p -= tmp


class Adam(Optimizer):
    name = "adam"
    slots = ("exp_avg", "exp_avg_sq")
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    decoupled = False  # True: AdamW's p *= 1 - lr wd instead of the L2 term in the gradient

    def step(self, params, grads):
        self.step_count += 1
        t = self.step_count
        step_size = self.lr / (1.0 - self.beta1**t)
        bc2_sqrt = math.sqrt(1.0 - self.beta2**t)
        shrink = 1.0 - self.lr * self.weight_decay
        for k, p in params.items():
            if self.decoupled:
                if self.weight_decay != 0.0:
                    p *= shrink
                g = grads[k]
            else:
                g = self._decayed(k, p, grads[k])
            m = self.state["exp_avg"][k]
            v = self.state["exp_avg_sq"][k]
            tmp = self._scratch(k, p)
            np.subtract(g, m, out=tmp)  # torch's lerp_: m + (1 - beta1) (g - m)
            tmp *= 1.0 - self.beta1
            m += tmp
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - self.beta2
            v *= self.beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= bc2_sqrt
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            p -= tmp


class AdamW(Adam):
    name = "adamw"
    decoupled = True


_CLASSES: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Adagrad, RMSprop, Adam, AdamW)
}
OPTIMIZER_NAMES: tuple[str, ...] = tuple(_CLASSES)
"""Every name :func:`make_optimizer` accepts, in registry order."""


def make_optimizer(
    name: str,
    params: dict[str, np.ndarray],
    lr: float,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
) -> Optimizer:
    """Build optimizer ``name`` (one of :data:`OPTIMIZER_NAMES`) for ``params``.

    ``momentum`` is used by ``momentum`` only. ``weight_decay`` is L2 (added to the gradient)
    for every optimizer but ``adamw``, where it is decoupled; it must be finite and >= 0.
    """
    if name not in _CLASSES:
        raise PlaygroundError(f"optimizer must be one of {', '.join(OPTIMIZER_NAMES)}; got {name!r}")
    if name == "momentum":
        return Momentum(params, lr, momentum, weight_decay)
    return _CLASSES[name](params, lr, weight_decay)


# --------------------------------------------------------------------------- clipping


@dataclass(frozen=True)
class ClipInfo:
    """What :func:`clip_gradients` did.

    norm : global L2 norm of all gradients before any clipping
    clipped : True if norm or value clipping changed anything
    scale : factor applied by norm clipping (1.0 if none)
    """

    norm: float
    clipped: bool
    scale: float


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """L2 norm of all gradient arrays taken together (accumulated in float64)."""
    total = 0.0
    for g in grads.values():
        flat = g.ravel()
        if flat.dtype != np.float64:
            flat = flat.astype(np.float64)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def clip_gradients(
    grads: dict[str, np.ndarray],
    clip_norm: float | None = None,
    clip_value: float | None = None,
    *,
    norm: float | None = None,
) -> ClipInfo:
    """Clip gradients in place: first by global norm, then each element to ``±clip_value``.

    ``norm`` is the global norm when the caller has measured it already (a trainer reports it),
    else it is measured here. A non-finite norm is reported but not used to scale (the caller
    rejects such a step).
    """
    norm = global_norm(grads) if norm is None else float(norm)
    scale = 1.0
    clipped = False
    if clip_norm is not None and math.isfinite(norm):
        coef = clip_norm / (norm + 1e-6)
        if coef < 1.0:
            scale = coef
            clipped = True
            for g in grads.values():
                g *= coef
    if clip_value is not None:
        for g in grads.values():
            if np.any(np.abs(g) > clip_value):
                clipped = True
                np.clip(g, -clip_value, clip_value, out=g)
    return ClipInfo(norm=norm, clipped=clipped, scale=scale)
