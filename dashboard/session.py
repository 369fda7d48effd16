"""The typed session: everything one browser session holds, in one object.

``st.session_state`` holds a single :class:`Session` under :data:`SESSION_KEY`, plus the widget
keys that Streamlit itself needs. This module is the only place that touches
``st.session_state``: other modules ask for :func:`get` and read or change typed fields, and
bind widgets through :func:`bind`, which spells every widget key.

Settings live in the session object, never only in widget keys: Streamlit drops the state of a
widget that a run does not draw (another page, a fragment rerun), so every widget is re-seeded
from the session right before it is drawn, and its ``on_change`` writes the new value back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import streamlit as st

from dashboard.lessons import LESSONS
from rnn_core.config import RunSettings, SineSettings
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA

SESSION_KEY = "rnn_playground"
RUN_EVERY = 0.4
"""Seconds between fragment reruns while training, alone on the server: over two refreshes a
second, each drawing what the worker trained meanwhile (training does not wait for them)."""


@dataclass
class View:
    """Choices that shape what the pages show, not the experiment (one field per widget)."""

    data_kind: str = "sine"
    sine_preset: str = "clean sine"
    csv_target: str = ""
    csv_inputs: tuple[str, ...] = ()
    csv_missing: str = "interpolate"
    csv_val: float = 0.2
    csv_test: float = 0.15
    csv_transform: str = "none"
    text_source: str = "sample"
    text_sample: str = ""
    text_pasted: str = ""
    text_lower: bool = False
    text_val: float = 0.1
    text_vocab: int = 0
    preset: str = "default"
    speed: str = "max"
    step_n: int = 100
    split: str = "val"
    window: int = 0
    layer: int = 0
    inside: str = "hidden state"
    horizon: int = 50
    fc_horizon: int = 12
    fc_level: float = 0.8
    fc_season: int = 0  # 0: the season detected on the training rows
    fc_metric: str = "mase"
    bt_folds: int = 5
    bt_steps: int = 500
    bt_mode: str = "expanding"
    temperature: float = 0.8
    sample_length: int = 300
    prime: str = ""
    prefix: str = ""
    top_k: int = 10
    time_views: bool = False
    rewind: int = -1  # the kept step the Train page shows (-1: the run as it is now)
    neuron: int = -1  # the text-neurons view's unit; -1: the one that tracks a feature best
    # Slow motion (Model page): the validation window, the step shown (an index into the steps
    # traced), the pass, a text scored on its last character only, and whether Play runs.
    sm_window: int = 0
    sm_t: int = 0
    sm_phase: str = "forward"
    sm_last_only: bool = False
    sm_playing: bool = False
    sweep_setting_1: str = "cell"
    sweep_values_1: str = "rnn, lstm"
    sweep_setting_2: str = "—"
    sweep_values_2: str = ""
    sweep_setting_3: str = "—"
    sweep_values_3: str = ""
    sweep_seeds: int = 2
    sweep_steps: int = 500
    memory_task: str = "echo"
    memory_lag: int = 30
    memory_windows: int = 2500
    memory_seed: int = 0
    compare_count: int = 2
    compare_setting_2: str = "cell"
    compare_value_2: str = "lstm"
    compare_setting_3: str = "seed"
    compare_value_3: str = "1"
    compare_setting_4: str = "lr"
    compare_value_4: str = "0.01"
    lesson: str = ""  # the lesson open (dashboard.lessons), or ""
    present: bool = False  # presentation mode: larger type, thicker lines, the lesson's controls only


@dataclass
class Upload:
    """The last usable file of an uploader, and the error of the last file that was not."""

    name: str = ""
    digest: str = ""
    content: Any = None
    error: str = ""


@dataclass
class RunState:
    """Whether training moves: ``paused``, ``running`` or ``stepping`` (Step ×N with steps left)."""

    mode: str = "paused"
    pending_steps: int = 0
    rate_log: list[tuple[float, int]] = field(default_factory=list)
    last_rate: float | None = None

    @property
    def moving(self) -> bool:
        return self.mode != "paused"

    def set_mode(self, mode: str, pending: int = 0) -> None:
        self.mode = mode
        self.pending_steps = pending if mode == "stepping" else 0

    def log_rate(self, step_count: int) -> None:
        """Remember (time, step) of this tick; the last few seconds give the steps/s shown."""
        now = time.perf_counter()
        log = [(t, s) for t, s in self.rate_log if now - t < 3.0]
        log.append((now, step_count))
        self.rate_log = log
        if self.mode == "running":
            rate = _rate(log)
            if rate is not None:
                self.last_rate = rate

    def steps_per_second(self) -> tuple[float | None, bool]:
        """``(rate, running)``: while running, the rate over the last seconds; paused, the last
        rate measured; ``None`` if none since the build."""
        running = self.mode == "running"
        rate = _rate(self.rate_log) if running else None
        return (rate if rate is not None else self.last_rate), running


MIN_STEPS_COSTED = 10
"""Steps a run's CPU time per step is averaged over before it is used."""


