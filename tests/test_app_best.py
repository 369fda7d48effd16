"""The best weights on the Train page: restored in one click, and a patience that pauses a run."""

from __future__ import annotations

import dataclasses
import time

from app_helpers import metric, number, open_app, press, session, trainer

from rnn_core.best import CHECK_EVERY

BUMPY = {"lr": 0.05, "lr_schedule": "constant", "seed": 2, "hidden_size": 8}


def _bumpy(at, **more):
    sess = session(at)
    sess.settings = dataclasses.replace(sess.settings, **BUMPY, **more)
    press(at, "reset")


def test_restore_best_goes_back_to_the_best_validation_score_in_one_click():
    at = open_app()
    _bumpy(at)
    tr = trainer(at)
    scores = {}
    for _ in range(12):
        tr.run(CHECK_EVERY)
        scores[tr.step_count] = tr.evaluate(train=False)["val_rmse"]
    best = min(scores, key=scores.get)
    at.run()
    [button] = [b for b in at.button if b.label.startswith("Restore best")]
    assert f"step {best:,}" in button.label and f"{scores[best]:.4g}" in button.label
    button.click().run()
    assert not at.exception
    assert trainer(at).step_count == best and number(metric(at, "Step")) == best
    assert not [b for b in at.button if b.label.startswith("Restore best")]  # at the best now


def test_a_patience_pauses_the_run_and_says_where_the_best_was():
    at = open_app()
    _bumpy(at, patience=100)
    press(at, "start")
    deadline = time.monotonic() + 60
    while session(at).state.moving and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not session(at).state.moving
    notes = " ".join(i.value for i in at.info)
    assert "Stopped early at step" in notes and "(the patience set)" in notes
    stop = session(at).run.early_stop
    assert stop["at"] - stop["best_step"] >= 100
    assert any(b.label.startswith(f"Restore best (step {stop['best_step']:,}") for b in at.button)
