"""Per-session state: the data, the trainer, the run mode, and the requests buttons leave.

Everything per-user lives in ``st.session_state`` (never in ``st.cache_resource``), so every
browser session has its own data, model and history, and switching pages loses nothing.

Buttons do not act: their ``on_click`` callbacks only flip flags here (``running``,
``pending_steps``, ``want_reset``, ``want_data``, ``want_model``). :func:`apply_requests`, called
by ``app.py`` at the start of every full run, carries out the slow ones with the load boundary
of :func:`dashboard.datasource.guarded`: a failure leaves the previous data and model in place
and becomes a message.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from dashboard import controls, datasource
from dashboard.controls import Hyperparams
from dashboard.datasource import DataSpec
from rnn_core.trainer import Trainer

RUN_EVERY = 0.1
"""Seconds between fragment reruns while training: shorter than one tick, so the browser asks
again as soon as the server is free and the training budget sets the pace."""

STATUS_SLOT = "_status_slot"
LIVE_DRAWN = "_live_drawn"

DEFAULT_SPEC = datasource.sine_spec(controls.SineSettings().kwargs())
"""The landing page's data: the tutorials' sine task, spelled as the Data page's widgets spell it."""


def _ss() -> MutableMapping[str, Any]:
    return st.session_state


def init() -> None:
    """Seed defaults once per session and keep widget values across page switches.

    Re-assigning a widget's key at the top of every run is Streamlit's documented way to stop
    it from discarding the value of a widget that the current page does not draw.
    """
    ss = _ss()
    for key, value in controls.WIDGET_DEFAULTS.items():
        if key not in ss:
            ss[key] = value
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(controls.PERSISTENT_PREFIXES):
            ss[key] = ss[key]
    defaults: dict[str, Any] = {
        "data_spec": DEFAULT_SPEC,
        "dataset": None,
        "trainer": None,
        "built_hp": None,
        "running": False,
        "pending_steps": 0,
        "want_reset": False,
        "want_data": None,
        "want_model": None,
        "flash": [],
        "diverged": None,
        "rate_log": [],
        "last_rate": None,
        "last_eval": None,
        "last_eval_time": 0.0,
        "eval_seconds": 0.0,
        "memo": {},
        "csv": None,
        "text_upload": None,
    }
    for key, value in defaults.items():
        if key not in ss:
            ss[key] = value
    ss[STATUS_SLOT] = None
    ss[LIVE_DRAWN] = False


# --------------------------------------------------------------------------------- accessors


def trainer() -> Trainer | None:
    return _ss().get("trainer")


def dataset():
    return _ss().get("dataset")


def data_spec() -> DataSpec:
    return _ss()["data_spec"]


def hyperparams() -> Hyperparams:
    """The settings currently in the widgets (drawn on this page or not)."""
    return controls.hyperparams_from_state(_ss())


def built_hyperparams() -> Hyperparams | None:
    return _ss().get("built_hp")


def is_running() -> bool:
    return bool(_ss().get("running"))


def run_every() -> float | None:
    """Fragment interval: ticking while running or while Step ×N has steps left, else None."""
    ss = _ss()
    return RUN_EVERY if ss.get("running") or ss.get("pending_steps", 0) > 0 else None


def flash(level: str, text: str) -> None:
    """Queue a message shown once at the top of the next page drawn (level: error/warning/success/info)."""
    _ss()["flash"].append((level, text))


def take_flash() -> list[tuple[str, str]]:
    ss = _ss()
    out, ss["flash"] = ss["flash"], []
    return out


def register_status_slot(container) -> None:
    """app.py hands the sidebar container for the status to the training fragment."""
    _ss()[STATUS_SLOT] = container


def status_slot():
    return _ss().get(STATUS_SLOT)


def mark_live_drawn() -> bool:
    """Record that the training fragment was drawn in this run; True if it already was."""
    ss = _ss()
    drawn, ss[LIVE_DRAWN] = bool(ss.get(LIVE_DRAWN)), True
    return drawn


def memo(name: str, key: tuple, fn):
    """The latest value of ``fn()`` for ``name``, recomputed only when ``key`` changes.

    Charts are redrawn on every refresh, but their data only changes when the model does.
    """
    cache = _ss()["memo"]
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = fn()
    cache[name] = (key, value)
    return value


