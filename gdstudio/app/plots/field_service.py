"""The landscape's background, computed off the GUI thread: a quick preview first, then the full picture.

Evaluating a loss over a data set at every grid point can take seconds (a logistic regression over
20,000 rows at 180×180 points is 650 million row evaluations), so it never runs on the GUI thread.
Each request is answered by `ready` once or twice: a preview (a coarse grid, over a sample of the
rows when there are many) and then the full field. A newer request cancels the older one between
strips of the grid, so dragging a slice or typing a loss never queues stale work.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from .. import foreground
from ..background import give_way, helper_thread
from ..stagger import Stagger
from .contours import GRID, Cancelled, Field, compute_field, curve, gradient_arrows

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective

PREVIEW_GRID = 48
# rows a preview averages over (every k-th row of a bigger data set): fewer than the full picture's sample of a costly
# loss (FULL_BUDGET // GRID**2, ~6,000), since a preview's point is to come at once: 48x48 over a million-row logistic
# regression's 5,000 is ~60 ms alone (10,000 took 0.3-0.65 s beside the rest of a file's opening)
PREVIEW_ROWS = 5_000
PREVIEW_FROM = 4_000_000  # grid points × rows beyond which a preview is drawn first
FULL_BUDGET = 200_000_000  # grid points × rows of the full picture (about 2 s of NumPy here): beyond, a sample of the rows


@dataclass(frozen=True)
class FieldRequest:
    """What to draw: the loss over one axis (a curve) or two (a field), the other variables held at `fixed`."""

    objective: Objective
    axes: tuple[str, ...]
    ranges: tuple[tuple[float, float], ...]
    fixed: dict[str, float] = field(default_factory=dict)
    arrows: bool = False  # gradient arrows instead of the field


@dataclass(frozen=True)
class FieldResult:
    request: FieldRequest
    preview: bool  # a coarse first picture; the full one follows
    field: Field | None = None  # two axes
    curve: tuple[np.ndarray, np.ndarray] | None = None  # one axis
    arrows: tuple[np.ndarray, np.ndarray] | None = None
    sampled_rows: int = 0  # rows the picture averaged over (0: all of them)
    error: str = ""

    def rows_note(self) -> str:
        """' over k of the n rows' when the picture is over a sample of them, else ''."""
        if not self.sampled_rows:
            return ""
        return f" over {self.sampled_rows:,} of the {self.request.objective.data.shape[1]:,} rows"


def sampled(objective: Objective, rows: int) -> Objective:
    """The objective over every k-th row (about `rows` of them): a preview of a loss over many rows."""
    if objective.data is None or objective.data.shape[1] <= rows:
        return objective
    step = -(-objective.data.shape[1] // rows)
    return objective.bind(objective.data[:, ::step])


def bounded(objective: Objective, rows: int) -> Objective:
    """The objective, or the same over a sample of about `rows` rows when each evaluation would read more (a loss
    polynomial in its parameters reads none): what tools that evaluate it many times, and cannot stop midway, see."""
    return sampled(objective, rows) if objective.rows_per_point() > rows else objective


def _points(request: FieldRequest, grid: int) -> int:
    return grid ** len(request.axes) if len(request.axes) == 2 else grid * 4 + 80


def _cost(request: FieldRequest, grid: int) -> int:
    """Row evaluations of the picture (a loss that is polynomial in its parameters reads no rows per point)."""
    return _points(request, grid) * max(request.objective.rows_per_point(), 1)


def compute(request: FieldRequest, cancelled: Callable[[], bool], preview: bool) -> FieldResult:
    """One answer to a request (raises Cancelled)."""
    objective, grid = request.objective, GRID
    if preview:
        objective, grid = sampled(objective, PREVIEW_ROWS), PREVIEW_GRID
    elif _cost(request, GRID) > FULL_BUDGET:  # a logistic loss over 1,000,000 rows: minutes in full; a sample is the same picture
        objective = sampled(objective, FULL_BUDGET // _points(request, GRID))
    shown = objective.data.shape[1] if objective is not request.objective and objective.data is not None else 0
    axes, ranges = request.axes, request.ranges
    with np.errstate(all="ignore"):
        if request.arrows:
            return FieldResult(request, preview, arrows=gradient_arrows(objective, *axes, *ranges, request.fixed,
                                                                          cancelled=cancelled))
        if len(axes) == 1:
            return FieldResult(request, preview, curve=curve(objective, ranges[0], points=grid * 4 + 80, cancelled=cancelled),
                               sampled_rows=shown)
        return FieldResult(request, preview, field=compute_field(objective, *axes, *ranges, request.fixed, grid, cancelled),
                           sampled_rows=shown)


class FieldService(QObject):
    """One background thread that answers the latest request; older ones are dropped or cancelled."""

    ready = Signal(object)  # FieldResult, delivered on the GUI thread, in a turn of its own (stagger.py)
    _arrived = Signal(object)  # (from the thread)

    def __init__(self, parent: QObject | None = None, name: str = "field") -> None:
        super().__init__(parent)
        Stagger(self).follow(self._arrived, self.ready.emit)  # (a pass of its own, not another turn's: stagger.py)
        self._pool = helper_thread(name)
        self._lock = threading.Lock()
        self._token = 0

    def request(self, request: FieldRequest) -> None:
        """Answered by `ready` (a preview, then the full result, or one result with an error), unless a newer
        request comes first."""
        with self._lock:
            self._token += 1
            token = self._token
        foreground.track(self._pool.submit(self._work, request, token))  # (typesetting waits for it: foreground.py)

    def cancel(self) -> None:
        with self._lock:
            self._token += 1

    def shutdown(self) -> None:
        """Cancel what runs and join the thread (idempotent)."""
        self.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _current(self, token: int) -> bool:
        return token == self._token

    def _work(self, request: FieldRequest, token: int) -> None:
        def cancelled() -> bool:  # (asked between strips of the grid: the GUI thread's turns go first, background.py)
            give_way()
            return not self._current(token)

        try:
            if cancelled():  # (overtaken while it waited its turn)
                return
            if _cost(request, GRID) > PREVIEW_FROM and not request.arrows:
                self._emit(compute(request, cancelled, preview=True), token)
            self._emit(compute(request, cancelled, preview=False), token)
        except Cancelled:
            pass
        except Exception as error:  # a loss NumPy cannot evaluate here: said on the plot, never a dead thread
            self._emit(FieldResult(request, False, error=f"{type(error).__name__}: {error}"), token)

    def _emit(self, result: FieldResult, token: int) -> None:
        if self._current(token):
            self._arrived.emit(result)
