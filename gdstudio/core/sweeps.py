"""Learning-rate sweeps: one run over a range of rates (the 1-D "too small / just right / too large"
curve) or over rates × a second hyper-parameter (the 2-D heatmap).

Every cell is a copy of one RunPlan with its rate (and value) overridden, advanced together in compiled
code by `run_batch`; only the 2-D sweep loops in Python, once per group of rows. This module is also
the one import for the other many-run tools (basins, race, random restarts), which live beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import kernel as K
from .basins import DIVERGED, UNRESOLVED, Basins, basins
from .batch import BatchResult, ResultView, run_batch
from .plan import RunPlan, Start, start_vector
from .race import RaceEntry, race
from .restarts import Restarts, random_restarts

__all__ = ["DIVERGED", "UNRESOLVED", "Basins", "BatchResult", "RaceEntry", "Restarts", "Sweep2D", "SweepResult", "basins",
           "log_rates", "lr_sweep", "race", "random_restarts", "start_vector", "sweep_2d", "sweep_chunk"]


def log_rates(low: float, high: float, count: int) -> np.ndarray:
    """Learning rates evenly spaced on a log axis, the natural axis for step sizes."""
    if not 0 < low < high or count < 2:
        raise ValueError("need 0 < low < high and at least 2 rates")
    return np.geomspace(low, high, count)


def sweep_chunk(cells: int) -> int:
    """Steps per kernel call for a grid of `cells` runs: about two million run-steps, a few hundredths of
    a second, so a cancel (or closing the window) is obeyed at once even for a million-step sweep."""
    return max(10, 2_000_000 // max(cells, 1))


def _rates(lrs: Sequence[float] | np.ndarray) -> np.ndarray:
    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    if not len(lrs) or not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError("learning rates must be positive finite numbers")
    return lrs


@dataclass(frozen=True)
class SweepResult(ResultView):
    """One run per learning rate from the same start (final_loss, steps, status, final: see ResultView)."""

    lrs: np.ndarray  # (L,)
    result: BatchResult  # (L,): how each rate's run ended; nan loss and CANCELLED where a cancel cut it short

    def best(self) -> int | None:
        """Index of the rate that converged fastest, else of the lowest finite final loss."""
        converged = np.flatnonzero(self.status == K.CONVERGED)
        if len(converged):
            return int(converged[np.lexsort((self.final_loss[converged], self.steps[converged]))[0]])
        finite = np.flatnonzero(np.isfinite(self.final_loss) & (self.status != K.DIVERGED))
        return int(finite[np.argmin(self.final_loss[finite])]) if len(finite) else None


def lr_sweep(plan: RunPlan, start: Start, lrs: Sequence[float] | np.ndarray, *, cancel: Callable[[], bool] | None = None,
             chunk_steps: int | None = None, progress: Callable[[int, int], None] | None = None) -> SweepResult:
    """The plan's run once per learning rate, from `start` (one batched call). `progress(steps,
    max_steps + 1)` and `cancel()` come every `chunk_steps` steps."""
    lrs = _rates(lrs)
    starts = np.tile(start_vector(plan.objective, start), (len(lrs), 1))
    return SweepResult(lrs, run_batch(plan, starts, lr=lrs, chunk_steps=chunk_steps, progress=progress, cancel=cancel))


def _check_sweepable(plan: RunPlan, name: str) -> None:
    """Any hyper-parameter but lr (the other axis) can be the second; "beta1" / "beta2" for the halves of betas."""
    params = {p.name for p in plan.optimizer.params}
    sweepable = params - {"lr", "betas"} | ({"beta1", "beta2"} if "betas" in params else set())
    if name not in sweepable:
        raise ValueError(f"{name}: not a hyper-parameter {plan.optimizer.name} can sweep (known: {', '.join(sorted(sweepable))})")


@dataclass(frozen=True)
class Sweep2D(ResultView):
    """Final loss, steps and status over learning rate (columns) × a second hyper-parameter (rows)."""

    plan: RunPlan = field(repr=False)  # the run the grid varies
    lrs: np.ndarray  # (L,)
    param_name: str
    param_values: np.ndarray  # (P,)
    result: BatchResult  # (P, L); nan loss and CANCELLED in cells a cancel cut short or skipped

    @property
    def optimizer(self) -> str:
        return self.plan.optimizer.name

    @property
    def hyper(self) -> dict[str, object]:
        """The base settings the grid varies."""
        return self.plan.hyper

    def hyper_at(self, row: int, column: int) -> dict[str, object]:
        """Complete settings of one cell, to create that run (a click on the heatmap)."""
        value = self.param_values[row]
        value = bool(value) if self.param_values.dtype == bool else float(value)
        return self.plan.with_value(self.param_name, value) | {"lr": float(self.lrs[column])}


def sweep_2d(plan: RunPlan, start: Start, lrs: Sequence[float] | np.ndarray, param_name: str,
             param_values: Sequence[float] | np.ndarray, *, progress: Callable[[int, int], None] | None = None,
             cancel: Callable[[], bool] | None = None, rows_per_call: int = 1, chunk_steps: int | None = None) -> Sweep2D:
    """Batched calls over rows of `param_name` values (momentum, beta1, rho, ...), vectorised over the rates;
    `rows_per_call` rows share one call, which is much faster for big grids, and each call advances
    `chunk_steps` steps at a time (all of them by default).

    Progress is in row-steps: `progress(done, rows * (max_steps + 1))`, after every chunk. `cancel()` is
    checked before every chunk; a cancelled sweep keeps the cells that finished. Every cell is the same
    run whatever the grouping and chunking.
    """
    lrs = _rates(lrs)
    values = np.asarray(param_values)
    _check_sweepable(plan, param_name)
    for value in values:  # every value checked before anything runs
        plan.with_value(param_name, value.item())
    x0 = start_vector(plan.objective, start)
    P, L, T = len(values), len(lrs), plan.stop.max_steps + 1
    per_call = max(1, int(rows_per_call))
    parts: list[BatchResult] = []
    told = 0

    def tell(done: int) -> None:  # (run_batch's last report and the row's end can be the same number)
        nonlocal told
        if progress is not None and done != told:
            told = done
            progress(done, P * T)

    for first in range(0, P, per_call):
        n = min(per_call, P - first)
        starts = np.tile(x0, (n * L, 1))
        if parts and parts[-1].cancelled:
            parts.append(BatchResult.not_begun(starts))
            continue
        report = None if progress is None else (lambda done, total, first=first, n=n: tell(first * T + n * T * done // total))
        parts.append(run_batch(plan, starts, lr=np.tile(lrs, n), columns={param_name: np.repeat(values[first:first + n], L)},
                               chunk_steps=chunk_steps, progress=report, cancel=cancel))
        if not parts[-1].cancelled:
            tell((first + n) * T)
    return Sweep2D(plan, lrs, param_name, values, BatchResult.joined(parts).reshaped((P, L)))


def sweep_seconds(rates: int, steps: int, rows: int, dimension: int, hessian: bool) -> float:
    """A rough estimate of a sweep's time, from rates measured on a two-core machine in 2026: about 5M small
    run-steps a second; every step evaluates the loss over every data row (the loss it records is over all
    of them, ~1e8 row evaluations a second); Newton also works out a d × d Hessian and factors it."""
    per_row = 1e-8 * (1 + (dimension * dimension / 10 if hessian else 0))
    return rates * steps * (2e-7 + rows * per_row + (1.5e-10 * dimension**3 if hessian else 0))
