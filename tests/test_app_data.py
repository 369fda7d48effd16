"""The Data page through streamlit.testing: sine settings, CSV uploads (good and bad), text sources."""

import math

import numpy as np
from app_helpers import button_labels, click, go, metric, open_app, press, session, trainer, upload

from dashboard.session import key, uploader_key

USE = "Use this data"


def open_data_page():
    at = open_app("data")
    assert at.title[0].value == "Data"
    return at


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
    assert USE not in button_labels(at)
    assert metric(at, "Training windows") == "100" and metric(at, "Validation windows") == "50"
    assert len(at.dataframe) == 2  # statistics and baselines


def test_sine_preset_and_settings_then_use_resets_the_model():
    at = open_data_page()
    trainer(at).run(3)
    at.selectbox(key=key("sine_preset")).set_value("noisy sine").run()
    assert at.number_input(key=key("sine_noise")).value > 0
    at.number_input(key=key("sine_length")).set_value(300).run()
    assert not at.exception
    assert any("resets the current model" in w.value for w in at.warning)
    click(at, USE)
    assert not at.exception
    ds = session(at).dataset
    assert ds.raw.shape[0] == 300
    assert np.std(ds.raw[:, 0] - np.sin(np.arange(300))) > 0.05  # the preset's noise is in the data
    assert trainer(at).step_count == 0
    assert any("Now using" in s.value for s in at.success)


def test_sine_settings_that_cannot_work_show_an_error_and_keep_the_data():
    at = open_data_page()
    before = session(at).dataset
    at.number_input(key=key("sine_length")).set_value(30).run()  # shorter than sequence length 50 + 2
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)
    assert USE not in button_labels(at)
    assert session(at).dataset is before


def test_csv_upload_columns_and_use():
    at = open_data_page()
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "load.csv", csv_bytes())
    assert not at.exception
    assert not at.error
    assert at.selectbox(key=key("csv_target")).options == ["load", "temperature"]
    at.multiselect(key=key("csv_inputs")).select("temperature").run()
    at.radio(key=key("csv_missing")).set_value("drop").run()
    assert not at.exception
    click(at, USE)
    assert not at.exception
    ds = session(at).dataset
    assert ds.columns == ["load", "temperature"]
    # the row with a missing value was dropped; the last 15% of the rows wait as the test period
    assert ds.raw.shape[0] + ds.test.length == 119 and ds.test.length == math.ceil(0.15 * 119)
    assert np.issubdtype(np.asarray(ds.x_axis).dtype, np.datetime64)
    assert trainer(at).config.input_size == 2
    # and it trains
    go(at, "train")
    press(at, "step")
    assert not at.exception and trainer(at).step_count == 1
    # the forecast says what it assumes about the extra input beyond the data
    go(at, "predict")
    last = ds.raw[-1, 1]
    assert any(f"temperature = {last:.4g}" in c.value and "last observed" in c.value for c in at.caption)


def test_bad_csv_shows_an_error_and_keeps_previous_data_and_model():
    at = open_data_page()
    at.radio(key=key("data_kind")).set_value("csv").run()
    upload(at, "csv_file", "good.csv", csv_bytes())
    click(at, USE)
    ds, tr = session(at).dataset, trainer(at)
    assert ds.columns[0] == "load"
    for name, content in (
        ("words.csv", b"name,city\nada,london\nalan,wilmslow\n"),
        ("binary.csv", bytes(range(256)) * 20),
        ("empty.csv", b""),
    ):
        at.file_uploader(key=uploader_key("csv_file")).set_value((name, content, "text/csv")).run()
        assert not at.exception, name
        assert any(name in e.value for e in at.error), f"no error shown for {name}"
        assert session(at).dataset is ds and trainer(at) is tr
    # the last good table is still offered
    assert at.selectbox(key=key("csv_target")).value == "load"


def test_text_sample_paste_and_upload():
    at = open_data_page()
    at.radio(key=key("data_kind")).set_value("text").run()
    assert not at.exception
    assert at.selectbox(key=key("text_sample")).value
    click(at, USE)
    assert not at.exception
    ds = session(at).dataset
    assert ds.kind == "text" and ds.vocab_size > 10
    assert trainer(at).config.head == "text"

    at.radio(key=key("text_source")).set_value("paste").run()
    at.text_area(key=key("text_pasted")).input("abcabcabd " * 60).run()
    at.checkbox(key=key("text_lower")).check().run()
    assert not at.exception
    click(at, USE)
    assert session(at).dataset.vocab_size == 5

    at.radio(key=key("text_source")).set_value("upload").run()
    poem = ("the cat sat on the mat. " * 40).encode()
    upload(at, "text_file", "poem.txt", poem, "text/plain")
    assert not at.exception
    click(at, USE)
    assert session(at).data_spec.name == "poem.txt"
    assert session(at).dataset.decode(session(at).dataset.train_ids[:7]) == "the cat"


def test_text_too_short_for_the_window_is_refused():
    at = open_data_page()
    at.radio(key=key("data_kind")).set_value("text").run()
    at.radio(key=key("text_source")).set_value("paste").run()
    at.text_area(key=key("text_pasted")).input("tiny text").run()
    assert not at.exception
    assert at.error
    assert USE not in button_labels(at)
    # the page points to the setting the user can change, by its name, and where it is
    assert any("sequence length" in c.value.lower() and "Train page" in c.value for c in at.caption)
    assert session(at).dataset.kind == "regression"


def test_every_sine_generator_setting_reaches_the_data():
    at = open_data_page()
    settings = {
        "sine_length": 120,
        "sine_amplitude": 2.0,
        "sine_frequency": 0.5,
        "sine_phase": 0.3,
        "sine_amplitude2": 0.5,
        "sine_frequency2": 1.5,
        "sine_noise": 0.0,
        "sine_trend": 0.01,
        "sine_damping": 0.002,
        "sine_seed": 4,
    }
    for name, value in settings.items():
        at.number_input(key=key(name)).set_value(value)
    at.run()
    assert not at.exception
    click(at, USE)
    x = np.arange(120)
    expected = (2.0 * np.sin(0.5 * x + 0.3) + 0.5 * np.sin(1.5 * x)) * np.exp(-0.002 * x) + 0.01 * x
    np.testing.assert_allclose(session(at).dataset.raw[:, 0], expected, atol=1e-9)


def test_text_batching_mode_is_offered_for_text_and_reaches_the_trainer():
    at = open_data_page()
    at.radio(key=key("data_kind")).set_value("text").run()
    click(at, USE)
    go(at, "train")
    assert any(m.label == "Validation bits/char" for m in at.metric)
    at.selectbox(key=key("text_mode")).set_value("random").run()
    press(at, "reset")
    assert trainer(at).train_config.text_mode == "random"
    press(at, "step")
    assert not at.exception and trainer(at).step_count == 1
    # the live panel shows a freshly sampled line of text
    assert at.code and len(at.code[0].value) >= 100
