"""Every page on a projector (1024×768) and a phone (390×844): nothing cut, Start within reach.

Each page is opened in a browser context of that size (a phone context with touch, as a phone
reports itself) and photographed under ``artifacts/screenshots/`` (the Train page while training
too). On each, a check in the page finds every select box whose text does not fit its box (the
box's text against the text of the option chosen) and every label, option, button, metric or
sidebar text that is cut short or broken in the middle of a word (a word whose letters sit on
two lines).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_app_browser import button, nav, step_count, wait_until

from dashboard.controls import FORMATS
from rnn_core.settings import PRESETS, SCHEMA

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

SIZES = {
    "projector": {"viewport": {"width": 1024, "height": 768}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
PAGES = ("Train", "Data", "Predict", "Model", "Compare")

CUT_JS = """() => {
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    // on the screen's width: a closed sidebar sits to the left of it
    return r.width > 0 && r.height > 0 && r.right > 0 && r.left < window.innerWidth
      && getComputedStyle(el).visibility !== 'hidden';
  };
  const found = {selects: [], cut: [], broken: []};
  const canvas = document.createElement('canvas').getContext('2d');
  for (const box of document.querySelectorAll('[data-testid="stSelectbox"]')) {
    const input = box.querySelector('input');
    if (!input || !shown(input)) continue;
    const cs = getComputedStyle(input);
    canvas.font = cs.font;
    const room = input.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const label = box.querySelector('[data-testid="stWidgetLabel"]');
    found.selects.push({label: label ? label.innerText.trim() : '', text: input.value,
                        fits: canvas.measureText(input.value).width <= room + 1});
  }
  const texts = document.querySelectorAll([
    '[data-testid="stWidgetLabel"] p', '[data-testid="stRadio"] label p',
    'button p', '[data-testid="stMetricLabel"] p', '[data-testid="stMetricValue"] div',
    '[data-testid="stSidebar"] p',
  ].join(','));
  for (const el of texts) {
    if (!shown(el)) continue;
    if (el.scrollWidth > el.clientWidth + 1) found.cut.push(el.innerText);
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
                                .map((r) => Math.round(r.top)));
        if (lines.size > 1) found.broken.push(m[0]);
      }
    }
  }
  return found;
}"""
"""Select boxes (label, text, whether it fits) and the texts cut short or broken mid-word."""

START_REACHABLE_JS = """() => {
  const start = [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === 'Start');
  if (!start) return 'no Start button';
  const r = start.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight || r.left < 0 || r.right > window.innerWidth)
    return `Start at ${Math.round(r.left)},${Math.round(r.top)}, outside the screen`;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return start.contains(hit) ? 'ok' : `Start covered by ${hit ? hit.outerHTML.slice(0, 80) : 'nothing'}`;
}"""


def _expected_texts() -> dict[str, str]:
    """The text each setting's select box shows at its default, by label; the preset's too."""
    texts = {s.label: FORMATS.get(name, str)(s.default) for name, s in SCHEMA.items() if s.choices}
    texts["Preset"] = PRESETS["default"].label
    return texts


def _check(page: Page, where: str, expected: dict[str, str] | None = None) -> None:
    found = page.evaluate(CUT_JS)
    expected = expected or {}
    bad = [s for s in found["selects"] if not s["fits"]]
    wrong = [s for s in found["selects"] if s["label"] in expected and s["text"] != expected[s["label"]]]
    assert bad == [] and wrong == [], f"{where}: select boxes cut {bad}, showing another text {wrong}"
    assert found["cut"] == [], f"{where}: texts cut short {found['cut']}"
    assert found["broken"] == [], f"{where}: words broken across lines {found['broken']}"


def _settle(page: Page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached")
    time.sleep(0.5)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_reads_whole_on_a_projector_and_a_phone(browser, app_url, size, console_errors):
    context = browser.new_context(**SIZES[size])
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: console_errors.append(f"uncaught: {exc}"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"layout-{size}-{name}.png"), full_page=True)

    try:
        page.goto(app_url)
        for title in PAGES:
            if title != "Train":  # through the sidebar, as a user goes (a new URL is a new session)
                if size == "phone":
                    page.get_by_test_id("stExpandSidebarButton").click()
                nav(page, title)
                if size == "phone":  # and on a phone it closes again, out of the way
                    side = page.get_by_test_id("stSidebar")
                    wait_until(lambda s=side: s.get_attribute("data-collapsed") == "true", 10, "it to close")
            expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
            _settle(page)
            if title == "Train":
                expect(page.locator(".rnn-chart .main-svg").first).to_be_visible()
                if size == "phone":
                    wait_until(lambda: page.evaluate(START_REACHABLE_JS) == "ok", 10, "Start")
                    sidebar = page.get_by_test_id("stSidebar")
                    assert sidebar.get_attribute("data-collapsed") == "true"  # closed on a phone
                _check(page, f"{title} at {size}", _expected_texts())
                shot("train-paused")
                button(page, "Start").click()
                wait_until(lambda: step_count(page) > 50, 30, "training")
                _check(page, f"{title} at {size}, training")
                shot("train-training")
                button(page, "Pause").click()
                wait_until(lambda: "paused" in page.get_by_test_id("stSidebar").inner_text(), 30, "the pause")
                continue
            _check(page, f"{title} at {size}")
            shot(re.sub(r"\\W+", "-", title.lower()))
    finally:
        context.close()
    assert console_errors == [], f"browser console errors: {console_errors}"
