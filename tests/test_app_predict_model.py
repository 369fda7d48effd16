"""The Predict and Model pages through streamlit.testing: forecasts, sampling, downloads, resuming."""

import io

import numpy as np
import pytest
from app_helpers import chart_specs, click, go, metric, open_app, press, session, trainer, upload, use_text

from dashboard.session import key
from rnn_core.config import TrainConfig
from rnn_core.data import text_dataset
from rnn_core.trainer import Trainer

NPZ = "application/octet-stream"


def test_predict_regression_forecast_and_metrics_table():
    at = open_app()
    trainer(at).run(5)
    go(at, "predict")
    assert at.title[0].value == "Predict"
    table = at.dataframe[0].value
    assert list(table.columns[:2]) == ["RMSE", "MAE"]
    assert {"RNN (one-step)", "persistence", "mean", "linear autoregression"} == set(table.index)
    # ranked best first
    assert list(table["RMSE"]) == sorted(table["RMSE"])
    at.number_input(key=key("horizon")).set_value(120).run()
    assert not at.exception
    spec = chart_specs(at)[0]
    forecast = [t for t in spec["data"] if t["name"].startswith("forecast")]
    assert len(forecast) == 1 and "120 steps" in forecast[0]["name"]


def test_predict_text_sampling_and_top_k():
    at = open_app()
    use_text(at)
    trainer(at).run(3)
    go(at, "predict")
    at.text_input(key=key("prime")).input("Beautiful").run()
    at.number_input(key=key("sample_length")).set_value(40).run()
    at.slider(key=key("temperature")).set_value(0.5).run()
    press(at, "sample")
    assert not at.exception
    assert at.code[0].value.startswith("Beautiful") and len(at.code[0].value) == len("Beautiful") + 40
    at.text_input(key=key("prefix")).input("Th").run()
    at.slider(key=key("top_k")).set_value(5).run()
    assert not at.exception
    probs = chart_specs(at)[0]["data"][0]
    assert len(probs["y"]) == 5


def test_predict_text_priming_with_unknown_characters_is_an_error_not_a_crash():
    at = open_app()
    use_text(at)
    go(at, "predict")
    at.text_input(key=key("prime")).input("日本語").run()
    press(at, "sample")
    assert not at.exception
    assert at.error


def test_predict_text_with_a_tiny_vocabulary_does_not_crash():
    at = open_app()
    go(at, "predict")
    session(at).view.top_k = 25  # chosen for an earlier, larger vocabulary
    for text in ("abcab" * 60, "a" * 300):  # vocabularies of 3 and 1 characters
        go(at, "data")
        at.radio(key=key("data_kind")).set_value("text").run()
        at.radio(key=key("text_source")).set_value("paste").run()
        at.text_area(key=key("text_pasted")).input(text).run()
        click(at, "Use this data")
        at.switch_page("pages/predict.py").run()
        assert not at.exception, text[:5]
        probs = chart_specs(at)[0]["data"][0]
        assert len(probs["y"]) == session(at).dataset.vocab_size


def test_model_page_offers_three_downloads():
    at = open_app("model")
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Weights (.npz)", "Configuration (JSON)", "Training history (CSV)"]


def test_model_page_warns_that_downloads_move_on_while_training_runs():
    at = open_app()
    press(at, "start")
    go(at, "model")
    assert any("Pause first" in i.value for i in at.info)
    session(at).set_mode("paused")
    at.run()
    assert not any("Pause first" in i.value for i in at.info)


