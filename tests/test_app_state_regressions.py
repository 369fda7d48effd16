"""Regressions of the first version's state defects, each through the real app (AppTest).

Every test here failed on the version before the typed session: settings lost or a running model
changed behind the user's back, a loaded model's settings rewritten, Step ×N that could not be
paused, stale upload state, a sample that outlived its model, and more.
"""

from __future__ import annotations

import numpy as np
import pytest
from app_helpers import chart_specs
from streamlit.testing.v1 import AppTest

from dashboard import session
from dashboard.session import SESSION_KEY, button_key, key, uploader_key
from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.trainer import Trainer


def open_app() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not at.exception
    return at


def sess(at: AppTest) -> session.Session:
    return at.session_state[SESSION_KEY]


def click(at: AppTest, name: str) -> AppTest:
    at.button(key=button_key(name)).click().run()
    assert not at.exception
    return at


def upload_model(at: AppTest, name: str, content: bytes) -> None:
    at.switch_page("pages/model.py").run()
    at.file_uploader(key=uploader_key("model_file")).set_value(
        (name, content, "application/octet-stream")
    ).run()
    assert not at.exception


def use_text(at: AppTest) -> None:
    """Switch the data to the default text sample on the Data page."""
    at.switch_page("pages/data.py").run()
    at.radio(key=key("data_kind")).set_value("text").run()
    click(at, "use_data")
    assert sess(at).dataset.kind == "text"


def test_switching_pages_while_training_changes_no_setting_and_not_the_running_model():
    at = open_app()
    at.selectbox(key=key("cell")).set_value("gru").run()
    at.number_input(key=key("hidden_size")).set_value(20).run()
    at.number_input(key=key("lr")).set_value(1e-4).run()
    at.number_input(key=key("clip_norm")).set_value(0.0).run()  # off
    at.number_input(key=key("clip_value")).set_value(10.0).run()
    click(at, "reset")
    click(at, "start")
    tr = sess(at).trainer
    for page in ("pages/predict.py", "pages/data.py", "pages/model.py", "pages/train.py"):
        at.switch_page(page).run()
        assert not at.exception, page
    assert sess(at).trainer is tr and sess(at).state.mode == "running"
    assert (tr.config.cell, tr.config.hidden_size) == ("gru", 20)
    tc = tr.train_config
    assert (tc.lr, tc.clip_norm, tc.clip_value) == (1e-4, None, 10.0)
    assert at.selectbox(key=key("cell")).value == "gru"
    assert at.number_input(key=key("hidden_size")).value == 20
    assert at.number_input(key=key("lr")).value == pytest.approx(1e-4)
    assert not [w for w in at.warning if "Reset" in w.value]


def test_data_page_shows_the_source_in_use_after_training_on_text():
    at = open_app()
    use_text(at)
    at.switch_page("pages/train.py").run()
    at.switch_page("pages/data.py").run()
    assert at.radio(key=key("data_kind")).value == "text"
    assert any("This is the data the model trains on" in s.value for s in at.success)
    assert not [b for b in at.button if b.label == "Use this data"]


def test_a_loaded_models_learning_rate_survives_a_change_of_clipping_alone():
    at = open_app()
    saved = Trainer(sess(at).dataset, ModelConfig(), TrainConfig(lr=0.002, lr_schedule="constant")).save()
    upload_model(at, "odd.npz", saved)
    at.switch_page("pages/train.py").run()
    assert at.number_input(key=key("lr")).value == pytest.approx(0.002)
    at.number_input(key=key("clip_norm")).set_value(2.0).run()
    tr = sess(at).trainer
    assert tr.train_config.clip_norm == 2.0
    assert tr.train_config.lr == 0.002
    click(at, "step")
    assert tr.optimizer.lr == pytest.approx(0.002)


