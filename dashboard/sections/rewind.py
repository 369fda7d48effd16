"""Rewind on the Train page: look at the model as it was at a kept step, and branch from there.

The run keeps snapshots at spaced steps in its worker (:mod:`rnn_core.rewind`). Paused, a
slider picks one; the live panels then draw a :class:`Rewound` run, whose numbers, predictions,
hidden states, sample and through-time views are those of the kept weights, fetched from the
worker in one call (``view_at``) and kept until another step or window is looked at. The loss
chart marks the step. "Continue from here" goes back to it and trains on; the future left
behind stays in the loss chart, faded, until the next Reset.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import callbacks, charts, controls, guard, session
from dashboard.sections import through_time
from dashboard.session import Run, Session

KEYED = ("pred", "internals", "through_time")
"""What a look holds per split, window or layer (the rest once per look)."""

BRANCHES_KEPT = 5
"""Abandoned futures drawn in the loss chart at most (the newest)."""


class Rewound:
    """A run's trainer as it was at a kept ``step``: what the live panels read of a trainer,
    from the worker's look at that step's weights; everything else from the run itself."""

    moving = False
    notice = None

    def __init__(self, trainer: Any, step: int) -> None:
        self._trainer = trainer
        self.step_count = int(step)
        self._got: dict[str, Any] = {}

    @property
    def rewound_to(self) -> int:
        """The kept step looked at (a live trainer has no such attribute)."""
        return self.step_count

    def __getattr__(self, name: str) -> Any:
        return getattr(self._trainer, name)

    def fetch(self, wants: dict[str, Any]) -> None:
        """Ask the worker for what ``wants`` names and this look does not hold yet."""
        missing = {}
        for name, value in wants.items():
            held = self._got.get(name)
            if held is None or (name in KEYED and _key(name, value) not in held):
                missing[name] = value
        if not missing:
            return
        out = self._trainer.call("view_at", self.step_count, missing)
        for name, value in out.items():
            if name in KEYED:
                self._got.setdefault(name, {}).update(value)
            else:
                self._got[name] = value

    @property
    def evaluation(self) -> dict[str, Any]:
        self.fetch({"eval": True})
        return self._got["eval"]

    @property
    def epoch(self) -> float:
        self.fetch({"eval": True})
        return float(self._got["epoch"])

    def predictions(self, split: str = "val", max_points: int | None = None):
        self.fetch({"pred": max_points})
        return self._got["pred"][(split, max_points)]

    def internals(self, split: str = "val", index: int = 0):
        self.fetch({"internals": (split, int(index))})
        return self._got["internals"][(split, int(index))]

    def through_time(self, split: str = "val", index: int = 0, layer: int = 0):
        self.fetch({"through_time": (split, int(index), int(layer))})
        return self._got["through_time"][(split, int(index), int(layer))]

    def sample_line(self, n: int, temperature: float) -> str:
        self.fetch({"sample": (n, temperature)})
        return self._got["sample"]

    def answer(self, *key: Any) -> Any:
        return None


def _key(name: str, value: Any) -> tuple:
    """The key under which the worker's answer to ``name`` (asked with ``value``) is held."""
    if name == "pred":
        return ("val", value)
    return (value[0], *(int(v) for v in value[1:]))


def summary(run: Run) -> dict[str, Any] | None:
    """The run's kept snapshots (``rnn_core.rewind.Snapshots.summary`` and its step), or None."""
    state = getattr(run.trainer, "state", None) or {}
    return state.get("rewind")


def steps(run: Run) -> list[int]:
    """The steps the slider offers: the kept ones up to the run's step, and the step itself."""
    found = summary(run) or {}
    now = run.trainer.step_count
    return sorted({s for s in found.get("steps", []) if s < now} | {now})


