"""GUI-side copies of the runs' trajectories.

The worker's runner owns its arrays and may reallocate them at any time, so the
GUI thread never reads them: each chunk's rows (fresh arrays the worker no
longer touches) are appended here, in the GUI thread, into preallocated
storage that doubles as it grows. Plots read views of these buffers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

LOSS, GRAD_NORM, LR, PARAMS = 0, 1, 2, 3


class RunBuffer:
    """Growing rows (loss, grad_norm, lr, params...) of one run, plus its outcome."""

    def __init__(self, label: str, variables: tuple[str, ...], capacity: int = 1024) -> None:
        self.label = label
        self.variables = variables
        self._rows = np.empty((capacity, PARAMS + len(variables)))
        self._steps = np.arange(capacity, dtype=np.float64)
        self._count = 0
        self.status = "waiting"
        self.reason = ""
        self.version = 0  # bumped on every change, so plots redraw only what moved

    def __len__(self) -> int:
        return self._count

    def extend(self, rows: np.ndarray) -> None:
        needed = self._count + len(rows)
        if needed > len(self._rows):
            size = max(needed, 2 * len(self._rows))
            grown = np.empty((size, self._rows.shape[1]))
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
            self._steps = np.arange(size, dtype=np.float64)
        self._rows[self._count : needed] = rows
        self._count = needed
        self.version += 1

    @property
    def rows(self) -> np.ndarray:
        return self._rows[: self._count]

    @property
    def steps(self) -> np.ndarray:
        return self._steps[: self._count]

    @property
    def loss(self) -> np.ndarray:
        return self.rows[:, LOSS]

    @property
    def grad_norm(self) -> np.ndarray:
        return self.rows[:, GRAD_NORM]

    @property
    def lr(self) -> np.ndarray:
        return self.rows[:, LR]

    @property
    def params(self) -> np.ndarray:
        return self.rows[:, PARAMS:]

    def last(self) -> np.ndarray | None:
        return self._rows[self._count - 1] if self._count else None

    # `trajectories_csv` reads run.trajectory.rows, run.label and run.objective.variables
    @property
    def trajectory(self) -> RunBuffer:
        return self

    @property
    def objective(self) -> _Variables:
        return _Variables(self.variables)


@dataclass(frozen=True)
class _Variables:
    variables: tuple[str, ...] = field(default=())
