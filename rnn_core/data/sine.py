"""Generated series: the tutorials' sine task and variations on it.

The signal at integer steps ``x = 0 .. length-1`` is

    y(x) = exp(-damping * x) * sum_k a_k sin(w_k x + phi_k) + trend * x + noise * eps(x)

with up to three sines (the main one plus ``extra_sines``), ``w = frequency`` in radians per step
(or ``2 pi / period``) and ``eps`` standard normal noise from ``np.random.default_rng(seed)``.
The defaults give exactly ``np.sin(np.arange(200))``, windows of 50 values predicting the next,
150 windows: the first 100 train, the last 50 validate (``val_fraction = 1/3`` of 150 windows).
Other lengths use the same rule: ``n_val = round(windows * val_fraction)``, at least 1 and
leaving at least one training window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from rnn_core.data.datasets import SeriesDataset
from rnn_core.data.windows import build_series_dataset, check_seq_len
from rnn_core.errors import PlaygroundError

MAX_LENGTH = 1_000_000
MAX_SINES = 3

SINE_PRESETS: dict[str, dict] = {
    "clean sine": {},
    "noisy sine": {"noise": 0.15, "seed": 0},
    "two-tone": {"frequency": 0.3, "extra_sines": [{"amplitude": 0.5, "frequency": 1.1}]},
    "damped": {"length": 400, "frequency": 0.25, "damping": 0.006},
}
"""One-click settings for :func:`sine_dataset` (keyword arguments; ``{}`` is the tutorials' task)."""


def _finite(name: str, value, *, lo: float | None = None, positive: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value):
        raise PlaygroundError(f"sine {name} must be a finite number; got {value!r}")
    if positive and value <= 0:
        raise PlaygroundError(f"sine {name} must be above 0; got {value!r}")
    if lo is not None and value < lo:
        raise PlaygroundError(f"sine {name} must be at least {lo:g}; got {value!r}")
    return float(value)


def _angular(frequency, period, label: str) -> float:
    if frequency is not None and period is not None:
        raise PlaygroundError(f"{label}: give a frequency or a period, not both")
    if period is not None:
        return 2.0 * math.pi / _finite("period", period, positive=True)
    if frequency is None:
        return 1.0
    return _finite("frequency", frequency, positive=True)


def sine_series(
    *,
    length: int = 200,
    amplitude: float = 1.0,
    frequency: float | None = None,
    period: float | None = None,
    phase: float = 0.0,
    extra_sines: Sequence[Mapping] = (),
    noise: float = 0.0,
    trend: float = 0.0,
    damping: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """The generated signal (see the module docstring).

    Parameters
    ----------
    length : int
        Number of points.
    amplitude, frequency | period, phase : float
        The main sine; ``frequency`` in radians per step (default 1), ``period`` in steps.
    extra_sines : sequence of mappings
        Up to two more sines, each ``{"amplitude", "frequency" or "period", "phase"}``.
    noise : float
        Standard deviation of added Gaussian noise (seeded by ``seed``).
    trend : float
        Slope added per step.
    damping : float
        Decay rate per step of the sines' envelope ``exp(-damping * x)``.

    Returns
    -------
    x : ndarray, shape (length,)
    y : ndarray, shape (length,)
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or not 2 <= length <= MAX_LENGTH:
        raise PlaygroundError(f"sine length must be a whole number from 2 to {MAX_LENGTH:,}; got {length!r}")
    if isinstance(extra_sines, Mapping):
        extra_sines = [extra_sines]
    extra_sines = list(extra_sines or [])
    if len(extra_sines) > MAX_SINES - 1:
        raise PlaygroundError(
            f"at most {MAX_SINES} sines in all: give at most {MAX_SINES - 1} extra sines; "
            f"got {len(extra_sines)}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise PlaygroundError(f"seed must be a whole number >= 0; got {seed!r}")
    noise = _finite("noise level", noise, lo=0.0)
    damping = _finite("damping", damping, lo=0.0)
    trend = _finite("trend", trend)

    x = np.arange(length, dtype=np.float64)
    y = _finite("amplitude", amplitude) * np.sin(
        _angular(frequency, period, "sine") * x + _finite("phase", phase)
    )
    for k, spec in enumerate(extra_sines, start=2):
        if not isinstance(spec, Mapping):
            raise PlaygroundError(f"sine {k} must be a mapping with amplitude, frequency or period, phase")
        unknown = set(spec) - {"amplitude", "frequency", "period", "phase"}
        if unknown:
            raise PlaygroundError(
                f"sine {k} has unknown setting(s) {', '.join(sorted(unknown))}; "
                "use amplitude, frequency or period, phase"
            )
        w = _angular(spec.get("frequency"), spec.get("period"), f"sine {k}")
        y = y + _finite("amplitude", spec.get("amplitude", 1.0)) * np.sin(
            w * x + _finite("phase", spec.get("phase", 0.0))
        )
    with np.errstate(over="ignore", invalid="ignore"):
        if damping:
            y = y * np.exp(-damping * x)
        if trend:
            y = y + trend * x
        if noise:
            y = y + noise * np.random.default_rng(int(seed)).standard_normal(length)
    if not np.all(np.isfinite(y)):
        raise PlaygroundError(
            "the generated series overflows (values beyond 1e308); use a smaller amplitude, trend or noise"
        )
    return x, y


def sine_dataset(
    *,
    seq_len: int = 50,
    length: int = 200,
    amplitude: float = 1.0,
    frequency: float | None = None,
    period: float | None = None,
    phase: float = 0.0,
    extra_sines: Sequence[Mapping] = (),
    noise: float = 0.0,
    trend: float = 0.0,
    damping: float = 0.0,
    seed: int = 0,
    n_train: int | None = None,
    val_fraction: float = 1 / 3,
    test_fraction: float = 0.0,
    transform: str = "none",
    name: str = "sine",
) -> SeriesDataset:
    """A generated sine series as a :class:`SeriesDataset` (defaults: the tutorials' task).

    Generator settings as in :func:`sine_series`. ``n_train`` fixes the number of training
    windows; otherwise the last ``val_fraction`` of the windows validate (1/3 by default, which
    gives 100/50 for the default 150 windows). ``test_fraction`` holds out a test period at the
    end (none by default: the tutorials' task has none).
    """
    seq_len = check_seq_len(seq_len)
    settings = {
        "length": length,
        "amplitude": amplitude,
        "frequency": frequency,
        "period": period,
        "phase": phase,
        "extra_sines": [dict(s) for s in (extra_sines or [])]
        if not isinstance(extra_sines, Mapping)
        else [dict(extra_sines)],
        "noise": noise,
        "trend": trend,
        "damping": damping,
        "seed": seed,
    }
    x, y = sine_series(**settings)
    if length < seq_len + 2:
        raise PlaygroundError(
            f"sine length {length} is too short for sequence length {seq_len}; "
            f"need at least {seq_len + 2} points: raise the length or shorten the window"
        )
    return build_series_dataset(
        y,
        name=name,
        columns=["y"],
        seq_len=seq_len,
        x_axis=x,
        x_label="x",
        n_train=n_train,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        transform=transform,
        report={"rows": int(length), "generator": settings, "notes": []},
    )
