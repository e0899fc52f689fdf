"""Many runs of one optimizer at once (random restarts, basins, sweeps): one kernel
call advances every start, each with its own hyper-parameters if wanted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .codegen import compiled_kernel
from .expression import Objective
from .optimizers import optimizer
from .runner import stop_vector
from .scenario import StopRules
from .schedules import schedule


@dataclass(frozen=True)
class BatchResult:
    final: np.ndarray  # (S, d) parameters where each run stopped
    loss: np.ndarray  # (S,) loss there
    steps: np.ndarray  # (S,) updates done
    status: np.ndarray  # (S,) codes, see kernel.STATUS_NAMES


def run_batch(objective: Objective, optimizer_name: str, starts: np.ndarray, stop: StopRules,
              hyper: Mapping[str, object] | None = None, lr: np.ndarray | None = None,
              schedule_name: str = "constant", schedule_params: Mapping[str, object] | None = None) -> BatchResult:
    """Run from every row of `starts` until each stops; `lr` (S,) overrides the rate per start."""
    info = optimizer(optimizer_name)
    values = info.check(hyper or {})
    sched = schedule(schedule_name)
    S, d = starts.shape
    H = np.tile(info.flatten(values), (S, 1))
    if lr is not None:
        H[:, 0] = lr
    runs = K.KernelRuns(starts, info.state_array(values, S, d), H, np.tile(sched.flatten(sched.check(schedule_params or {})), (S, 1)),
                        np.zeros((S, 2)), stop_vector(stop), objective.data)
    runs.advance(compiled_kernel(objective, info.needs_hessian), info.code, stop.max_steps + 1, np.empty((S, 0, 3 + d)))
    return BatchResult(runs.P, runs.LAST, runs.T, runs.STATUS)