def model_version() -> tuple:
    """Changes whenever the weights may have changed (new trainer or a new step)."""
    tr = trainer()
    return (id(tr), tr.step_count if tr is not None else -1)


# ------------------------------------------------------------------- callbacks (flags only)


def start() -> None:
    ss = _ss()
    ss["running"] = True
    ss["rate_log"] = []  # the rate shown is measured from here, not across the pause
    ss["diverged"] = None  # going on from the last finite weights; a new blow-up says so again


def pause() -> None:
    ss = _ss()
    ss["running"] = False
    ss["pending_steps"] = 0


def step(n: int = 1) -> None:
    ss = _ss()
    ss["pending_steps"] = int(ss.get("pending_steps", 0)) + max(int(n), 0)


def step_n() -> None:
    step(int(_ss().get("live_step_n", 1)))


def request_reset() -> None:
    ss = _ss()
    ss["running"] = False
    ss["pending_steps"] = 0
    ss["want_reset"] = True


def request_data(spec: DataSpec) -> None:
    ss = _ss()
    ss["running"] = False
    ss["pending_steps"] = 0
    ss["want_data"] = spec


def request_model(name: str, content: bytes) -> None:
    ss = _ss()
    ss["running"] = False
    ss["pending_steps"] = 0
    ss["want_model"] = (name, content)


def apply_preset() -> None:
    """Copy the chosen preset into the hyperparameter widgets (they apply on Reset)."""
    ss = _ss()
    for name, value in controls.preset_values(ss["hp_preset"]).items():
        ss[controls.hp_key(name)] = value


# ----------------------------------------------------------------------------- doing things


def _forget_run() -> None:
    ss = _ss()
    ss["diverged"] = None
    ss["rate_log"] = []
    ss["last_rate"] = None
    ss["last_eval"] = None
    ss["last_eval_time"] = 0.0
    ss["memo"] = {}


def build_trainer(hp: Hyperparams) -> str | None:
    """Replace the trainer by a fresh one built from ``hp`` on the current data.

    Rebuilds the dataset first when the window length changed. Returns an error message (and
    changes nothing) when the settings or the data do not fit.
    """
    ss = _ss()
    spec = data_spec()
    ds = ss.get("dataset")

    def make():
        d = ds if ds is not None and int(ds.seq_len) == int(hp.window) else spec.build(hp.window)
        return d, Trainer.create(d, **hp.model_kwargs(), train=hp.train_config())

    result, err = datasource.guarded("build the model", make)
    if err is not None:
        return err
    ss["dataset"], ss["trainer"] = result
    ss["built_hp"] = hp
    _forget_run()
    return None


def _set_widgets_from(hp: Hyperparams) -> None:
    ss = _ss()
    for f in dataclasses.fields(hp):
        ss[controls.hp_key(f.name)] = getattr(hp, f.name)


def _apply_data(spec: DataSpec) -> None:
    ss = _ss()
    hp = hyperparams()
    ds, err = datasource.guarded("load the data", lambda: spec.build(hp.window))
    if err is not None:
        flash("error", f"The data was not changed: {err}")
        return
    old = (ss.get("data_spec"), ss.get("dataset"), ss.get("trainer"), ss.get("built_hp"))
    had_steps = ss.get("trainer") is not None and ss["trainer"].step_count > 0
    ss["data_spec"], ss["dataset"] = spec, ds
    err = build_trainer(hp)
    if err is not None:
        ss["data_spec"], ss["dataset"], ss["trainer"], ss["built_hp"] = old
        flash("error", f"The data was not changed: {err}")
        return
    reset_note = " The model was reset to fit it." if had_steps else ""
    flash("success", f"Now using {spec.label}.{reset_note}")


def _apply_model(name: str, content: bytes) -> None:
    ss = _ss()
    ds = ss.get("dataset")
    tr, err = datasource.guarded("load the model", lambda: Trainer.load(content, ds))
    if err is not None:
        flash("error", f"{name} was not loaded, the current model is unchanged: {err}")
        return
    hp = controls.hyperparams_from_configs(tr.config, tr.train_config, int(ds.seq_len))
    ss["trainer"], ss["built_hp"] = tr, hp
    _set_widgets_from(hp)
    _forget_run()
    flash("success", f"Loaded {name}: {load_note(tr)}{lr_note(tr.train_config.lr, hp.lr)}")


