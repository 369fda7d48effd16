"""Button callbacks: each only flips state in the session; :mod:`dashboard.actions` does the work.

Pause stops a Step ×N too: both are the run state's ``mode``.
"""

from __future__ import annotations

from dashboard import session
from dashboard.sources import memory
from rnn_core.config import RunSettings
from rnn_core.settings import PRESETS, defaults


def start() -> None:
    sess = session.get()
    sess.set_mode("running")
    sess.state.rate_log = []  # the rate shown is measured from here, not across the pause
    if sess.run is not None:
        sess.run.divergence = sess.run.early_stop = None


def pause() -> None:
    session.get().set_mode("paused")


def step(n: int = 1) -> None:
    sess = session.get()
    pending = (sess.state.pending_steps if sess.state.mode == "stepping" else 0) + max(int(n), 0)
    sess.set_mode("stepping" if pending else sess.state.mode, pending)
    if sess.run is not None:
        sess.run.divergence = None


def step_n() -> None:
    step(session.get().view.step_n)


def request_reset() -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.reset = True


def request_data(spec) -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.data = spec


def on_model_upload() -> None:
    f = session.uploaded("model_file")
    if f is not None:
        sess = session.get()
        sess.set_mode("paused")
        sess.requests.model = (f.name, f.getvalue())


def request_roll_back(advice: dict | None = None) -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.roll_back = True
    sess.requests.advice = advice


def request_restore_best() -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.restore_best = True


def request_continue_from(step: int) -> None:
    sess = session.get()
    sess.set_mode("paused")
    sess.requests.continue_from = int(step)


def apply_preset() -> None:
    """Fill the settings with the chosen preset (the defaults where it says nothing); Reset builds it.

    A preset made for some data (a memory task) asks for that data too, which builds the model
    at once, and says what to watch.
    """
    sess = session.get()
    preset = PRESETS[sess.view.preset]
    sess.settings = RunSettings(**{**defaults("model", "data", "train"), **preset.values})
    if preset.data:
        spec = memory.spec_from_text(preset.data)
        memory.show(spec)
        if spec != sess.data_spec:
            request_data(spec)
        else:
            request_reset()
    if preset.about:
        sess.flash("info", f"**{preset.label}**: {preset.about}")
