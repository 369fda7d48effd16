"""Training-step throughput of the engine against PyTorch CPU, side by side in one run.

Scenarios (a "step" is forward + backward + optimizer update, no clipping, on one fixed random
batch, float64 on both sides):

* ``S1``: tanh RNN, T=50, B=32, H=100, D=1, MSE on the last step's linear output, SGD.
* ``S2``: LSTM character model, T=64, B=32, H=128, vocabulary 80, softmax cross-entropy at every
  step, Adam. PyTorch gets one-hot inputs (computed once, outside the timed loop).

Each side runs at 1 and at 2 threads (NumPy's BLAS through ``threadpoolctl``, PyTorch through
``torch.set_num_threads``); repetitions of all settings are interleaved so that a noisy
neighbour slows every contestant alike. Per setting the median rate over repetitions is kept;
each side is reported at its fastest setting.

Run with ``python -m rnn_core bench [--json]`` or ``python -m rnn_core.bench``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from rnn_core.config import ModelConfig
from rnn_core.losses import mse, softmax_cross_entropy
from rnn_core.network import Network
from rnn_core.optim import make_optimizer
from rnn_core.threads import blas_threads

SCENARIOS = {
    "S1": {
        "title": "tanh RNN T=50 B=32 H=100 D=1, MSE last step, SGD",
        "cell": "rnn",
        "T": 50,
        "B": 32,
        "H": 100,
        "D": 1,
        "head": "regression",
        "optimizer": "sgd",
        "lr": 0.01,
    },
    "S2": {
        "title": "LSTM chars T=64 B=32 H=128 V=80, CE every step, Adam",
        "cell": "lstm",
        "T": 64,
        "B": 32,
        "H": 128,
        "D": 80,
        "head": "text",
        "optimizer": "adam",
        "lr": 0.001,
    },
}
THREADS = (1, 2)


def _batch(sc: dict, rng: np.random.Generator):
    T, B, D = sc["T"], sc["B"], sc["D"]
    if sc["head"] == "text":
        return rng.integers(0, D, size=(T, B)), rng.integers(0, D, size=(T, B))
    return rng.normal(size=(T, B, D)), rng.normal(size=(B, 1))


def numpy_stepper(sc: dict, seed: int = 0) -> Callable[[], float]:
    """A closure doing one training step of the engine; returns the loss."""
    rng = np.random.default_rng(seed)
    text = sc["head"] == "text"
    cfg = ModelConfig(
        cell=sc["cell"],
        input_size=sc["D"],
        hidden_size=sc["H"],
        output_size=sc["D"] if text else 1,
        head=sc["head"],
    )
    net = Network(cfg, rng)
    x, y = _batch(sc, rng)
    opt = make_optimizer(sc["optimizer"], net.params, lr=sc["lr"])
    loss_fn = softmax_cross_entropy if text else mse

    def step() -> float:
        out, _, cache = net.forward(x)
        loss, dout = loss_fn(out, y)
        grads, _, _ = net.backward(dout, cache)
        opt.step(net.params, grads)
        return loss

    return step


def torch_stepper(sc: dict, seed: int = 0) -> Callable[[], float]:
    """The same model, batch and update in PyTorch (torch must be importable)."""
    import torch

    rng = np.random.default_rng(seed)
    text = sc["head"] == "text"
    x, y = _batch(sc, rng)
    kind = torch.nn.LSTM if sc["cell"] == "lstm" else torch.nn.RNN
    rnn = kind(sc["D"], sc["H"]).double()
    head = torch.nn.Linear(sc["H"], sc["D"] if text else 1).double()
    params = [*rnn.parameters(), *head.parameters()]
    opt_cls = torch.optim.Adam if sc["optimizer"] == "adam" else torch.optim.SGD
    opt = opt_cls(params, lr=sc["lr"])
    if text:
        xt = torch.nn.functional.one_hot(torch.from_numpy(x), sc["D"]).double()
        yt = torch.from_numpy(y).reshape(-1)
    else:
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step() -> float:
        opt.zero_grad(set_to_none=True)
        hs, _ = rnn(xt)
        if text:
            loss = torch.nn.functional.cross_entropy(head(hs).reshape(-1, sc["D"]), yt)
        else:
            loss = torch.nn.functional.mse_loss(head(hs[-1]), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _set_threads(side: str, n: int):
    """Context manager limiting the side's thread pool to ``n``."""
    if side == "numpy":
        return blas_threads(n)
    import contextlib

    import torch

    @contextlib.contextmanager
    def limited():
        old = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(old)

    return limited()


