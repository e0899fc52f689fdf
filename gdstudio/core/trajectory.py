"""A run's recorded steps in growing, preallocated storage.

Row k holds the state after k updates: loss, gradient norm, the learning rate
of the next update, and the parameters. Capacity doubles, so appending a chunk
costs amortised O(chunk) and readers get views without copies.
"""

from __future__ import annotations

import numpy as np

LOSS, GRAD_NORM, LR, PARAMS = 0, 1, 2, 3


class Trajectory:
    def __init__(self, variables: tuple[str, ...], capacity: int = 1024) -> None:
        self.variables = variables
        self._rows = np.empty((capacity, PARAMS + len(variables)))
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def reserve(self, n: int) -> np.ndarray:
        """Room for n more rows, as a writable view the run kernel fills in place; `commit` counts them."""
        needed = self._count + n
        if needed > len(self._rows):
            grown = np.empty((max(needed, 2 * len(self._rows)), self._rows.shape[1]))
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
        return self._rows[self._count : needed]

    def commit(self, n: int) -> None:
        self._count += n

    def extend(self, rows: np.ndarray) -> None:
        self.reserve(len(rows))[:] = rows
        self.commit(len(rows))

    @property
    def rows(self) -> np.ndarray:
        return self._rows[: self._count]

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self._count)

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

    def final(self) -> dict[str, float]:
        return dict(zip(self.variables, map(float, self.rows[-1, PARAMS:]))) if self._count else {}
