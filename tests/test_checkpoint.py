"""Model files: round trip, PyTorch key names, and every kind of corruption -> PlaygroundError."""

import dataclasses
import io
import json
import zipfile

import numpy as np
import pytest

from rnn_core.checkpoint import (
    check_compatible,
    dataset_meta,
    load_checkpoint,
    param_shapes,
    save_checkpoint,
)
from rnn_core.config import ModelConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.init import init_params


@pytest.fixture(scope="module")
def sine():
    return sine_dataset()


def _model(cell="lstm", layers=2, dtype="float64"):
    return ModelConfig(cell=cell, input_size=1, hidden_size=5, num_layers=layers, dtype=dtype)


def _file(cell="lstm", layers=2, dtype="float64", ds=None):
    cfg = _model(cell, layers, dtype)
    params = init_params(cfg, np.random.default_rng(3))
    ds = ds if ds is not None else sine_dataset()
    return cfg, params, save_checkpoint(None, params, cfg, dataset_meta(ds))


def _arrays(data: bytes) -> dict:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _rewrite(data: bytes, **changes) -> bytes:
    arrays = _arrays(data)
    for k, v in changes.items():
        if v is None:
            del arrays[k]
        else:
            arrays[k] = v
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _config(data: bytes) -> dict:
    return json.loads(str(_arrays(data)["config_json"][()]))


