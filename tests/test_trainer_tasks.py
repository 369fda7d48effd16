"""The trainer/task split: tasks chosen by the data's kind, each owning its batches and their
position, training equal to the loop written out by hand, operations only one task has, live
settings and weight decay."""

import csv
import io

import numpy as np
import pytest

from rnn_core import losses
from rnn_core.config import TrainConfig
from rnn_core.data import sine_dataset, text_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.network import Network
from rnn_core.optim import clip_gradients, make_optimizer
from rnn_core.tasks import SeriesTask, TextTask, make_task
from rnn_core.trainer import Trainer

PATTERN = "the cat sat on the mat. "


@pytest.fixture(scope="module")
def sine():
    return sine_dataset()


@pytest.fixture(scope="module")
def text():
    return text_dataset(PATTERN * 60, seq_len=12, val_fraction=0.1)


def _params(tr):
    return {k: v.copy() for k, v in tr.network.params.items()}


def test_the_task_follows_the_kind_of_data(sine, text):
    s = make_task(sine, batch_size=8)
    t = make_task(text, batch_size=4, text_mode="random")
    assert isinstance(s, SeriesTask) and s.kind == "series" and s.head == "regression"
    assert (s.input_size, s.output_size) == (1, 1)
    assert isinstance(t, TextTask) and t.kind == "text" and t.head == "text"
    assert t.input_size == t.output_size == text.vocab_size
    b = s.batch(np.random.default_rng(0))
    assert b.x.shape == (50, 8, 1) and b.y.shape == (8, 1) and b.state is None and b.consumed == 8
    b = t.batch(np.random.default_rng(0))
    assert b.x.shape == b.y.shape == (12, 4) and b.consumed == 48
    np.testing.assert_array_equal(b.x[1:], b.y[:-1])  # targets are the next characters


def test_unknown_data_kind_is_an_error(sine):
    class Odd:
        kind = "audio"

    with pytest.raises(PlaygroundError, match="audio"):
        make_task(Odd(), batch_size=4)


def test_trainer_kind_and_config_come_from_the_task(sine, text):
    a, b = Trainer.create(sine), Trainer.create(text, hidden_size=8)
    assert (a.kind, a.is_text, b.kind, b.is_text) == ("series", False, "text", True)
    v = text.vocab_size
    assert (b.config.head, b.config.input_size, b.config.output_size) == ("text", v, v)


def test_series_training_equals_the_loop_written_out(sine):
    tc = TrainConfig(optimizer="adam", lr=0.01, lr_schedule="constant", batch_size=16, clip_norm=0.5, seed=3)
    tr = Trainer.create(sine, train=tc)
    rng = np.random.default_rng(3)
    net = Network(tr.config, rng)  # the same draws initialise the same weights
    opt = make_optimizer("adam", net.params, 0.01)
    n = sine.train_X.shape[1]
    order, pos = None, 0
    for _ in range(10):  # 100 windows in batches of 16: a new shuffle at step 8
        if order is None or pos >= n:
            order, pos = rng.permutation(n), 0
        idx = order[pos : pos + 16]
        pos += len(idx)
        out, _, cache = net.forward(np.asarray(sine.train_X[:, idx]), None, cache=True)
        loss, dout = losses.mse(out, np.asarray(sine.train_y)[idx].reshape(-1, 1))
        grads, _, _ = net.backward(dout, cache)
        clip_gradients(grads, clip_norm=0.5)
        opt.step(net.params, grads)
        assert tr.step()["loss"] == loss
    for k, v in net.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v, err_msg=k)


