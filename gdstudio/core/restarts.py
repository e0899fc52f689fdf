"""Random restarts: one run from many seeded random starts inside the view, to see where it can end."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from . import kernel as K
from .analysis import view_box
from .batch import BatchResult, ResultView, run_batch
from .plan import RunPlan


@dataclass(frozen=True)
class Restarts(ResultView):
    """Where each start went (final, loss, steps, status: see ResultView)."""

    starts: np.ndarray  # (n, d) seeded uniform draws inside the view
    result: BatchResult  # (n,)

    def best(self) -> int | None:
        """Index of the restart with the lowest final loss (diverged and cancelled runs excluded)."""
        ok = np.flatnonzero((self.status != K.DIVERGED) & np.isfinite(self.loss))
        return int(ok[np.argmin(self.loss[ok])]) if len(ok) else None


def random_restarts(plan: RunPlan, view: Mapping[str, tuple[float, float]] | None, n: int, seed: int | None = None, *,
                    progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
                    chunk_steps: int | None = None) -> Restarts:
    """The plan's run from `n` starts drawn uniformly in the view from `seed` (default the run's own
    seed; the same seed, the same starts), all at once."""
    if n < 1:
        raise ValueError("need at least one restart")
    lo, hi = view_box(plan.objective, view)
    rng = np.random.default_rng(plan.run.seed if seed is None else seed)
    starts = rng.uniform(lo, hi, size=(n, plan.objective.dimension))
    return Restarts(starts, run_batch(plan, starts, chunk_steps=chunk_steps, progress=progress, cancel=cancel))
