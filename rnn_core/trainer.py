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
as they were). A rejected step, a loss far above the recent healthy median or a runaway hidden
activation sets ``diverged`` until :meth:`Trainer.roll_back` returns to a kept healthy state
(the thresholds and the kept states are in :mod:`rnn_core.divergence`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections import deque
from typing import Any

import numpy as np

from rnn_core.best import BestKeeping, BestWeights, metric_for
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.divergence import (
    HEALTHY_KEEP,
    _Guard,
    _hidden_max,
    _l2,
    _UpdateGuard,
)
from rnn_core.errors import PlaygroundError
from rnn_core.history import History
from rnn_core.model_files import ModelFiles
from rnn_core.network import Network
from rnn_core.optim import clip_gradients, make_optimizer
from rnn_core.rewind import Rewinding, Snapshots
from rnn_core.schedule import lr_at
from rnn_core.settings import SCHEMA
from rnn_core.tasks import make_task
from rnn_core.tasks.operations import TaskOperations
from rnn_core.threads import single_thread as _blas_context  # measured fastest, see rnn_core.threads


class Trainer(TaskOperations, BestKeeping, ModelFiles, Rewinding):
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
        self.snapshots = Snapshots()  # kept states to look back at and branch from (rewind)
        self.step_count = 0
        self._samples_seen = 0  # training windows (series) or positions (text) drawn
        self._undo = _UpdateGuard(params, self.optimizer)
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
        if not len(self.snapshots):  # the state training starts from
            self.snapshots.offer(self.step_count, self._capture)
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
            finite = math.isfinite(loss)
            grads = net.backward(dout, cache, bptt=tc.bptt, input_grad=False)[0] if finite else {}
            del cache
            grad_norms = {k: _l2(g) for k, g in grads.items()}
            grad_norm = math.sqrt(sum(v * v for v in grad_norms.values())) if grads else math.nan
            rejected = "" if math.isfinite(grad_norm) else "the loss or the gradient was not finite"
            clipped, clip_scale, update_ratio = False, 1.0, 0.0
            if not rejected:  # the norm measured once, for the metrics and for clipping
                info = clip_gradients(grads, clip_norm=tc.clip_norm, clip_value=tc.clip_value, norm=grad_norm)
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
        capture = _once(self._capture)  # a state kept twice is one copy (captures never change)
        self._guard.keep(capture)  # after the history row, which the kept state counts
        if not rejected:
            self.snapshots.offer(self.step_count, capture)
        return metrics

    def _update(self, grads: dict[str, np.ndarray]) -> float | None:
        """Apply the optimizer and return the update ratio; None, with everything put back, when
        the update made a weight or the optimizer state non-finite."""
        params, opt, undo = self.network.params, self.optimizer, self._undo
        undo.save()
        count = opt.step_count
        opt.step(params, grads)
        delta = undo.change()  # NaN if a weight is not finite
        if math.isfinite(delta) and undo.state_is_finite():
            return delta / max(undo.norm_before(), 1e-12)
        # Overflow in a weight, or in state such as Adam's squared-gradient average (which would
        # freeze those weights for good): put everything back.
        undo.put_back()
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

    def evaluate(
        self, *, train: bool = True, max_windows: int | None = None, record: bool = True
    ) -> dict[str, Any]:
        """Losses and metrics on the training and validation splits, with the data's baselines.

        ``train=False`` scores the validation split only (no ``train_*`` keys), for frequent
        refreshes; ``max_windows`` (series) scores at most that many evenly spaced windows of
        each split, an estimate for live views of a long series (``val_estimate`` True).

        Returns
        -------
        dict with ``step``, ``train_loss``, ``val_loss`` (the training loss's units), the task's
        metrics (series: ``*_rmse``, ``*_mae`` in original units, ``val_windows``,
        ``val_estimate``; text: ``*_bpc``, ``*_accuracy``) and ``baselines`` (a copy of
        ``dataset.baselines``); also appended to ``history.evals`` and offered as the best so far
        (``record=False``: neither, for a look at other weights).
        """
        with _blas_context():
            metrics = self.task.evaluate(self.network, train=train, max_windows=max_windows)
        baselines = dict(getattr(self.dataset, "baselines", None) or {})
        result = {"step": self.step_count, **metrics, "baselines": baselines}
        if record:
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
        self.snapshots.forget_after(self.step_count)
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
        kept = tuple(s for s in self._guard.kept if s["step_count"] <= target["step_count"])
        return self._back_to(target, kept)

    def _back_to(self, snap: dict[str, Any], kept: tuple = ()) -> int:
        """Return to the kept state ``snap`` (a :meth:`_capture`), forgetting what came after it:
        the history's later rows, a later best, later rewind snapshots; the divergence guard
        starts again from ``kept`` (healthy states up to it) and the losses it had then."""
        self._put(snap)
        self.history.truncate_to_step(self.step_count)
        self.best.forget_after(self.step_count)
        self.snapshots.forget_after(self.step_count)
        self._reset_guard(kept, snap["losses"], snap.get("first_loss"))
        return self.step_count

    def divergence_advice(self) -> dict[str, Any]:
        """What to change after :meth:`roll_back`: ``settings`` (name -> value for :meth:`apply_live`:
        the learning rate / 10 and, if norm clipping is off, ``clip_norm`` 1.0; empty when not
        diverged) and ``text``, the same in a sentence for users with the cause."""
        return self._guard.advice(self.train_config, self.healthy_step)


def _once(make):
    """``make`` as a function that makes its value on the first call and returns it after."""
    made: list = []

    def get():
        if not made:
            made.append(make())
        return made[0]

    return get
