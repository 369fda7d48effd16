"""One headless run, as ``python -m rnn_core train`` makes it: the trainer from plain settings,
the step loop with its stopping rules, and the progress bar drawn meanwhile. Sweeps and
backtests train each of their runs the same way."""

from __future__ import annotations

import math
import time
from typing import Any, TextIO

from rnn_core.best import CHECK_EVERY
from rnn_core.config import RunSettings
from rnn_core.settings import defaults

DEFAULTS: dict[str, Any] = defaults("model", "data", "train")


class Progress:
    """A one-line progress bar redrawn at most ten times a second on ``stream``."""

    def __init__(self, total: int, stream: TextIO, enabled: bool = True, width: int = 28) -> None:
        self.total, self.stream, self.enabled, self.width = total, stream, enabled and total > 0, width
        self._last = 0.0
        self._t0 = time.perf_counter()

    def update(self, done: int, loss: float, force: bool = False) -> None:
        """A training run's bar: steps done, the last loss and the rate."""
        rate = done / max(time.perf_counter() - self._t0, 1e-9)
        self.show(done, f"loss {loss:.4g} {rate:.0f} steps/s", force)

    def show(self, done: int, text: str, force: bool = False) -> None:
        """Redraw the bar at ``done`` of the total, followed by ``text``."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        filled = round(done / self.total * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total} {text}")
        self.stream.flush()

    def seconds(self) -> float:
        return time.perf_counter() - self._t0

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def make_trainer(dataset: Any, settings: dict[str, Any] | None = None) -> Any:
    """A :class:`~rnn_core.trainer.Trainer` for ``dataset`` with schema settings.

    ``settings`` uses the schema's names (missing ones take the defaults), so
    ``make_trainer(ds)`` is exactly the model ``python -m rnn_core train`` would train.
    """
    from rnn_core.trainer import Trainer

    run = RunSettings(**{**DEFAULTS, **(settings or {})})
    return Trainer(dataset, run.model_config(), run.train_config())


def fit(trainer: Any, progress: Progress | None = None, *, keep_best: bool = False) -> tuple[int, float]:
    """Train for the trainer's ``steps`` setting (the schedule runs inside the trainer), stopping
    early on divergence or after the ``patience`` setting; ``keep_best`` scores the validation
    split every :data:`~rnn_core.best.CHECK_EVERY` steps and ends on the best weights. Returns
    (steps taken, seconds spent in the step loop)."""
    steps = int(trainer.train_config.steps)
    loss = math.nan
    t0 = time.perf_counter()
    while trainer.step_count < steps:
        m = trainer.step()
        loss = m["loss"]
        if progress is not None:
            progress.update(trainer.step_count, loss)
        if m["diverged"] or trainer.early_stop_due():
            break
        if keep_best and trainer.step_count % CHECK_EVERY == 0:
            trainer.evaluate(train=False)
    taken = trainer.step_count
    if keep_best and not trainer.diverged:
        trainer.evaluate(train=False)
        if trainer.best.step is not None and trainer.best.step != trainer.step_count:
            trainer.restore_best()
    seconds = time.perf_counter() - t0
    if progress is not None:
        progress.update(taken, loss, force=True)
        progress.close()
    return taken, seconds
