"""Frozen configuration dataclasses, generated from the settings schema.

:class:`ModelConfig` (the network's shape), :class:`TrainConfig` (the optimisation),
:class:`RunSettings` (everything a run is built from: both plus the sequence length) and
:class:`SineSettings` (the sine generator) have one field per setting of their groups in
:data:`rnn_core.settings.SCHEMA`, with its default; adding a setting to the schema adds the
field. Validation happens in ``__post_init__`` through the schema, so an absurd value never
reaches the maths; each failure is a :class:`~rnn_core.errors.PlaygroundError` naming the
setting and its range. All are saved with :func:`dataclasses.asdict` to JSON.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rnn_core.cells import cell_spec
from rnn_core.errors import PlaygroundError
from rnn_core.settings import SCHEMA, Setting, group

CELLS = SCHEMA["cell"].choices
NONLINEARITIES = SCHEMA["nonlinearity"].choices
INITS = SCHEMA["init"].choices
DTYPES = SCHEMA["dtype"].choices
OPTIMIZERS = SCHEMA["optimizer"].choices
TEXT_MODES = SCHEMA["text_mode"].choices
HEADS = ("regression", "text")
MAX_HIDDEN = int(SCHEMA["hidden_size"].hi)
MAX_LAYERS = int(SCHEMA["num_layers"].hi)
MAX_BATCH = int(SCHEMA["batch_size"].hi)


class _Checked:
    """Checks and normalises every schema field after ``__init__``."""

    _settings: tuple[Setting, ...] = ()

    def __post_init__(self) -> None:
        for s in self._settings:
            object.__setattr__(self, s.name, s.check(getattr(self, s.name)))

    def replace(self, **changes: Any):
        return dataclasses.replace(self, **changes)


def _config_class(name: str, groups: tuple[str, ...], base: type, extra=(), doc: str = "") -> type:
    settings = group(*groups)
    fields = [*extra, *((s.name, Any, dataclasses.field(default=s.default)) for s in settings)]
    cls = dataclasses.make_dataclass(name, fields, bases=(base,), frozen=True, namespace={"__doc__": doc})
    cls._settings = settings
    cls.__module__ = __name__
    return cls


class _ModelBase(_Checked):
    def __post_init__(self) -> None:
        super().__post_init__()
        if self.head not in HEADS:
            raise PlaygroundError(f"head must be one of {', '.join(HEADS)}; got {self.head!r}")
        for size in ("input_size", "output_size"):
            v = getattr(self, size)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 100_000:
                raise PlaygroundError(f"{size} must be a whole number from 1 to 100000; got {v!r}")

    @property
    def gates(self) -> int:
        """Number of stacked gate blocks in the weight matrices (1, 4 or 3)."""
        return cell_spec(self.cell).gates


ModelConfig = _config_class(
    "ModelConfig",
    ("model",),
    _ModelBase,
    extra=(("input_size", int, 1), ("output_size", int, 1), ("head", str, "regression")),
    doc="""Shape and initialisation of a stacked recurrent network with a linear head.

    ``input_size`` is the number of input columns (regression) or the vocabulary size (text,
    where inputs are integer ids looked up as columns of ``weight_ih_l0``). ``output_size`` is 1
    for regression, the vocabulary size for text. The other fields are the schema's model
    settings (``cell``, ``hidden_size``, ...).""",
)

TrainConfig = _config_class(
    "TrainConfig",
    ("train",),
    _Checked,
    doc="""Optimisation settings (the schema's train group). ``bptt=None`` means full
    backpropagation through time; ``clip_norm``/``clip_value`` ``None`` switch that clipping off.""",
)


class _RunBase(_Checked):
    def model_config(self) -> ModelConfig:
        return ModelConfig(**{s.name: getattr(self, s.name) for s in group("model")})

    def train_config(self) -> TrainConfig:
        return TrainConfig(**{s.name: getattr(self, s.name) for s in group("train")})

    @classmethod
    def from_configs(cls, model: Any, train: Any, seq_len: int) -> RunSettings:
        """The settings of a built trainer: its configs and its data's sequence length."""
        values = {s.name: getattr(model, s.name) for s in group("model")}
        values.update({s.name: getattr(train, s.name) for s in group("train")})
        return cls(seq_len=int(seq_len), **values)

    def differences(self, other: RunSettings, *, live: bool | None = None) -> list[str]:
        """Names of the settings that differ from ``other`` (only live or rebuild ones if asked)."""
        return [
            s.name
            for s in self._settings
            if (live is None or s.live == live) and getattr(self, s.name) != getattr(other, s.name)
        ]


RunSettings = _config_class(
    "RunSettings",
    ("model", "data", "train"),
    _RunBase,
    doc="Everything a run is built from: the model, the sequence length and the training settings.",
)


class _SineBase(_Checked):
    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`rnn_core.data.sine_dataset`."""
        kw: dict[str, Any] = {
            name: getattr(self, f"sine_{name}")
            for name in ("length", "amplitude", "frequency", "phase", "noise", "trend", "damping", "seed")
        }
        if self.sine_amplitude2:
            kw["extra_sines"] = [{"amplitude": self.sine_amplitude2, "frequency": self.sine_frequency2}]
        return kw


SineSettings = _config_class(
    "SineSettings", ("sine",), _SineBase, doc="The sine generator's settings (the schema's sine group)."
)
