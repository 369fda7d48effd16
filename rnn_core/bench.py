"""Training-step throughput of the engine against PyTorch CPU, side by side in one run.

Scenarios (a "step" is forward + backward + optimizer update, no clipping, on one fixed random
batch, in the scenario's dtype on both sides):

* ``S1``: tanh RNN, T=50, B=32, H=100, D=1, MSE on the last step's linear output, SGD, float64.
* ``S2``: LSTM character model, T=64, B=32, H=128, vocabulary 80, softmax cross-entropy at every
  step, Adam, float64. PyTorch gets one-hot inputs (computed once, outside the timed loop).
* ``S2f32``: S2 in float32 on both sides, the fast path for text models.

Two more rows per scenario make the distance to the hardware and the trainer's own cost
visible: the *floor*, only the matrix products a step cannot avoid (:func:`floor_stepper`), with
each engine's fraction of it (also with both at one thread, the setting a run trains at in the
app's workers); and a :class:`~rnn_core.trainer.Trainer`'s steps/s (its metrics,
history and divergence guard) against the bare network step on the same model, task and
minibatches (:func:`trainer_steppers`, on a built-in data set of the scenario's kind), the two
stepping in turn (:func:`_paired_rates`).

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

from rnn_core.cells import cell_spec
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
SCENARIOS["S2f32"] = {**SCENARIOS["S2"], "title": SCENARIOS["S2"]["title"] + ", float32", "dtype": "float32"}
THREADS = (1, 2)


def _dtype(sc: dict) -> str:
    return sc.get("dtype", "float64")


def _batch(sc: dict, rng: np.random.Generator):
    T, B, D = sc["T"], sc["B"], sc["D"]
    if sc["head"] == "text":
        return rng.integers(0, D, size=(T, B)), rng.integers(0, D, size=(T, B))
    dt = _dtype(sc)
    return rng.normal(size=(T, B, D)).astype(dt), rng.normal(size=(B, 1)).astype(dt)


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
        dtype=_dtype(sc),
    )
    net = Network(cfg, rng)
    x, y = _batch(sc, rng)
    opt = make_optimizer(sc["optimizer"], net.params, lr=sc["lr"])
    loss_fn = softmax_cross_entropy if text else mse

    def step() -> float:
        out, _, cache = net.forward(x)
        loss, dout = loss_fn(out, y)
        grads, _, _ = net.backward(dout, cache, input_grad=False)  # torch's x needs no grad either
        opt.step(net.params, grads)
        return loss

    return step


def floor_stepper(sc: dict, seed: int = 0) -> Callable[[], float]:
    """Only the matrix products a step of the scenario cannot avoid, at its sizes: per time
    step one (B, H) x (H, G*H) recurrent product forward and one (B, G*H) x (G*H, H) back (G
    gates), the recurrent and input weight gradients as one product each over all time steps,
    and the output layer's three products over all of them (text; a regression head reads the
    last step only). One-hot inputs are a row lookup, not a product. No engine beats this."""
    rng = np.random.default_rng(seed)
    T, B, H, D = sc["T"], sc["B"], sc["H"], sc["D"]
    GH = cell_spec(sc["cell"]).gates * H
    text = sc["head"] == "text"
    dt = _dtype(sc)
    w_hh, h = (rng.normal(size=(H, GH)) * 0.01).astype(dt), rng.normal(size=(B, H)).astype(dt)
    dgates, hs = rng.normal(size=(T * B, GH)).astype(dt), rng.normal(size=(T * B, H)).astype(dt)
    w_hd = rng.normal(size=(H, D if text else 1)).astype(dt)
    dout = rng.normal(size=(T * B, D if text else 1)).astype(dt)
    x = None if text else rng.normal(size=(T * B, D)).astype(dt)
    w_hh_t = np.ascontiguousarray(w_hh.T)

    def step() -> float:
        for _ in range(T):
            h @ w_hh  # forward recurrence
        for t in range(T):
            dgates[t * B : (t + 1) * B] @ w_hh_t  # backward through time
        hs.T @ dgates  # the recurrent weights' gradient, all time steps at once
        if x is not None:
            x.T @ dgates  # the input weights' gradient
        if text:
            hs @ w_hd, dout @ w_hd.T, hs.T @ dout  # the output layer: forward, back, gradient
        return 0.0

    return step


def trainer_steppers(name: str, seed: int = 0) -> tuple[Callable[[], float], Callable[[], float], str]:
    """``(trainer step, bare step, what)``: a :class:`~rnn_core.trainer.Trainer`'s own step (its
    metrics, history and divergence guard) and the bare network step on the same model, task and
    minibatches, at the scenario's sizes on a built-in data set of the kind (S1: a sine; S2: the
    generated text, whose vocabulary is its own). The bare step runs at the BLAS setting the
    Trainer pins for its own steps (one thread: a run owns one core of the app's workers), so
    the two differ by the trainer's bookkeeping alone, whatever the caller's setting."""
    from rnn_core.config import TrainConfig
    from rnn_core.data import load_dataset, sine_dataset
    from rnn_core.threads import single_thread as trainer_blas  # what Trainer.step runs under
    from rnn_core.trainer import Trainer

    sc = SCENARIOS[name]
    if sc["head"] == "text":
        data = load_dataset("Generated sentences (toy grammar)", seq_len=sc["T"])
    else:
        data = sine_dataset(seq_len=sc["T"])
    model = ModelConfig(cell=sc["cell"], hidden_size=sc["H"], dtype=_dtype(sc))
    train = TrainConfig(
        optimizer=sc["optimizer"],
        lr=sc["lr"],
        batch_size=sc["B"],
        clip_norm=None,
        seed=seed,
        lr_schedule="constant",
    )
    tr = Trainer(data, model, train)
    bare = Trainer(data, model, train)
    net, task, opt, rng = bare.network, bare.task, bare.optimizer, bare.rng

    def bare_step() -> float:
        with trainer_blas():
            batch = task.batch(rng)
            out, state, cache = net.forward(batch.x, batch.state, cache=True)
            loss, dout = task.loss(out, batch.y)
            grads = net.backward(dout, cache, input_grad=False)[0]
            opt.step(net.params, grads)
            task.after_step(state, True)
        return float(loss)

    return (lambda: tr.step()["loss"]), bare_step, f"{data.name}, input {tr.config.input_size}"


def torch_stepper(sc: dict, seed: int = 0) -> Callable[[], float]:
    """The same model, batch and update in PyTorch (torch must be importable)."""
    import torch

    rng = np.random.default_rng(seed)
    text = sc["head"] == "text"
    x, y = _batch(sc, rng)
    kind = torch.nn.LSTM if sc["cell"] == "lstm" else torch.nn.RNN
    tdtype = getattr(torch, _dtype(sc))
    rnn = kind(sc["D"], sc["H"]).to(tdtype)
    head = torch.nn.Linear(sc["H"], sc["D"] if text else 1).to(tdtype)
    params = [*rnn.parameters(), *head.parameters()]
    opt_cls = torch.optim.Adam if sc["optimizer"] == "adam" else torch.optim.SGD
    opt = opt_cls(params, lr=sc["lr"])
    if text:
        xt = torch.nn.functional.one_hot(torch.from_numpy(x), sc["D"]).to(tdtype)
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
    if side != "torch":  # the engine, the floor and the trainer: NumPy's BLAS
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


def _paired_rates(a: Callable[[], float], b: Callable[[], float], seconds: float, min_steps: int = 3):
    """Steps per second of ``a`` and of ``b`` taking one step each in turn (the order swapping
    every round) for at least ``seconds`` each: a neighbour's load that comes and goes slows
    both alike, so their ratio holds still where two separate measurements would scatter."""
    spent, n = [0.0, 0.0], 0
    while True:
        for j in (0, 1) if n % 2 == 0 else (1, 0):
            start = time.perf_counter()
            (a, b)[j]()
            spent[j] += time.perf_counter() - start
        n += 1
        if n >= min_steps and min(spent) >= seconds:
            return n / spent[0], n / spent[1]


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
        sides = {"numpy": numpy_stepper(sc), "floor": floor_stepper(sc)}
        if have_torch:
            sides["torch"] = torch_stepper(sc)
        trainer_step, bare_step, trained_on = trainer_steppers(name)
        sides["trainer"], sides["bare"] = trainer_step, bare_step
        rates: dict[tuple[str, int], list[float]] = {(s, n): [] for s in sides for n in threads}
        for (side, n), _ in rates.items():  # warm-up: first-call allocations, thread pools
            with _set_threads(side, n):
                _rate(sides[side], 0.05, 1)
        for _ in range(reps):
            for side, n in rates:
                if side == "bare":  # measured with the trainer, step for step
                    continue
                with _set_threads(side, n):
                    if side == "trainer":
                        paired = _paired_rates(sides["trainer"], sides["bare"], seconds, min_steps)
                        rates[("trainer", n)].append(paired[0])
                        rates[("bare", n)].append(paired[1])
                    else:
                        rates[(side, n)].append(_rate(sides[side], seconds, min_steps))
        entry: dict = {"title": sc["title"], "dtype": _dtype(sc), "trainer_data": trained_on}
        for side in ("numpy", "torch", "floor", "trainer", "bare"):
            if side not in sides:
                entry[side] = None
                continue
            by = {n: statistics.median(rates[(side, n)]) for n in threads}
            best = max(by, key=by.get)
            entry[side] = {"steps_per_s": by[best], "threads": best, "by_threads": by}
        entry["ratio"] = entry["numpy"]["steps_per_s"] / entry["torch"]["steps_per_s"] if have_torch else None
        floor = entry["floor"]["steps_per_s"]
        entry["of_floor"] = {s: entry[s]["steps_per_s"] / floor for s in ("numpy", "torch") if entry[s]}
        # The same at one thread each, the setting a run trains at in the app's workers: at two
        # the floor's few large products split over both cores, the engine's smaller ones do not.
        one = {s: entry[s]["by_threads"].get(1) for s in ("numpy", "floor")}
        entry["of_floor_1t"] = one["numpy"] / one["floor"] if one["numpy"] and one["floor"] else None
        entry["trainer_over_bare"] = entry["trainer"]["steps_per_s"] / entry["bare"]["steps_per_s"]
        result["scenarios"][name] = entry
    if not as_json:
        print(format_table(result))
    return result


def format_table(result: dict) -> str:
    """A small fixed-width table of the figures in ``result``."""

    def rate(e: dict, side: str) -> str:
        return f"{e[side]['steps_per_s']:.1f} ({e[side]['threads']}t)" if e.get(side) else "-"

    lines = [
        f"numpy {result['numpy_version']}, torch {result['torch_version'] or 'not installed'}, "
        f"float64 unless the title says otherwise, median of {result['reps']} interleaved repetitions",
        f"{'scenario':<8} {'engine steps/s':>15} {'torch steps/s':>14} {'ratio':>6}  description",
    ]
    for name, e in result["scenarios"].items():
        ratio = f"{e['ratio']:.2f}" if e["ratio"] is not None else "-"
        lines.append(f"{name:<8} {rate(e, 'numpy'):>15} {rate(e, 'torch'):>14} {ratio:>6}  {e['title']}")
    lines.append("")
    lines.append(f"{'scenario':<8} {'floor steps/s':>15} {'engine/floor':>13} {'torch/floor':>12} "
                 f"{'engine/floor, both 1 thread':>28}")  # fmt: skip
    for name, e in result["scenarios"].items():
        torch_share = f"{e['of_floor']['torch']:.2f}" if "torch" in e["of_floor"] else "-"
        single = f"{e['of_floor_1t']:.2f}" if e.get("of_floor_1t") is not None else "-"
        lines.append(f"{name:<8} {rate(e, 'floor'):>15} {e['of_floor']['numpy']:>13.2f} {torch_share:>12} "
                     f"{single:>28}")  # fmt: skip
    lines.append("")
    lines.append(f"{'scenario':<8} {'Trainer steps/s':>15} {'bare steps/s':>13} {'Trainer/bare':>12}  data "
                 "(both at the Trainer's own BLAS setting)")  # fmt: skip
    for name, e in result["scenarios"].items():
        lines.append(f"{name:<8} {rate(e, 'trainer'):>15} {rate(e, 'bare'):>13} "
                     f"{e['trainer_over_bare']:>12.2f}  {e['trainer_data']}")  # fmt: skip
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