def test_model_upload_resumes_a_saved_model():
    at = open_app()
    source = trainer(at)
    source.run(4)
    saved = source.save()
    saved_params = source.network.params
    press(at, "reset")
    assert trainer(at) is not source and trainer(at).step_count == 0
    go(at, "model")
    upload(at, "model_file", "mine.npz", saved, NPZ)
    assert not at.exception
    [note] = [s.value for s in at.success if "Loaded mine.npz" in s.value]
    # the steps go on from the saved count, and the user is told what does not come back
    assert "from step 4" in note and "optimizer state" in note and "Adam" in note
    assert "step **4**" in at.caption[0].value
    loaded = trainer(at)
    for k, v in loaded.network.params.items():
        np.testing.assert_array_equal(v, saved_params[k])
    # the settings widgets follow the loaded model, so no spurious "press Reset" warning
    go(at, "train")
    assert not [w for w in at.warning if "Reset" in w.value]
    assert metric(at, "Step") == "4"
    press(at, "step")
    assert not at.exception
    assert metric(at, "Step") == "5"
    assert "Step 5" in " ".join(m.value for m in at.sidebar.markdown)


@pytest.mark.parametrize("lr", [0.002, 0.00123])
def test_a_loaded_learning_rate_is_shown_and_kept_exactly(lr):
    # Formerly the learning rate was a slider of fixed choices and a loaded 0.002 was shown as
    # 0.003 (with a note saying so); now the saved value itself is shown and trained with.
    at = open_app()
    ds = session(at).dataset
    saved = Trainer.create(ds, train=TrainConfig(lr=lr, clip_value=4.0, bptt=7)).save()
    go(at, "model")
    upload(at, "model_file", "odd.npz", saved, NPZ)
    assert not at.exception
    [note] = [s.value for s in at.success if "Loaded odd.npz" in s.value]
    assert "shown as" not in note and "slider" not in note
    go(at, "train")
    assert at.number_input(key=key("lr")).value == lr
    assert session(at).settings.lr == lr
    assert trainer(at).train_config.lr == lr
    # the other saved settings are shown as saved too, so nothing waits for a Reset
    assert at.number_input(key=key("clip_value")).value == 4.0 and at.number_input(key=key("bptt")).value == 7
    assert not [w for w in at.warning if "Reset" in w.value]
    # and a step keeps it (no widget round trip rounds it to another value)
    press(at, "step")
    assert not at.exception and trainer(at).train_config.lr == lr and trainer(at).step_count == 1


def _tampered(saved: bytes) -> bytes:
    with np.load(io.BytesIO(saved), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["head.bias"] = np.full_like(arrays["head.bias"], np.nan)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_bad_model_files_give_a_clear_error_and_leave_the_model_untouched():
    at = open_app()
    tr = trainer(at)
    tr.run(2)
    text_model = Trainer.create(text_dataset("hello world, " * 50, seq_len=8)).save()
    go(at, "model")
    for name, content in (
        ("garbage.npz", b"not a zip at all"),
        ("text.npz", text_model),
        ("nan.npz", _tampered(tr.save())),
    ):
        upload(at, "model_file", name, content, NPZ)
        assert not at.exception, name
        errors = [e.value for e in at.error]
        assert any(name in e and "unchanged" in e for e in errors), (name, errors)
        assert trainer(at) is tr and tr.step_count == 2


def test_pytorch_snippet_on_the_model_page_rebuilds_the_model(tmp_path):
    torch = pytest.importorskip("torch")
    at = open_app("model")
    tr = trainer(at)
    tr.run(3)
    path = tmp_path / "model.npz"
    path.write_bytes(tr.save())
    from dashboard.sections.model import TORCH_SNIPPET

    scope: dict = {}
    exec(TORCH_SNIPPET.format(name=str(path)), scope)
    ds = tr.dataset
    x = torch.tensor(np.asarray(ds.val_X, dtype=np.float64))
    with torch.no_grad():
        pred = scope["head"](scope["rnn"](x)[0][-1]).numpy()[:, 0] * ds.target_scale + ds.target_shift
    _, ours, _ = tr.predictions("val")
    np.testing.assert_allclose(pred, ours, rtol=1e-9, atol=1e-9)
    assert any("PyTorch" in e.label for e in at.expander)
