"""The lessons: one click (or one link, ``?lesson=<id>``) loads a lesson's data and settings, shows
what to do and what to watch, and in presentation mode only the controls the lesson needs.

A :class:`Lesson` names its data as link parameters (:mod:`dashboard.links` reads them, so a
lesson's data is whatever a link can carry), its settings as a preset of
:data:`rnn_core.settings.PRESETS` plus changes, checked by the schema when this module loads,
and the settings it shows (``controls``, schema names). The figures in the texts are what the
command line printed for the same settings and seeds (``python -m rnn_core train``); a
browser's run takes the same steps, so it reaches the same numbers at the same step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rnn_core.errors import PlaygroundError
from rnn_core.settings import PRESETS, SCHEMA, check_values


@dataclass(frozen=True)
class Lesson:
    """One lesson: ``data`` as link parameters (``{"data": "adding"}``; ``{}`` for the default
    sine), the settings (``preset`` plus ``changes``), the settings shown in presentation mode
    (``controls``), view choices it opens with (``view``: ``{"time_views": True}``), the page
    it opens on (a URL path, "" for Train) and its text (Markdown, two or three sentences)."""

    id: str
    title: str
    text: str
    data: Mapping[str, str] = field(default_factory=dict)
    preset: str = "default"
    changes: Mapping[str, Any] = field(default_factory=dict)
    controls: tuple[str, ...] = ()
    view: Mapping[str, Any] = field(default_factory=dict)
    page: str = ""

    @property
    def values(self) -> dict[str, Any]:
        """The lesson's settings that differ from the schema's defaults (preset, then changes)."""
        return {**PRESETS[self.preset].values, **self.changes}


_LESSONS = (
    Lesson(
        "tutorial",
        "Why the tutorials' settings fail",
        "The popular from-scratch tutorials' settings: sigmoid units, weights drawn from U(0, 1), "
        "SGD at 1e-4 on one window at a time. Press **Start**: the validation RMSE falls only as "
        "far as the mean baseline (0.71 after 2,500 steps), because all-positive weights saturate "
        "every sigmoid; set **Initialisation** to xavier, **Optimizer** to adam and **Learning "
        "rate** to 0.003, press **Reset** and **Start**, and it reaches 0.012. Their backward pass "
        "is wrong too, adding W·h_prev where backpropagation through time sums the error times "
        "h_prev: the **Model** page's gradient check finds it off by a relative error of 1.0, "
        "against 4e-12 here.",
        preset="tutorial",
        controls=("init", "nonlinearity", "optimizer", "lr"),
    ),
    Lesson(
        "exploding",
        "Exploding gradients and what clipping does",
        "Plain SGD at learning rate 3 on ReLU units, with no clipping. Press **Start**: the gradient "
        "norm shoots up and training diverges at the second step. Set **Clip norm** to 1, press "
        "**Reset** and **Start**: no update is longer than 3 now and the run stays finite, yet its "
        "RMSE after 300 steps (1.08) is worse than persistence (0.68); clipping caps the step, it "
        "does not choose it, so lower the **Learning rate** to 0.1 as well (0.004 after 500 steps).",
        preset="blowup",
        controls=("clip_norm", "lr"),
    ),
    Lesson(
        "vanishing",
        "Vanishing gradients: RNN against LSTM",
        "The adding problem: two of the 60 inputs are marked, and the target, read at the last step, "
        "is the sum of the two marked values. Press **Start** and watch **Gradient through time** "
        "below: the tanh RNN's gradient fades on its way back to the first marker, and its RMSE "
        "stalls at 0.24 after 2,000 steps (always answering 1 scores 0.40). Set **Cell** to LSTM and "
        "press **Reset**, **Start**: its cell state carries the first value across (0.023 after "
        "2,000 steps).",
        data={"data": "adding"},
        preset="vanishing",
        controls=("cell",),
        view={"time_views": True},
    ),
    Lesson(
        "learning-rate",
        "The learning rate's sweet spot",
        "Adam on the sine with a constant learning rate of 1e-5: press **Start** and the loss "
        "creeps. Set other values of **Learning rate**, each time **Reset** and **Start**, and read "
        "the validation RMSE as the step count passes 200: 0.35 at 1e-5, 0.025 at 1e-4, 0.0016 at "
        "0.003, 0.036 at 0.03 and 0.63 at 0.1, no better than persistence (0.68). Too small a step "
        "crawls, too large a step jumps across the valley; in between lies a wide sweet spot.",
        changes={"lr": 1e-5, "lr_schedule": "constant"},
        controls=("lr",),
    ),
    Lesson(
        "persistence",
        "Does the network beat persistence on a real-looking series?",
        "A series made like monthly sales: a 12-step season, a slow cycle, a trend and noise "
        "(generated, so that a link can carry it). Press **Start** and watch the Validation RMSE tile "
        "against persistence, which says the next value is this one (0.62): the default RNN is at "
        "0.44 by step 500. A linear autoregression on the same windows scores 0.41, so the network "
        "beats the naive answer but not the linear one; the **Predict** page shows the errors by "
        "horizon, and the **Data** page takes a CSV of your own to try a real series.",
        data={
            "sine_length": "300",
            "sine_frequency": "0.5236",
            "sine_amplitude2": "0.5",
            "sine_frequency2": "0.08",
            "sine_noise": "0.3",
            "sine_trend": "0.005",
        },
        controls=("hidden_size", "seq_len"),
    ),
    Lesson(
        "words",
        "A character model learning words",
        "Made-up English sentences from a small grammar, read one character at a time by a 128-unit "
        "LSTM. Press **Start** and read the line it samples: random letters at first, word-like "
        'clumps by step 150, real words and short sentences by step 300 ("My train laughs."). '
        "Meanwhile the bits per character fall from 5.3 to about 1, far below the unigram baseline "
        "(4.4), which knows only how common each letter is.",
        data={"data": "text", "text": "grammar"},
        preset="char",
        controls=("hidden_size", "lr"),
    ),
)

LESSONS: dict[str, Lesson] = {lesson.id: lesson for lesson in _LESSONS}
"""Every lesson by id, in the order the picker lists them."""

PRESENT_CONTROLS = ("start", "pause", "step", "reset")
"""The run buttons shown in presentation mode (the :data:`dashboard.session.BUTTON_KEYS` names)."""


def check(lesson: Lesson) -> None:
    """Raise PlaygroundError when a lesson names an unknown preset, setting or value."""
    where = f" in lesson {lesson.id!r}"
    if lesson.preset not in PRESETS:
        raise PlaygroundError(f"unknown preset {lesson.preset!r}{where}; presets: {', '.join(PRESETS)}")
    check_values(lesson.values, where=where)
    unknown = [name for name in lesson.controls if name not in SCHEMA]
    if unknown:
        raise PlaygroundError(f"unknown control(s) {', '.join(unknown)}{where}")


def number(lesson_id: str) -> int:
    """The lesson's place in the list, from 1."""
    return list(LESSONS).index(lesson_id) + 1


for _lesson in _LESSONS:
    check(_lesson)
