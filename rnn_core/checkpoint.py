"""Model files: a plain ``.npz`` that PyTorch users can read without this package.

Layout (all arrays in the model's dtype, read with ``allow_pickle=False``):

- ``rnn.weight_ih_l{k}``, ``rnn.weight_hh_l{k}``, ``rnn.bias_ih_l{k}``, ``rnn.bias_hh_l{k}``: exactly
  the ``state_dict()`` of ``torch.nn.RNN/LSTM/GRU`` prefixed ``rnn.``;
- ``head.weight`` ``(O, H)`` and ``head.bias`` ``(O,)``: the ``state_dict()`` of ``torch.nn.Linear``;
- ``config_json``: a 0-d unicode array holding a JSON object with the model shape (``cell``,
  ``input_size``, ``hidden_size``, ``num_layers``, ``nonlinearity``, ``output_size``, ``head``, ``init``,
  ``forget_bias``, ``dtype``), the data layout (``seq_len``, ``columns`` or ``vocab``) and the
  normalisation: ``raw = normalised * scale + shift`` with ``input_shift``/``input_scale`` one per
  input column and ``target_shift``/``target_scale`` for the predicted value (``null`` for text).

Everything read back is validated; any problem is a :class:`PlaygroundError` that says what is
wrong with the file, because model files are user uploads.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.errors import PlaygroundError

CONFIG_KEY = "config_json"
FORMAT = "rnn-playground-model/1"
MAX_FILE_BYTES = 512 * 1024 * 1024

_MODEL_FIELDS = tuple(f.name for f in dataclasses.fields(ModelConfig))
_REQUIRED_FIELDS = (
    "cell",
    "input_size",
    "hidden_size",
    "num_layers",
    "nonlinearity",
    "output_size",
    "head",
    "dtype",
)


def param_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Names and shapes of every parameter of ``config``, in ``torch`` ``state_dict`` order.

    Returns
    -------
    dict mapping ``'rnn.weight_ih_l{k}'`` -> ``(G*H, D_k)``, ``'rnn.weight_hh_l{k}'`` -> ``(G*H, H)``,
    ``'rnn.bias_ih_l{k}'``/``'rnn.bias_hh_l{k}'`` -> ``(G*H,)``, ``'head.weight'`` -> ``(O, H)``,
    ``'head.bias'`` -> ``(O,)``, where G = 1, 4, 3 for rnn, lstm, gru and ``D_0`` is the input size.
    """
    gh = config.gates * config.hidden_size
    h = config.hidden_size
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(config.num_layers):
        d = config.input_size if k == 0 else h
        shapes[f"rnn.weight_ih_l{k}"] = (gh, d)
        shapes[f"rnn.weight_hh_l{k}"] = (gh, h)
        shapes[f"rnn.bias_ih_l{k}"] = (gh,)
        shapes[f"rnn.bias_hh_l{k}"] = (gh,)
    shapes["head.weight"] = (config.output_size, h)
    shapes["head.bias"] = (config.output_size,)
    return shapes


@dataclass(frozen=True)
class Checkpoint:
    """A validated model file.

    Attributes
    ----------
    model : ModelConfig
    params : dict[str, ndarray]
        Keyed and shaped as :func:`param_shapes` says, dtype ``model.dtype``.
    meta : dict
        The rest of the JSON config: ``seq_len``, ``columns``/``vocab``, normalisation, ``train``
        (a :class:`TrainConfig` as a dict, may be absent), ``step_count``.
    """

    model: ModelConfig
    params: dict[str, np.ndarray]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def train(self) -> TrainConfig:
        """The saved training settings, or the defaults when the file has none usable."""
        saved = self.meta.get("train")
        if isinstance(saved, dict):
            names = {f.name for f in dataclasses.fields(TrainConfig)}
            kept = {k: v for k, v in saved.items() if k in names}
            # Files written before the schedule moved into the engine trained at a constant rate.
            kept.setdefault("lr_schedule", "constant")
            try:
                return TrainConfig(**kept)
            except (PlaygroundError, TypeError):
                pass
        return TrainConfig()

    @property
    def step_count(self) -> int:
        """Optimizer steps the saved model had taken; 0 when the file does not say (or says nonsense).

        At most 2**53, so that every step number is exact in the float history columns.
        """
        saved = self.meta.get("step_count")
        if isinstance(saved, bool) or not isinstance(saved, int) or not 0 <= saved <= 2**53:
            return 0
        return saved


