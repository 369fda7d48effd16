"""The operations only some tasks have (a forecast, a sample, ...), offered by whoever owns a task.

:class:`TaskOperations` gives an owner of a ``task`` and a ``network`` (the trainer) one method
per such operation; each goes through :meth:`TaskOperations._delegate`, which finds the
operation on the current task by name or says which data it needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnn_core import gradcheck, slow_motion, through_time
from rnn_core.errors import PlaygroundError
from rnn_core.tasks import TASKS
from rnn_core.threads import single_thread


def operation(task: Any, name: str) -> Any:
    """``task``'s own operation ``name`` (a method taking the network first), or a
    :class:`PlaygroundError` naming the data it needs when this task has none."""
    fn = getattr(task, name, None)
    if callable(fn):
        return fn
    need = " or ".join(cls.noun for cls in TASKS.values() if callable(getattr(cls, name, None)))
    raise PlaygroundError(
        f"{name.replace('_', ' ')} needs {need or 'other data'}; the current data is {task.noun}"
    )


class TaskOperations:
    """Mixin: the task's own operations run on ``self.network`` (needs ``task``, ``network`` and,
    for sampling, ``sample_rng``)."""

    task: Any
    network: Any
    sample_rng: np.random.Generator

    @property
    def kind(self) -> str:
        """The task's kind: "series" or "text"."""
        return self.task.kind

    @property
    def is_text(self) -> bool:
        return self.task.kind == "text"

    def _delegate(self, name: str, *args: Any) -> Any:
        fn = operation(self.task, name)
        with single_thread():  # the engine's measured fastest setting, see rnn_core.threads
            return fn(self.network, *args)

    def predictions(self, split: str = "val", max_points: int | None = None) -> tuple[np.ndarray, ...]:
        """Series: one-step-ahead ``(x_axis, predicted, actual)``, each ``(B,)``, in original units
        (:meth:`rnn_core.tasks.series.SeriesTask.predictions`)."""
        return self._delegate("predictions", split, max_points)

    def forecast(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Series: closed-loop forecast ``(x_axis_future (n,), values (n,))`` in original units
        (:meth:`rnn_core.tasks.series.SeriesTask.forecast`)."""
        return self._delegate("forecast", n)

    def forecast_report(
        self, period: str = "val", horizon: int = 12, level: float = 0.8, season: int | None = None
    ) -> dict[str, Any]:
        """Series: errors by horizon next to the simple methods, with conformal intervals
        (:meth:`rnn_core.tasks.series.SeriesTask.forecast_report`)."""
        return self._delegate("forecast_report", period, horizon, level, season)

    def sample(self, n: int = 200, temperature: float = 1.0, prime: str = "", rng: Any = None) -> str:
        """Text: ``prime`` followed by ``n`` sampled characters; ``rng`` defaults to ``sample_rng``
        (:meth:`rnn_core.tasks.text.TextTask.sample`)."""
        return self._delegate("sample", self.sample_rng if rng is None else rng, n, temperature, prime)

    def next_char_probs(self, prefix: str, k: int = 10) -> list[tuple[str, float]]:
        """Text: the ``k`` most likely next characters after ``prefix`` with their probabilities
        (:meth:`rnn_core.tasks.text.TextTask.next_char_probs`)."""
        return self._delegate("next_char_probs", prefix, k)

    def internals(self, split: str = "val", index: int = 0) -> dict[str, np.ndarray]:
        """Hidden states (and LSTM/GRU gates) of one window (series) or chunk (text) of a split,
        read from a zero state, each ``(T, H)``: ``'h0'``, ``'h1'``, ...; LSTM also
        ``'c0','i0','f0','g0','o0'``, GRU ``'r0','z0','n0'``."""
        return self._delegate("internals", split, index)

    def _neurons(self, layer: int) -> dict[str, Any]:
        """Text: the first :data:`~rnn_core.through_time.NEURON_CHARS` characters of the
        validation text, the hidden states of ``layer`` over them (T, H) read from a zero state,
        and the units that best track simple character features."""
        ds = self.task.dataset
        stretch = np.asarray(ds.val_ids)[: through_time.NEURON_CHARS]
        text = ds.decode(stretch)
        with np.errstate(over="ignore", invalid="ignore"):
            _, _, cache = self.network.forward(stretch.reshape(-1, 1), None, cache=True)
        states = cache.layers[layer].hs[1:, 0].astype(np.float32)  # (T, H)
        ranking = through_time.rank_units(states, through_time.char_features(text))
        return {"text": text, "states": states, "ranking": ranking}

    def through_time(self, split: str = "val", index: int = 0, layer: int = 0) -> dict[str, Any]:
        """The through-time views on the probe (:func:`rnn_core.through_time.measure`), with
        the path of window ``index`` of ``split`` at ``layer``, and the step they belong to."""
        path = self.internals(split, index)[f"h{int(layer)}"]
        x, y = through_time.probe(self.task.dataset, self.network.config.dtype)
        with single_thread():
            found = through_time.measure(self.network, x, y, path, int(layer))
            if self.task.kind == "text":
                # The same chunk the path and the heatmap show: how much each of its characters
                # moves the prediction of the character after it.
                ds = self.task.dataset
                t = int(ds.seq_len)
                ids = np.asarray(ds.val_ids if split == "val" else ds.train_ids)[index * t : index * t + t]
                influence, predicted = through_time.character_influence(self.network, ids)
                found["influence"] = {
                    "text": ds.decode(ids),
                    "values": influence,
                    "next": ds.decode([predicted]),
                }
                found["neurons"] = self._neurons(int(layer))
        return {**found, "step": int(getattr(self, "step_count", 0))}

    def gradient_check(
        self, budget_seconds: float = 3.0, entries_per_param: int | None = None, seed: int = 0
    ) -> gradcheck.GradCheck:
        """The backward against central differences, and the tutorials' gradient beside it, on
        a few validation windows or text chunks (:func:`rnn_core.gradcheck.check`)."""
        rng = np.random.default_rng(seed)
        with single_thread():
            x, upstream = gradcheck.validation_batch(self.task, self.network)
            return gradcheck.check(
                self.network, x, upstream, rng=rng, budget_seconds=budget_seconds,
                entries_per_param=entries_per_param,
            )  # fmt: skip

    def slow_motion(self, split: str = "val", index: int = 0, last_only: bool = False) -> dict[str, Any]:
        """One window's forward and backward pass step by step, and the step they belong to
        (:func:`rnn_core.slow_motion.window_trace`)."""
        with single_thread():
            found = slow_motion.window_trace(
                self.task, self.network, split, int(index), last_only=bool(last_only)
            )
        return {**found, "step": int(getattr(self, "step_count", 0))}
