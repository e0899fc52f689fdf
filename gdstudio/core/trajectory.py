"""A run's recorded steps in growing, preallocated storage.

Row k holds the state after `steps[k]` updates: loss (over the full data set),
gradient norm, the learning rate of the next update, the batch loss (the loss on
the rows the next update draws; the loss itself for full-batch runs, losses
without data and a run's last row), and the parameters. The column constants
below are the one place that layout is written down. Capacity doubles, so appending a
chunk costs amortised O(chunk) and readers get views without copies.

Past `limit` steps the older part is thinned so a run of ten million steps keeps
bounded memory: the most recent `window` rows (and so the exact final values)
stay, and of the older ones only steps that are multiples of a power-of-two
stride. Which steps are kept depends on the step count alone, never on how the
run was chunked, so the studio and the command line keep the same rows.
"""

from __future__ import annotations

import numpy as np

LOSS, GRAD_NORM, LR, BATCH_LOSS, PARAMS = 0, 1, 2, 3, 4  # PARAMS: the first of the d parameter columns
ROW_LIMIT = 2_000_000
RECENT_WINDOW = 200_000
ROW_BUDGET = 8_000_000  # rows kept over all the runs of a scenario: 20 long runs stay near 400 MB, not 2 GB


def row_limit(runs: int) -> int:
    """Rows each of `runs` runs keeps before thinning: ROW_LIMIT, or a share of ROW_BUDGET when many
    runs go at once. The command line and the studio use the same, so they keep the same rows."""
    return max(20_000, min(ROW_LIMIT, ROW_BUDGET // max(runs, 1)))


class Trajectory:
    def __init__(self, variables: tuple[str, ...], capacity: int = 1024, limit: int = ROW_LIMIT,
                 window: int = RECENT_WINDOW) -> None:
        self.variables = variables
        self._rows = np.empty((capacity, PARAMS + len(variables)))
        self._steps = np.empty(capacity, dtype=np.int64)
        self._count = 0
        self._next_step = 0
        self.limit, self.window = limit, min(window, limit // 2)

    def __len__(self) -> int:
        return self._count

    @property
    def thinned(self) -> bool:
        """True once older rows have been dropped to bound memory."""
        return self._count < self._next_step

    def reserve(self, n: int) -> np.ndarray:
        """Room for n more rows, as a writable view the run kernel fills in place; `commit` counts them."""
        needed = self._count + n
        if needed > len(self._rows):
            capacity = max(needed, min(2 * len(self._rows), self.limit))
            rows, steps = np.empty((capacity, self._rows.shape[1])), np.empty(capacity, dtype=np.int64)
            rows[: self._count], steps[: self._count] = self._rows[: self._count], self._steps[: self._count]
            self._rows, self._steps = rows, steps
        return self._rows[self._count : needed]

    def commit(self, n: int) -> None:
        self._steps[self._count : self._count + n] = np.arange(self._next_step, self._next_step + n)
        self._count += n
        self._next_step += n
        if self._next_step > self.limit:
            self._thin()

    def extend(self, rows: np.ndarray) -> None:
        self.reserve(len(rows))[:] = rows
        self.commit(len(rows))

    def _thin(self) -> None:
        recent = self._next_step - self.window
        stride = 1
        while recent / stride > self.limit - self.window:
            stride *= 2
        steps = self._steps[: self._count]
        keep = np.flatnonzero((steps >= recent) | (steps % stride == 0))
        if len(keep) < self._count:
            self._rows[: len(keep)] = self._rows[keep]
            self._steps[: len(keep)] = self._steps[keep]
            self._count = len(keep)

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
    def batch_loss(self) -> np.ndarray:
        return self.rows[:, BATCH_LOSS]

    @property
    def params(self) -> np.ndarray:
        return self.rows[:, PARAMS:]

    def final(self) -> dict[str, float]:
        return dict(zip(self.variables, map(float, self.rows[-1, PARAMS:]))) if self._count else {}
