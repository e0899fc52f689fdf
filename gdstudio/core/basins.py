"""Basins of attraction: which minimum each start of a grid over the view runs to.

One RunPlan, copied to every cell centre of a 1-D or 2-D grid and run at once (run_batch); each start
is labelled by the minimum it reached, DIVERGED, or UNRESOLVED.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .analysis import CriticalPoint, critical_points, stable_step, view_box
from .batch import BatchResult, ResultView, run_batch
from .expression import Objective
from .outcomes import DIVERGED_BASIN as DIVERGED, UNRESOLVED_BASIN as UNRESOLVED
from .plan import RunPlan


@dataclass(frozen=True)
class Basins(ResultView):
    """Which minimum each start of a grid over the view reached (final, status, steps: see ResultView)."""

    axes: tuple[str, ...]  # the one or two variables the grid spans
    coords: tuple[np.ndarray, ...]  # cell centres along each axis
    labels: np.ndarray  # (ny, nx) or (nx,): index into minima, DIVERGED or UNRESOLVED
    minima: list[CriticalPoint]
    result: BatchResult  # labels.shape: how each start's run ended

    def counts(self) -> dict[int, int]:
        values, counts = np.unique(self.labels, return_counts=True)
        return dict(zip(map(int, values), map(int, counts)))


def _label(final: np.ndarray, status: np.ndarray, minima: np.ndarray, width: np.ndarray, tol: float) -> np.ndarray:
    """Nearest minimum (max-norm in view units) within tol, for runs that did not blow up."""
    labels = np.full(len(final), UNRESOLVED, dtype=np.int64)
    if len(minima):
        with np.errstate(invalid="ignore"):
            dist = np.max(np.abs(final[:, None, :] - minima[None, :, :]) / width, axis=2)
        nearest = np.argmin(np.where(np.isfinite(dist), dist, np.inf), axis=1)
        close = np.take_along_axis(dist, nearest[:, None], axis=1)[:, 0] <= tol
        labels[close] = nearest[close]
    labels[status == K.DIVERGED] = DIVERGED
    labels[status == K.ERROR] = UNRESOLVED
    return labels


def _discovered(objective: Objective, final: np.ndarray, status: np.ndarray, labels: np.ndarray, width: np.ndarray,
                tol: float) -> list[CriticalPoint]:
    """Minima the runs converged to that the list missed (often just outside the view)."""
    found: list[CriticalPoint] = []
    for x in final[(labels == UNRESOLVED) & (status == K.CONVERGED)]:
        if any(np.max(np.abs(x - p.coords) / width) <= tol for p in found):
            continue
        diag = stable_step(objective, x)
        if np.isfinite(diag.lambda_min) and diag.lambda_min > 1e-9 * max(1.0, abs(diag.lambda_max)):
            found.append(CriticalPoint(dict(zip(objective.variables, map(float, x))), float(objective.loss(*x)), "minimum",
                                       diag.eigenvalues))
    return found



def basins(plan: RunPlan, view: Mapping[str, tuple[float, float]] | None, resolution: int | tuple[int, int],
           minima: Sequence[CriticalPoint] | None = None, *, axes: Sequence[str] | None = None,
           fixed: Mapping[str, float] | None = None, match_tol: float = 0.01, progress: Callable[[int, int], None] | None = None,
           cancel: Callable[[], bool] | None = None, chunk_steps: int | None = None) -> Basins:
    """Run the plan's run from the centre of every cell of a grid over the view (all at once) and label
    each start by the minimum it reached: within `match_tol` of the view's size, whether it met the
    tolerance or ran out of steps there. Without `minima`, they are `critical_points`' minima in the
    view, plus any other minimum the runs converged to.

    With more than two variables the grid spans `axes` (default the first two); the others start
    at `fixed` (default the middle of their range) and move freely. `progress`, `cancel` and
    `chunk_steps` go to `run_batch` (after a cancel, runs cut short are labelled by where they stand).
    """
    objective = plan.objective
    lo, hi = view_box(objective, view)
    width = hi - lo
    names = tuple(axes or objective.variables[:2])
    if not 1 <= len(names) <= 2 or any(n not in objective.variables for n in names) or len(set(names)) != len(names):
        raise ValueError(f"axes must be one or two of {', '.join(objective.variables)}")
    counts = (resolution,) * len(names) if isinstance(resolution, int) else tuple(resolution)
    if len(counts) != len(names) or any(c < 1 for c in counts):
        raise ValueError("resolution must be a positive count per axis")
    index = [objective.variables.index(n) for n in names]
    coords = tuple(lo[i] + (np.arange(c) + 0.5) * width[i] / c for i, c in zip(index, counts))
    base = np.array([(fixed or {}).get(n, (lo[i] + hi[i]) / 2) for i, n in enumerate(objective.variables)], dtype=np.float64)
    grids = np.meshgrid(*coords[::-1], indexing="ij")[::-1]  # rows follow the second axis (y), columns the first (x)
    shape = grids[0].shape
    starts = np.tile(base, (grids[0].size, 1))
    for i, grid in zip(index, grids):
        starts[:, i] = grid.reshape(-1)
    out = run_batch(plan, starts, chunk_steps=chunk_steps, progress=progress, cancel=cancel)
    known = list(minima) if minima is not None else [p for p in critical_points(objective, view) if p.kind == "minimum"]

    def centres() -> np.ndarray:
        return np.array([[p.point[n] for n in objective.variables] for p in known], dtype=np.float64).reshape(-1, objective.dimension)

    labels = _label(out.final, out.status, centres(), width, match_tol)
    if minima is None:
        extra = _discovered(objective, out.final, out.status, labels, width, match_tol)
        if extra:
            known += extra
            labels = _label(out.final, out.status, centres(), width, match_tol)
    return Basins(names, coords, labels.reshape(shape), known, out.reshaped(shape))
