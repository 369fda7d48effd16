"""One helper to compare named arrays and say which one differs, where, and by how much, and
the small perturbed networks the gradient, invariant and PyTorch parity tests share."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnn_core.config import ModelConfig
from rnn_core.network import Network


def perturbed_network(
    cell: str,
    act: str,
    head: str,
    layers: int,
    *,
    sizes: tuple[int, int, int, int],
    scale: float,
    seed: int = 0,
    dtype: str = "float64",
) -> tuple[Network, np.random.Generator]:
    """A small network whose every parameter is shifted by N(0, scale) draws, so biases are
    nonzero and weights livelier than the init; returned with the generator for further draws.

    ``sizes`` is ``(D, H, V, O)``: input columns and outputs for regression, vocabulary for text.
    """
    d, h, v, o = sizes
    rng = np.random.default_rng(seed)
    text = head == "text"
    cfg = ModelConfig(
        cell=cell,
        input_size=v if text else d,
        hidden_size=h,
        num_layers=layers,
        nonlinearity=act,
        output_size=v if text else o,
        head=head,
        dtype=dtype,
    )
    net = Network(cfg, rng)
    for p in net.params.values():
        p += rng.normal(0.0, scale, size=p.shape).astype(p.dtype)
    return net, rng


def differences(actual: Mapping[str, object], expected: Mapping[str, object]) -> dict[str, dict]:
    """Per-name report of how ``actual`` differs from ``expected``.

    Returns
    -------
    dict name -> {"max_abs": float, "max_rel": float, "where": index of the largest absolute
    difference, "actual": value there, "expected": value there, "shape": ...}. A missing name
    or a shape mismatch is reported with ``max_abs = inf``.
    """
    report: dict[str, dict] = {}
    for name in sorted(set(actual) | set(expected)):
        if name not in actual or name not in expected:
            report[name] = {"max_abs": np.inf, "max_rel": np.inf, "problem": "missing on one side"}
            continue
        a = np.asarray(actual[name], dtype=np.float64)
        e = np.asarray(expected[name], dtype=np.float64)
        if a.shape != e.shape:
            report[name] = {
                "max_abs": np.inf,
                "max_rel": np.inf,
                "problem": f"shape {a.shape} vs expected {e.shape}",
            }
            continue
        if a.size == 0:
            report[name] = {"max_abs": 0.0, "max_rel": 0.0, "shape": a.shape}
            continue
        diff = np.abs(a - e)
        diff[np.isnan(diff)] = np.inf
        where = np.unravel_index(int(np.argmax(diff)), a.shape)
        scale = np.maximum(np.abs(a), np.abs(e))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(diff == 0, 0.0, diff / scale)
        report[name] = {
            "max_abs": float(diff.max()),
            "max_rel": float(np.nanmax(rel)),
            "where": tuple(int(i) for i in where),
            "actual": float(a[where]),
            "expected": float(e[where]),
            "shape": a.shape,
        }
    return report


def assert_close(actual, expected, *, atol: float, rtol: float = 0.0, what: str = "") -> None:
    """Assert ``|actual - expected| <= atol + rtol * |expected|`` for every named array.

    ``actual`` and ``expected`` are mappings name -> array (a bare array is named "value").
    The failure message lists every array that differs with its worst element.
    """
    if not isinstance(actual, Mapping):
        actual, expected = {"value": actual}, {"value": expected}
    bad = []
    for name, r in differences(actual, expected).items():
        if "problem" in r:
            bad.append(f"  {name}: {r['problem']}")
            continue
        if r["max_abs"] == 0.0:
            continue
        a = np.asarray(actual[name], dtype=np.float64)
        e = np.asarray(expected[name], dtype=np.float64)
        if not np.all(np.abs(a - e) <= atol + rtol * np.abs(e)):
            bad.append(
                f"  {name} {r['shape']}: max |diff| {r['max_abs']:.3e} (max rel {r['max_rel']:.3e}) "
                f"at {r['where']}: {r['actual']!r} vs expected {r['expected']!r}"
            )
    if bad:
        head = f"{what}: " if what else ""
        summary = f"{head}{len(bad)} array(s) differ (atol={atol:g}, rtol={rtol:g}):\n"
        raise AssertionError(summary + "\n".join(bad))


def torch_optimizer(torch, name: str, params: list, lr: float, weight_decay: float = 0.0):
    """The ``torch.optim`` optimizer that ``rnn_core.optim.make_optimizer(name, ...)`` mirrors."""
    wd = {"weight_decay": weight_decay}
    make = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr, **wd),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9, **wd),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, **wd),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, **wd),
        "adam": lambda: torch.optim.Adam(params, lr=lr, **wd),
        "adamw": lambda: torch.optim.AdamW(params, lr=lr, **wd),
    }
    return make[name]()
