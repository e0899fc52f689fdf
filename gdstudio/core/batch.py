"""Many copies of one run at once (sweeps, basins, restarts): one kernel call advances every start,
each with its own learning rate or other hyper-parameter if wanted, and they all end in one result type.

A cancel is obeyed between chunks of steps; the runs it cut short, or that never began, end with the
status CANCELLED (and no loss), as a cancelled scenario run does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .plan import RunPlan
from .trajectory import PARAMS

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass(frozen=True)
class BatchResult:
    """How each run of a batch ended; the arrays share one shape (a sweep's grid, a basins image, ...)."""

    final: np.ndarray  # shape + (d,): parameters where each run stopped
    loss: np.ndarray  # loss there; nan where a run was cancelled (its last point was never evaluated)
    steps: np.ndarray  # updates done
    status: np.ndarray  # codes, see kernel.STATUS_NAMES; CANCELLED for runs a cancel cut short or never began
    reason: np.ndarray  # why each stopped: kernel.GRAD_TOL, LOSS_TOL, ... (0 when cancelled)

    @classmethod
    def not_begun(cls, starts: np.ndarray) -> BatchResult:
        """Runs a cancel stopped before they began."""
        count = len(starts)
        return cls(np.array(starts, dtype=np.float64), np.full(count, np.nan), np.zeros(count, np.int64),
                   np.full(count, K.CANCELLED, np.int64), np.zeros(count, np.int64))

    @classmethod
    def joined(cls, parts: list[BatchResult]) -> BatchResult:
        """One result of several batches' runs, in order."""
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("final", "loss", "steps", "status", "reason")))

    def reshaped(self, shape: tuple[int, ...]) -> BatchResult:
        d = self.final.shape[-1]
        return BatchResult(self.final.reshape(shape + (d,)), self.loss.reshape(shape), self.steps.reshape(shape),
                           self.status.reshape(shape), self.reason.reshape(shape))

    @property
    def cancelled(self) -> bool:
        """Whether a cancel cut any run short."""
        return bool((self.status == K.CANCELLED).any())

    @property
    def status_names(self) -> np.ndarray:
        return np.array(K.STATUS_NAMES, dtype=object)[self.status]

    @property
    def steps_to_tolerance(self) -> np.ndarray:
        """Updates until a stopping tolerance was met; nan where it never was."""
        return np.where(self.status == K.CONVERGED, self.steps.astype(np.float64), np.nan)


class ResultView:
    """The names the tools read a BatchResult by (`result` is the tool's): final loss, steps, status, ..."""

    result: BatchResult

    @property
    def final(self) -> np.ndarray:
        return self.result.final

    @property
    def loss(self) -> np.ndarray:
        return self.result.loss

    final_loss = loss

    @property
    def steps(self) -> np.ndarray:
        return self.result.steps

    @property
    def status(self) -> np.ndarray:
        return self.result.status

    @property
    def status_names(self) -> np.ndarray:
        return self.result.status_names

    @property
    def steps_to_tolerance(self) -> np.ndarray:
        return self.result.steps_to_tolerance

    @property
    def cancelled(self) -> bool:
        return self.result.cancelled


def run_batch(plan: RunPlan, starts: np.ndarray, *, lr: np.ndarray | None = None, columns: Mapping[str, np.ndarray] | None = None,
              chunk_steps: int | None = None, progress: Progress | None = None, cancel: Cancel | None = None) -> BatchResult:
    """Run a copy of `plan`'s run from every row of `starts` (S, d) until each stops.

    `lr` (S,) overrides the rate per start and `columns` any other hyper-parameter per start (name ->
    (S,) values, "beta1"/"beta2" for the halves of betas), so a whole sweep grid is one call. With
    `chunk_steps`, `progress(done, total)` is called between chunks (steps, times the groups of runs
    on batches, see _groups) and `cancel()` can stop early.
    """
    S, d = starts.shape
    H, state = plan.settings(S, lr, columns)
    total = plan.stop.max_steps + 1
    chunk = chunk_steps or total
    groups = _groups(S, plan)
    out = BatchResult(starts.astype(np.float64), np.full(S, np.nan), np.zeros(S, np.int64),
                      np.full(S, K.CANCELLED, np.int64), np.zeros(S, np.int64))  # (what a cancel leaves of groups not begun)
    for number, group in enumerate(groups):
        n = group.stop - group.start
        runs = plan.kernel_runs(starts[group], (H[group], state[group].copy()))
        cancelled = False
        for done in range(0, total, chunk):
            if cancel is not None and cancel():
                cancelled = True
                break
            runs.advance(plan.fg, plan.rule, chunk, np.empty((n, 0, PARAMS + d)))
            if progress is not None:
                progress(number * total + min(done + chunk, total), len(groups) * total)
            if not (runs.STATUS == K.RUNNING).any():
                break
        cut = runs.STATUS == K.RUNNING  # (every run ends within `total` evaluations unless cancelled)
        out.final[group], out.steps[group] = runs.P, runs.T
        out.loss[group] = np.where(cut, np.nan, runs.LAST)
        out.status[group], out.reason[group] = np.where(cut, K.CANCELLED, runs.STATUS), np.where(cut, 0, runs.EVENT[:, 0])
        if cancelled:
            break
    return out


SHUFFLE_BUDGET = 20_000_000  # row indices (8 bytes each) that the runs' batch permutations may hold at once


def _groups(starts: int, plan: RunPlan) -> list[slice]:
    """Runs on batches keep a permutation of every row each (for epochs without replacement): in groups
    of at most SHUFFLE_BUDGET / rows runs, a 100×100 basins grid over a million rows stays at 160 MB."""
    data, size = plan.objective.data, plan.run.batch_size
    rows = data.shape[1] if data is not None else 0
    batched = bool(size) and size < rows
    per_group = max(1, SHUFFLE_BUDGET // rows) if batched else starts
    return [slice(first, min(first + per_group, starts)) for first in range(0, starts, per_group)]
