"""State a user can trust, in the browser: settings and the running model survive page switches,
and every download on the Model page really arrives."""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.e2e.test_app_browser import button, nav, step_count, wait_until


def choose(page: Page, label: str, option: str) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(300)


def set_number(page: Page, label: str, value: str) -> None:
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    page.wait_for_timeout(300)


def shown(page: Page, label: str) -> str:
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text(label, exact=True))
    return box.get_by_role("combobox").input_value() or box.inner_text()


def sidebar_text(page: Page) -> str:
    return page.get_by_test_id("stSidebar").inner_text()


def test_settings_and_the_running_model_survive_visiting_every_page(page: Page, goto, shot):
    goto()
    choose(page, "Cell", "GRU")
    set_number(page, "Hidden size", "20")
    set_number(page, "Learning rate", "0.0007")
    button(page, "Reset").click()
    wait_until(
        lambda: "GRU" in sidebar_text(page) and "20 units" in sidebar_text(page), 20, "the GRU to be built"
    )
    button(page, "Start").click()
    wait_until(lambda: step_count(page) > 5, 30, "training to start")
    for title in ("Data", "Predict", "Model", "Train", "Predict", "Train"):
        nav(page, title)
        # The status is redrawn by each refresh; read it when one has landed.
        wait_until(
            lambda: all(w in sidebar_text(page) for w in ("GRU", "20 units", "running")),
            15,
            f"the sidebar on {title} to show the running GRU with 20 units",
        )
    shot("back-on-train")
    assert "GRU" in shown(page, "Cell")
    expect(page.get_by_label("Hidden size", exact=True)).to_have_value("20")
    expect(page.get_by_label("Learning rate", exact=True)).to_have_value(
        re.compile(r"^0?\.0007$|^7e-04$|^0\.0007$")
    )
    assert not page.get_by_text("applied on Reset").count()
    before = step_count(page)
    wait_until(lambda: step_count(page) > before, 15, "training to go on after the round trip")
    button(page, "Pause").click()


def test_every_model_download_arrives(page: Page, goto, tmp_path):
    goto()
    button(page, "Step").click()
    wait_until(lambda: step_count(page) == 1, 20, "one step")
    nav(page, "Model")
    got = {}
    for label in ("Weights (.npz)", "Configuration (JSON)", "Training history (CSV)"):
        with page.expect_download(timeout=20_000) as info:
            page.get_by_role("button", name=label).click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        got[label] = path
    config = json.loads(got["Configuration (JSON)"].read_text())
    assert config["model"]["cell"] == "rnn" and config["step_count"] == 1
    assert config["data"]["kind"] == "sine"
    assert got["Weights (.npz)"].read_bytes()[:2] == b"PK"  # a zip archive, as .npz files are
    header = got["Training history (CSV)"].read_text().splitlines()[0]
    assert "loss" in header and "step" in header


def runs_on_server(page: Page) -> int:
    text = sidebar_text(page)
    match = re.search(r"Server: .* · (\d+) runs? on (\d+) workers", text)
    assert match, text
    return int(match.group(1))


def test_closing_a_tab_frees_its_run_in_the_workers(browser, page: Page, goto, app_url):
    goto()

    def count_after_a_refresh() -> int:
        button(page, "Step").click()  # a refresh of this tab reads the server's count again
        page.wait_for_timeout(400)
        return runs_on_server(page)

    # The tabs of earlier tests are closed: once their sessions have expired, this tab's run is
    # the only one on the server.
    wait_until(lambda: count_after_a_refresh() == 1, 60, "earlier tabs' runs to be released", poll=1.0)
    other = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = other.new_page()
    tab.goto(app_url)
    expect(tab.get_by_role("heading", name="Train", level=1)).to_be_visible()
    button(tab, "Step").click()
    wait_until(lambda: step_count(tab) == 1, 20, "the other tab's step")
    wait_until(lambda: count_after_a_refresh() == 2, 20, "the other tab's run to be counted")
    other.close()
    wait_until(lambda: count_after_a_refresh() == 1, 40, "the closed tab's run to be released", poll=1.0)


def test_the_predict_page_says_which_step_it_shows_while_training_goes_on(page: Page, goto):
    goto()
    button(page, "Start").click()
    wait_until(lambda: step_count(page) > 5, 30, "training to start")
    nav(page, "Predict")

    def caption_step() -> int:
        text = page.get_by_text(re.compile(r"^Model at step")).first.inner_text()
        return int(re.search(r"step ([\d,]+)", text).group(1).replace(",", ""))

    first = caption_step()
    wait_until(lambda: caption_step() > first, 15, "the Predict page's step to follow training")
    nav(page, "Train")
    button(page, "Pause").click()


def test_roll_back_after_a_divergence_takes_effect_at_once(page: Page, goto):
    """The divergence notice and its buttons are drawn by the training fragment: a click there
    reruns only the fragment, which must hand the request to a full run at once."""
    goto()
    choose(page, "Preset", "Blow up on purpose (SGD lr 3, no clipping)")
    button(page, "Load preset").click()
    pending = page.get_by_text("Changed settings that rebuild the model")
    expect(pending).to_be_visible()  # the preset's settings are in, waiting for Reset
    button(page, "Reset").click()
    expect(pending).to_have_count(0)
    wait_until(lambda: "relu" in sidebar_text(page), 20, "the preset's model to be built")
    button(page, "Start").click()
    expect(page.get_by_text("Training diverged at step")).to_be_visible(timeout=30_000)
    button(page, "Roll back").click()
    expect(page.get_by_text(re.compile(r"Back at step [\d,]+, the last healthy state"))).to_be_visible(
        timeout=5_000
    )
    expect(page.get_by_text("Training diverged at step")).to_have_count(0)