def lr_note(saved: float, shown: float) -> str:
    """Says so when a loaded model's learning rate is not one of the slider's choices."""
    if math.isclose(saved, shown, rel_tol=1e-9):
        return ""
    return (
        f" Its learning rate {saved:g} is not on the slider, so it is shown as {shown:g}, the nearest "
        f"choice; training goes on at {saved:g} until you move the slider (Reset uses the slider's value)."
    )


def load_note(tr: Trainer) -> str:
    """What a user gets after loading a model file: the model, where the steps go on, what is new."""
    what = f"{tr.config.cell.upper()} with {tr.config.hidden_size} units"
    steps = (
        f"saved after {tr.step_count:,} steps; training goes on from step {tr.step_count:,}"
        if tr.step_count
        else "no step count saved; training counts from 0"
    )
    kept = OPTIMIZER_STATE.get(tr.train_config.optimizer)
    fresh = (
        f"The file holds the weights, not the optimizer state: {kept} start again, so the first "
        "steps may jolt the loss. The loss history and epoch count start fresh too."
        if kept
        else "The loss history and epoch count start fresh (plain SGD keeps no other state)."
    )
    return f"{what}, {steps}. {fresh} Press Start to go on training."


OPTIMIZER_STATE = {
    "adam": "Adam's running averages of the gradients",
    "momentum": "the momentum buffers",
    "adagrad": "Adagrad's sums of squared gradients",
    "rmsprop": "RMSprop's running averages of squared gradients",
}
"""What each optimizer keeps between steps that a model file does not hold (plain SGD: nothing)."""


def sync_live_settings() -> None:
    """Apply a changed learning rate or clipping to the running trainer (shapes stay the same)."""
    ss = _ss()
    tr, built = ss.get("trainer"), ss.get("built_hp")
    if tr is None or built is None:
        return
    hp = hyperparams()
    if not hp.live_changes(built):
        return
    clip_norm, clip_value = hp.clipping
    _, err = datasource.guarded(
        "change the settings", lambda: (tr.set_lr(hp.lr), tr.set_clipping(clip_norm, clip_value))
    )
    if err is not None:
        flash("error", err)
        return
    ss["built_hp"] = dataclasses.replace(
        built, **{name: getattr(hp, name) for name in Hyperparams.LIVE_FIELDS}
    )


def apply_requests() -> None:
    """Carry out what buttons asked for since the last run; make sure a trainer exists."""
    ss = _ss()
    spec, ss["want_data"] = ss.get("want_data"), None
    if spec is not None:
        _apply_data(spec)
    model, ss["want_model"] = ss.get("want_model"), None
    if model is not None and ss.get("dataset") is not None:
        _apply_model(*model)
    reset, ss["want_reset"] = ss.get("want_reset"), False
    if reset or ss.get("trainer") is None:
        err = build_trainer(hyperparams())
        if err is not None:
            if ss.get("trainer") is None:
                # Nothing to keep: fall back to the defaults on the default data.
                ss["data_spec"], ss["dataset"] = DEFAULT_SPEC, None
                build_trainer(controls.DEFAULTS)
            flash("error", f"The model was not reset: {err}")
    sync_live_settings()


# ------------------------------------------------------------------------------- throughput


def log_rate(step_count: int) -> None:
    """Remember (time, step) of this tick; the last few seconds give the steps/s shown."""
    ss = _ss()
    now = time.perf_counter()
    log = [(t, s) for t, s in ss["rate_log"] if now - t < 3.0]
    log.append((now, step_count))
    ss["rate_log"] = log
    if ss.get("running"):
        rate = _rate(log)
        if rate is not None:
            ss["last_rate"] = rate


def _rate(log: list[tuple[float, int]]) -> float | None:
    if len(log) < 2:
        return None
    (t0, s0), (t1, s1) = log[0], log[-1]
    return (s1 - s0) / (t1 - t0) if t1 > t0 else None


def steps_per_second() -> tuple[float | None, bool]:
    """``(rate, running)``: while running, the rate over the last seconds; paused (or before
    the first measurement of a run), the last rate measured; ``None`` if none since the build.
    """
    ss = _ss()
    running = bool(ss.get("running"))
    rate = _rate(ss["rate_log"]) if running else None
    return (rate if rate is not None else ss.get("last_rate")), running