def dataset_meta(dataset: Any) -> dict[str, Any]:
    """The data-dependent part of the config JSON for ``dataset`` (regression or text)."""
    if dataset.kind == "text":
        return {
            "seq_len": int(dataset.seq_len),
            "vocab": list(dataset.vocab),
            "columns": None,
            "input_shift": None,
            "input_scale": None,
            "target_shift": None,
            "target_scale": None,
        }
    return {
        "seq_len": int(dataset.seq_len),
        "vocab": None,
        "columns": [str(c) for c in dataset.columns],
        "input_shift": [float(v) for v in np.asarray(dataset.input_shift).ravel()],
        "input_scale": [float(v) for v in np.asarray(dataset.input_scale).ravel()],
        "target_shift": float(dataset.target_shift),
        "target_scale": float(dataset.target_scale),
    }


def config_json(model: ModelConfig, meta: dict[str, Any]) -> str:
    """The JSON string stored under ``config_json``: model fields first, then ``meta``."""
    doc: dict[str, Any] = {"format": FORMAT, **dataclasses.asdict(model)}
    for key, value in meta.items():
        doc.setdefault(key, value)
    return json.dumps(doc, allow_nan=False)


def save_checkpoint(
    target: str | os.PathLike | BinaryIO | None,
    params: dict[str, np.ndarray],
    model: ModelConfig,
    meta: dict[str, Any],
) -> bytes | None:
    """Write a model file.

    Parameters
    ----------
    target : path, writable binary file object, or None
        Where to write; ``None`` returns the file's bytes instead (for a download button).
    params : dict[str, ndarray]
        Parameters keyed as :func:`param_shapes` says.
    model : ModelConfig
    meta : dict
        Extra JSON fields, normally :func:`dataset_meta` plus ``train`` and ``step_count``.

    Returns
    -------
    bytes or None
    """
    shapes = param_shapes(model)
    if set(shapes) != set(params):
        raise PlaygroundError("cannot save: the parameters do not match the model configuration")
    arrays = {name: np.ascontiguousarray(params[name], dtype=model.dtype) for name in shapes}
    bad = [name for name, a in arrays.items() if not np.isfinite(a).all()]
    if bad:
        raise PlaygroundError(
            f"cannot save: parameters {', '.join(bad)} are not finite (the model diverged); "
            "reset or restore the model first"
        )
    arrays[CONFIG_KEY] = np.array(config_json(model, meta))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    if target is None:
        return data
    if isinstance(target, (str, os.PathLike)):
        path = Path(target)
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise PlaygroundError(f"cannot write model file {path}: {exc.strerror or exc}") from None
    else:
        target.write(data)
    return None