def shown(sess: Session, run: Run) -> Run:
    """The run the live panels draw: ``run`` itself, or while paused at a kept earlier step the
    look at it (made once per step and kept with the run)."""
    at = sess.view.rewind
    if sess.state.moving or at < 0 or at >= run.trainer.step_count or at not in steps(run):
        sess.view.rewind = -1
        return run
    hit = run.memo.get("rewound")
    if hit is None or hit[0] != (run.version, at):
        view = Rewound(run.trainer, at)
        log = [e for e in run.memo.get("tt_log", []) if e["step"] <= at]
        look = Run(view, run.built, branches=run.branches, memo={"tt_log": log})
        _, err = guard.guarded("look at that step", lambda: view.fetch(wants(sess)))
        if err is not None:
            sess.flash("warning", err)
            sess.view.rewind = -1
            return run
        look.last_eval = view.evaluation
        hit = run.memo["rewound"] = ((run.version, at), look)
    return hit[1]


def control(sess: Session, run: Run) -> None:
    """The rewind slider and, at an earlier step, Continue from here and Back to now."""
    found = summary(run)
    if found is None:
        return
    now = run.trainer.step_count
    mb = lambda n: f"{n / 2**20:.1f} MB"  # noqa: E731
    kept = found.get("steps", [])
    if found.get("too_big"):
        st.caption(
            f"Rewind is off for this model: one snapshot would take {mb(found['too_big'])}, more than "
            f"the {mb(found['max_bytes'])} a run may keep."
        )
        return
    budget = (f"{len(kept)} snapshots kept ({mb(found['bytes'])} of {mb(found['max_bytes'])}; at most "
              f"{found['max_count']}), closer together for recent steps")  # fmt: skip
    if sess.state.moving:
        st.caption(f"Rewind: {budget}. Pause to look back at any of them.")
        return
    options = steps(run)
    if len(options) < 2:
        return
    if sess.view.rewind not in options:
        sess.view.rewind = now
    st.select_slider(
        "Rewind to step",
        options,
        format_func=lambda s: f"{s:,} (now)" if s == now else f"{s:,}",
        help=f"{budget}. Looking back changes nothing; Continue from here trains on from that step.",
        **controls.view_kwargs("rewind"),
    )
    at = sess.view.rewind
    if at == now:
        st.caption(f"Rewind: {budget}. Pick an earlier step to see the model as it was.")
        return
    with st.container(horizontal=True, gap="small"):
        st.button(
            f"Continue from step {at:,}", type="primary", on_click=callbacks.request_continue_from,
            args=(at,), key=session.button_key("continue_from"),
            help="Go back to this step (weights, optimizer state, batches) and train on from it; the "
            "steps after it stay in the loss chart, faded.",
        )  # fmt: skip
        st.button(f"Back to step {now:,}", on_click=_back_to_now, key=session.button_key("rewind_now"))
    st.info(
        f"Showing the model as it was at **step {at:,}** (the run is at step {now:,}): the numbers and "
        "charts below are those of the kept weights.",
        icon=":material/history:",
    )


def _back_to_now() -> None:
    sess = session.get()
    sess.view.rewind = -1


def branch(run: Run, step: int) -> None:
    """Keep the training losses after ``step`` (the future a rewind leaves) for the loss chart."""
    curves = run.trainer.history.downsample(charts.CURVE_POINTS, columns=["loss"])
    after = curves["step"] > step
    if after.any():
        run.branches = [*run.branches, (curves["step"][after], curves["loss"][after])][-BRANCHES_KEPT:]


def wants(sess: Session) -> dict[str, Any]:
    """What a look at a kept step draws, asked in one call: the numbers, the predictions, the
    chosen window's hidden states, a sample line and (when open) the through-time views."""
    view = sess.view
    out: dict[str, Any] = {"eval": True, "internals": (view.split, int(view.window))}
    if sess.run is not None and sess.run.trainer.kind == "text":
        out["sample"] = (120, 0.8)
    else:
        out["pred"] = charts.LIVE_PRED_MAX
    through = through_time.wanted()
    if through is not None:
        out["through_time"] = through
    return out
