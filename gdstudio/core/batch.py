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
    call. With `chunk_steps`, `progress(steps_done, max_steps)` is called between chunks and
    `cancel()` can stop early: the runs still going then have status "running". With `like`, every
    start also gets that run's clipping, batches and batch seed (its optimizer and schedule are the
    arguments'), so each is that very run with other settings.
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
    options = run_options(like, S) if like is not None else {"clip": np.zeros((S, 2))}
    runs = K.KernelRuns(starts, info.state_array(values, S, d), H, np.tile(sched.flatten(sched.check(schedule_params or {})), (S, 1)),
                        stop=stop_vector(stop), data=objective.data, **options)
    fg, total = compiled_kernel(objective, info.needs_hessian), stop.max_steps + 1
    chunk = chunk_steps or total
    for done in range(0, total, chunk):
        if cancel is not None and cancel():
            break
        runs.advance(fg, info.code, chunk, np.empty((S, 0, PARAMS + d)))
        if progress is not None:
            progress(min(done + chunk, total), total)
        if not (runs.STATUS == K.RUNNING).any():
            break
    return BatchResult(runs.P, runs.LAST, runs.T, runs.STATUS, runs.EVENT[:, 0].astype(np.int64))