def _read_source(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise PlaygroundError(f"model file {path} does not exist; give the path of a saved .npz model")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PlaygroundError(f"model file {path} is larger than {MAX_FILE_BYTES // 2**20} MB")
        data = path.read_bytes()
    elif hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            raise PlaygroundError("model file must be opened in binary mode")
    else:
        raise PlaygroundError(f"cannot read a model from {type(source).__name__}; give a path or bytes")
    if len(data) > MAX_FILE_BYTES:
        raise PlaygroundError(f"model file is larger than {MAX_FILE_BYTES // 2**20} MB")
    if not data:
        raise PlaygroundError("model file is empty; choose a .npz file saved by RNN Playground")
    return data


def _looks_like_text(data: bytes) -> bool:
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _not_a_model(why: str) -> PlaygroundError:
    return PlaygroundError(f"not an RNN Playground model file ({why}); choose a .npz saved by this app")


def _parse_config(raw: np.ndarray) -> tuple[ModelConfig, dict[str, Any]]:
    if raw.shape != () or raw.dtype.kind not in "US":
        raise _not_a_model("config_json must be a 0-d string array")
    text = str(raw[()] if raw.dtype.kind == "U" else raw[()].decode("utf-8", "replace"))
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _not_a_model(f"config_json is not valid JSON: {exc.msg} at position {exc.pos}") from None
    except RecursionError:
        raise _not_a_model("config_json nests too deeply") from None
    if not isinstance(doc, dict):
        raise _not_a_model("config_json must hold a JSON object")
    missing = [k for k in _REQUIRED_FIELDS if k not in doc]
    if missing:
        raise _not_a_model(f"config_json lacks {', '.join(missing)}")
    kwargs = {k: doc[k] for k in _MODEL_FIELDS if k in doc}
    try:
        model = ModelConfig(**kwargs)
    except PlaygroundError as exc:
        raise PlaygroundError(f"model file has an invalid configuration: {exc}") from None
    meta = {k: v for k, v in doc.items() if k not in _MODEL_FIELDS}
    _check_meta(model, meta)
    return model, meta


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite_list(name: str, value: Any, n: int, *, positive: bool) -> None:
    ok = isinstance(value, list) and len(value) == n
    ok = ok and all(_is_number(v) and math.isfinite(v) for v in value)
    if ok and positive:
        ok = all(v > 0 for v in value)
    if not ok:
        need = "positive " if positive else ""
        raise _not_a_model(f"{name} must be a list of {n} finite {need}numbers")


def _check_meta(model: ModelConfig, meta: dict[str, Any]) -> None:
    if model.head == "text":
        vocab = meta.get("vocab")
        if not isinstance(vocab, list) or not all(isinstance(c, str) for c in vocab):
            raise _not_a_model("a text model needs its vocabulary as a list of characters")
        if len(vocab) != model.input_size or len(vocab) != model.output_size:
            raise _not_a_model(
                f"vocabulary has {len(vocab)} characters but the model expects "
                f"{model.input_size} inputs and {model.output_size} outputs"
            )
    else:
        if model.output_size != 1:
            raise _not_a_model("a regression model must have output_size 1")
        _finite_list("input_shift", meta.get("input_shift"), model.input_size, positive=False)
        _finite_list("input_scale", meta.get("input_scale"), model.input_size, positive=True)
        _finite_list("target_shift", [meta.get("target_shift")], 1, positive=False)
        _finite_list("target_scale", [meta.get("target_scale")], 1, positive=True)
        columns = meta.get("columns")
        if columns is not None and (not isinstance(columns, list) or len(columns) != model.input_size):
            raise _not_a_model(f"columns must list the {model.input_size} input column names")
    seq_len = meta.get("seq_len")
    if seq_len is not None and (isinstance(seq_len, bool) or not isinstance(seq_len, int) or seq_len < 1):
        raise _not_a_model("seq_len must be a positive whole number")


def load_checkpoint(source: str | os.PathLike | bytes | BinaryIO) -> Checkpoint:
    """Read and validate a model file.

    Parameters
    ----------
    source : path, bytes, or a readable binary file object (e.g. a Streamlit upload)

    Returns
    -------
    Checkpoint

    Raises
    ------
    PlaygroundError
        If the file is not a zip/npz, holds pickled objects, lacks or has extra arrays, has wrong
        shapes or dtypes, non-finite values, or an unreadable or inconsistent ``config_json``.
    """
    data = _read_source(source)
    if not data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY")):
        # Anything else would reach NumPy's pickle fallback, whose advice no user should follow.
        looks = "text" if _looks_like_text(data) else "some other kind of file"
        raise _not_a_model(f"it is {looks}, not a .npz archive of arrays")
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError:
        raise _not_a_model("it holds Python objects instead of plain arrays") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _not_a_model(f"unreadable: {exc}") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise _not_a_model("it is a single .npy array, not an .npz archive")
    with npz:
        names = set(npz.files)
        if CONFIG_KEY not in names:
            raise _not_a_model("it has no config_json entry")
        model, meta = _parse_config(_load_member(npz, CONFIG_KEY, None))
        shapes = param_shapes(model)
        missing = [k for k in shapes if k not in names]
        extra = sorted(names - set(shapes) - {CONFIG_KEY})
        if missing:
            raise PlaygroundError(
                f"model file is missing {', '.join(missing)} for a {model.num_layers}-layer {model.cell}; "
                "the file is incomplete or its config_json does not match its arrays"
            )
        if extra:
            raise PlaygroundError(
                f"model file has unexpected arrays {', '.join(extra)}; "
                f"a {model.num_layers}-layer {model.cell} has only {', '.join(shapes)}"
            )
        params: dict[str, np.ndarray] = {}
        for name, shape in shapes.items():
            nbytes = math.prod(shape) * np.dtype(model.dtype).itemsize
            arr = _load_member(npz, name, nbytes)
            if arr.shape != shape:
                raise PlaygroundError(
                    f"model file array {name} has shape {arr.shape}, expected {shape} "
                    f"for cell={model.cell}, hidden_size={model.hidden_size}, input_size={model.input_size}"
                )
            if arr.dtype != np.dtype(model.dtype):
                raise PlaygroundError(
                    f"model file array {name} has dtype {arr.dtype}, but config_json says {model.dtype}"
                )
            if not np.isfinite(arr).all():
                raise PlaygroundError(f"model file array {name} contains NaN or infinite values")
            params[name] = np.array(arr, copy=True)
    return Checkpoint(model=model, params=params, meta=meta)


def _load_member(npz: Any, name: str, nbytes: int | None) -> np.ndarray:
    # Refuse members whose uncompressed size is far beyond what the declared shape needs, so a
    # crafted upload cannot make us allocate gigabytes.
    limit = (nbytes if nbytes is not None else 10 * 2**20) + 4096
    try:
        info = npz.zip.getinfo(name + ".npy")
    except KeyError:
        info = None
    if info is not None and info.file_size > limit:
        raise PlaygroundError(f"model file array {name} is larger than its declared shape allows")
    try:
        return npz[name]
    except ValueError as exc:
        raise _not_a_model(f"array {name} cannot be read without unpickling: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise _not_a_model(f"array {name} is unreadable: {exc}") from None


def check_compatible(ckpt: Checkpoint, dataset: Any, *, rtol: float = 1e-6) -> None:
    """Raise :class:`PlaygroundError` unless ``ckpt`` can run on ``dataset`` as it was trained.

    Checks the head kind, input size, column names (regression) or vocabulary (text), and that
    the dataset is normalised with the same shift and scale the model learned with.
    """
    kind = "text" if getattr(dataset, "kind", "regression") == "text" else "regression"
    model = ckpt.model
    if model.head != kind:
        raise PlaygroundError(
            f"this model was trained on {model.head} data but the current data is {kind}; "
            f"load {'a text' if model.head == 'text' else 'a numeric series'} first"
        )
    if kind == "text":
        if list(ckpt.meta["vocab"]) != list(dataset.vocab):
            raise PlaygroundError(
                f"this model's character vocabulary ({model.input_size} characters) differs from the "
                f"current text's ({len(dataset.vocab)}); load the text the model was trained on "
                "(same lowercasing and vocabulary cap)"
            )
        return
    if model.input_size != int(dataset.input_size):
        raise PlaygroundError(
            f"this model expects {model.input_size} input columns but the current data has "
            f"{dataset.input_size}; choose the same target and extra input columns"
        )
    columns = ckpt.meta.get("columns")
    if columns is not None and [str(c) for c in columns] != [str(c) for c in dataset.columns]:
        raise PlaygroundError(
            f"this model was trained on columns {', '.join(map(str, columns))} but the current data has "
            f"{', '.join(map(str, dataset.columns))}; choose the same target and inputs"
        )
    pairs = [
        ("input_shift", ckpt.meta["input_shift"], dataset.input_shift),
        ("input_scale", ckpt.meta["input_scale"], dataset.input_scale),
        ("target_shift", [ckpt.meta["target_shift"]], [dataset.target_shift]),
        ("target_scale", [ckpt.meta["target_scale"]], [dataset.target_scale]),
    ]
    for name, saved, current in pairs:
        saved_a = np.asarray(saved, dtype=np.float64).ravel()
        current_a = np.asarray(current, dtype=np.float64).ravel()
        if saved_a.shape != current_a.shape or not np.allclose(saved_a, current_a, rtol=rtol, atol=1e-12):
            raise PlaygroundError(
                f"this model was trained on data normalised differently ({name} differs); load the same "
                "file with the same columns, window and validation fraction it was trained with"
            )
