"""A fair race between runs: the same start, the same step budget, each run timed on its own, ranked."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .expression import Objective
from .newton_notes import TRIALS
from .plan import RunPlan, Start, start_vector
from .runner import RunProgress
from .scenario import RunSpec, StopRules
from .trajectory import row_limit


@dataclass(frozen=True)
class RaceEntry:
    label: str
    name: str  # optimizer
    hyper: dict[str, object]
    steps: int  # updates done (each costs one gradient evaluation; Newton also one Hessian)
    grad_evals: int  # points evaluated, the start and Newton's line-search trials included
    final_loss: float
    status: str  # kernel status name ("cancelled" when a cancel cut it short), or "time_limit"
    reason: str
    wall_time: float  # seconds spent advancing this run
    rank: int  # 1 = best; equal results share a rank
    run: RunProgress = field(repr=False, compare=False)  # the recorded trajectory, to draw the paths


def _race_key(steps: int, loss: float, status: str) -> tuple:
    """Reaching tolerance beats not reaching it, then fewer steps; then lower final loss; blow-ups last."""
    if status == "converged":
        return (0, steps, loss)
    if status in ("max_steps", "time_limit") and math.isfinite(loss):
        return (1, loss, 0)
    return (2, 0, 0.0)


def _labels(runs: Sequence[RunSpec]) -> list[str]:
    """Each run's label, numbered ("adam #2") where several runs share one."""
    labels = [run.label for run in runs]
    return [label if labels.count(label) == 1 else f"{label} #{i + 1}" for i, label in enumerate(labels)]


def race(objective: Objective, runs: Sequence[RunSpec], start: Start, budget_steps: int, stop: StopRules | None = None, *,
         time_budget: float | None = None, chunk: int = 2000, cancel: Callable[[], bool] | None = None) -> list[RaceEntry]:
    """Every run's optimizer and hyper-parameters from the same start with the same budget, ranked; their
    schedules, clipping and batches are left out, so the race is between the optimizers alone, on all the data.

    Runs advance in turns of `chunk` steps (so machine noise hits them alike), each timed on its
    own; `time_budget` (seconds of its own time) also ends a run. Returns entries in rank order.
    When `cancel()` turns true, the runs still going are cancelled and ranked as they stand.
    """
    if budget_steps < 1 or not runs:
        raise ValueError("a race needs at least one optimizer and a budget of at least one step")
    x0 = start_vector(objective, start)
    labels = _labels(runs)
    rules = replace(stop or StopRules(), max_steps=int(budget_steps))
    plans = [RunPlan(objective, RunSpec(label, run.optimizer, run.hyper), rules) for label, run in zip(labels, runs)]
    for plan in plans:  # compile and warm every code path before timing
        warm = RunProgress(0, plan.limited(2), x0)
        while not warm.done:
            warm.advance(100_000)
    racers = [RunProgress(i, plan, x0, row_limit(len(plans))) for i, plan in enumerate(plans)]
    spent = [0.0] * len(racers)
    out_of_time = [False] * len(racers)
    while True:
        if cancel is not None and cancel():
            for r in racers:
                r.cancel()
        waiting = [i for i, r in enumerate(racers) if not r.done and not out_of_time[i]]
        if not waiting:
            break
        for i in waiting:
            began = time.perf_counter()
            racers[i].advance(chunk)
            spent[i] += time.perf_counter() - began
            out_of_time[i] = time_budget is not None and spent[i] >= time_budget and not racers[i].done
    rows = []
    for i, r in enumerate(racers):
        status = "time_limit" if out_of_time[i] else r.status
        reason = f"used its time budget ({time_budget:g} s) at step {r.steps}" if out_of_time[i] else r.reason
        loss = float(r.trajectory.loss[-1]) if len(r.trajectory) else math.nan
        rows.append((_race_key(r.steps, loss, status), i, status, reason, loss))
    rows.sort(key=lambda row: (row[0], row[1]))
    entries, rank = [], 0
    for position, (key, i, status, reason, loss) in enumerate(rows):
        if position == 0 or key != rows[position - 1][0]:
            rank = position + 1
        r = racers[i]
        evals = len(r.trajectory) + int(r.kernel.NOTE[0, TRIALS])  # Newton's line search evaluates trial points too
        entries.append(RaceEntry(labels[i], r.spec.optimizer, dict(r.plan.hyper), r.steps, evals, loss, status,
                                 reason, spent[i], rank, r))
    return entries