def _rate(step: Callable[[], float], seconds: float, min_steps: int = 3) -> float:
    """Steps per second of ``step`` over at least ``seconds`` and ``min_steps`` steps."""
    n, start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if n >= min_steps and elapsed >= seconds:
            return n / elapsed


def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def run_bench(
    as_json: bool = False,
    *,
    reps: int = 5,
    seconds: float = 0.4,
    scenarios=None,
    threads: tuple[int, ...] = THREADS,
    min_steps: int = 3,
) -> dict:
    """Measure steps/s of the engine and of PyTorch CPU on S1 and S2.

    Parameters
    ----------
    as_json : only print the table when False (the caller prints JSON itself when True).
    reps : interleaved repetitions per setting; seconds : minimum time per repetition.
    scenarios : subset of ``SCENARIOS`` keys (default all).
    threads : thread counts to try on each side; min_steps : minimum steps per repetition.

    Returns
    -------
    dict with "scenarios": {name: {"title", "numpy": {"steps_per_s", "threads", "by_threads"},
    "torch": {...} or None, "ratio": numpy / torch or None}}, plus "torch_version",
    "numpy_version", "machine".
    """
    have_torch = torch_available()
    result: dict = {
        "numpy_version": np.__version__,
        "torch_version": None,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "reps": reps,
        "seconds_per_rep": seconds,
        "scenarios": {},
    }
    if have_torch:
        import torch

        result["torch_version"] = torch.__version__
    for name in scenarios or SCENARIOS:
        sc = SCENARIOS[name]
        sides = {"numpy": numpy_stepper(sc)}
        if have_torch:
            sides["torch"] = torch_stepper(sc)
        rates: dict[tuple[str, int], list[float]] = {(s, n): [] for s in sides for n in threads}
        for (side, n), _ in rates.items():  # warm-up: first-call allocations, thread pools
            with _set_threads(side, n):
                _rate(sides[side], 0.05, 1)
        for _ in range(reps):
            for side, n in rates:
                with _set_threads(side, n):
                    rates[(side, n)].append(_rate(sides[side], seconds, min_steps))
        entry: dict = {"title": sc["title"]}
        for side in ("numpy", "torch"):
            if side not in sides:
                entry[side] = None
                continue
            by = {n: statistics.median(rates[(side, n)]) for n in threads}
            best = max(by, key=by.get)
            entry[side] = {"steps_per_s": by[best], "threads": best, "by_threads": by}
        entry["ratio"] = entry["numpy"]["steps_per_s"] / entry["torch"]["steps_per_s"] if have_torch else None
        result["scenarios"][name] = entry
    if not as_json:
        print(format_table(result))
    return result


def format_table(result: dict) -> str:
    """A small fixed-width table of the figures in ``result``."""
    lines = [
        f"numpy {result['numpy_version']}, torch {result['torch_version'] or 'not installed'}, "
        f"float64, median of {result['reps']} interleaved repetitions",
        f"{'scenario':<8} {'engine steps/s':>15} {'torch steps/s':>14} {'ratio':>6}  description",
    ]
    for name, e in result["scenarios"].items():
        ours = f"{e['numpy']['steps_per_s']:.1f} ({e['numpy']['threads']}t)"
        theirs = f"{e['torch']['steps_per_s']:.1f} ({e['torch']['threads']}t)" if e["torch"] else "-"
        ratio = f"{e['ratio']:.2f}" if e["ratio"] is not None else "-"
        lines.append(f"{name:<8} {ours:>15} {theirs:>14} {ratio:>6}  {e['title']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``bench [--json] [--reps N] [--seconds S]``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m rnn_core bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="also print one JSON object as the last line")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions per setting")
    parser.add_argument("--seconds", type=float, default=0.4, help="minimum seconds per repetition")
    args = parser.parse_args(argv)
    if args.reps < 1 or not args.seconds > 0:
        print("error: --reps must be at least 1 and --seconds above 0", file=sys.stderr)
        return 2
    result = run_bench(as_json=False, reps=args.reps, seconds=args.seconds)
    if args.json:
        print(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
