"""The layout on every screen: laptop, projector, phone.

Streamlit lays a page out without knowing the width of the screen; ``layout.css`` (emitted on
every page by :func:`style`) adapts it in the browser, by the width of the page's main area. The
rules find their elements by the CSS class Streamlit gives a container with a key
(``st-key-<key>``), so the page code marks what they rearrange with the keys below.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

CSS = Path(__file__).with_name("layout.css")
PRESENT_CSS = Path(__file__).with_name("present.css")

TRAIN_SETTINGS = "rnn-train-settings"
"""The Train page's settings column: beside the live panels on a laptop, after them when narrow."""

TRAIN_MAIN = "rnn-train-main"
"""The Train page's column of run buttons, numbers and live panels."""

PANELS = "rnn-panels"
"""The live panels (the Train page's, or the Compare page's): two per row where each gets 300 px,
else one per row."""

TIME_PANELS = "rnn-time-panels"
"""The through-time views below the live panels: laid out as those are."""

METRICS = "rnn-metrics"
"""The Train page's row of numbers: tiles as wide as their numbers, wrapping when narrow."""

LESSON = "rnn-lesson"
"""The open lesson's banner above the page."""

LESSON_HEAD = "rnn-lesson-head"
"""The banner's title and Leave button: on one line while the title keeps 60% of it."""

GRID_PREFIX = "rnn-grid-"
"""Prefix of the keys of settings grids: as many equal cells per row as fit."""


_NAV_CLOSES_JS = r"""
export default function () {
  if (window.rnnNavCloses) return;
  window.rnnNavCloses = true;
  document.addEventListener("click", (event) => {
    if (!event.target.closest('[data-testid="stSidebarNav"] a')) return;
    const side = document.querySelector('[data-testid="stSidebar"]');
    const main = document.querySelector('[data-testid="stMain"]');
    if (!side || !main) return;
    // Open over the page (a phone's width) rather than beside it: close it behind the link.
    if (side.getBoundingClientRect().right <= main.getBoundingClientRect().left + 1) return;
    const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (close) setTimeout(() => close.click(), 0);
  }, true);
}
"""


def style() -> None:
    """Emit the layout rules on the page (a style element takes no space)."""
    st.html(CSS)


def presentation(on: bool) -> None:
    """Emit the rules of presentation mode (``present.css``) when ``on``; gone with the next run
    that does not."""
    if on:
        st.html(PRESENT_CSS)


@functools.cache
def _nav_closes():
    return st.components.v2.component("rnn_playground_nav_closes", js=_NAV_CLOSES_JS, isolate_styles=False)


def sidebar_closes_on_navigation() -> None:
    """Where the sidebar opens over the page (a phone), a tap on a page's link closes it, so the
    page opened is not hidden behind it (Streamlit leaves it open). Drawn in the sidebar."""
    with st.sidebar:
        _nav_closes()(key="rnn_nav_closes")


def grid_key(name: str) -> str:
    return GRID_PREFIX + name
