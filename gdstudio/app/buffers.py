"""GUI-side copies of the runs' trajectories.

The worker never keeps history: each chunk's rows (fresh copies the worker no
longer touches) are appended here, in the GUI thread, to a core `Trajectory` —
the same storage and the same memory bound for very long runs as the CLI
(older rows thinned, recent ones exact) — so an export equals `gdstudio run
--out`. The core thins the whole array after every chunk past its row limit,
O(rows) per chunk; here thinning is incremental and batched (see
`LiveTrajectory`) so a frame never pays for the length of the run, and the
exact core rule is applied once when the run ends.

Plots do not re-read the whole buffer every frame: they remember the last step
they drew and ask for the rows after it (`after`).
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from typing import TYPE_CHECKING

import numpy as np

from ..core.trajectory import BATCH_LOSS, GRAD_NORM, LOSS, LR, PARAMS, ROW_LIMIT, Trajectory
from . import engine
from .background import lower_this_thread

if TYPE_CHECKING:
    from .stagger import Stagger

PREALLOCATED_FLOATS = 16_000_000  # reserved (not touched) up front, so growing never copies megabytes in the GUI thread
THIN_BATCH = 1 << 17  # rows past the row limit gathered before they are thinned together
THIN_SPACING_S = 0.025  # between two buffers' thinnings (about a frame): see _thinning_turn
AHEAD_BYTES = 1 << 20  # of each buffer's reserved memory, faulted in ahead of the rows written (see Prefault)

__all__ = ["BATCH_LOSS", "GRAD_NORM", "LOSS", "LR", "PARAMS", "LiveTrajectory", "RunBuffer"]

RUNNING_STATES = ("running", "waiting")


BLOCK = 4096


class Prefault:
    """A thread that faults in the reserved memory the GUI thread is about to write rows to (core/pages.py).

    The first write to a page of fresh memory costs a page fault: ~20 µs a page in a virtual machine, where twenty
    runs at full speed spent a third of the GUI thread's time (turns of 80-150 ms) copying rows into untouched pages.
    This thread pays that instead, and changes no byte, so it may race the writer. Until the engine has loaded, or
    should it fail to, the writer faults its pages itself, as before. A job holds its array weakly: memory a buffer
    dropped or outgrew (a Reset after twenty runs) is neither kept nor faulted in by jobs still waiting."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[weakref.ref[np.ndarray], int, int] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._failed = False

    def ask(self, array: np.ndarray, start: int, stop: int) -> None:
        """Fault in bytes [start, stop) of a contiguous array, in the thread (unless the array has gone by then)."""
        if self._failed or stop <= start:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gdstudio-prefault", daemon=True)
            self._thread.start()
        self._jobs.put((weakref.ref(array), start, stop))

    def _run(self) -> None:
        lower_this_thread()
        try:
            engine.load_kernel()  # (Numba; on a first start, after the kernel's compile in a child has made this too)
            from ..core.pages import compiled_fault_in, fault_in

            compiled_fault_in()
        except Exception:  # (the studio closing meanwhile) nothing is faulted in ahead
            self._failed = True
            return
        while (job := self._jobs.get()) is not None:
            array, start, stop = job[0](), job[1], job[2]
            if array is not None:
                fault_in(array, start, stop)
            del array  # (not kept while the thread waits for the next job)


PREFAULT = Prefault()


def _move_down(rows: np.ndarray, steps: np.ndarray, to: int, first: int, stop: int, every: int) -> int:
    """rows[first:stop:every] (and steps) copied to position `to` <= first, in small blocks: one big
    overlapping assignment would make numpy copy through a fresh temporary array, and touching
    fresh pages costs more than the copy itself. Returns the end of what was written."""
    if to == first and every == 1:
        return stop
    for start in range(first, stop, BLOCK * every):
        end = min(stop, start + BLOCK * every)
        n = (end - start + every - 1) // every
        rows[to : to + n] = rows[start:end:every]
        steps[to : to + n] = steps[start:end:every]
        to += n
    return to


_last_thinning = 0.0


