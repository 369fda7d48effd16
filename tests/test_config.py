"""Configuration dataclasses reject absurd values with a message that names the field."""

import dataclasses
import json

import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.errors import PlaygroundError


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"cell": "transformer"}, "cell"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"hidden_size": 10**6}, "hidden_size"),
        ({"num_layers": 4}, "num_layers"),
        ({"nonlinearity": "softplus"}, "nonlinearity"),
        ({"init": "zeros"}, "init"),
        ({"dtype": "float16"}, "dtype"),
        ({"hidden_size": 2.5}, "hidden_size"),
        ({"forget_bias": float("nan")}, "forget_bias"),
    ],
)
def test_model_config_rejects(kwargs, words):
    with pytest.raises(PlaygroundError, match=words):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"lr": 0.0}, "learning rate"),
        ({"lr": -1e-3}, "learning rate"),
        ({"lr": float("inf")}, "learning rate"),
        ({"lr": 1e9}, "learning rate"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"batch_size": 0}, "batch size"),
        ({"clip_norm": -1.0}, "clip norm"),
        ({"clip_value": float("nan")}, "clip value"),
        ({"bptt": 0}, "BPTT"),
        ({"momentum": 1.0}, "momentum"),
        ({"seed": -1}, "seed"),
        ({"text_mode": "shuffle"}, "text_mode"),
    ],
)
def test_train_config_rejects(kwargs, words):
    with pytest.raises(PlaygroundError, match=words):
        TrainConfig(**kwargs)


def test_configs_round_trip_through_json():
    model = ModelConfig(cell="lstm", hidden_size=7, num_layers=2, head="text", input_size=5, output_size=5)
    train = TrainConfig(optimizer="rmsprop", lr=3e-3, clip_norm=None, clip_value=10.0, bptt=5)
    for config in (model, train):
        restored = type(config)(**json.loads(json.dumps(dataclasses.asdict(config))))
        assert restored == config


def test_gate_blocks_follow_pytorch_layouts():
    assert [ModelConfig(cell=c).gates for c in ("rnn", "lstm", "gru")] == [1, 4, 3]