def test_text_stream_training_equals_the_loop_written_out(text):
    tc = TrainConfig(optimizer="sgd", lr=0.5, lr_schedule="constant", batch_size=3, clip_norm=None, seed=5)
    tr = Trainer.create(text, cell="lstm", hidden_size=6, train=tc)
    net = Network(tr.config, np.random.default_rng(5))
    opt = make_optimizer("sgd", net.params, 0.5)
    ids, t = np.asarray(text.train_ids), text.seq_len
    length = len(ids) // 3
    streams = ids[: 3 * length].reshape(3, length).T  # (L, B)
    state, p = None, 0
    for _ in range(2 * ((length - 1) // t) + 1):  # twice round the streams and on
        if p + t + 1 > length:
            state, p = None, 0
        x, y = streams[p : p + t], streams[p + 1 : p + t + 1]
        p += t
        out, state, cache = net.forward(x, state, cache=True)
        loss, dout = losses.softmax_cross_entropy(out, y)
        grads, _, _ = net.backward(dout, cache)
        opt.step(net.params, grads)
        assert tr.step()["loss"] == loss
    for k, v in net.params.items():
        np.testing.assert_array_equal(tr.network.params[k], v, err_msg=k)


@pytest.mark.parametrize("mode", ["stream", "random"])
def test_a_task_snapshot_brings_back_its_batch_position(text, sine, mode):
    for ds in (text, sine):
        task = make_task(ds, batch_size=4, text_mode=mode)
        rng = np.random.default_rng(1)
        for _ in range(3):
            task.after_step(np.ones((1, 4, 2)), True)
            task.batch(rng)
        snap, state = task.snapshot(), rng.bit_generator.state
        first = task.batch(rng)
        task.restore(snap)
        rng.bit_generator.state = state
        again = task.batch(rng)
        np.testing.assert_array_equal(first.x, again.x)
        np.testing.assert_array_equal(first.y, again.y)
        if ds is text and mode == "stream":
            np.testing.assert_array_equal(again.state, np.ones((1, 4, 2)))  # carried state too


def test_text_carries_state_only_after_an_accepted_step(text):
    task = make_task(text, batch_size=2)
    rng = np.random.default_rng(0)
    task.batch(rng)
    task.after_step("kept", True)
    assert task.batch(rng).state == "kept"
    task.after_step("from a rejected step", False)
    assert task.batch(rng).state is None


def test_operations_of_the_other_task_say_what_data_they_need(sine, text):
    series, chars = Trainer.create(sine), Trainer.create(text, hidden_size=4)
    with pytest.raises(PlaygroundError) as err:
        chars.forecast(5)
    assert str(err.value) == "forecast needs a numeric series (sine or CSV); the current data is text"
    for call in (lambda: chars.predictions("val"),):
        with pytest.raises(PlaygroundError, match="needs a numeric series"):
            call()
    for call in (lambda: series.sample(5), lambda: series.next_char_probs("a")):
        with pytest.raises(PlaygroundError, match="needs text; the current data is a numeric series"):
            call()
    # On the right data they are the task's own operations, run on the trainer's network.
    x, values = series.forecast(4)
    x2, values2 = series.task.forecast(series.network, 4)
    np.testing.assert_array_equal(values, values2)
    np.testing.assert_array_equal(x, x2)
    assert set(chars.internals("val", 0)) == set(series.internals("val", 0)) == {"h0"}


def test_the_validation_estimate_flag_stays_in_the_history(sine):
    tr = Trainer.create(sine, hidden_size=4)
    tr.step()
    tr.evaluate(max_windows=10)
    tr.evaluate()
    np.testing.assert_array_equal(tr.history.evals["val_estimate"], [1.0, 0.0])
    rows = list(csv.DictReader(io.StringIO(tr.history.to_csv())))
    assert rows[-1]["val_estimate"] == "0"  # the latest evaluation of step 1


def test_apply_live_takes_live_settings_and_refuses_the_others(sine):
    tr = Trainer.create(sine, train=TrainConfig(optimizer="sgd", lr=0.1, lr_schedule="constant"))
    tr.step()
    new = tr.train_config.replace(lr=0.05, weight_decay=0.2, clip_norm=None, clip_value=2.0, steps=900)
    tr.apply_live(new)
    assert tr.train_config == new and tr.optimizer.weight_decay == 0.2
    assert tr.step()["lr"] == 0.05
    for change in ({"batch_size": 8}, {"optimizer": "adam"}, {"seed": 9}, {"bptt": 5}):
        with pytest.raises(PlaygroundError, match=next(iter(change))):
            tr.apply_live(tr.train_config.replace(**change))
    assert tr.train_config == new
    with pytest.raises(PlaygroundError, match="TrainConfig"):
        tr.apply_live({"lr": 0.1})


def test_weight_decay_reaches_the_optimizer(sine):
    def one_step(wd):
        train = TrainConfig(optimizer="sgd", lr=0.1, lr_schedule="constant", clip_norm=None, weight_decay=wd)
        tr = Trainer.create(sine, train=train)
        before = _params(tr)
        tr.step()
        return before, _params(tr), tr

    p0, plain, _ = one_step(0.0)
    _, decayed, tr = one_step(0.3)
    assert tr.optimizer.weight_decay == 0.3
    # Same batch and gradient; SGD's L2 term adds lr * wd * p to each step.
    for k in p0:
        np.testing.assert_allclose(decayed[k] - plain[k], -0.1 * 0.3 * p0[k], rtol=1e-9, atol=1e-14)
