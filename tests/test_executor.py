"""Runs on Dask for real: worker processes of a LocalCluster, actors placed and released,
a lost worker's run coming back from its snapshot, the cap on runs."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest

from rnn_core.config import ModelConfig, TrainConfig
from rnn_core.data import sine_dataset
from rnn_core.errors import PlaygroundError
from rnn_core.executor import MAX_BUDGET, MIN_BUDGET, ROUND_SECONDS, Executor
from rnn_core.trainer import Trainer


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


def test_a_turn_trains_within_its_budget_and_brings_the_arrays_asked_for(executor):
    run = executor.start(sine_dataset(), ModelConfig(), TrainConfig())
    run.begin_tick(10**9, {"curves": 50, "pred": 40, "internals": ("val", 2), "eval": "exact"})
    out = None
    for _ in range(100):
        out = run.collect(0.5)
        if out is not None:
            break
    assert out is not None and out["taken"] > 0 and run.step_count == out["taken"]
    assert out["busy"] < MAX_BUDGET + 0.5  # one turn stops near its budget, not after all steps
    x, pred, actual = run.predictions("val", 40)  # answered by the turn, for these weights
    assert len(x) == len(pred) == len(actual) == 40
    assert run.answer("internals", "val", 2)["h0"].shape == (50, 32)
    assert out["eval"]["step"] == run.step_count
    assert len(run.history.downsample(50)["loss"]) == min(50, run.step_count)
    run.close()


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


def test_the_budget_shares_a_worker_equally(executor):
    worker = executor.workers()[0]
    alone = executor.budget(worker)
    runs = [executor.start(sine_dataset(), ModelConfig(hidden_size=4), TrainConfig()) for _ in range(4)]
    on_worker = executor.runs_on(worker)
    assert on_worker == 2
    assert executor.budget(worker) == pytest.approx(
        max(min(ROUND_SECONDS / on_worker, MAX_BUDGET), MIN_BUDGET)
    )
    assert executor.budget(worker) <= alone
    for r in runs:
        r.close()


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
        run.begin_tick(5, {"snapshot": True})
        while run.collect(1.0) is None:
            pass
        saved_step = run.step_count
        lost = run.worker
        with contextlib.suppress(Exception):  # the worker goes before it can answer
            ex.client.run(lambda: __import__("os")._exit(1), workers=[lost])
        assert wait_for(lambda: lost not in ex.client.scheduler_info()["workers"], 30)
        run.begin_tick(5, {})
        for _ in range(120):
            if run.collect(0.5) is not None or run.notice:
                break
        assert run.notice and "went back to step" in run.notice
        assert run.worker != lost
        assert run.step_count >= saved_step  # from the snapshot, plus the steps of the new turn
        run.run(3)  # and it trains on
    finally:
        ex.close()