def test_keys_are_torch_state_dict_names_prefixed():
    _, _, data = _file("gru", 2)
    keys = set(_arrays(data))
    expected = {"config_json", "head.weight", "head.bias"}
    for k in range(2):
        expected |= {f"rnn.{n}_l{k}" for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    assert keys == expected
    arrays = _arrays(data)
    assert arrays["rnn.weight_ih_l0"].shape == (15, 1)  # 3 gates x 5 hidden, 1 input
    assert arrays["rnn.weight_ih_l1"].shape == (15, 5)
    assert arrays["head.weight"].shape == (1, 5)
    assert arrays["config_json"].shape == () and arrays["config_json"].dtype.kind == "U"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_round_trip_from_bytes_path_and_buffer(tmp_path, sine, cell, dtype):
    cfg, params, data = _file(cell, 2, dtype, sine)
    path = tmp_path / "m.npz"
    path.write_bytes(data)
    for source in (data, path, str(path), io.BytesIO(data)):
        ck = load_checkpoint(source)
        assert ck.model == cfg
        assert set(ck.params) == set(params)
        for k, v in params.items():
            assert ck.params[k].dtype == np.dtype(dtype)
            np.testing.assert_array_equal(ck.params[k], v)
    conf = _config(data)
    for field in ("cell", "input_size", "hidden_size", "num_layers", "nonlinearity", "init", "dtype"):
        assert conf[field] == getattr(cfg, field)
    assert conf["seq_len"] == 50 and conf["columns"] == list(sine.columns)
    np.testing.assert_allclose(conf["input_shift"], sine.input_shift)
    np.testing.assert_allclose(conf["input_scale"], sine.input_scale)
    assert conf["target_scale"] == pytest.approx(sine.target_scale)
    check_compatible(load_checkpoint(data), sine)


def test_normalisation_maps_back_to_raw(sine):
    _, _, data = _file("rnn", 1, ds=sine)
    conf = _config(data)
    # raw = normalised * scale + shift, so the training targets come back exactly
    raw_back = sine.train_y[:, 0] * conf["target_scale"] + conf["target_shift"]
    np.testing.assert_allclose(raw_back, sine.raw[sine.train_idx, 0], atol=1e-12)


def test_save_to_path_and_refuse_non_finite(tmp_path, sine):
    cfg = _model("rnn", 1)
    params = init_params(cfg, np.random.default_rng(0))
    save_checkpoint(tmp_path / "a.npz", params, cfg, dataset_meta(sine))
    assert load_checkpoint(tmp_path / "a.npz").model == cfg
    params["head.bias"][0] = np.nan
    with pytest.raises(PlaygroundError, match="not finite"):
        save_checkpoint(tmp_path / "b.npz", params, cfg, dataset_meta(sine))


def _corruptions():
    def bad_config(**edit):
        def make(data):
            conf = _config(data)
            conf.update(edit)
            return _rewrite(data, config_json=np.array(json.dumps(conf)))

        return make

    return {
        "missing key": (lambda d: _rewrite(d, **{"rnn.bias_hh_l1": None}), "missing rnn.bias_hh_l1"),
        "extra key": (lambda d: _rewrite(d, extra=np.zeros(3)), "unexpected arrays extra"),
        "wrong shape": (lambda d: _rewrite(d, **{"head.weight": np.zeros((1, 6))}), "shape"),
        "wrong dtype": (
            lambda d: _rewrite(d, **{"head.bias": np.zeros(1, dtype=np.float32)}),
            "dtype float32",
        ),
        "integer dtype": (lambda d: _rewrite(d, **{"head.bias": np.zeros(1, dtype=np.int64)}), "dtype"),
        "nan": (
            lambda d: _rewrite(d, **{"rnn.weight_hh_l0": np.full((20, 5), np.nan)}),
            "NaN or infinite",
        ),
        "inf": (lambda d: _rewrite(d, **{"head.bias": np.array([np.inf])}), "NaN or infinite"),
        "bad json": (lambda d: _rewrite(d, config_json=np.array("{cell: lstm")), "not valid JSON"),
        "json list": (lambda d: _rewrite(d, config_json=np.array("[1, 2]")), "JSON object"),
        "json too deep": (lambda d: _rewrite(d, config_json=np.array("[" * 10**5 + "]" * 10**5)), "deeply"),
        "config not 0-d": (lambda d: _rewrite(d, config_json=np.array(["{}", "{}"])), "0-d"),
        "no config": (lambda d: _rewrite(d, config_json=None), "no config_json"),
        "config lacks field": (
            lambda d: _rewrite(d, config_json=np.array(json.dumps({"cell": "lstm"}))),
            "lacks",
        ),
        "unknown cell": (bad_config(cell="transformer"), "cell must be one of"),
        "hidden mismatch": (bad_config(hidden_size=6), "shape"),
        "negative scale": (bad_config(input_scale=[-1.0]), "input_scale"),
        "scale wrong length": (bad_config(input_scale=[1.0, 2.0]), "input_scale"),
        "missing target_shift": (bad_config(target_shift=None), "target_shift"),
        "pickled object": (
            lambda d: _rewrite(d, **{"head.bias": np.array([{"a": 1}], dtype=object)}),
            "unpickling",
        ),
        "not a zip": (lambda d: b"hello, this is not a model" * 10, "not an RNN Playground model"),
        "truncated": (lambda d: d[: len(d) // 2], "not an RNN Playground model"),
        "empty": (lambda d: b"", "empty"),
        "single npy": (lambda d: _npy(np.zeros(3)), "single .npy"),
    }


def _npy(a) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


@pytest.mark.parametrize("name", list(_corruptions()))
def test_corruption_raises_playground_error(name, sine):
    make, message = _corruptions()[name]
    _, _, data = _file("lstm", 2, ds=sine)
    with pytest.raises(PlaygroundError, match=message):
        load_checkpoint(make(data))


def test_oversized_member_is_refused_before_loading(sine):
    _, _, data = _file("rnn", 1, ds=sine)
    arrays = _arrays(data)
    big = io.BytesIO()
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for k, v in arrays.items():
            a = np.zeros(4_000_000) if k == "head.bias" else v  # 32 MB for a (1,) parameter
            zf.writestr(k + ".npy", _npy(a))
    with pytest.raises(PlaygroundError, match="larger than its declared shape"):
        load_checkpoint(big.getvalue())


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(PlaygroundError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz")


def test_mismatch_with_current_dataset(sine):
    _, _, data = _file("rnn", 1, ds=sine)
    ck = load_checkpoint(data)
    with pytest.raises(PlaygroundError, match="normalised differently"):
        check_compatible(ck, sine_dataset(amplitude=3.0))
    with pytest.raises(PlaygroundError, match="columns"):
        check_compatible(ck, _renamed(sine))


def _renamed(ds):
    return dataclasses.replace(ds, columns=["other"])


def test_param_shapes_match_gate_counts():
    for cell, g in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        cfg = ModelConfig(cell=cell, input_size=3, hidden_size=7, num_layers=3, output_size=2)
        shapes = param_shapes(cfg)
        assert shapes["rnn.weight_ih_l0"] == (7 * g, 3)
        assert shapes["rnn.weight_ih_l2"] == (7 * g, 7)
        assert shapes["rnn.bias_hh_l1"] == (7 * g,)
        assert shapes["head.weight"] == (2, 7)
        assert len(shapes) == 14


@pytest.mark.parametrize(
    ("saved", "expected"), [(12, 12), (None, 0), (-3, 0), ("5", 0), (True, 0), (2.5, 0), (10**40, 0)]
)
def test_step_count_read_back_or_zero(sine, saved, expected):
    cfg = _model()
    meta = dataset_meta(sine)
    if saved is not None:
        meta["step_count"] = saved
    data = save_checkpoint(None, init_params(cfg, np.random.default_rng(3)), cfg, meta)
    assert load_checkpoint(data).step_count == expected
