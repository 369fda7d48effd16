"""Shared helpers of the AppTest suites: open the app, reach its typed session, find what a user sees.

Widgets, buttons and uploaders are found through :func:`dashboard.session.key`,
:func:`~dashboard.session.button_key` and :func:`~dashboard.session.uploader_key`, the one
place their keys are spelled; the session is :class:`dashboard.session.Session`, reached
through :data:`~dashboard.session.SESSION_KEY`. No test spells a session-state key itself.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from dashboard.session import SESSION_KEY, Session, button_key, key, uploader_key

APP = Path(__file__).resolve().parent.parent / "app.py"


def open_app(page: str | None = None, *, timeout: float = 60) -> AppTest:
    """The app after its first run (the Train page), or switched to ``page`` ("data", "predict", ...)."""
    at = AppTest.from_file(str(APP), default_timeout=timeout).run()
    assert not at.exception, at.exception
    if page is not None:
        go(at, page)
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Switch to ``pages/<page>.py`` and run; no exception."""
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def use_text(at: AppTest) -> None:
    """Switch the data to the default text sample on the Data page."""
    go(at, "data")
    at.radio(key=key("data_kind")).set_value("text").run()
    click(at, "Use this data")
    assert session(at).dataset.kind == "text"


def session(at: AppTest) -> Session:
    return at.session_state[SESSION_KEY]


def trainer(at: AppTest):
    return session(at).trainer


def press(at: AppTest, name: str) -> AppTest:
    """Click the button named ``name`` in :data:`dashboard.session.BUTTON_KEYS` and run."""
    return at.button(key=button_key(name)).click().run()


def click(at: AppTest, label: str) -> AppTest:
    """Click the one button labelled ``label`` and run."""
    found = [b for b in at.button if b.label == label]
    assert len(found) == 1, f"{len(found)} buttons {label!r}; have {[b.label for b in at.button]}"
    return found[0].click().run()


def button_labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def upload(at: AppTest, uploader: str, name: str, content: bytes, mime: str = "text/csv") -> AppTest:
    """Give the uploader ``uploader`` (``csv_file``, ``text_file``, ``model_file``) one file and run."""
    return at.file_uploader(key=uploader_key(uploader)).set_value((name, content, mime)).run()


def metric_element(at: AppTest, label: str):
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0]


def metric(at: AppTest, label: str) -> str:
    return metric_element(at, label).value


def metric_delta(at: AppTest, label: str) -> str:
    return metric_element(at, label).proto.delta


def number(text: str) -> float:
    """A metric's text as a number ("1,234" -> 1234.0)."""
    return float(text.replace(",", ""))


def texts(elements) -> str:
    """The values of some elements (``at.warning``, ``at.caption``, ...) joined into one text."""
    return " ".join(e.value for e in elements)


def sidebar_text(at: AppTest) -> str:
    return texts(at.sidebar.markdown)


def chart_elements(at: AppTest) -> list[tuple[str, dict]]:
    """``(element id, data sent)`` of every chart the app's chart element draws, in order."""
    return [
        (el.proto.id, json.loads(el.proto.json))
        for el in at.get("bidi_component")
        if el.proto.component_name == "rnn_playground_chart"
    ]


def chart_specs(at: AppTest) -> list[dict]:
    """The plotly figures the app's chart element draws on the page, in order, as dicts."""
    return [json.loads(data["figure"]) for _, data in chart_elements(at)]


def chart_titled(at: AppTest, part: str) -> dict:
    """The one figure whose title contains ``part`` (case-insensitive)."""
    found = [s for s in chart_specs(at) if part.lower() in _title(s).lower()]
    assert len(found) == 1, (
        f"{len(found)} charts titled {part!r}; have {[_title(s) for s in chart_specs(at)]}"
    )
    return found[0]


def _title(spec: dict) -> str:
    title = spec.get("layout", {}).get("title", {})
    return title.get("text", "") if isinstance(title, dict) else str(title)


def run_until(at: AppTest, done: Callable[[], bool], *, tries: int = 20) -> bool:
    """Rerun (the fragment ticks again) until ``done()``; whether it came true."""
    for _ in range(tries):
        if done():
            return True
        at.run()
    return done()


def array_values(value) -> np.ndarray:
    """The numbers of an array in a figure's JSON: a list, or plotly's typed array."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    return np.asarray(value, dtype=float)


def array_len(value) -> int:
    """Length of an array in a figure's JSON: a list, or plotly's typed array ``{dtype, bdata[, shape]}``."""
    if isinstance(value, dict):
        if "shape" in value:
            return int(str(value["shape"]).split(",")[0])
        return len(base64.b64decode(value["bdata"])) // np.dtype(value["dtype"]).itemsize
    return len(value)