def test_loaded_settings_outside_the_old_widget_ranges_are_kept_exactly():
    at = open_app()
    train = TrainConfig(
        optimizer="momentum", momentum=0.995, bptt=3000, clip_norm=5e-4, lr_schedule="constant"
    )
    saved = Trainer(sess(at).dataset, ModelConfig(), train).save()
    upload_model(at, "cli.npz", saved)
    at.switch_page("pages/train.py").run()
    tc = sess(at).trainer.train_config
    assert (tc.momentum, tc.bptt, tc.clip_norm) == (0.995, 3000, 5e-4)
    assert at.number_input(key=key("momentum")).value == pytest.approx(0.995)
    assert at.number_input(key=key("bptt")).value == 3000
    assert at.number_input(key=key("clip_norm")).value == pytest.approx(5e-4)
    assert not [w for w in at.warning if "Reset" in w.value]
    click(at, "step")
    assert sess(at).trainer.train_config == tc


def test_step_n_can_be_paused():
    at = open_app()
    at.number_input(key=key("step_n")).set_value(100_000).run()
    click(at, "step_n")
    assert sess(at).state.mode == "stepping"
    assert not at.button(key=button_key("pause")).disabled
    click(at, "pause")
    stopped = sess(at).trainer.step_count
    assert sess(at).state.mode == "paused" and sess(at).state.pending_steps == 0
    at.run().run()
    assert sess(at).trainer.step_count == stopped < 100_000


def test_a_model_loaded_at_step_300_does_not_say_no_steps_yet():
    at = open_app()
    tr = Trainer(sess(at).dataset, ModelConfig(), TrainConfig())
    tr.run(300)
    upload_model(at, "late.npz", tr.save())
    at.switch_page("pages/train.py").run()
    specs = chart_specs(at)
    [loss] = [s for s in specs if s["layout"]["title"]["text"].lower().startswith("loss")]
    notes = " ".join(a.get("text", "") for a in loss["layout"].get("annotations", []))
    assert "No steps yet" not in notes and "Loaded at step 300" in notes


def test_a_bad_csv_after_a_good_one_says_which_file_failed_and_which_is_still_offered():
    at = open_app()
    at.switch_page("pages/data.py").run()
    at.radio(key=key("data_kind")).set_value("csv").run()
    good = "t,v\n" + "".join(f"{i},{np.sin(i / 4):.4f}\n" for i in range(120))
    up = at.file_uploader(key=uploader_key("csv_file"))
    up.set_value(("good.csv", good.encode(), "text/csv")).run()
    assert not at.error
    at.file_uploader(key=uploader_key("csv_file")).set_value(
        ("bad.csv", bytes(range(256)) * 8, "text/csv")
    ).run()
    assert not at.exception
    [err] = [e.value for e in at.error]
    assert "bad.csv" in err and "good.csv" in err
    assert any("Parsed **good.csv**" in c.value for c in at.caption)


def test_a_text_file_renamed_npz_is_not_called_pickled_data():
    at = open_app()
    upload_model(at, "notes.npz", b"just some text that is not a model\n" * 10)
    errors = " ".join(e.value for e in at.error)
    assert "notes.npz" in errors and "unchanged" in errors
    assert "pickle" not in errors.lower()


def test_a_sample_does_not_outlive_its_model():
    at = open_app()
    use_text(at)
    at.switch_page("pages/predict.py").run()
    at.number_input(key=key("sample_length")).set_value(20).run()
    click(at, "sample")
    assert len(at.code) >= 1 and sess(at).run.sample is not None
    at.switch_page("pages/train.py").run()
    click(at, "reset")
    at.switch_page("pages/predict.py").run()
    assert sess(at).run.sample is None
    assert not [c for c in at.code if c.value.strip()]


def test_use_this_data_builds_the_dataset_once():
    at = open_app()
    at.switch_page("pages/data.py").run()
    at.number_input(key=key("sine_length")).set_value(260).run()
    (_, (previewed, err)) = sess(at).candidates["data"]
    assert err is None
    [use] = [b for b in at.button if b.label == "Use this data"]
    use.click().run()
    assert not at.exception
    assert sess(at).dataset is previewed  # the previewed dataset is the one trained on


def test_no_session_state_key_is_spelled_outside_the_session_module():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    offenders = []
    for path in [*root.glob("dashboard/**/*.py"), *root.glob("pages/*.py"), root / "app.py"]:
        if path.name == "session.py":
            continue
        if re.search(r"session_state", path.read_text()):
            offenders.append(str(path.relative_to(root)))
    assert offenders == []
