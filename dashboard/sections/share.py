"""The sidebar's "Copy link" control: the URL of this experiment in a field, and a Copy button.

The field and the button are a small element of our own (``st.code`` would do, but its copy
button is hidden until hovered and a code block reads as program text). The browser copies with
the Clipboard API where the page is a secure context, else by selecting the field.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from urllib.parse import urlencode

import streamlit as st

from dashboard import links, session

COMPONENT = "rnn_playground_copy_link"

ABOUT = (
    "Opening the link starts a fresh session with these settings, this data and this page; "
    "Start then trains the same steps with the same numbers."
)

_JS = r"""
export default function (component) {
  const { data, parentElement } = component;
  let box = parentElement.querySelector(":scope > .rnn-copy-link");
  if (!box) {
    box = document.createElement("div");
    box.className = "rnn-copy-link";
    box.innerHTML = '<input type="text" readonly aria-label="Link to this experiment">' +
      '<button type="button">Copy</button>';
    parentElement.appendChild(box);
    const field = box.querySelector("input");
    const button = box.querySelector("button");
    field.addEventListener("focus", () => field.select());
    button.addEventListener("click", async () => {
      field.select();
      let done = false;
      try {
        await navigator.clipboard.writeText(field.value);
        done = true;
      } catch (e) {
        try { done = document.execCommand("copy"); } catch (e2) { done = false; }
      }
      button.textContent = done ? "Copied" : "Press Ctrl+C";
      setTimeout(() => { button.textContent = "Copy"; }, 1500);
    });
  }
  box.querySelector("input").value = data.url;
}
"""

_CSS = """
.rnn-copy-link { display: flex; gap: 0.4rem; width: 100%; }
.rnn-copy-link input { flex: 1; min-width: 0; font-family: monospace; font-size: 0.8rem;
  padding: 0.3rem 0.4rem; border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 0.4rem;
  background: transparent; color: inherit; }
.rnn-copy-link button { padding: 0.3rem 0.7rem; border: 1px solid rgba(128, 128, 128, 0.4);
  border-radius: 0.4rem; background: transparent; color: inherit; cursor: pointer; }
"""


@functools.cache
def _component():
    return st.components.v2.component(COMPONENT, js=_JS, css=_CSS, isolate_styles=False)


def link_text(params: dict[str, str], base: str | None) -> str:
    """The full link, or only its query string when the browser's address is not known."""
    query = "?" + urlencode(params) if params else ""
    return f"{base}/{query}" if base else (query or "?")


def copy_link(where, page_path: str, pages: Sequence[str]) -> None:
    """Draw the control in ``where`` (the sidebar) for the page at ``page_path``."""
    params, why = links.current(session.get(), page_path)
    base = links.base_url(st.context.url, pages)
    with where.expander("Copy link", icon=":material/link:"):
        _component()(key="rnn_copy_link", data={"url": link_text(params, base)}, height=40)
        if base is None:
            st.caption("Add this to the app's address (its first page, ending in /).")
        st.caption(ABOUT)
        if why:
            st.warning(why, icon=":material/link_off:")
