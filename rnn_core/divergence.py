"""The divergence guard of :class:`~rnn_core.trainer.Trainer`: when a step counts as a blow-up,
the healthy states kept to go back to, and the exact undo of an update that overflowed.

See the trainer's module docstring for the contract; the thresholds below say why each is what
it is.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections import deque
from typing import Any

import numpy as np

from rnn_core.config import TrainConfig
from rnn_core.settings import SCHEMA

# Minibatch losses of a healthy run stay within a factor of ten or so of their recent median;
# a thousandfold jump is the start of a blow-up, not an unlucky batch.
BLOWUP_FACTOR = 1e3
# tanh, sigmoid and the LSTM/GRU outputs stay within 1; a relu state past a million is running
# away (it can grow to 1e303 before anything overflows).
HIDDEN_BOUND = 1e6
# Every this many accepted healthy steps a copy of the state is kept: it costs about one
# optimizer update, a small part of a step (forward and backward through T steps), so once per
# 25 steps it is noise. A roll-back goes to the newest copy at least this many steps older than
# the first unhealthy step, as the loss may have been climbing for a while before that.
HEALTHY_EVERY = 25
HEALTHY_KEEP = 2  # copies kept: the older predates any blow-up that began after the newer
# A jump counts only once the loss is also above this fraction of the run's first healthy loss
# (the untrained model's): a sine fitted to a loss of 1e-9 whose minibatch loss jumps to 1e-6
# has not blown up; the guard used to pause such a run after hours of training.
FLOOR_FRACTION = 1e-2
REFERENCE_LOSSES = 50  # recent healthy losses whose median is the blow-up reference
REFERENCE_MIN = 3  # healthy losses needed before the loss test applies


def _norm(arrays: list[np.ndarray]) -> float:
    """Global L2 norm of several arrays, rescaled when the plain sum of squares would overflow."""
    total = sum(float(np.vdot(a, a)) for a in arrays)
    if math.isfinite(total):
        return math.sqrt(total)
    big = max(float(np.abs(a).max()) for a in arrays if a.size)
    return big * math.sqrt(sum(float(np.vdot(a / big, a / big)) for a in arrays))


def _l2(a: np.ndarray) -> float:
    """L2 norm of one array. float32 squares overflow from 1.8e19 on, so a float32 gradient whose
    norm overflows is measured again in float64 rather than taken for a divergence."""
    norm = math.sqrt(float(np.vdot(a, a)))
    if not math.isfinite(norm) and a.dtype != np.float64:
        a = a.astype(np.float64)
        norm = math.sqrt(float(np.vdot(a, a)))
    return norm


def _hidden_max(cache: Any) -> float:
    """Largest |h| over every layer and time step of a forward pass; NaN if any h is NaN."""
    return float(np.max([max(float(lc.hs.max()), -float(lc.hs.min())) for lc in cache.layers]))


@dataclasses.dataclass
class _Guard:
    """The divergence monitor: recent healthy losses, kept healthy states, the first bad step."""

    kept: deque = dataclasses.field(default_factory=lambda: deque(maxlen=HEALTHY_KEEP))
    losses: deque = dataclasses.field(default_factory=lambda: deque(maxlen=REFERENCE_LOSSES))
    since: int = 0  # accepted healthy steps since the newest kept state
    bad_step: int | None = None  # number of the first unhealthy step
    cause: str = ""
    first: float | None = None  # the first healthy loss this monitor saw

    def judge(self, number: int, loss: float, hidden: float, rejected: str) -> None:
        """Note step ``number``; ``rejected`` says why it was rejected ("" when it was not)."""
        if self.bad_step is not None:
            return
        ref = statistics.median(self.losses) if len(self.losses) >= REFERENCE_MIN else math.inf
        cause = rejected
        if not cause and not hidden <= HIDDEN_BOUND:
            cause = f"hidden activations reached {hidden:.3g}"
        floor = FLOOR_FRACTION * self.first if self.first is not None else 0.0
        if not cause and loss > BLOWUP_FACTOR * ref and loss > floor:
            cause = f"the loss jumped to {loss:.3g}, over {BLOWUP_FACTOR:g} times its recent median"
        if cause:
            self.bad_step, self.cause = number, cause
        else:
            if self.first is None and math.isfinite(loss):
                self.first = loss
            self.losses.append(loss)
            self.since += 1

    def keep(self, capture: Any) -> None:
        """Keep ``capture()`` when this is the ``HEALTHY_EVERY``-th healthy step since the last."""
        if self.bad_step is None and self.since >= HEALTHY_EVERY:
            self.kept.append(capture())
            self.since = 0

    def target(self, next_step: int) -> dict[str, Any] | None:
        """The kept state to go back to, the blow-up having been noticed at step ``bad_step``
        (or, before any, at ``next_step``)."""
        noticed = next_step if self.bad_step is None else self.bad_step
        early = [s for s in self.kept if s["step_count"] <= noticed - HEALTHY_EVERY]
        return early[-1] if early else (self.kept[0] if self.kept else None)

    def advice(self, tc: TrainConfig, healthy_step: int | None) -> dict[str, Any]:
        """The learning rate divided by 10 and, when norm clipping is off, ``clip_norm`` 1.0."""
        if self.bad_step is None:
            return {"settings": {}, "text": "Training has not diverged; nothing needs to change."}
        advice = {"lr": tc.lr / 10, **({"clip_norm": 1.0} if tc.clip_norm is None else {})}
        change = " and ".join(f"{SCHEMA[k].phrase} {SCHEMA[k].format(v)}" for k, v in advice.items())
        text = (
            f"Training blew up at step {self.bad_step}: {self.cause}. Roll back to step {healthy_step} "
            f"and go on with {change} (the learning rate was {SCHEMA['lr'].format(tc.lr)})."
        )
        return {"settings": advice, "text": text}

    def copy(self) -> _Guard:
        """Independent counters and losses; kept states are never changed, so they are shared."""
        return dataclasses.replace(self, losses=self.losses.copy(), kept=self.kept.copy())


class _UpdateGuard:
    """What :meth:`Trainer._update` needs to measure an update and to undo one that overflowed:
    preallocated spare arrays for the weights and the optimizer state from before the update, a
    scratch array per weight for the change, and finiteness tests that allocate nothing.

    An update can only be undone exactly from a copy of what it overwrote (the optimizer may be
    any code that writes the arrays), so each step copies the weights and the optimizer state, one
    pass over each into arrays kept for it; everything else only reads, without allocating.
    """

    def __init__(self, params: dict[str, np.ndarray], optimizer: Any) -> None:
        self.params = params
        self.before = {k: np.empty_like(p) for k, p in params.items()}
        self.scratch = {k: np.empty_like(p) for k, p in params.items()}
        self.state = [v for arrays in optimizer.state.values() for v in arrays.values()]
        self.spare_state = [np.empty_like(v) for v in self.state]

    def save(self) -> None:
        for k, p in self.params.items():
            np.copyto(self.before[k], p)
        for live, spare in zip(self.state, self.spare_state, strict=True):
            np.copyto(spare, live)

    def change(self) -> float:
        """||new - old|| over all weights (NaN or inf when a new weight is not finite)."""
        for k, p in self.params.items():
            np.subtract(p, self.before[k], out=self.scratch[k])
        return _norm(list(self.scratch.values()))

    def norm_before(self) -> float:
        return _norm(list(self.before.values()))

    def state_is_finite(self) -> bool:
        """A sum of squares is finite exactly when every element is, unless it overflows; only
        then is each element tested."""
        return all(math.isfinite(float(np.vdot(v, v))) or bool(np.isfinite(v).all()) for v in self.state)

    def put_back(self) -> None:
        for k, p in self.params.items():
            np.copyto(p, self.before[k])
        for live, spare in zip(self.state, self.spare_state, strict=True):
            np.copyto(live, spare)
