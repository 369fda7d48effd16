"""Command line: ``python -m rnn_core train ...``, ``sweep ...`` and ``bench ...``.

``train`` builds a dataset (``sine``, a ``.csv`` or a ``.txt`` path), trains with the given
settings while drawing a progress bar on stderr, evaluates once at the end and prints a summary;
with ``--json`` the last line of stdout is one JSON object. Any problem a user can fix (a bad flag,
an unreadable file, an unknown column) ends with exit status 2 and a single ``error: ...`` line
on stderr, never a traceback. ``sweep`` (:mod:`rnn_core.sweep_cli`) trains a grid of settings
times seeds on Dask workers. ``bench`` hands its arguments to :func:`rnn_core.bench.main`.

The defaults train the tutorials' sine task (sin of the integers 0..199, windows of 50) to a
validation RMSE below 0.01 in a few seconds; ``--preset tutorial`` reproduces the tutorials'
own settings instead (100 sigmoid units, SGD at 1e-4, batch 1, truncation 5, clamp 10,
uniform(0, 1) initialisation, seed 12161, 25 epochs).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn, TextIO

from rnn_core import forecast_cli, through_time
from rnn_core.config import RunSettings
from rnn_core.errors import PlaygroundError
from rnn_core.runs import Progress, fit, make_trainer
from rnn_core.schedule import lr_at
from rnn_core.settings import PRESETS, SCHEMA, Setting, defaults, group

DEFAULTS: dict[str, Any] = defaults("model", "data", "train")
"""Settings used when neither a flag nor a preset gives one: the schema's defaults."""

RUN_GROUPS = ("model", "data", "train")


class UsageError(Exception):
    """A command-line mistake argparse found; reported like a PlaygroundError."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _flag_type(setting: Setting):
    """argparse ``type=`` for a schema setting: its own parser, errors naming the setting."""

    def convert(text: str) -> Any:
        off_word = setting.off and text.strip().lower() in ("off", "none", "full")
        if not off_word:
            float(text)  # not a number: argparse's own "invalid int value: 'abc'"
        try:
            return setting.parse(text)
        except PlaygroundError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = setting.kind  # argparse names it in "invalid <kind> value"
    return convert


def _add_setting(add, setting: Setting) -> None:
    text = setting.help.replace("%", "%%")
    kw: dict[str, Any] = {"dest": setting.name, "default": argparse.SUPPRESS, "help": text or None}
    if setting.choices:
        kw["choices"] = setting.choices
    else:
        kw["type"] = _flag_type(setting)
        kw["metavar"] = "N" if setting.integer else "X"
        shown = setting.format(setting.default) if setting.default is not None else "off"
        kw["help"] = f"{text} (default {shown})".strip()
    add(setting.flag, *setting.aliases, **kw)


def add_run_arguments(add) -> None:
    """The flags naming the data and every setting of a run (``train`` and ``sweep`` share them)."""
    add(
        "--data",
        help="'sine' (default), 'sine:<preset>', a .csv or .txt file, a text sample "
        "(zen, grammar, counting, docstrings), or a memory task: 'echo:K' or 'adding' "
        "(options after the colon: k=, seed=, windows=); default: the preset's data, else sine",
    )
    add("--column", help="CSV: target column (default: the first numeric one)")
    add("--inputs", help="CSV: extra input columns, comma separated (e.g. humidity,pressure)")
    add("--missing", choices=("interpolate", "drop"), help="CSV: fill gaps by interpolation or drop rows")
    add("--val-fraction", type=float, help="share of windows (or text) kept for validation")
    forecast_cli.add_data_flags(add)
    add("--lowercase", action="store_true", help="text: lowercase before building the vocabulary")
    add("--preset", choices=sorted(PRESETS), help="start from a named group of settings")
    for setting in group(*RUN_GROUPS, "sine"):
        _add_setting(add, setting)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m rnn_core`` parser; every setting's flag comes from the schema."""
    parser = _Parser(
        prog="python -m rnn_core", description="RNN Playground from the command line.", allow_abbrev=False
    )
    sub = parser.add_subparsers(dest="command", metavar="{train,sweep,backtest,bench}")
    t = sub.add_parser(
        "train",
        help="train a recurrent network on a sine, a CSV series or a text",
        description="Train a recurrent network and report validation metrics next to naive baselines.",
        allow_abbrev=False,
    )
    add_run_arguments(t.add_argument)
    t.add_argument("--save", metavar="PATH.npz", help="save the trained model (loadable into PyTorch)")
    t.add_argument(
        "--json", action="store_true", help="print the results as one JSON object on the last line"
    )
    t.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    forecast_cli.add_train_flags(t.add_argument)
    from rnn_core import backtest_cli, sweep_cli

    sweep_cli.add_parser(sub, add_run_arguments)
    backtest_cli.add_parser(sub, add_run_arguments)
    sub.add_parser("bench", help="engine speed vs PyTorch (arguments go to rnn_core.bench)", add_help=False)
    return parser


