"""load_dataset specs (the CLI's --data) and uploads for the dashboard."""

import numpy as np
import pytest
from data_helpers import csv_bytes

from rnn_core.data import (
    SINE_PRESETS,
    SeriesDataset,
    TextDataset,
    load_dataset,
    sine_dataset,
)
from rnn_core.errors import PlaygroundError


def test_sine_spec_and_overrides():
    ds = load_dataset("sine")
    assert isinstance(ds, SeriesDataset) and ds.train_windows == 100 and ds.val_windows == 50
    ds = load_dataset("sine", seq_len=20, length=120, target=None)
    assert ds.seq_len == 20 and ds.raw.shape == (120, 1)


def test_sine_preset_spec():
    ds = load_dataset("sine:noisy sine")
    np.testing.assert_array_equal(ds.raw, sine_dataset(**SINE_PRESETS["noisy sine"]).raw)
    with pytest.raises(PlaygroundError, match=r"unknown sine preset 'wobbly'.*clean sine"):
        load_dataset("sine:wobbly")


def test_csv_and_txt_paths(tmp_path):
    csv_path = tmp_path / "levels.csv"
    csv_path.write_bytes(csv_bytes([["level"]] + [[str(i % 7)] for i in range(40)]))
    ds = load_dataset(str(csv_path), seq_len=5)
    assert isinstance(ds, SeriesDataset) and ds.name == "levels.csv" and ds.columns == ["level"]
    txt_path = tmp_path / "notes.txt"
    txt_path.write_bytes(("the quick fox " * 30).encode())
    ds = load_dataset(txt_path, seq_len=10)
    assert isinstance(ds, TextDataset) and ds.name == "notes.txt" and ds.report["chars"] == 420


def test_text_samples_by_short_name():
    ds = load_dataset("zen", seq_len=16)
    assert isinstance(ds, TextDataset) and ds.name == "Zen of Python"
    assert load_dataset("text:counting", seq_len=16).report["chars"] > 10_000


@pytest.mark.parametrize(
    ("spec", "kw", "words"),
    [
        ("weather.xlsx", {}, "unknown data"),
        ("missing.csv", {}, "not found"),
        ("", {}, "data must be"),
        ("text:poems", {}, "unknown text sample"),
        ("sine", {"humidity": 3}, "unknown setting"),
    ],
)
def test_bad_specs(spec, kw, words):
    with pytest.raises(PlaygroundError, match=words):
        load_dataset(spec, **kw)
