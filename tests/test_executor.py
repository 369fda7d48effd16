"""Runs on Dask for real: worker processes of a LocalCluster, actors placed and released, runs
training on their own and sharing a worker by time, a lost worker's run coming back from its
snapshot, the cap on runs."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.executor import FOREVER, Executor
from rnn_core.trainer import Trainer
from rnn_core.turns import moving_runs


@pytest.fixture(scope="module")
def executor():
    ex = Executor(workers=2, processes=True, max_runs=6)
    assert ex.workers()  # waits for the cluster
    yield ex
    ex.close()


def actors_per_worker(ex: Executor) -> dict[str, int]:
    return ex.client.run(lambda dask_worker: len(dask_worker.state.actors))


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_remote_run_trains_exactly_like_a_local_trainer(executor):
    ds = sine_dataset()
    model, train = ModelConfig(cell="gru", hidden_size=8), TrainConfig(seed=3)
    run = executor.start(ds, model, train)
    local = Trainer(ds, model, train)
    run.run(25)
    local.run(25)
    remote_params = run.network.params
    for name, p in local.network.params.items():
        np.testing.assert_array_equal(remote_params[name], p)
    assert run.step_count == 25 and run.evaluate()["val_rmse"] == local.evaluate()["val_rmse"]
    run.close()


def answer(run, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = run.collect(0.5)
        if out is not None:
            return out
    raise AssertionError("no answer from the worker")


def test_a_run_trains_on_its_own_until_halted_and_polls_bring_the_arrays_asked_for(executor):
    run = executor.start(sine_dataset(), ModelConfig(), TrainConfig())
    run.begin_poll({}, FOREVER)
    first = answer(run)
    assert first["moving"] and run.moving
    time.sleep(0.5)  # nobody asks: the worker trains anyway
    run.begin_poll({"curves": 50, "pred": 40, "internals": ("val", 2), "eval": "exact"})
    out = answer(run)
    assert out["taken"] > 0 and run.step_count >= out["taken"] and out["busy"] > 0
    x, pred, actual = run.predictions("val", 40)  # answered by the poll, for these weights
    assert len(x) == len(pred) == len(actual) == 40
    assert run.answer("internals", "val", 2)["h0"].shape == (50, 32)
    assert out["eval"]["step"] == run.step_count
    assert len(run.history.downsample(50)["loss"]) == min(50, run.step_count)
    run.halt()
    stopped = run.step_count
    assert not run.moving
    time.sleep(0.3)
    run.begin_poll({})
    assert answer(run)["taken"] == 0 and run.step_count == stopped  # halted means halted
    run.close()


def test_a_target_step_is_met_exactly_and_rejected_steps_do_not_count(executor):
    run = executor.start(sine_dataset(), ModelConfig(hidden_size=8), TrainConfig())
    run.begin_poll({}, 37)
    answer(run)
    assert wait_for(lambda: run.begin_poll({}) and not answer(run)["moving"])
    assert run.step_count == 37
    run.begin_poll({}, run.step_count + 5)  # a Step x5 from there
    answer(run)
    assert wait_for(lambda: run.begin_poll({}) and not answer(run)["moving"])
    assert run.step_count == 42
    run.close()


def test_runs_sharing_a_worker_get_equal_time_whatever_their_steps_cost(executor):
    assert wait_for(lambda: sum(actors_per_worker(executor).values()) == 0)
    small, big = ModelConfig(hidden_size=4), ModelConfig(cell="lstm", hidden_size=64)
    runs = [executor.start(sine_dataset(), cfg, TrainConfig()) for cfg in (small, small, big, big)]
    pairs = {}
    for r in runs:
        pairs.setdefault(r.worker, []).append(r)
    assert sorted(len(v) for v in pairs.values()) == [2, 2]  # two on each worker
    busy = {id(r): 0.0 for r in runs}
    for r in runs:
        r.begin_poll({}, FOREVER)
        answer(r)
    time.sleep(3.0)
    for r in runs:
        r.halt()
        busy[id(r)] += sum(out["busy"] for out in r.take_results())
    for together in pairs.values():
        a, b = (busy[id(r)] for r in together)
        assert min(a, b) / max(a, b) > 0.6, (a, b)  # equal turns, not equal steps
    steps = {r.config.hidden_size: r.step_count for r in runs}
    assert steps[4] > steps[64]  # the cheap steps went further in the same time
    for r in runs:
        r.close()


def test_a_closed_run_stops_training_in_its_worker(executor):
    run = executor.start(sine_dataset(), ModelConfig(hidden_size=8), TrainConfig())
    run.begin_poll({}, FOREVER)
    answer(run)
    assert sum(executor.client.run(moving_runs).values()) == 1
    run.close()
    assert wait_for(lambda: sum(executor.client.run(moving_runs).values()) == 0)
    assert wait_for(lambda: sum(actors_per_worker(executor).values()) == 0)


def test_runs_spread_over_the_workers_and_are_released(executor):
    # Runs closed by earlier tests are released asynchronously: start from an empty cluster.
    assert wait_for(lambda: sum(actors_per_worker(executor).values()) == 0)
    before = 0
    runs = [executor.start(sine_dataset(), ModelConfig(hidden_size=4), TrainConfig()) for _ in range(4)]
    counts = actors_per_worker(executor)
    assert sum(counts.values()) == before + 4
    assert sorted({r.worker for r in runs}) == sorted(executor.workers())  # two on each worker
    for r in runs:
        r.close()
    assert wait_for(lambda: sum(actors_per_worker(executor).values()) == before)
    dropped = executor.start(sine_dataset(), ModelConfig(hidden_size=4), TrainConfig())
    del dropped  # a session that ends: the object goes, and with it the actor
    assert wait_for(lambda: sum(actors_per_worker(executor).values()) == before)


def test_the_server_refuses_runs_beyond_its_cap(executor):
    runs = [executor.start(sine_dataset(), ModelConfig(hidden_size=4), TrainConfig()) for _ in range(6)]
    with pytest.raises(PlaygroundError, match="limit of 6 runs"):
        executor.start(sine_dataset(), ModelConfig(hidden_size=4), TrainConfig())
    for r in runs:
        r.close()


def test_a_run_whose_worker_dies_comes_back_from_its_snapshot():
    ex = Executor(workers=2, processes=True)
    try:
        run = ex.start(sine_dataset(), ModelConfig(hidden_size=8), TrainConfig(seed=1))
        run.run(30)
        run.begin_poll({"snapshot": True})
        answer(run)
        saved_step = run.step_count
        lost = run.worker
        with contextlib.suppress(Exception):  # the worker goes before it can answer
            ex.client.run(lambda: __import__("os")._exit(1), workers=[lost])
        assert wait_for(lambda: lost not in ex.client.scheduler_info()["workers"], 30)
        run.begin_poll({}, FOREVER)
        for _ in range(120):
            if run.collect(0.5) is not None or run.notice:
                break
        assert run.notice and "went back to step" in run.notice
        assert run.worker != lost
        assert run.step_count >= saved_step  # from the snapshot
        run.halt()
        before = run.step_count
        run.run(3)  # and it trains on
        assert run.step_count == before + 3
    finally:
        ex.close()


def test_every_worker_is_warmed_up_before_the_first_run(executor):
    from rnn_core.warm import warmed

    # A fresh worker process has imported nothing of the trainer: the warm-up plugin has run in
    # each one by the time the executor reports its workers.
    assert executor.client.run(warmed) == {w: True for w in executor.workers()}


def test_worker_processes_keep_a_steps_arrays_on_the_heap(executor):
    import os

    from rnn_core.executor import MALLOC_THRESHOLD

    # Dask's default (trim at 64 KiB) would map and unmap every big array of every step.
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"):
        got = executor.client.run(os.getenv, name)
        assert set(got.values()) == {str(MALLOC_THRESHOLD)}, (name, got)


def test_worker_processes_yield_the_cpu_to_other_sessions(executor):
    from pathlib import Path

    from rnn_core.priority import TRAINING_NICENESS

    enabled = Path("/proc/sys/kernel/sched_autogroup_enabled")
    if not enabled.exists() or enabled.read_text().strip() != "1":
        pytest.skip("no autogroup scheduling on this machine")
    mine = Path("/proc/self/autogroup").read_text().split()
    if not mine:  # a task in a CPU cgroup of its own: autogroups do not apply to it
        pytest.skip("this process is scheduled by its cgroup, not by an autogroup")
    groups = executor.client.run(Path("/proc/self/autogroup").read_text)
    for text in groups.values():
        name, _, nice = text.split()
        assert name != mine[0]  # a session of its own, not the caller's
        assert int(nice) == TRAINING_NICENESS


def test_a_question_ends_the_turn_under_way_after_the_step_in_progress():
    # In this process, without Dask: turns told to train for a minute each, and a question, then
    # a Pause, asked meanwhile. Each answer comes after the step in progress, not the minute.
    import threading

    from rnn_core.config import ModelConfig, TrainConfig
    from rnn_core.data import sine_dataset
    from rnn_core.executor import TrainerActor

    actor = TrainerActor(sine_dataset(), ModelConfig(hidden_size=8), TrainConfig())
    actor._until = 10**9  # as a poll with a far target sets it, without joining the loop

    def ask(question) -> list:
        turn = threading.Thread(target=actor.turn, args=(60.0,))
        turn.start()
        start = actor.trainer.step_count
        while actor.trainer.step_count < start + 5:  # training under way
            time.sleep(0.01)
        answers: list = []
        asker = threading.Thread(target=lambda: answers.append(question()))
        asker.start()
        asker.join(timeout=20)
        turn.join(timeout=20)
        assert not asker.is_alive() and not turn.is_alive()  # both long before the minute
        return answers

    [state] = ask(actor.state)
    assert state["step_count"] >= 5
    [out] = ask(lambda: actor.poll({}, 0))
    stopped = actor.trainer.step_count
    assert not out["moving"] and out["state"]["step_count"] == stopped  # the final state
    actor.turn(1.0)
    assert actor.trainer.step_count == stopped


def test_a_patience_stops_a_run_in_its_worker_and_says_where_the_best_was(executor):
    train = TrainConfig(lr=0.05, lr_schedule="constant", seed=2, patience=100)
    run = executor.start(sine_dataset(), ModelConfig(hidden_size=8), train)
    run.begin_poll({}, FOREVER)
    answer(run)
    stops = []
    assert wait_for(lambda: run.begin_poll({}) and (stops.append(answer(run)) or not stops[-1]["moving"]), 60)
    [stop] = [o["early_stop"] for o in stops if o.get("early_stop")]
    assert stop["at"] == run.step_count and stop["at"] - stop["best_step"] >= 100
    assert run.best_summary["step"] == stop["best_step"]
    assert run.restore_best() == stop["best_step"] and run.step_count == stop["best_step"]
    run.close()
