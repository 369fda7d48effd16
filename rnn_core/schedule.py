"""Learning-rate schedules: the rate a trainer uses at each step, from its base rate.

``cosine`` is half a cosine from the base rate ``lr`` at step 0 down to ``floor * lr`` at step
``steps``, held there afterwards (SGDR's annealing, Loshchilov & Hutter 2017, without restarts);
``constant`` keeps ``lr``. A constant rate keeps a sine model hopping around its minimum
(validation RMSE jumping between 0.001 and 0.03 from one hundred steps to the next); decaying
the rate lets the last steps settle.
"""

from __future__ import annotations

import math

from rnn_core.errors import PlaygroundError

SCHEDULES = ("cosine", "constant")


def lr_at(lr: float, schedule: str, i: int, steps: int, floor: float = 0.01) -> float:
    """The learning rate of step ``i`` (0-based: the number of steps taken before it).

    Parameters
    ----------
    lr : float
        Base rate, the rate of step 0.
    schedule : {"cosine", "constant"}
    i : int
        Steps already taken.
    steps : int
        Schedule length; from step ``steps`` on the cosine holds at ``floor * lr``.
    floor : float
        Final fraction of ``lr`` of the cosine schedule.

    Returns
    -------
    float : ``lr`` (constant) or
    ``lr * (floor + (1 - floor) * 0.5 * (1 + cos(pi * min(i, steps) / max(steps, 1))))`` (cosine).
    """
    if schedule == "constant":
        return float(lr)
    if schedule != "cosine":
        raise PlaygroundError(
            f"learning-rate schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}"
        )
    steps = int(steps)
    done = min(int(i), steps)
    return lr * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * done / max(steps, 1))))
