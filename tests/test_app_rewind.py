"""Rewind on the Train page: the slider shows a kept step's exact numbers, and Continue from here
trains on exactly as a run paused at that step would."""

from __future__ import annotations

from app_helpers import array_values, chart_titled, metric, number, open_app, press, session, trainer

from dashboard.session import key
from rnn_core.trainer import Trainer


def stopped_at(tr, step: int) -> Trainer:
    """A fresh trainer with the run's data and settings, trained ``step`` steps and paused."""
    twin = Trainer(tr.dataset, tr.config, tr.train_config)
    twin.run(step)
    return twin


def test_scrubbing_shows_the_kept_steps_numbers_and_continuing_matches_a_paused_run():
    at = open_app()
    tr = trainer(at)
    tr.run(120)
    at.run()
    slider = at.select_slider(key=key("rewind"))
    assert slider.options[0] == "0" and "120 (now)" in slider.options[-1]
    assert "60" in slider.options
    slider.set_value(60).run()
    assert not at.exception
    assert number(metric(at, "Step")) == 60
    look = session(at).run.memo["rewound"][1]
    twin = stopped_at(tr, 60)
    truth = twin.evaluate()
    for name in ("val_rmse", "train_rmse", "val_loss", "train_loss"):
        assert look.last_eval[name] == truth[name], name  # the kept weights, evaluated exactly
    assert metric(at, "Validation RMSE") == f"{truth['val_rmse']:.3g}"
    loss = chart_titled(at, "Loss")
    assert [s["x0"] for s in loss["layout"].get("shapes", [])] == [60]  # the step looked at
    assert tr.step_count == 120  # looking back changed nothing

    at.button(key="b.continue_from").click().run()
    assert not at.exception
    assert tr.step_count == 60 and number(metric(at, "Step")) == 60
    loss = chart_titled(at, "Loss")
    faded = [t for t in loss["data"] if t.get("name") == "abandoned"]
    assert len(faded) == 1
    xs = array_values(faded[0]["x"])
    assert xs.min() > 60 and xs.max() == 120
    branch = [m["loss"] for m in tr.run(20)]
    straight = [m["loss"] for m in twin.run(20)]  # evaluating the twin changed none of its steps
    assert branch == straight

    press(at, "reset")
    assert not any(t.get("name") == "abandoned" for t in chart_titled(at, "Loss")["data"])


def test_while_training_the_slider_waits_for_pause_and_back_to_now_returns():
    at = open_app()
    tr = trainer(at)
    tr.run(60)
    at.run()
    at.select_slider(key=key("rewind")).set_value(30).run()
    assert number(metric(at, "Step")) == 30
    at.button(key="b.rewind_now").click().run()
    assert number(metric(at, "Step")) == 60
    press(at, "start")
    captions = " ".join(c.value for c in at.caption)
    assert "Pause to look back" in captions
    assert not [s for s in at.select_slider if s.key == key("rewind")]
    press(at, "pause")