def resolve_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Merge defaults, the preset and explicit flags (in rising priority), checked as a whole."""
    settings = dict(DEFAULTS)
    if getattr(args, "preset", None):
        settings.update(PRESETS[args.preset].values)
    for name in DEFAULTS:
        if hasattr(args, name):
            settings[name] = getattr(args, name)
    RunSettings(**settings)  # validates every value against the schema
    return settings


def sine_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The sine generator settings given as flags, by their schema names."""
    return {s.name: getattr(args, s.name) for s in group("sine") if hasattr(args, s.name)}


def sine_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The sine generator settings given as flags, as :func:`rnn_core.data.sine_dataset` names them
    (the second sine's amplitude and frequency as its ``extra_sines``, as the app's are)."""
    given = sine_flags(args)
    second = {k: given.pop(f"sine_{k}2", None) for k in ("amplitude", "frequency")}
    out = {name.removeprefix("sine_"): value for name, value in given.items()}
    if second["amplitude"]:
        frequency = second["frequency"]
        if frequency is None:
            frequency = SCHEMA["sine_frequency2"].default
        out["extra_sines"] = [{"amplitude": second["amplitude"], "frequency": frequency}]
    return out


def data_kind(spec: str) -> str:
    """``"sine"``, ``"csv"``, ``"memory"`` or ``"text"`` for a ``--data`` spec (a guess good
    enough for flag checks)."""
    from rnn_core.data.memory import MEMORY_TASKS

    low = spec.strip().lower()
    if low == "sine" or low.startswith("sine:"):
        return "sine"
    if Path(low).suffix in (".csv", ".tsv"):
        return "csv"
    if low.split(":")[0] in MEMORY_TASKS:
        return "memory"
    return "text"


def load_data(args: argparse.Namespace) -> Any:
    """Build the dataset named by ``--data`` (see :func:`rnn_core.data.load_dataset`)."""
    from rnn_core import data

    preset = PRESETS[args.preset] if getattr(args, "preset", None) else None
    spec = args.data or (preset.data if preset is not None else "") or "sine"
    kind = data_kind(spec)
    if kind != "sine":
        _only_for("sine", **sine_flags(args))
    sine = sine_overrides(args)
    if kind != "csv":
        _only_for("CSV", column=args.column, inputs=args.inputs, missing=args.missing)
    if kind != "text":
        _only_for("text", lowercase=args.lowercase or None)
    kw: dict[str, Any] = {"seq_len": getattr(args, "seq_len", DEFAULTS["seq_len"]), **sine}
    if getattr(args, "preset", None) and not hasattr(args, "seq_len"):
        kw["seq_len"] = PRESETS[args.preset].values.get("seq_len", kw["seq_len"])
    if args.val_fraction is not None:
        kw["val_fraction"] = args.val_fraction
    kw.update(forecast_cli.data_options(args, kind))
    if args.lowercase:
        kw["lowercase"] = True
    if args.column is not None:
        kw["target"] = args.column
    if args.inputs:
        kw["inputs"] = tuple(c.strip() for c in args.inputs.split(",") if c.strip())
    if args.missing:
        kw["missing"] = args.missing
    # Library warnings (pandas parsing hints and the like) would break the one-line error
    # promise; what matters about the file is in the dataset's report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data.load_dataset(spec, **kw)


def _only_for(kind: str, **given: Any) -> None:
    used = [name for name, value in given.items() if value is not None]
    if used:
        flags = ", ".join("--" + u.replace("_", "-") for u in used)
        raise PlaygroundError(f"{flags} only apply to {kind} data; remove them or change --data")


def cosine_lr(lr: float, i: int, steps: int, floor: float = 0.01) -> float:
    """Learning rate for step ``i`` of ``steps`` under the cosine schedule (see :mod:`rnn_core.schedule`)."""
    return lr_at(lr, "cosine", i, steps, floor)


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    return value


def train_command(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run ``train``; returns the exit status (0, also when training diverged)."""
    started = time.perf_counter()
    s = resolve_settings(args)
    if args.save is not None and not args.save.lower().endswith(".npz"):
        raise PlaygroundError(f"--save needs a path ending in .npz; got {args.save!r}")
    if args.save is not None and not Path(args.save).resolve().parent.is_dir():
        raise PlaygroundError(f"--save: folder {Path(args.save).parent} does not exist")
    dataset = load_data(args)
    forecast_cli.check(args, dataset)
    trainer = make_trainer(dataset, s)
    bar = Progress(s["steps"], err, enabled=not args.no_progress)
    done, train_seconds = fit(trainer, bar, keep_best=args.keep_best)

    ev = trainer.evaluate()
    if args.save is not None and not trainer.diverged:
        trainer.save(args.save)
    result = summary(trainer, dataset, ev, steps_done=done, train_seconds=train_seconds)
    result["train"]["final_lr"] = trainer.optimizer.lr
    result.update(forecast_cli.summary(trainer, dataset, args, done))
    result["total_seconds"] = time.perf_counter() - started
    if args.save is not None:
        result["saved"] = None if trainer.diverged else str(args.save)
    result = _finite_or_none(result)
    if args.json:
        out.write(json.dumps(result) + "\n")
    else:
        out.write(_human(result) + "\n")
    if trainer.diverged:
        err.write("warning: training diverged (non-finite loss or gradient); lower --lr or clip gradients\n")
        if args.save is not None:
            err.write("warning: the model was not saved because it diverged\n")
    return 0


