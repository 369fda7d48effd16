"""A saved model loads into torch.nn.RNN/LSTM/GRU + nn.Linear and reproduces our numbers.

Everything on the PyTorch side is computed from the .npz alone (weights and config_json), the
way the README tells a user to do it.
"""

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.data import csv_dataset, sine_dataset, text_dataset
from rnn_core.trainer import Trainer

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]


def torch_model(source):
    """(rnn, head, config) rebuilt from a model file, in float64."""
    with np.load(source, allow_pickle=False) as z:
        conf = json.loads(str(z["config_json"][()]))
        arrays = {k: z[k] for k in z.files if k != "config_json"}
    kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[conf["cell"]]
    kw = {"nonlinearity": conf["nonlinearity"]} if conf["cell"] == "rnn" else {}
    rnn = kind(conf["input_size"], conf["hidden_size"], conf["num_layers"], **kw).double()
    head = torch.nn.Linear(conf["hidden_size"], conf["output_size"]).double()
    rnn.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("head.")})
    return rnn, head, conf


def torch_val_rmse(source, raw, val_idx):
    """Validation RMSE in original units from raw rows, normalised with the saved statistics."""
    rnn, head, conf = torch_model(source)
    t = conf["seq_len"]
    shift = np.asarray(conf["input_shift"])
    scale = np.asarray(conf["input_scale"])
    windows = np.stack([(raw[i - t : i] - shift) / scale for i in val_idx], axis=1)  # (T, B, C)
    with torch.no_grad():
        out, _ = rnn(torch.from_numpy(windows))
        pred = head(out[-1]).numpy()[:, 0]
    pred_raw = pred * conf["target_scale"] + conf["target_shift"]
    return float(np.sqrt(np.mean((pred_raw - raw[val_idx, 0]) ** 2)))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_series_model_reproduces_val_rmse_in_torch(cell):
    ds = sine_dataset(amplitude=3.0, trend=0.01)  # non-trivial shift and scale
    tr = Trainer.create(ds, cell=cell, hidden_size=12, num_layers=2, train=TrainConfig(seed=1))
    tr.run(60)
    ours = tr.evaluate()["val_rmse"]
    got = torch_val_rmse(io.BytesIO(tr.save()), ds.raw, ds.val_idx)
    assert got == pytest.approx(ours, rel=1e-9)


def test_multicolumn_csv_model_in_torch():
    t = np.arange(220)
    rows = ["a,b"] + [f"{20 + 8 * math.sin(i / 5):.5f},{1000 + 30 * math.cos(i / 5):.3f}" for i in t]
    ds = csv_dataset(("\n".join(rows) + "\n").encode(), inputs=["b"], seq_len=15)
    tr = Trainer.create(ds, cell="gru", hidden_size=10)
    tr.run(40)
    got = torch_val_rmse(io.BytesIO(tr.save()), ds.raw, ds.val_idx)
    assert got == pytest.approx(tr.evaluate()["val_rmse"], rel=1e-9)


def test_cli_saved_model_reproduces_reported_rmse(tmp_path):
    path = tmp_path / "sine.npz"
    r = subprocess.run(
        [sys.executable, "-m", "rnn_core", "train", "--json", "--no-progress", "--save", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    reported = json.loads(r.stdout.strip().splitlines()[-1])["val_rmse"]
    # The tutorials' task rebuilt independently: sin of the integers 0..199, targets 150..199.
    raw = np.sin(np.arange(200.0))[:, None]
    got = torch_val_rmse(path, raw, np.arange(150, 200))
    assert got == pytest.approx(reported, rel=1e-9)
    assert got <= 0.01


def test_text_model_logits_match_torch():
    ds = text_dataset("abracadabra, said the wizard. " * 30, seq_len=12)
    tr = Trainer.create(ds, cell="lstm", hidden_size=9, train=TrainConfig(batch_size=4))
    tr.run(15)
    rnn, head, conf = torch_model(io.BytesIO(tr.save()))
    assert conf["vocab"] == ds.vocab
    ids = ds.val_ids[:12]
    ours, _, _ = tr.network.forward(ids[:, None], None, cache=False)  # (T, 1, V)
    x = torch.nn.functional.one_hot(torch.from_numpy(ids), len(conf["vocab"])).double()[:, None]
    with torch.no_grad():
        out, _ = rnn(x)
        theirs = head(out).numpy()
    np.testing.assert_allclose(theirs, ours, rtol=1e-10, atol=1e-12)
