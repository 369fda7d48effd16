"""The Predict and Model pages through streamlit.testing: forecasts, sampling, downloads, resuming."""

import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from rnn_core.config import TrainConfig
from rnn_core.data import text_dataset
from rnn_core.trainer import Trainer


def open_app() -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not at.exception
    return at


def use_text(at: AppTest) -> None:
    at.switch_page("pages/data.py").run()
    at.radio(key="data_kind").set_value("text").run()
    [use] = [b for b in at.button if b.label == "Use this data"]
    use.click().run()
    assert at.session_state["dataset"].kind == "text"


def test_predict_regression_forecast_and_metrics_table():
    at = open_app()
    at.session_state["trainer"].run(5)
    at.switch_page("pages/predict.py").run()
    assert not at.exception
    assert at.title[0].value == "Predict"
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["RMSE", "MAE"]
    assert {"RNN (one-step)", "persistence", "mean", "linear autoregression"} == set(table.index)
    # ranked best first
    assert list(table["RMSE"]) == sorted(table["RMSE"])
    at.number_input(key="pred_horizon").set_value(120).run()
    assert not at.exception
    chart = at.get("plotly_chart")[0]
    spec = json.loads(chart.proto.spec)
    forecast = [t for t in spec["data"] if t["name"].startswith("forecast")]
    assert len(forecast) == 1 and "120 steps" in forecast[0]["name"]


def test_predict_text_sampling_and_top_k():
    at = open_app()
    use_text(at)
    at.session_state["trainer"].run(3)
    at.switch_page("pages/predict.py").run()
    assert not at.exception
    at.text_input(key="pred_prime").input("Beautiful").run()
    at.number_input(key="pred_length").set_value(40).run()
    at.slider(key="pred_temperature").set_value(0.5).run()
    [sample] = [b for b in at.button if b.label == "Sample"]
    sample.click().run()
    assert not at.exception
    assert at.code[0].value.startswith("Beautiful") and len(at.code[0].value) == len("Beautiful") + 40
    at.text_input(key="pred_prefix").input("Th").run()
    at.slider(key="pred_k").set_value(5).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    probs = spec["data"][0]
    assert len(probs["y"]) == 5


def test_predict_text_priming_with_unknown_characters_is_an_error_not_a_crash():
    at = open_app()
    use_text(at)
    at.switch_page("pages/predict.py").run()
    at.text_input(key="pred_prime").input("日本語").run()
    [sample] = [b for b in at.button if b.label == "Sample"]
    sample.click().run()
    assert not at.exception
    assert at.error


def test_predict_text_with_a_tiny_vocabulary_does_not_crash():
    at = open_app()
    at.switch_page("pages/predict.py").run()
    at.session_state["pred_k"] = 25  # set for an earlier, larger vocabulary
    for text in ("abcab" * 60, "a" * 300):  # vocabularies of 3 and 1 characters
        at.switch_page("pages/data.py").run()
        at.radio(key="data_kind").set_value("text").run()
        at.radio(key="data_text_source").set_value("paste").run()
        at.text_area(key="data_text_pasted").input(text).run()
        [use] = [b for b in at.button if b.label == "Use this data"]
        use.click().run()
        at.switch_page("pages/predict.py").run()
        assert not at.exception, text[:5]
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        assert len(spec["data"][0]["y"]) == at.session_state["dataset"].vocab_size


def test_model_page_offers_three_downloads():
    at = open_app()
    at.switch_page("pages/model.py").run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Weights (.npz)", "Configuration (JSON)", "Training history (CSV)"]


def test_model_page_warns_that_downloads_move_on_while_training_runs():
    at = open_app()
    at.button(key="btn_start").click().run()
    at.switch_page("pages/model.py").run()
    assert not at.exception
    assert any("Pause first" in i.value for i in at.info)
    at.session_state["running"] = False
    at.run()
    assert not any("Pause first" in i.value for i in at.info)


