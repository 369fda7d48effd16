"""Step-wise training of a :class:`~rnn_core.network.Network` on a task (series or text).

The trainer owns no loop: a worker's training loop (:mod:`rnn_core.executor`) calls
:meth:`Trainer.step` a turn at a time, scripts and the command line call :meth:`Trainer.run`.
The task (:mod:`rnn_core.tasks`) owns the data: minibatches, loss, metrics, forecasts, samples.
The trainer owns the optimisation: the step, clipping, the optimizer, the learning-rate schedule
(:func:`rnn_core.schedule.lr_at` of the base rate ``train_config.lr`` at the number of accepted
steps), the divergence guard, evaluation bookkeeping, snapshots and model files. Every random
draw comes from one seeded generator, so the same seed and settings give bit-identical runs.

Divergence: a step with a non-finite loss or gradient, or whose update would make a weight or
the optimizer state non-finite, is *rejected* (weights, optimizer state and ``step_count`` stay
as they were). A rejected step, a loss above :data:`BLOWUP_FACTOR` times the recent healthy
median or a hidden activation above :data:`HIDDEN_BOUND` sets ``diverged`` until
:meth:`Trainer.roll_back` returns to a kept healthy state (:data:`HEALTHY_EVERY`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import statistics
import time
from collections import deque
from typing import Any

import numpy as np

from rnn_core.best import BestKeeping, BestWeights, metric_for
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.errors import PlaygroundError
from rnn_core.history import History
from rnn_core.model_files import ModelFiles
from rnn_core.network import Network
from rnn_core.optim import clip_gradients, make_optimizer
from rnn_core.schedule import lr_at
from rnn_core.settings import SCHEMA
from rnn_core.tasks import make_task
from rnn_core.tasks.operations import TaskOperations
from rnn_core.threads import single_thread as _blas_context  # measured fastest, see rnn_core.threads

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


class Trainer(TaskOperations, BestKeeping, ModelFiles):
    """Trains one network on one dataset, one minibatch per :meth:`step`.

    Parameters
    ----------
    dataset : SeriesDataset or TextDataset
        From :mod:`rnn_core.data`; its ``kind`` chooses the task (:func:`rnn_core.tasks.make_task`).
    model : ModelConfig
        Cell, hidden size, layers, nonlinearity, init, dtype; ``input_size``, ``output_size``
        and ``head`` come from the task whatever ``model`` says.
    train : TrainConfig
        Optimizer, base learning rate and schedule, weight decay, batch, clipping, truncation, seed.

    Attributes
    ----------
    dataset, task, network, config (the effective ModelConfig), train_config, optimizer, rng (the
    one seeded generator), sample_rng (text sampling only), step_count (accepted steps), history.
    """

    def __init__(self, dataset: Any, model: ModelConfig, train: TrainConfig | None = None) -> None:
        tc = self.train_config = TrainConfig() if train is None else train
        self.dataset = dataset
        self.task = make_task(dataset, batch_size=tc.batch_size, text_mode=tc.text_mode, dtype=model.dtype)
        sizes = {"input_size": self.task.input_size, "output_size": self.task.output_size}
        self.config = dataclasses.replace(model, head=self.task.head, **sizes)
        self.rng = np.random.default_rng(tc.seed)
        # Sampling has its own stream so that looking at samples never changes the training.
        self.sample_rng = np.random.default_rng([tc.seed, 1])
        self.network = Network(self.config, self.rng)
        params = self.network.params
        self.optimizer = make_optimizer(tc.optimizer, params, tc.lr, tc.momentum, tc.weight_decay)
        self.history = History()
        self.best = BestWeights(metric_for(self.task.kind))
        self.step_count = 0
        self._samples_seen = 0  # training windows (series) or positions (text) drawn
        # Spare arrays for the weights and optimizer state from before each update, to put back
        # when the update turns out non-finite (and to measure the update ratio).
        self._before = {k: np.empty_like(p) for k, p in params.items()}
        state = [v for arrays in self.optimizer.state.values() for v in arrays.values()]
        self._spares = [(params[k], self._before[k]) for k in params] + [(v, np.empty_like(v)) for v in state]
        self._reset_guard()

    @classmethod
    def create(cls, dataset: Any, *, train: TrainConfig | None = None, **model: Any) -> Trainer:
        """A trainer from plain model settings (``cell``, ``hidden_size``, ``num_layers``,
        ``nonlinearity``, ``init``, ``forget_bias``, ``dtype``; the schema's defaults otherwise)."""
        return cls(dataset, ModelConfig(**model), train)

    @property
    def epoch(self) -> float:
        """Passes over the training data so far (fractional; rejected steps' batches count)."""
        return self.task.epoch(self._samples_seen)

    @property
    def diverged(self) -> bool:
        """True from the first unhealthy step until :meth:`roll_back` or :meth:`restore`."""
        return self._guard.bad_step is not None

    # ------------------------------------------------------------------ training

    def step(self) -> dict[str, Any]:
        """One minibatch update.

        Returns
        -------
        dict with ``step`` (this step's number: ``step_count`` after it, or the number it would
        have had when rejected), ``epoch``, ``loss`` (of the minibatch before the update: MSE of
        normalised values, or mean cross-entropy in nats), ``grad_norm`` (global L2 norm before
        clipping), ``grad_norms`` ({param name: L2 norm before clipping}), ``clipped``,
        ``clip_scale`` (norm clipping's factor, 1.0 if none), ``update_ratio`` (||new - old|| /
        ||old|| over all weights; 0 when rejected), ``lr`` (the scheduled rate used),
        ``hidden_max`` (largest |h| of the forward pass), ``seconds``, ``rejected`` (the update
        was thrown away) and ``diverged`` (the trainer's flag: callers pause on it).
        """
        with _blas_context():
            return self._step()

    def _step(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        net, tc, opt = self.network, self.train_config, self.optimizer
        previous_lr, lr = opt.lr, self._lr()
        opt.lr = lr
        batch = self.task.batch(self.rng)
        self._samples_seen += batch.consumed
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            out, state, cache = net.forward(batch.x, batch.state, cache=True)
            hidden = _hidden_max(cache)
            loss, dout = self.task.loss(out, batch.y)
            loss = float(loss)
            grads = net.backward(dout, cache, bptt=tc.bptt)[0] if math.isfinite(loss) else {}
            del cache
            grad_norms = {k: _l2(g) for k, g in grads.items()}
            grad_norm = math.sqrt(sum(v * v for v in grad_norms.values())) if grads else math.nan
            rejected = "" if math.isfinite(grad_norm) else "the loss or the gradient was not finite"
            clipped, clip_scale, update_ratio = False, 1.0, 0.0
            if not rejected:
                info = clip_gradients(grads, clip_norm=tc.clip_norm, clip_value=tc.clip_value)
                clipped, clip_scale = bool(info.clipped), float(info.scale)
                update_ratio = self._update(grads)
                if update_ratio is None:
                    rejected, update_ratio = "the update overflowed a weight or the optimizer state", 0.0
        self.task.after_step(state, not rejected)
        number = self.step_count + 1
        if rejected:
            opt.lr = previous_lr  # the optimizer exactly as before the attempt
        else:
            self.step_count = number
        self._guard.judge(number, loss, hidden, rejected)
        metrics = dict(step=number, epoch=self.epoch, loss=loss, grad_norm=grad_norm, grad_norms=grad_norms)
        metrics.update(clipped=clipped, clip_scale=clip_scale, update_ratio=update_ratio, lr=lr)
        metrics.update(hidden_max=hidden, seconds=time.perf_counter() - t0)
        metrics.update(rejected=bool(rejected), diverged=self.diverged)
        self.history.record_step(metrics)
        self._guard.keep(self._capture)  # after the history row, which the kept state counts
        return metrics

    def _update(self, grads: dict[str, np.ndarray]) -> float | None:
        """Apply the optimizer and return the update ratio; None, with everything put back, when
        the update made a weight or the optimizer state non-finite."""
        params, opt = self.network.params, self.optimizer
        for live, spare in self._spares:
            np.copyto(spare, live)
        count = opt.step_count
        opt.step(params, grads)
        delta = _norm([params[k] - self._before[k] for k in params])  # NaN if a weight is not finite
        if math.isfinite(delta) and opt.is_finite():
            return delta / max(_norm(list(self._before.values())), 1e-12)
        # Overflow in a weight, or in state such as Adam's squared-gradient average (which would
        # freeze those weights for good): put everything back.
        for live, spare in self._spares:
            np.copyto(live, spare)
        opt.step_count = count
        return None

    def run(self, n: int, *, stop_on_divergence: bool = True) -> list[dict[str, Any]]:
        """Take ``n`` steps (fewer if one says ``diverged`` and ``stop_on_divergence``); their metrics."""
        out = []
        with _blas_context():
            for _ in range(int(n)):
                out.append(self._step())
                if stop_on_divergence and out[-1]["diverged"]:
                    break
        return out

    def _lr(self) -> float:
        """The rate of the next step: the schedule at the number of accepted steps."""
        tc = self.train_config
        return lr_at(tc.lr, tc.lr_schedule, self.step_count, tc.steps)

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate from the next step on; optimizer state is kept."""
        self.apply_live(self.train_config.replace(lr=lr))

    def set_clipping(self, clip_norm: float | None = None, clip_value: float | None = None) -> None:
        """Change gradient clipping from the next step on (``None`` switches a kind off)."""
        self.apply_live(self.train_config.replace(clip_norm=clip_norm, clip_value=clip_value))

    def apply_live(self, train: TrainConfig) -> None:
        """Take the live settings of ``train`` (learning rate, schedule and its length, weight
        decay, clipping) from the next step on; its other settings must be the current ones."""
        if not isinstance(train, TrainConfig):
            raise PlaygroundError(f"apply_live needs a TrainConfig; got {type(train).__name__}")
        now = self.train_config
        fixed = [n for n, s in SCHEMA.items() if s.group == "train" and getattr(train, n) != getattr(now, n)]
        if fixed := [n for n in fixed if not SCHEMA[n].live]:
            raise PlaygroundError(f"{', '.join(fixed)} cannot change during training; reset the model first")
        self.train_config = train
        self.optimizer.weight_decay = train.weight_decay
        self.optimizer.lr = self._lr()

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, *, train: bool = True, max_windows: int | None = None) -> dict[str, Any]:
        """Losses and metrics on the training and validation splits, with the data's baselines.

        ``train=False`` scores the validation split only (no ``train_*`` keys), for frequent
        refreshes; ``max_windows`` (series) scores at most that many evenly spaced windows of
        each split, an estimate for live views of a long series (``val_estimate`` True).

        Returns
        -------
        dict with ``step``, ``train_loss``, ``val_loss`` (the training loss's units), the task's
        metrics (series: ``*_rmse``, ``*_mae`` in original units, ``val_windows``,
        ``val_estimate``; text: ``*_bpc``, ``*_accuracy``) and ``baselines`` (a copy of
        ``dataset.baselines``); also appended to ``history.evals``.
        """
        with _blas_context():
            metrics = self.task.evaluate(self.network, train=train, max_windows=max_windows)
        baselines = dict(getattr(self.dataset, "baselines", None) or {})
        result = {"step": self.step_count, **metrics, "baselines": baselines}
        self.history.record_eval(self.step_count, result)
        self.best.offer(self.step_count, result, self._capture)
        return result

    # ------------------------------------------------------------------ state

    def _capture(self) -> dict[str, Any]:
        """Copies of what the next steps depend on (a kept healthy state is one of these)."""
        return {
            "params": {k: p.copy() for k, p in self.network.params.items()},
            "optimizer": self.optimizer.state_dict(),  # copies
            "rng": copy.deepcopy(self.rng.bit_generator.state),
            "task": self.task.snapshot(),
            "step_count": self.step_count,
            "samples_seen": self._samples_seen,
            "losses": tuple(self._guard.losses),
            "first_loss": self._guard.first,
        }

    def _put(self, snap: dict[str, Any]) -> None:
        if set(snap["params"]) != set(self.network.params):
            raise PlaygroundError("this snapshot belongs to a different model; reset the trainer instead")
        for k, p in self.network.params.items():
            np.copyto(p, snap["params"][k])
        self.optimizer.load_state_dict(snap["optimizer"])  # copies in
        self.optimizer.weight_decay = self.train_config.weight_decay
        self.rng.bit_generator.state = copy.deepcopy(snap["rng"])
        self.task.restore(snap["task"])
        self.step_count = int(snap["step_count"])
        self._samples_seen = int(snap["samples_seen"])
        self.optimizer.lr = self._lr()

    def _reset_guard(self, kept: tuple = (), losses: tuple = (), first: float | None = None) -> None:
        self._guard = _Guard(kept=deque(kept, maxlen=HEALTHY_KEEP), first=first)
        self._guard.losses.extend(losses)
        if not kept:
            self._guard.kept.append(self._capture())

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of all that determines future steps and the curves: weights, optimizer state,
        settings, generators, counters, the task's batch position, the divergence monitor and its
        kept states, the history. Restoring it and stepping is bit-identical to never leaving."""
        return {
            **self._capture(),
            "train_config": self.train_config,
            "sample_rng": copy.deepcopy(self.sample_rng.bit_generator.state),
            "guard": self._guard.copy(),
            "history": self.history.copy(),
            "best": self.best.copy(),
        }

    def restore(self, snap: dict[str, Any]) -> None:
        """Return to a :meth:`snapshot` of this trainer (the snapshot stays reusable)."""
        self.train_config = snap["train_config"]
        self._put(snap)
        self.sample_rng.bit_generator.state = copy.deepcopy(snap["sample_rng"])
        self._guard = snap["guard"].copy()
        self.history = snap["history"].copy()
        if "best" in snap:
            self.best = snap["best"].copy()

    @property
    def healthy_step(self) -> int | None:
        """The step :meth:`roll_back` would return to (None when no healthy state is kept)."""
        target = self._guard.target(self.step_count + 1)
        return None if target is None else int(target["step_count"])

    def roll_back(self) -> int:
        """Return to the kept state of :attr:`healthy_step` (weights, optimizer state, generator,
        batch position, step count, history) and clear :attr:`diverged`; the settings stay."""
        target = self._guard.target(self.step_count + 1)
        if target is None:
            raise PlaygroundError("no healthy state is kept to roll back to; reset the model instead")
        self._put(target)
        self.history.truncate_to_step(self.step_count)
        self.best.forget_after(self.step_count)
        kept = tuple(s for s in self._guard.kept if s["step_count"] <= self.step_count)
        self._reset_guard(kept, target["losses"], target.get("first_loss"))
        return self.step_count

    def divergence_advice(self) -> dict[str, Any]:
        """What to change after :meth:`roll_back`: ``settings`` (name -> value for :meth:`apply_live`:
        the learning rate / 10 and, if norm clipping is off, ``clip_norm`` 1.0; empty when not
        diverged) and ``text``, the same in a sentence for users with the cause."""
        return self._guard.advice(self.train_config, self.healthy_step)
