"""The weights with the best validation score so far, and early stopping after a patience.

A trainer offers every exact validation evaluation (:meth:`BestWeights.offer`); the first score
and every later one strictly below the best so far are kept with a copy of what the next steps
depend on (weights, optimizer state, generators, batch position, step), so restoring it and
training on is the same as having stopped there. Both the validation RMSE of a series and the
bits per character of a text fall as a model gets better. Early stopping asks whether the best
score is ``patience`` or more steps old, judged on evaluations every :data:`CHECK_EVERY` steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from rnn_core.errors import PlaygroundError

CHECK_EVERY = 25
"""Steps between the validation evaluations early stopping and ``--keep-best`` rely on."""


def metric_for(kind: str) -> str:
    """The validation figure a model of this data kind is judged by (lower is better)."""
    return "val_bpc" if kind == "text" else "val_rmse"


class BestWeights:
    """The best validation score so far, the step it was reached and the state at that step."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.score = math.inf
        self.step: int | None = None
        self.capture: dict[str, Any] | None = None

    def offer(self, step: int, evaluation: dict[str, Any], capture: Callable[[], dict[str, Any]]) -> bool:
        """Keep ``capture()`` when ``evaluation`` (an exact one) beats the best score; whether it did."""
        score = evaluation.get(self.metric)
        if evaluation.get("val_estimate") or score is None or not math.isfinite(score):
            return False
        if self.step is not None and score >= self.score:
            return False
        self.score, self.step, self.capture = float(score), int(step), capture()
        return True

    def forget_after(self, step: int) -> None:
        """Drop a best kept after ``step`` (the run went back before it)."""
        if self.step is not None and self.step > step:
            self.score, self.step, self.capture = math.inf, None, None

    def summary(self) -> dict[str, Any]:
        """``{"metric", "score", "step"}`` (score None before any), for a page or JSON."""
        return {"metric": self.metric, "score": None if self.step is None else self.score, "step": self.step}

    def copy(self) -> BestWeights:
        twin = BestWeights(self.metric)
        twin.score, twin.step, twin.capture = (
            self.score,
            self.step,
            self.capture,
        )  # captures are never changed
        return twin


class BestKeeping:
    """Mixin of :class:`~rnn_core.trainer.Trainer`: early stopping and going back to the best
    weights (needs ``best``, ``step_count``, ``train_config``, ``evaluate`` and ``_back_to``)."""

    best: BestWeights
    step_count: int
    train_config: Any

    def early_stop_due(self, since: int = 0) -> bool:
        """Whether ``patience`` steps have passed without a better validation score, and as many
        since step ``since`` (where training was last started, so that Start goes on for another
        patience); on every :data:`~rnn_core.best.CHECK_EVERY`-th step it evaluates the
        validation split first. False without a patience (then it never evaluates)."""
        patience = self.train_config.patience
        if patience is None:
            return False
        if self.step_count % CHECK_EVERY == 0 and self.best.step != self.step_count:
            self.evaluate(train=False)
        return self.best.step is not None and self.step_count - max(self.best.step, since) >= patience

    @property
    def best_summary(self) -> dict[str, Any]:
        """The best validation score so far: ``{"metric", "score", "step"}`` (None before any)."""
        return self.best.summary()

    def restore_best(self) -> int:
        """Return to the state of the best validation score so far (weights, optimizer state,
        generator, batch position, step count, history up to it); the settings stay."""
        snap = self.best.capture
        if snap is None:
            raise PlaygroundError("no validation score has been kept yet: train and evaluate first")
        return self._back_to(snap)