def test_model_upload_resumes_a_saved_model():
    at = open_app()
    source = at.session_state["trainer"]
    source.run(4)
    saved = source.save()
    at.button(key="btn_reset").click().run()
    at.switch_page("pages/model.py").run()
    at.file_uploader(key="model_file").set_value(("mine.npz", saved, "application/octet-stream")).run()
    assert not at.exception
    [note] = [s.value for s in at.success if "Loaded mine.npz" in s.value]
    # the steps go on from the saved count, and the user is told what does not come back
    assert "from step 4" in note and "optimizer state" in note and "Adam" in note
    assert "step **4**" in at.caption[0].value
    loaded = at.session_state["trainer"]
    for k, v in loaded.network.params.items():
        np.testing.assert_array_equal(v, source.network.params[k])
    # the settings widgets follow the loaded model, so no spurious "press Reset" warning
    at.switch_page("pages/train.py").run()
    assert not [w for w in at.warning if "Reset" in w.value]
    assert [m.value for m in at.metric if m.label == "Step"] == ["4"]
    at.button(key="btn_step").click().run()
    assert not at.exception
    assert [m.value for m in at.metric if m.label == "Step"] == ["5"]
    assert "Step 5" in " ".join(m.value for m in at.sidebar.markdown)


def test_loading_a_learning_rate_the_slider_lacks_says_what_it_shows():
    at = open_app()
    ds = at.session_state["dataset"]
    saved = Trainer.create(ds, train=TrainConfig(lr=0.002)).save()
    at.switch_page("pages/model.py").run()
    at.file_uploader(key="model_file").set_value(("odd.npz", saved, "application/octet-stream")).run()
    assert not at.exception
    [note] = [s.value for s in at.success if "Loaded odd.npz" in s.value]
    assert "learning rate 0.002" in note and "shown as 0.003" in note
    at.switch_page("pages/train.py").run()
    assert at.select_slider(key="hp_lr").value == 0.003
    assert at.session_state["trainer"].train_config.lr == 0.002  # kept until the slider moves
    # a rate the slider offers loads without that remark
    at.switch_page("pages/model.py").run()
    plain = Trainer.create(ds, train=TrainConfig(lr=0.01)).save()
    at.file_uploader(key="model_file").set_value(("plain.npz", plain, "application/octet-stream")).run()
    [note] = [s.value for s in at.success if "Loaded plain.npz" in s.value]
    assert "not on the slider" not in note


def _tampered(saved: bytes) -> bytes:
    with np.load(io.BytesIO(saved), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["head.bias"] = np.full_like(arrays["head.bias"], np.nan)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_bad_model_files_give_a_clear_error_and_leave_the_model_untouched():
    at = open_app()
    tr = at.session_state["trainer"]
    tr.run(2)
    text_model = Trainer.create(text_dataset("hello world, " * 50, seq_len=8)).save()
    at.switch_page("pages/model.py").run()
    for name, content in (
        ("garbage.npz", b"not a zip at all"),
        ("text.npz", text_model),
        ("nan.npz", _tampered(tr.save())),
    ):
        at.file_uploader(key="model_file").set_value((name, content, "application/octet-stream")).run()
        assert not at.exception, name
        errors = [e.value for e in at.error]
        assert any(name in e and "unchanged" in e for e in errors), (name, errors)
        assert at.session_state["trainer"] is tr and tr.step_count == 2


def test_pytorch_snippet_on_the_model_page_rebuilds_the_model(tmp_path):
    torch = pytest.importorskip("torch")
    at = open_app()
    at.switch_page("pages/model.py").run()
    tr = at.session_state["trainer"]
    tr.run(3)
    path = tmp_path / "model.npz"
    path.write_bytes(tr.save())
    from dashboard.views import TORCH_SNIPPET

    scope: dict = {}
    exec(TORCH_SNIPPET.format(name=str(path)), scope)
    ds = tr.dataset
    x = torch.tensor(np.asarray(ds.val_X, dtype=np.float64))
    with torch.no_grad():
        pred = scope["head"](scope["rnn"](x)[0][-1]).numpy()[:, 0] * ds.target_scale + ds.target_shift
    _, ours, _ = tr.predictions("val")
    np.testing.assert_allclose(pred, ours, rtol=1e-9, atol=1e-9)
    assert any("PyTorch" in e.label for e in at.expander)