@dataclass
class Run:
    """One trainer with what the pages remember about it (its evaluations, figures, sample)."""

    trainer: Any
    built: RunSettings
    last_eval: dict | None = None
    last_eval_time: float = 0.0
    eval_seconds: float = 0.0
    step_cost: tuple[float, float] = (0.0, 0.0)  # recent answers' (CPU seconds, steps), decayed
    memo: dict[str, Any] = field(default_factory=dict)
    sample: tuple[str | None, str | None] | None = None
    divergence: dict | None = None
    early_stop: dict | None = None  # where a patience stopped training, and the best score then
    branches: list = field(default_factory=list)  # (steps, losses) of futures left by a rewind

    @property
    def step_seconds(self) -> float:
        """The worker's CPU seconds per step over the recent answers (0 until it has seen a
        few steps): answers weigh by their steps, so a first answer of one step weighs little."""
        busy, taken = self.step_cost
        return busy / taken if taken >= MIN_STEPS_COSTED else 0.0

    @property
    def version(self) -> tuple:
        """Changes whenever the weights may have changed (a new trainer or a new step)."""
        return (id(self.trainer), self.trainer.step_count)


COMPARE_RUNS = 4
"""Most runs the Compare page trains side by side."""


@dataclass
class Lane:
    """One run of the Compare page: its own run state (a run that diverges pauses alone), what
    its settings change from the first run's, and its run (None once promoted to Train)."""

    name: str
    change: dict[str, Any]
    run: Run | None
    state: RunState = field(default_factory=RunState)


@dataclass
class Comparison:
    """The Compare page's runs, built together on one dataset from one set of settings."""

    base: RunSettings
    data_label: str
    data_spec: Any
    lanes: list[Lane] = field(default_factory=list)

    @property
    def live(self) -> list[Lane]:
        """The lanes that still have their run."""
        return [lane for lane in self.lanes if lane.run is not None]

    @property
    def moving(self) -> bool:
        return any(lane.state.moving for lane in self.live)


@dataclass
class Requests:
    """What buttons asked for; carried out at the start of the next full run."""

    reset: bool = False
    data: Any = None
    model: tuple[str, bytes] | None = None
    roll_back: bool = False
    advice: dict | None = None
    restore_best: bool = False
    continue_from: int | None = None  # the kept step to go back to and train on from
    compare_reset: bool | str = False  # "start": build the runs, then start them
    promote: int | None = None  # the Compare lane to move to the Train page

    @property
    def pending(self) -> bool:
        """Whether a button asked for something only a full script run carries out."""
        return bool(self.reset or self.data is not None or self.model is not None or self.roll_back
                    or self.restore_best or self.continue_from is not None or self.compare_reset
                    or self.promote is not None)  # fmt: skip


