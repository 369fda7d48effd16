"""Frozen configuration dataclasses shared by the engine, the trainer and the UI.

Both are saved with :func:`dataclasses.asdict` to JSON. Validation happens in
``__post_init__`` so that an absurd value never reaches the maths; each failure
is a :class:`~rnn_core.errors.PlaygroundError` naming the field and the range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnn_core.errors import PlaygroundError

CELLS = ("rnn", "lstm", "gru")
NONLINEARITIES = ("tanh", "sigmoid", "relu")
HEADS = ("regression", "text")
INITS = ("xavier", "orthogonal", "uniform")
DTYPES = ("float64", "float32")
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
TEXT_MODES = ("stream", "random")

MAX_HIDDEN = 1024
MAX_LAYERS = 3
MAX_BATCH = 4096


def _choice(name: str, value: str, options: tuple[str, ...]) -> None:
    if value not in options:
        raise PlaygroundError(f"{name} must be one of {', '.join(options)}; got {value!r}")


def _int_range(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PlaygroundError(f"{name} must be a whole number from {lo} to {hi}; got {value!r}")


def _positive(name: str, value: float | None, hi: float, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not 0 < value <= hi:
        raise PlaygroundError(f"{name} must be a number above 0 and at most {hi:g}; got {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Shape and initialisation of a stacked recurrent network with a linear head.

    ``input_size`` is the number of input columns (regression) or the
    vocabulary size (text, where inputs are integer ids looked up as columns of
    ``weight_ih_l0``). ``output_size`` is 1 for regression, the vocabulary size
    for text. ``nonlinearity`` applies to the vanilla cell only.
    """

    cell: str = "rnn"
    input_size: int = 1
    hidden_size: int = 32
    num_layers: int = 1
    nonlinearity: str = "tanh"
    output_size: int = 1
    head: str = "regression"
    init: str = "xavier"
    forget_bias: float = 1.0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        _choice("cell", self.cell, CELLS)
        _choice("nonlinearity", self.nonlinearity, NONLINEARITIES)
        _choice("head", self.head, HEADS)
        _choice("init", self.init, INITS)
        _choice("dtype", self.dtype, DTYPES)
        _int_range("input_size", self.input_size, 1, 100_000)
        _int_range("hidden_size", self.hidden_size, 1, MAX_HIDDEN)
        _int_range("num_layers", self.num_layers, 1, MAX_LAYERS)
        _int_range("output_size", self.output_size, 1, 100_000)
        if not isinstance(self.forget_bias, (int, float)) or not math.isfinite(self.forget_bias):
            raise PlaygroundError(f"forget_bias must be a finite number; got {self.forget_bias!r}")

    @property
    def gates(self) -> int:
        """Number of stacked gate blocks in the weight matrices (1, 4 or 3)."""
        return {"rnn": 1, "lstm": 4, "gru": 3}[self.cell]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. ``bptt=None`` means full backpropagation through time.

    ``clip_norm`` rescales all gradients together when their global L2 norm
    exceeds it; ``clip_value`` clamps each element to ``[-clip_value, clip_value]``.
    Either, both or neither may be set. ``text_mode`` chooses contiguous streams
    with carried hidden state (``"stream"``) or independent random windows.
    """

    optimizer: str = "adam"
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    clip_norm: float | None = 1.0
    clip_value: float | None = None
    bptt: int | None = None
    seed: int = 0
    text_mode: str = "stream"

    def __post_init__(self) -> None:
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("text_mode", self.text_mode, TEXT_MODES)
        _positive("learning rate", self.lr, 10.0)
        if not isinstance(self.momentum, (int, float)) or not 0 <= self.momentum < 1:
            raise PlaygroundError(f"momentum must be from 0 up to (not including) 1; got {self.momentum!r}")
        _int_range("batch size", self.batch_size, 1, MAX_BATCH)
        _positive("clip norm", self.clip_norm, 1e6, optional=True)
        _positive("clip value", self.clip_value, 1e6, optional=True)
        if self.bptt is not None:
            _int_range("BPTT truncation", self.bptt, 1, 100_000)
        _int_range("seed", self.seed, 0, 2**32 - 1)
