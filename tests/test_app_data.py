"""The Data page through streamlit.testing: sine settings, CSV uploads (good and bad), text sources."""

import numpy as np
from streamlit.testing.v1 import AppTest


def open_data_page() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    assert at.title[0].value == "Data"
    return at


def click(at: AppTest, label: str) -> AppTest:
    [button] = [b for b in at.button if b.label == label]
    return button.click().run()


def csv_bytes(n: int = 120) -> bytes:
    t = np.arange(n)
    lines = ["date,load,temperature,station"]
    for i in t:
        day = np.datetime64("2024-01-01") + int(i)
        lines.append(f"{day},{10 + np.sin(i / 5):.4f},{20 + np.cos(i / 7):.3f},north")
    lines[10] = lines[10].replace(lines[10].split(",")[1], "")  # one missing target value
    return ("\n".join(lines) + "\n").encode()


def test_default_sine_is_in_use_and_previewed_with_split_and_baselines():
    at = open_data_page()
    assert any("This is the data the model trains on" in s.value for s in at.success)
    assert not [b for b in at.button if b.label == "Use this data"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Training windows"] == "100" and labels["Validation windows"] == "50"
    assert len(at.dataframe) == 2  # statistics and baselines


def test_sine_preset_and_settings_then_use_resets_the_model():
    at = open_data_page()
    at.session_state["trainer"].run(3)
    at.selectbox(key="data_sine_preset").set_value("noisy sine").run()
    assert at.number_input(key="data_sine_noise").value > 0
    at.number_input(key="data_sine_length").set_value(300).run()
    assert not at.exception
    assert any("resets the current model" in w.value for w in at.warning)
    click(at, "Use this data")
    assert not at.exception
    ds = at.session_state["dataset"]
    assert ds.raw.shape[0] == 300
    assert at.session_state["trainer"].step_count == 0
    assert any("Now using" in s.value for s in at.success)


def test_sine_settings_that_cannot_work_show_an_error_and_keep_the_data():
    at = open_data_page()
    before = at.session_state["dataset"]
    at.number_input(key="data_sine_length").set_value(30).run()  # shorter than window 50 + 2
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)
    assert not [b for b in at.button if b.label == "Use this data"]
    assert at.session_state["dataset"] is before


def test_csv_upload_columns_and_use():
    at = open_data_page()
    at.radio(key="data_kind").set_value("csv").run()
    at.file_uploader(key="csv_upload").set_value(("load.csv", csv_bytes(), "text/csv")).run()
    assert not at.exception
    assert not at.error
    assert at.selectbox(key="data_csv_target").options == ["load", "temperature"]
    at.multiselect(key="data_csv_inputs").select("temperature").run()
    at.radio(key="data_csv_missing").set_value("drop").run()
    assert not at.exception
    click(at, "Use this data")
    assert not at.exception
    ds = at.session_state["dataset"]
    assert ds.columns == ["load", "temperature"]
    assert ds.raw.shape[0] == 119  # the row with a missing value was dropped
    assert np.issubdtype(np.asarray(ds.x_axis).dtype, np.datetime64)
    tr = at.session_state["trainer"]
    assert tr.config.input_size == 2
    # and it trains
    at.switch_page("pages/train.py").run()
    at.button(key="btn_step").click().run()
    assert not at.exception and at.session_state["trainer"].step_count == 1
    # the forecast says what it assumes about the extra input beyond the data
    at.switch_page("pages/predict.py").run()
    assert not at.exception
    last = ds.raw[-1, 1]
    assert any(f"temperature = {last:.4g}" in c.value and "last observed" in c.value for c in at.caption)


def test_bad_csv_shows_an_error_and_keeps_previous_data_and_model():
    at = open_data_page()
    at.radio(key="data_kind").set_value("csv").run()
    at.file_uploader(key="csv_upload").set_value(("good.csv", csv_bytes(), "text/csv")).run()
    click(at, "Use this data")
    ds, tr = at.session_state["dataset"], at.session_state["trainer"]
    for name, content in (
        ("words.csv", b"name,city\nada,london\nalan,wilmslow\n"),
        ("binary.csv", bytes(range(256)) * 20),
        ("empty.csv", b""),
    ):
        at.file_uploader(key="csv_upload").set_value((name, content, "text/csv")).run()
        assert not at.exception, name
        assert any(name in e.value for e in at.error), f"no error shown for {name}"
        assert at.session_state["dataset"] is ds and at.session_state["trainer"] is tr
    # the last good table is still offered
    assert at.selectbox(key="data_csv_target").value == "load"


def test_text_sample_paste_and_upload():
    at = open_data_page()
    at.radio(key="data_kind").set_value("text").run()
    assert not at.exception
    assert at.selectbox(key="data_text_sample").value
    click(at, "Use this data")
    assert not at.exception
    ds = at.session_state["dataset"]
    assert ds.kind == "text" and ds.vocab_size > 10
    assert at.session_state["trainer"].config.head == "text"

    at.radio(key="data_text_source").set_value("paste").run()
    at.text_area(key="data_text_pasted").input("abcabcabd " * 60).run()
    at.checkbox(key="data_text_lower").check().run()
    assert not at.exception
    click(at, "Use this data")
    assert at.session_state["dataset"].vocab_size == 5

    at.radio(key="data_text_source").set_value("upload").run()
    poem = ("the cat sat on the mat. " * 40).encode()
    at.file_uploader(key="text_file").set_value(("poem.txt", poem, "text/plain")).run()
    assert not at.exception
    click(at, "Use this data")
    assert at.session_state["data_spec"].name == "poem.txt"


def test_text_too_short_for_the_window_is_refused():
    at = open_data_page()
    at.radio(key="data_kind").set_value("text").run()
    at.radio(key="data_text_source").set_value("paste").run()
    at.text_area(key="data_text_pasted").input("tiny text").run()
    assert not at.exception
    assert at.error
    # the engine says "sequence length"; the page points to the setting the user can change
    assert any("Window length" in c.value and "Train page" in c.value for c in at.caption)
    assert at.session_state["dataset"].kind == "regression"


def test_every_sine_generator_setting_reaches_the_data():
    at = open_data_page()
    settings = {
        "data_sine_length": 120,
        "data_sine_amplitude": 2.0,
        "data_sine_frequency": 0.5,
        "data_sine_phase": 0.3,
        "data_sine_amplitude2": 0.5,
        "data_sine_frequency2": 1.5,
        "data_sine_noise": 0.0,
        "data_sine_trend": 0.01,
        "data_sine_damping": 0.002,
        "data_sine_seed": 4,
    }
    for key, value in settings.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception
    click(at, "Use this data")
    x = np.arange(120)
    expected = (2.0 * np.sin(0.5 * x + 0.3) + 0.5 * np.sin(1.5 * x)) * np.exp(-0.002 * x) + 0.01 * x
    np.testing.assert_allclose(at.session_state["dataset"].raw[:, 0], expected, atol=1e-9)


def test_text_batching_mode_is_offered_for_text_and_reaches_the_trainer():
    at = open_data_page()
    at.radio(key="data_kind").set_value("text").run()
    click(at, "Use this data")
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any(m.label == "Validation bits/char" for m in at.metric)
    at.radio(key="hp_text_mode").set_value("random").run()
    at.button(key="btn_reset").click().run()
    assert at.session_state["trainer"].train_config.text_mode == "random"
    at.button(key="btn_step").click().run()
    assert not at.exception and at.session_state["trainer"].step_count == 1
    # the live panel shows a freshly sampled line of text
    assert at.code and len(at.code[0].value) >= 100
