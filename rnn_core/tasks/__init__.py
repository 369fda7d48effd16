"""Tasks: what a trainer learns from a dataset, chosen by the dataset's ``kind``.

- :class:`~rnn_core.tasks.series.SeriesTask`: a numeric series (sine, CSV), window -> next value.
- :class:`~rnn_core.tasks.text.TextTask`: a text, characters -> next character.

:func:`make_task` picks the task for a dataset; :mod:`rnn_core.tasks.operations` passes the
operations only some tasks have (``forecast``, ``sample``, ...) through to the current one.
"""

from __future__ import annotations

from typing import Any

from rnn_core.errors import PlaygroundError
from rnn_core.tasks.base import Batch, Task
from rnn_core.tasks.series import SeriesTask
from rnn_core.tasks.text import TextTask

__all__ = ["TASKS", "Batch", "SeriesTask", "Task", "TextTask", "make_task"]

TASKS: dict[str, type] = {"regression": SeriesTask, "text": TextTask}
"""Task class by dataset ``kind`` (a dataset without one is a regression series)."""


def make_task(dataset: Any, *, batch_size: int, text_mode: str = "stream", dtype: Any = "float64") -> Task:
    """The task for ``dataset``, drawing ``batch_size`` samples per minibatch.

    ``text_mode`` is used by text, ``dtype`` (the model's) by series.
    """
    kind = getattr(dataset, "kind", "regression")
    if kind not in TASKS:
        raise PlaygroundError(f"no task for data of kind {kind!r}; kinds: {', '.join(TASKS)}")
    return TASKS[kind](dataset, batch_size=batch_size, text_mode=text_mode, dtype=dtype)
