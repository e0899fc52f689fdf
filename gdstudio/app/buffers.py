"""GUI-side copies of the runs' trajectories.

The worker's runner owns its arrays and may reallocate them at any time, so the
GUI thread never reads them: each chunk's rows (fresh copies the worker no
longer touches) are appended here, in the GUI thread, to a core `Trajectory` —
the same storage the CLI uses, with the same memory bound for very long runs
(older rows thinned, recent ones exact). Plots read views of it.
"""

from __future__ import annotations

import numpy as np

from ..core.trajectory import GRAD_NORM, LOSS, LR, PARAMS, ROW_LIMIT, Trajectory

PREALLOCATED_FLOATS = 16_000_000  # reserved (not touched) up front, so growing never copies megabytes in the GUI thread

__all__ = ["GRAD_NORM", "LOSS", "LR", "PARAMS", "RunBuffer"]


class RunBuffer:
    """One run as the GUI knows it: its trajectory so far, status and reason."""

    def __init__(self, label: str, variables: tuple[str, ...]) -> None:
        self.label = label
        self.variables = variables
        columns = PARAMS + len(variables)
        self.trajectory = Trajectory(variables, capacity=min(ROW_LIMIT, max(1024, PREALLOCATED_FLOATS // columns)))
        self.status = "waiting"
        self.reason = ""
        self.version = 0  # bumped on every change, so plots redraw only what moved
        self.layout = 0  # bumped when old rows were thinned (row positions changed)

    def __len__(self) -> int:
        return len(self.trajectory)

    def extend(self, rows: np.ndarray) -> None:
        kept = len(self.trajectory)
        self.trajectory.extend(rows)
        if len(self.trajectory) != kept + len(rows):
            self.layout += 1
        self.version += 1

    @property
    def steps_done(self) -> int:
        """Updates made so far (the step of the last row)."""
        return int(self.trajectory.steps[-1]) if len(self.trajectory) else 0

    @property
    def rows(self) -> np.ndarray:
        return self.trajectory.rows

    @property
    def steps(self) -> np.ndarray:
        return self.trajectory.steps

    @property
    def loss(self) -> np.ndarray:
        return self.trajectory.loss

    def last(self) -> np.ndarray | None:
        return self.trajectory.rows[-1] if len(self.trajectory) else None

    def row_at(self, step: int) -> np.ndarray | None:
        """The row recorded at `step`, or the nearest kept one."""
        steps = self.trajectory.steps
        if not len(steps) or step < 0 or step > steps[-1]:
            return None
        return self.trajectory.rows[min(int(np.searchsorted(steps, step)), len(steps) - 1)]

    @property
    def objective(self) -> _Variables:  # `trajectories_csv` reads run.objective.variables
        return _Variables(self.variables)


class _Variables:
    def __init__(self, variables: tuple[str, ...]) -> None:
        self.variables = variables
