"""The app's chart element: a plotly figure drawn once and then updated in place.

``st.plotly_chart`` draws a figure that changed from scratch: while training moves, every refresh
tears each chart down and builds it again, so a zoom or a pan is lost at the next refresh, a
drag never takes, a hover can land on a chart half torn down (and throw in the browser), and a
chart can be missing from the page for a frame. :func:`chart` draws through a Streamlit
component of our own instead. Its browser code keeps one plot per chart for as long as the chart
is on the page and hands each new figure to ``Plotly.react``, which changes only what changed;
every figure carries a constant ``uirevision`` (:func:`dashboard.figures.common.base_layout`), so
the user's zoom, pan and legend choices survive the updates. While a mouse button is down on a
chart (a drag-zoom under way) updates wait and the latest is applied when it is released. A
double-click on a chart, or the tool bar's home button, resets its axes.

Plotly's own browser code is the copy Streamlit ships (its plotly chart bundle, which defines
``window.Plotly`` when it loads, and which :mod:`dashboard.preload` already names for preloading):
nothing more is downloaded. A Streamlit without that bundle gets ``st.plotly_chart`` instead.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio
import streamlit as st

from dashboard import session
from dashboard.preload import static_js_dir

CHART_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"]}

DEFAULT_HEIGHT = 450
"""Plotly's own height of a figure that sets none."""

RESET_HINT = (
    "Drag on a chart to zoom and double-click it to reset (its tool bar has more); a zoom stays "
    "while the chart updates."
)

FONT_SCALE = 1.2
LINE_SCALE = 2
"""Presentation mode: how much larger a chart's fonts are and how much thicker its lines."""

_JS = r"""
const loading = {};

function plotly(src) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!loading[src]) {
    loading[src] = import(new URL(src, document.baseURI).href).then(() => {
      if (!window.Plotly) throw new Error("the plotly bundle did not define Plotly");
      return window.Plotly;
    });
  }
  return loading[src];
}

// Presentation mode: every font of the figure larger and every line thicker, for a projector.
function present(fig) {
  const grow = (node) => {
    if (!node || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "font" && v && typeof v === "object") v.size = Math.round((v.size || 13) * FONT_SCALE);
      else grow(v);
    }
  };
  fig.layout.font = fig.layout.font || {};
  grow(fig.layout);
  for (const trace of fig.data) {
    if (trace.type && trace.type !== "scatter" && trace.type !== "scattergl") continue;
    if (trace.mode && !trace.mode.includes("lines")) continue;
    const width = (trace.line && trace.line.width) || 2;
    trace.line = { ...(trace.line || {}), width: width * LINE_SCALE };
  }
}

const shown = (data) => (data.present ? "present:" : "") + data.figure;

function draw(box) {
  const s = box.rnnChart;
  if (s.busy || s.held || !s.next) return;
  const next = s.next;
  s.next = null;
  s.busy = true;
  plotly(next.src)
    .then((P) => {
      const fig = JSON.parse(next.figure);
      // A touch screen has no hover to show the tool bar on, and on a phone's narrow chart it
      // would cover the title for good: there, taps zoom and a double tap resets.
      const touch = window.matchMedia("(hover: none)").matches;
      const config = touch ? { ...next.config, displayModeBar: false } : next.config;
      if (next.present) present(fig);
      return P.react(box, fig.data, fig.layout, config);
    })
    .then(() => {
      s.shown = shown(next);
      box.dataset.revision = String(next.revision);
      box.removeAttribute("data-error");
    })
    .catch((err) => {
      box.dataset.error = String((err && err.message) || err);
      console.warn("chart not drawn:", err);
    })
    .finally(() => {
      s.busy = false;
      draw(box);
    });
}

export default function (component) {
  const { data, parentElement } = component;
  let box = parentElement.querySelector(":scope > .rnn-chart");
  if (!box) {
    box = document.createElement("div");
    box.className = "rnn-chart";
    parentElement.appendChild(box);
    const s = { next: null, shown: null, busy: false, held: false };
    box.rnnChart = s;
    const release = () => {
      if (!s.held) return;
      s.held = false;
      draw(box);
    };
    box.addEventListener("pointerdown", () => { s.held = true; });
    window.addEventListener("pointerup", release);
    window.addEventListener("pointercancel", release);
    // A chart that has just left the page (a page switch, a rerun dropping it) is resized to
    // nothing on its way out: plotly refuses to resize a div that is not displayed, so skip it.
    const resized = new ResizeObserver(() => {
      if (!window.Plotly || !box._fullLayout || !box.isConnected || box.clientWidth === 0) return;
      window.Plotly.Plots.resize(box).catch(() => {});
    });
    resized.observe(box);
    s.cleanup = () => {
      resized.disconnect();
      window.removeEventListener("pointerup", release);
      window.removeEventListener("pointercancel", release);
      if (window.Plotly) window.Plotly.purge(box);
    };
  }
  const s = box.rnnChart;
  box.style.minHeight = data.height + "px";
  if (shown(data) !== s.shown) {
    s.next = data;
    draw(box);
  }
  return () => s.cleanup();
}
""".replace("FONT_SCALE", str(FONT_SCALE)).replace("LINE_SCALE", str(LINE_SCALE))

_CSS = ".rnn-chart { width: 100%; }"


@functools.cache
def plotly_bundle() -> str | None:
    """The page-relative address of Streamlit's plotly chart bundle, or None without one."""
    try:
        names = sorted(p.name for p in static_js_dir().iterdir())
    except OSError:
        return None
    found = [n for n in names if n.startswith("PlotlyChart.") and n.endswith(".js")]
    return f"./static/js/{found[0]}" if found else None


@functools.cache
def _component():
    return st.components.v2.component("rnn_playground_chart", js=_JS, css=_CSS, isolate_styles=False)


@dataclass(frozen=True)
class Drawn:
    """A figure as the JSON the chart element draws, with its height in pixels: build it once
    (:func:`serialize`) and draw it as often as wanted."""

    json: str
    height: int


def serialize(fig: go.Figure) -> Drawn:
    """``fig`` as plotly writes it for the browser (numbers as typed arrays)."""
    return Drawn(fig.to_json(), int(fig.layout.height or DEFAULT_HEIGHT))


def chart(fig: go.Figure | Drawn, *, key: str, config: dict | None = None) -> None:
    """Draw ``fig`` as the chart ``key``; the same ``key`` on the page's next run updates that
    chart in place."""
    config = CHART_CONFIG if config is None else config
    drawn = fig if isinstance(fig, Drawn) else serialize(fig)
    src = plotly_bundle()
    present = session.get().view.present
    if src is None:
        st.plotly_chart(pio.from_json(drawn.json), config=config, key=key)
        return
    _component()(
        key=key,
        data={
            "figure": drawn.json,
            "config": config,
            "src": src,
            "height": drawn.height,
            "revision": zlib.crc32(drawn.json.encode()),
            "present": present,
        },
        height=drawn.height,
    )
