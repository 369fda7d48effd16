"""Shareable links in the browser: the link copied from the sidebar, opened in a fresh browser
context, reproduces the experiment: same settings, same page, same steps and numbers."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import IDLE_APP
from tests.e2e.test_app_browser import button, nav, step_count, wait_until
from tests.e2e.test_state_browser import choose, set_number, shown, sidebar_text


def copied_link(page: Page) -> str:
    """The URL in the sidebar's Copy link control."""
    side = page.get_by_test_id("stSidebar")
    field = side.get_by_label("Link to this experiment")
    if not field.is_visible():
        side.get_by_text("Copy link", exact=True).click()
    expect(field).to_be_visible()
    expect(field).to_have_value(re.compile(r"^http"))
    return field.input_value()


def open_in_fresh_context(browser, url: str) -> Page:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.goto(url)
    tab.wait_for_selector(IDLE_APP, state="attached")
    return tab


def history_losses(page: Page, tmp_path, name: str) -> list[str]:
    """The per-step losses of the Model page's history download, as written."""
    nav(page, "Model")
    with page.expect_download(timeout=20_000) as info:
        page.get_by_role("button", name="Training history (CSV)").click()
    path = tmp_path / f"{name}.csv"
    info.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    nav(page, "Train")
    return [row["loss"] for row in rows if row.get("loss")]


def pause_and_settle(page: Page) -> int:
    button(page, "Pause").click()
    expect(button(page, "Start")).to_be_enabled()
    page.wait_for_timeout(1000)  # the last tick lands
    wait_until(lambda: "paused" in sidebar_text(page), 10, "the run to be paused")
    return step_count(page)


def test_a_copied_link_in_a_fresh_context_trains_the_same_steps_and_numbers(
    browser, page: Page, goto, app_url: str, tmp_path
):
    goto()
    choose(page, "Cell", "GRU")
    set_number(page, "Hidden size", "12")
    set_number(page, "Seed", "7")
    set_number(page, "Learning rate", "0.01")
    button(page, "Reset").click()
    wait_until(lambda: "GRU" in sidebar_text(page) and "12 units" in sidebar_text(page), 20, "the GRU")
    button(page, "Start").click()
    wait_until(lambda: step_count(page) >= 20, 30, "20 steps")
    pause_and_settle(page)
    ours = history_losses(page, tmp_path, "original")
    # the page drawn anew after the visit to Model shows the run's last step and its numbers
    wait_until(lambda: step_count(page) == len(ours), 10, "the page to show the paused step")
    steps = len(ours)
    shown_link = copied_link(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    copy = page.get_by_test_id("stSidebar").locator(".rnn-copy-link button")
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("Copied")
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == shown_link
    assert link.startswith(f"{app_url}/?"), link
    for part in ("cell=gru", "hidden_size=12", "seed=7", "lr=0.01"):
        assert part in link, link

    tab = open_in_fresh_context(browser, link)
    try:
        expect(tab.get_by_role("heading", name="Train", level=1)).to_be_visible()
        assert "GRU" in shown(tab, "Cell")
        expect(tab.get_by_label("Hidden size", exact=True)).to_have_value("12")
        assert "12 units" in sidebar_text(tab) and step_count(tab) == 0
        button(tab, "Start").click()
        wait_until(lambda: step_count(tab) >= steps, 30, f"{steps} steps in the fresh context")
        pause_and_settle(tab)
        theirs = history_losses(tab, tmp_path, "from-link")
        # The same steps and the same numbers: the Step-N loss of every step the original took
        # (the Training loss tile averages the recent minibatches, which depends on where a
        # refresh fell, so the per-step losses are compared).
        assert theirs[:steps] == ours
    finally:
        tab.context.close()


def test_a_link_opens_on_its_page_and_the_page_stays_in_the_url(browser, app_url: str):
    tab = open_in_fresh_context(browser, f"{app_url}/?page=dataset&sine_noise=0.1&seed=3")
    try:
        expect(tab.get_by_role("heading", name="Data", level=1)).to_be_visible()
        tab.wait_for_timeout(1500)
        assert tab.get_by_text("Page not found").count() == 0
        expect(tab.get_by_label("Noise (std)", exact=True)).to_have_value("0.1")
        assert "page=dataset" in tab.url and "sine_noise=0.1" in tab.url
        nav(tab, "Predict")
        wait_until(lambda: "page=predictions" in tab.url and "seed=3" in tab.url, 10, "the URL to follow")
        # A bad link: one notice, the rest applied.
        tab.goto(f"{app_url}/?hidden_size=99999&cel=lstm&seed=4")
        tab.wait_for_selector(IDLE_APP, state="attached")
        notice = tab.get_by_test_id("stAlert").filter(has_text="could not be used")
        expect(notice).to_have_count(1)
        expect(notice).to_contain_text("hidden_size=99999")
        expect(notice).to_contain_text("did you mean cell")
        expect(tab.get_by_label("Seed", exact=True)).to_have_value("4")
    finally:
        tab.context.close()