def _thinning_turn() -> bool:
    """Whether a buffer may thin now: at most one per THIN_SPACING_S. Twenty runs at full speed reach their threshold
    in the same delivery, and twenty thinnings in one turn of the GUI thread were a 100-300 ms gap; deferred, a buffer
    grows into the batch of slack it keeps (reserve thins it when that is used up)."""
    global _last_thinning
    now = time.monotonic()
    if now - _last_thinning < THIN_SPACING_S:
        return False
    _last_thinning = now
    return True


_COUNTING = np.arange(1 << 16)


def _counting(n: int) -> np.ndarray:
    """0, 1, …, n - 1, from one array kept for it (grown when a longer one is asked for)."""
    global _COUNTING
    if n > len(_COUNTING):
        _COUNTING = np.arange(max(n, 2 * len(_COUNTING)))
    return _COUNTING[:n]


class LiveTrajectory(Trajectory):
    """A Trajectory that thins lazily and incrementally while it grows.

    Rows older than the recent window are only ever dropped (never added back) as a run goes
    on, and the stride of the kept ones only doubles, so thinning early never loses a row the
    final thinning keeps: the rows kept here are always a superset of the core's, and
    `settle()` makes them equal. Between doublings of the stride only the rows that just left
    the recent window are filtered (O(chunk + window) memmove instead of O(rows) fancy
    indexing), and that only once `THIN_BATCH` rows have gathered past the limit."""

    def __init__(self, variables: tuple[str, ...], capacity: int = 1024, limit: int = ROW_LIMIT,
                 window: int | None = None, batch: int = THIN_BATCH) -> None:
        if window is None:
            super().__init__(variables, capacity, limit)
        else:
            super().__init__(variables, capacity, limit, window)
        self.batch = max(1, min(batch, limit // 4 or 1))
        self._stride = 1  # rows before `_thinned_to` are all multiples of this stride
        self._thinned_to = 0
        self._faulted = 0  # rows of the reserved memory faulted in (or asked to be): see Prefault
        self.thin_on_commit = True  # (False: the owner thins it in a turn of its own, `thin_due` telling when)

    def reserve(self, n: int) -> np.ndarray:
        if self._count + n > len(self._rows) and self._next_step > self.limit:
            self._thin_some()
        needed = self._count + n
        if needed > len(self._rows):
            capacity = max(needed, min(2 * len(self._rows), self.limit + 2 * self.batch))
            rows, steps = np.empty((capacity, self._rows.shape[1])), np.empty(capacity, dtype=np.int64)
            rows[: self._count], steps[: self._count] = self._rows[: self._count], self._steps[: self._count]
            self._rows, self._steps, self._faulted = rows, steps, self._count
        return self._rows[self._count : needed]

    def commit(self, n: int) -> None:
        steps = self._steps[self._count : self._count + n]  # (in place: a fresh np.arange of a big chunk is fresh
        steps[:] = _counting(n)                             # memory, page faults and all, every time)
        steps += self._next_step
        self._count += n
        self._next_step += n
        if self.thin_on_commit and self.thin_due() and _thinning_turn():
            self._thin_some()
        self._fault_ahead()

    def thin_due(self) -> bool:
        """A batch of rows has gathered past the row limit (`reserve` thins anyway once the slack is used up)."""
        return self._next_step > self.limit and self._count > self.limit + self.batch

    def thin_now(self) -> None:
        if self.thin_due():
            self._thin_some()

    def _fault_ahead(self) -> None:
        """Once less than half of AHEAD_BYTES is faulted in past the rows written, ask for the next AHEAD_BYTES."""
        row_bytes = self._rows.strides[0]
        ahead = max(1, AHEAD_BYTES // row_bytes)
        if self._faulted - self._count >= ahead // 2 or self._faulted >= len(self._rows):
            return
        start, stop = max(self._faulted, self._count), min(len(self._rows), self._count + ahead)
        PREFAULT.ask(self._rows, start * row_bytes, stop * row_bytes)
        PREFAULT.ask(self._steps, start * self._steps.strides[0], stop * self._steps.strides[0])
        self._faulted = stop

    def _thin_some(self) -> None:
        """The core's rule (keep the recent window and the multiples of the stride), with slices only.

        Invariant: the rows before step `_thinned_to` are exactly the multiples of `_stride` there,
        and from `_thinned_to` on every step is present. So the old part keeps every
        (stride/_stride)-th row, the part that just left the window keeps the multiples of the
        stride (a strided slice too), and the window moves down: no fancy indexing, and only the
        old part is touched, and only when the stride doubles."""
        recent = self._next_step - self.window
        if recent <= self._thinned_to:
            return
        stride = self._stride
        while recent / stride > self.limit - self.window:
            stride *= 2
        rows, steps, count = self._rows, self._steps, self._count
        lo = int(np.searchsorted(steps[:count], self._thinned_to))
        hi = int(np.searchsorted(steps[:count], recent))
        k = lo
        if stride != self._stride:
            k = _move_down(rows, steps, 0, 0, lo, stride // self._stride)
        if hi > lo:
            k = _move_down(rows, steps, k, lo + int(-steps[lo] % stride), hi, stride)
        self._count = _move_down(rows, steps, k, hi, count, 1)  # the recent window moves down
        self._stride, self._thinned_to = stride, recent

    def settle(self) -> None:
        """The run ended: keep exactly the rows the core (and so the CLI) keeps."""
        if self._next_step > self.limit:
            self._thin_some()


class RunBuffer:
    """One run as the GUI knows it: its trajectory so far, status and reason. With `turns` (the session's stagger),
    its older rows are dropped in a turn of the event loop of their own, not in the one that appends the rows: a
    thinning moves the run's recent window down (~5 ms with twenty runs), and deliveries with twenty runs at full
    speed had a p90 of 6 ms instead of 2."""

    def __init__(self, label: str, variables: tuple[str, ...], limit: int = ROW_LIMIT, turns: Stagger | None = None) -> None:
        self.label = label
        self.variables = variables
        columns = PARAMS + len(variables)
        self.trajectory = LiveTrajectory(variables, capacity=min(limit + 2 * THIN_BATCH,
                                                                max(1024, PREALLOCATED_FLOATS // columns)), limit=limit)
        self.trajectory.thin_on_commit = turns is None
        self._turns = turns
        self._status = "waiting"
        self.reason = ""
        self.version = 0  # bumped on every change, so plots redraw only what moved
        self.layout = 0  # bumped when old rows were thinned (row positions changed)
        self.appended = 0  # rows ever appended (thinning never lowers it)

    @classmethod
    def whole(cls, label: str, variables: tuple[str, ...], trajectory: Trajectory, status: str, reason: str) -> RunBuffer:
        """A run computed in one go elsewhere (a live path: app/live.py), its trajectory taken as it is:
        nothing is preallocated or copied, and it never grows."""
        buffer = cls.__new__(cls)
        buffer.label, buffer.variables, buffer.trajectory = label, variables, trajectory
        buffer._status, buffer.reason = status, reason
        buffer.version, buffer.layout, buffer.appended = 1, 0, len(trajectory)
        return buffer

    def __len__(self) -> int:
        return len(self.trajectory)

    @property
    def status(self) -> str:
        return self._status

    @status.setter
    def status(self, status: str) -> None:
        if status not in RUNNING_STATES and self._status in RUNNING_STATES:
            kept = len(self.trajectory)
            self.trajectory.settle()
            if len(self.trajectory) != kept:
                self.layout += 1
                self.version += 1
        self._status = status

    def extend(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        kept = len(self.trajectory)
        self.trajectory.extend(rows)
        if len(self.trajectory) != kept + len(rows):
            self.layout += 1
        self.appended += len(rows)
        self.version += 1
        if self._turns is not None and self.trajectory.thin_due():
            buffer = weakref.ref(self)  # (weakly: a Reset drops its buffers, due or not)
            self._turns.later(("thin", id(self)), lambda: (kept := buffer()) is not None and kept.thin())

    def thin(self) -> None:
        """Drop older rows now, if a batch has gathered (row positions change: `layout`)."""
        kept = len(self.trajectory)
        self.trajectory.thin_now()
        if len(self.trajectory) != kept:
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

    def after(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps, rows) recorded after `step` (views, O(log n) to find): what a plot has not drawn yet."""
        steps = self.trajectory.steps
        first = int(np.searchsorted(steps, step, side="right"))
        return steps[first:], self.trajectory.rows[first:]

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