@dataclass
class Session:
    settings: RunSettings = field(default_factory=RunSettings)
    sine: SineSettings = field(default_factory=SineSettings)
    view: View = field(default_factory=View)
    data_spec: Any = None
    candidates: dict[str, Any] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    state: RunState = field(default_factory=RunState)
    requests: Requests = field(default_factory=Requests)
    csv: Upload = field(default_factory=Upload)
    text: Upload = field(default_factory=Upload)
    sweep: Any = None  # the rnn_core.sweep.SweepJob started on the Compare page
    sweep_ended: bool = False  # its end was drawn (and the page rerun to stop polling)
    comparison: Comparison | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)
    test_report: dict | None = None  # the last "Score on test" and the run and settings it scored
    test_used: Any = None  # the data spec whose test period has been scored
    backtest: Any = None  # the rnn_core.forecasting.backtest.BacktestJob started on the Predict page
    backtest_ended: bool = False  # its end was drawn (and the page rerun to stop polling)
    status_slot: Any = None
    live_drawn: bool = False
    link_read: bool = False  # the URL's link was applied (on the session's first run)

    # ------------------------------------------------------------------ derived

    @property
    def run(self) -> Run | None:
        """The run the Train, Predict and Model pages show (the first)."""
        return self.runs[0] if self.runs else None

    @property
    def trainer(self):
        return self.runs[0].trainer if self.runs else None

    @property
    def dataset(self):
        return self.runs[0].trainer.dataset if self.runs else None

    def run_every(self) -> float | None:
        """Fragment interval: ticking while training moves, else None."""
        return RUN_EVERY if self.state.moving else None

    # ------------------------------------------------------------------ messages

    def flash(self, level: str, text: str) -> None:
        """Queue a message shown once at the top of the next page drawn (error/warning/success/info)."""
        self.flashes.append((level, text))

    def take_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out

    # ------------------------------------------------------------------ run state

    def set_mode(self, mode: str, pending: int = 0) -> None:
        self.state.set_mode(mode, pending)

    def log_rate(self, step_count: int) -> None:
        self.state.log_rate(step_count)

    def steps_per_second(self) -> tuple[float | None, bool]:
        return self.state.steps_per_second()

    # ------------------------------------------------------------------ values by name

    def value(self, name: str) -> Any:
        """The current value of a setting (schema name) or of a view choice (View field)."""
        return getattr(self._holder(name), name)

    def set_value(self, name: str, value: Any) -> None:
        holder = self._holder(name)
        new = replace(holder, **{name: value})  # settings check the value here
        if isinstance(holder, View):
            self.view = new
        elif isinstance(holder, SineSettings):
            self.sine = new
        else:
            self.settings = new

    def _holder(self, name: str):
        if name in SCHEMA:
            return self.sine if SCHEMA[name].group == "sine" else self.settings
        if name in _VIEW_FIELDS:
            return self.view
        raise KeyError(f"no setting or view choice named {name!r}")


_VIEW_FIELDS = {f.name for f in fields(View)}


def _rate(log: list[tuple[float, int]]) -> float | None:
    if len(log) < 2:
        return None
    (t0, s0), (t1, s1) = log[0], log[-1]
    return (s1 - s0) / (t1 - t0) if t1 > t0 else None


def get() -> Session:
    """This browser session's :class:`Session` (created on first use)."""
    ss = st.session_state
    if SESSION_KEY not in ss:
        ss[SESSION_KEY] = Session()
    return ss[SESSION_KEY]


# ---------------------------------------------------------------------------------- widgets


def key(name: str) -> str:
    """The widget key of a setting or view choice."""
    return f"w.{name}"


BUTTON_KEYS = (
    "start", "pause", "step", "step_n", "reset", "roll_back", "roll_back_advised", "restore_best",
    "continue_from", "rewind_now", "gradient_check", "slow_motion", "slow_motion_play",
    "slow_motion_back", "slow_motion_next", "preset", "sample", "score_test", "backtest",
    "backtest_cancel", "backtest_csv", "predictions_csv", "forecast_csv", "horizon_csv", "use_data",
    "sweep", "sweep_cancel", "sweep_csv", "compare_start", "compare_pause", "compare_step",
    "compare_reset", "lesson_leave",
    *(f"compare_promote_{k}" for k in range(1, COMPARE_RUNS + 1)),
    *(f"lesson_{name}" for name in LESSONS),
)  # fmt: skip


def button_key(name: str) -> str:
    if name not in BUTTON_KEYS:
        raise KeyError(name)
    return f"b.{name}"


UPLOADERS = ("csv_file", "text_file", "model_file")


def uploaded(name: str):
    """The file an uploader holds now (``None`` if none)."""
    if name not in UPLOADERS:
        raise KeyError(name)
    return st.session_state.get(f"u.{name}")


def uploader_key(name: str) -> str:
    if name not in UPLOADERS:
        raise KeyError(name)
    return f"u.{name}"


def bind(
    name: str,
    *,
    to_widget: Callable[[Any], Any] = lambda v: v,
    from_widget: Callable[[Any], Any] = lambda v: v,
    after: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """``key`` and ``on_change`` for the widget of ``name``; call right before drawing it.

    Seeds the widget from the session (Streamlit may have dropped its state while it was not
    drawn); its changes go back to the session, checked by the schema: a value the schema
    refuses leaves the setting as it was and says why.
    """
    s = get()
    k = key(name)
    shown = to_widget(s.value(name))
    ss = st.session_state
    if k not in ss or ss[k] != shown:
        ss[k] = shown

    def changed() -> None:
        sess = get()
        try:
            sess.set_value(name, from_widget(st.session_state[k]))
        except PlaygroundError as exc:
            sess.flash("error", f"That value was not used: {exc}")
            st.session_state[k] = to_widget(sess.value(name))
            return
        if after is not None:
            after()

    return {"key": k, "on_change": changed}


def widget_value(name: str) -> Any:
    """What a bound widget holds right now (inside its own callback, before the session has it)."""
    return st.session_state.get(key(name))
