"""One schema, everything derived: every setting has its CLI flag, its widget with the schema's
bounds, its config field and a place in model files; weight decay shows it end to end."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import session
from rnn_core import cli
from rnn_core.config import ModelConfig, RunSettings, SineSettings, TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.settings import PRESETS, SCHEMA, group
from rnn_core.trainer import Trainer
from tests.parity import torch_optimizer

RUN_GROUPS = ("model", "data", "train")


def test_config_fields_are_exactly_the_schema_groups():
    assert {f.name for f in dataclasses.fields(TrainConfig)} == {s.name for s in group("train")}
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)} - {"input_size", "output_size", "head"}
    assert model_fields == {s.name for s in group("model")}
    assert {f.name for f in dataclasses.fields(RunSettings)} == {s.name for s in group(*RUN_GROUPS)}
    assert {f.name for f in dataclasses.fields(SineSettings)} == {s.name for s in group("sine")}
    for s in group(*RUN_GROUPS):
        assert getattr(RunSettings(), s.name) == s.default


def test_every_setting_has_one_cli_flag_that_reaches_the_settings():
    parser = cli.build_parser()
    train = next(a for a in parser._actions if a.dest == "command").choices["train"]
    dests = {a.dest: a.option_strings for a in train._actions}
    for s in group(*RUN_GROUPS, "sine"):
        assert s.flag in dests[s.name], s.name


@pytest.mark.parametrize(
    ("name", "value"),
    [("hidden_size", 0), ("momentum", 1.0), ("lr", 0.0), ("weight_decay", -0.1), ("seq_len", 1)],
)
def test_out_of_range_values_name_the_setting(name, value):
    with pytest.raises(PlaygroundError, match=name):
        RunSettings(**{name: value})


def test_presets_only_use_schema_settings_and_load_as_run_settings():
    for key, preset in PRESETS.items():
        assert set(preset.values) <= set(SCHEMA), key
        built = RunSettings(**preset.values)
        for name, value in preset.values.items():
            assert getattr(built, name) == value


def test_train_page_draws_every_run_setting_with_the_schema_bounds():
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    assert not at.exception
    widgets = {w.key: w for w in [*at.number_input, *at.selectbox]}
    for s in group(*RUN_GROUPS):
        if s.when == "text":
            continue  # shown only for text data
        w = widgets.get(session.key(s.name))
        assert w is not None, f"no widget for {s.name}"
        assert w.label == s.label
        if s.choices:
            assert tuple(w.options) == tuple(str(c) if s.name != "cell" else c.upper() for c in s.choices)
        else:
            assert w.proto.max == pytest.approx(s.hi)


# ---------------------------------------------------------------------- weight decay, end to end


def test_weight_decay_flag_reaches_the_trainer_and_its_optimizer():
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(
        [
            "train",
            "--optimizer",
            "adamw",
            "--weight-decay",
            "0.05",
            "--steps",
            "3",
            "--json",
            "--no-progress",
        ],
        out,
        err,
    )
    assert code == 0, err.getvalue()
    train = json.loads(out.getvalue().splitlines()[-1])["train"]
    assert train["optimizer"] == "adamw" and train["weight_decay"] == 0.05


def test_weight_decay_widget_reaches_the_running_trainer_live():
    at = AppTest.from_file("../app.py", default_timeout=60).run()
    tr = at.session_state[session.SESSION_KEY].trainer
    at.number_input(key=session.key("weight_decay")).set_value(0.02).run()
    assert not at.exception
    sess = at.session_state[session.SESSION_KEY]
    assert sess.trainer is tr  # a live setting: no rebuild
    assert tr.train_config.weight_decay == pytest.approx(0.02)
    assert tr.optimizer.weight_decay == pytest.approx(0.02)


def test_weight_decay_is_kept_in_model_files():
    ds = sine_dataset()
    tr = Trainer(ds, ModelConfig(), TrainConfig(optimizer="adamw", weight_decay=0.03))
    tr.run(3)
    loaded = Trainer.load(tr.save(), ds)
    assert loaded.train_config.weight_decay == 0.03 and loaded.train_config.optimizer == "adamw"
    assert loaded.optimizer.weight_decay == 0.03


def test_decay_shrinks_weights_compared_with_none():
    ds = sine_dataset()
    norms = []
    for wd in (0.0, 0.5):
        tr = Trainer(
            ds, ModelConfig(), TrainConfig(optimizer="sgd", lr=0.05, weight_decay=wd, lr_schedule="constant")
        )
        tr.run(100)
        norms.append(float(np.sqrt(sum((p**2).sum() for p in tr.network.params.values()))))
    assert norms[1] < 0.9 * norms[0]


@pytest.mark.parametrize("opt", ["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"])
def test_fifty_training_steps_with_weight_decay_track_torch(opt):
    torch = pytest.importorskip("torch")
    from tests.test_parity_torch import (
        build,
        our_loss,
        task,
        torch_forward,
        torch_input,
        torch_loss,
        torch_params,
        torch_twin,
    )

    lr, wd = (0.1 if opt in ("sgd", "momentum", "adagrad") else 0.01), 0.05
    net, rng = build("lstm", "tanh", "regression", 1, seed=2)
    x, y = task(net, rng)
    rnn, lin = torch_twin(net)
    tparams = list(torch_params(rnn, lin).values())
    topt = torch_optimizer(torch, opt, tparams, lr, wd)
    from rnn_core.optim import make_optimizer

    optimizer = make_optimizer(opt, net.params, lr=lr, weight_decay=wd)
    xt = torch_input(net, x)
    worst = 0.0
    for _ in range(50):
        out, _, cache = net.forward(x)
        _, dout = our_loss(net, out, y)
        grads, _, _ = net.backward(dout, cache)
        optimizer.step(net.params, grads)
        topt.zero_grad()
        tout, _ = torch_forward(net, rnn, lin, xt, None, None)
        torch_loss(net, tout, y).backward()
        topt.step()
        for name, p in torch_params(rnn, lin).items():
            worst = max(worst, float(np.abs(net.params[name] - p.detach().numpy()).max()))
    assert worst < 1e-8, f"{opt}: largest parameter difference {worst:.3g}"
