"""Many runs of one optimizer at once (random restarts, basins, sweeps): one kernel
call advances every start, each with its own hyper-parameters if wanted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .codegen import compiled_kernel
from .expression import Objective
from .optimizers import optimizer
from .runner import run_options, stop_vector
from .scenario import RunSpec, StopRules
from .schedules import schedule
from .trajectory import PARAMS


@dataclass(frozen=True)
class BatchResult:
    final: np.ndarray  # (S, d) parameters where each run stopped
    loss: np.ndarray  # (S,) loss there
    steps: np.ndarray  # (S,) updates done
    status: np.ndarray  # (S,) codes, see kernel.STATUS_NAMES
    reason: np.ndarray  # (S,) why each stopped: kernel.GRAD_TOL, LOSS_TOL, ... (0 while running)


def run_batch(objective: Objective, optimizer_name: str, starts: np.ndarray, stop: StopRules,
              hyper: Mapping[str, object] | None = None, lr: np.ndarray | None = None,
              schedule_name: str = "constant", schedule_params: Mapping[str, object] | None = None,
              hyper_columns: Mapping[str, np.ndarray] | None = None, chunk_steps: int | None = None,
              progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
              like: RunSpec | None = None) -> BatchResult:
    """Run from every row of `starts` until each stops.

    `lr` (S,) overrides the rate per start, `hyper_columns` any other hyper-parameter per start
    (name -> (S,) values, "beta1"/"beta2" for the halves of betas), so a whole sweep grid is one
    call. With `chunk_steps`, `progress(done, total)` is called between chunks (steps, times the
    groups of runs on batches, see _groups) and `cancel()` can stop early: the runs still going, or
    not begun, then have status "running". With `like`, every start also gets that run's clipping,
    batches and batch seed (its optimizer and schedule are the arguments'), so each is that very run
    with other settings.
    """
    info = optimizer(optimizer_name)
    values = info.check(hyper or {})
    sched = schedule(schedule_name)
    S, d = starts.shape
    H = np.tile(info.flatten(values), (S, 1))
    for name, column in {**(hyper_columns or {}), **({"lr": lr} if lr is not None else {})}.items():
        column = np.asarray(column, dtype=np.float64)
        for value in np.unique(column):  # each distinct value gets the registry's own check
            check = "betas" if name in ("beta1", "beta2") else name
            info.check({check: (value, value) if check == "betas" else (bool(value) if isinstance(values[check], bool) else float(value))})
        H[:, info.column(name)] = column.reshape(S, -1)
    state, sched_row = info.state_array(values, S, d), sched.flatten(sched.check(schedule_params or {}))
    fg, total = compiled_kernel(objective, info.needs_hessian), stop.max_steps + 1
    chunk = chunk_steps or total
    groups = _groups(S, objective, like)
    out = BatchResult(starts.astype(np.float64), np.full(S, np.nan), np.zeros(S, np.int64),
                      np.full(S, K.RUNNING, np.int64), np.zeros(S, np.int64))
    for number, group in enumerate(groups):
        n = group.stop - group.start
        options = run_options(like, n) if like is not None else {"clip": np.zeros((n, 2))}
        runs = K.KernelRuns(starts[group], state[group].copy(), H[group], np.tile(sched_row, (n, 1)),
                            stop=stop_vector(stop), data=objective.data, **options)
        cancelled = False
        for done in range(0, total, chunk):
            if cancel is not None and cancel():
                cancelled = True
                break
            runs.advance(fg, info.code, chunk, np.empty((n, 0, PARAMS + d)))
            if progress is not None:
                progress(number * total + min(done + chunk, total), len(groups) * total)
            if not (runs.STATUS == K.RUNNING).any():
                break
        out.final[group], out.loss[group], out.steps[group] = runs.P, runs.LAST, runs.T
        out.status[group], out.reason[group] = runs.STATUS, runs.EVENT[:, 0]
        if cancelled:
            break
    return out


SHUFFLE_BUDGET = 20_000_000  # row indices (8 bytes each) that the runs' batch permutations may hold at once


def _groups(starts: int, objective: Objective, like: RunSpec | None) -> list[slice]:
    """Runs on batches keep a permutation of every row each (for epochs without replacement): in groups
    of at most SHUFFLE_BUDGET / rows runs, a 100×100 basins grid over a million rows stays at 160 MB."""
    rows = objective.data.shape[1] if objective.data is not None else 0
    batched = like is not None and bool(like.batch_size) and like.batch_size < rows
    size = max(1, SHUFFLE_BUDGET // rows) if batched else starts
    return [slice(first, min(first + size, starts)) for first in range(0, starts, size)]
