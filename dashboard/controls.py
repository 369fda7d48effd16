"""Widgets drawn from the settings schema, bound to the session.

:func:`setting_widget` draws the widget of any schema setting: its label, help, bounds, step
and choices come from :data:`rnn_core.settings.SCHEMA`, its value from the session, and its
changes go back to the session (checked by the schema). A setting that can be off is shown
as 0 when off. No widget code names a setting's bounds or default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard import layout, session
from rnn_core.settings import SCHEMA, Setting

FORMATS: dict[str, Callable[[Any], str]] = {"cell": str.upper}
"""How a choice is shown where its plain name would not do."""


def _off_to_widget(setting: Setting):
    if not setting.off:
        return lambda v: v
    zero = 0 if setting.integer else 0.0
    return lambda v: zero if v is None else v


def _off_from_widget(setting: Setting):
    if not setting.off:
        return lambda v: v
    return lambda v: None if v == 0 else v


def setting_widget(name: str, where: Any = st, *, disabled: bool = False, after=None) -> Any:
    """Draw the widget of setting ``name`` in ``where``; return the session's value after it."""
    s = SCHEMA[name]
    bound = session.bind(name, to_widget=_off_to_widget(s), from_widget=_off_from_widget(s), after=after)
    common = {"help": s.help or None, "disabled": disabled, **bound}
    if s.choices:
        where.selectbox(s.label, s.choices, format_func=FORMATS.get(name, str), **common)
    elif s.integer:
        lo = 0 if s.off else int(s.lo)
        where.number_input(s.label, min_value=lo, max_value=int(s.hi), step=max(int(s.step), 1), **common)
    else:
        lo = 0.0 if s.off or s.lo_open else float(s.lo)
        where.number_input(
            s.label, min_value=lo, max_value=float(s.hi), step=float(s.step), format="%g", **common
        )
    return session.get().value(name)


def settings_grid(names: list[str], *, name: str, disabled: Callable[[str], bool] = lambda n: False):
    """Widgets of several settings, in the order given, in a grid of as many equal cells per row
    as the width allows (:mod:`dashboard.layout`); ``name`` tells the page's grids apart."""
    grid = st.container(key=layout.grid_key(name))
    for setting in names:
        setting_widget(setting, grid, disabled=disabled(setting))


def view_kwargs(name: str, *, after=None) -> dict[str, Any]:
    """``key``/``on_change`` of the widget of a view choice (see :class:`dashboard.session.View`)."""
    return session.bind(name, after=after)