def summary(trainer: Any, dataset: Any, ev: dict[str, Any], *, steps_done: int, train_seconds: float) -> dict:
    """The JSON object ``train --json`` prints."""
    is_text = dataset.kind == "text"
    report = getattr(dataset, "report", {}) or {}
    test = getattr(dataset, "test", None)
    result: dict[str, Any] = {
        "data": dataset.name,
        "kind": dataset.kind,
        "steps": steps_done,
        "epochs": round(trainer.epoch, 4),
        "train_loss": ev["train_loss"],
        "val_loss": ev["val_loss"],
    }
    keys = ("train_bpc", "val_bpc", "val_accuracy") if is_text else ("train_rmse", "val_rmse", "val_mae")
    result.update({k: ev[k] for k in keys})
    result.update(
        {
            "seconds": train_seconds,
            "steps_per_s": steps_done / train_seconds if train_seconds > 0 else None,
            "diverged": bool(trainer.diverged),
            "baseline": dict(ev.get("baselines", {})),
            "rows": report.get("rows", report.get("chars")),
            "missing_filled": int(report.get("missing_filled", 0) or 0),
            "input_size": int(dataset.input_size),
            "train_windows": _windows(dataset, "train"),
            "val_windows": _windows(dataset, "val"),
            "test_rows": test.length if test is not None else 0,
            "test_scored": False,
            "seq_len": int(dataset.seq_len),
            "params": int(trainer.network.n_params()),
            "model": {
                k: getattr(trainer.config, k) for k in ("cell", "hidden_size", "num_layers", "nonlinearity")
            },
            "train": dataclasses.asdict(trainer.train_config),
        }
    )
    result.update(through_time.summary(trainer))
    return result


def _windows(dataset: Any, split: str) -> int:
    value = getattr(dataset, f"{split}_windows", None)
    if value is not None:
        return int(value)
    ids = dataset.train_ids if split == "train" else dataset.val_ids
    return len(ids) // int(dataset.seq_len)  # text: chunks of seq_len characters


def _human(r: dict[str, Any]) -> str:
    def f(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    lines = [
        f"data {r['data']}: {r['rows']} rows, {r['train_windows']} train / {r['val_windows']} val windows"
    ]
    lines.append(
        f"trained {r['steps']} steps in {f(r['seconds'])} s ({f(r['steps_per_s'])} steps/s)"
        + (" -- DIVERGED" if r["diverged"] else "")
    )
    lines.append(f"train loss {f(r['train_loss'])}, val loss {f(r['val_loss'])}")
    if r["kind"] == "text":
        lines.append(f"val bits/char {f(r['val_bpc'])}, accuracy {f(r['val_accuracy'])}")
    else:
        lines.append(f"val RMSE {f(r['val_rmse'])}, MAE {f(r['val_mae'])} (original units)")
    if r["baseline"]:
        lines.append("baselines: " + ", ".join(f"{k} {f(v)}" for k, v in r["baseline"].items()))
    if r.get("saved"):
        lines.append(f"saved {r['saved']}")
    return "\n".join(lines)


@contextlib.contextmanager
def _argparse_errors_raise() -> Iterator[None]:
    """Make any argparse parser raise :class:`UsageError` instead of printing usage and exiting.

    ``bench`` parses its own flags with a plain ArgumentParser; this keeps its mistakes to the
    same single ``error: ...`` line as ours.
    """
    original = argparse.ArgumentParser.error

    def error(self: argparse.ArgumentParser, message: str) -> NoReturn:
        raise UsageError(message)

    argparse.ArgumentParser.error = error  # type: ignore[method-assign]
    try:
        yield
    finally:
        argparse.ArgumentParser.error = original  # type: ignore[method-assign]


def _fail(message: str, err: TextIO) -> int:
    # One line, whatever the message contained.
    err.write("error: " + " ".join(str(message).split()) + "\n")
    err.flush()
    return 2


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry point of ``python -m rnn_core``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if argv and argv[0] == "bench":
        try:
            from rnn_core import bench
        except ImportError:
            return _fail("the benchmark module is not available in this installation", err)
        try:
            with _argparse_errors_raise():
                status = bench.main(argv[1:])
        except (UsageError, PlaygroundError) as exc:
            return _fail(str(exc), err)
        return int(status or 0)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("choose a command: train, sweep, backtest or bench (see --help)")
        if args.command in ("sweep", "backtest"):
            from rnn_core import backtest_cli, sweep_cli

            command = sweep_cli.sweep_command if args.command == "sweep" else backtest_cli.backtest_command
            return command(args, out, err)
        return train_command(args, out, err)
    except (UsageError, PlaygroundError) as exc:
        return _fail(str(exc), err)
    except OSError as exc:  # e.g. a data file without read permission
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return _fail(f"cannot read or write{where}: {exc.strerror or exc}", err)
    except MemoryError:
        return _fail("out of memory; use a smaller file, fewer hidden units or a smaller batch", err)
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return 130
