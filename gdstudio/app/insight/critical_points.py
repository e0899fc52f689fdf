"""Critical points on the landscape: ★ minimum, ▲ maximum, ✕ saddle, ◆ degenerate, each with a
tooltip of its place, loss and Hessian eigenvalues (typeset once drawn: point_math). Computed off the GUI
thread when the loss or view changes while the overlay is on."""

from __future__ import annotations

from concurrent import futures
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from ..helper import HELPER, HelperClosed, HelperFailed, answer, loss_of
from ..plots.field_service import bounded
from ..plots.style import Markers, marker_brush
from .common import KIND_GLYPH, KIND_STYLE, count_of, fmt
from .point_math import TypesetTips, tooltip
from .tasks import Task, TaskRunner

if TYPE_CHECKING:
    from ...core.analysis import CriticalPoint
    from ...core.expression import Objective
    from ..plots.landscape import Landscape
    from ..session import StudioSession


FADED = 70 / 255  # the opacity of a point off the slice drawn


SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
# Rows the search reads of a costly loss (every k-th of more): it cannot stop midway, and over a logistic
# regression of 1,000,000 rows it ran for minutes (closing the studio waited for it)
ROWS = 50_000
POLL_S = 0.05  # how often a search waiting for the helper looks whether it was cancelled


def describe(point: CriticalPoint) -> str:
    where = ", ".join(f"{k}={fmt(v)}" for k, v in point.point.items())
    eig = ", ".join(f"λ{str(i).translate(SUBSCRIPTS)} = {fmt(v)}" for i, v in enumerate(point.eigenvalues, start=1))
    return f"{KIND_GLYPH[point.kind]} {point.kind} at ({where})\nloss {fmt(point.loss)}\nHessian eigenvalues: {eig}"


def find(objective: Objective, view: dict[str, tuple[float, float]], task: Task) -> list[CriticalPoint]:
    """(a task's thread) The critical points, found by the helper process (app/helper.py): SymPy's solving and the
    Newton search hold the interpreter for tens of milliseconds to seconds, which the GUI thread shared. Found here
    should the helper fail; none when the task is cancelled first (its result is dropped anyway)."""
    asked = HELPER.call("critical", *loss_of(objective), objective.data, dict(view))
    try:
        while not futures.wait([asked], timeout=POLL_S).done:
            if task.cancelled:
                HELPER.abandon(asked)
        return answer(asked)
    except HelperClosed:
        return []
    except HelperFailed:
        from ...core.analysis import critical_points  # (loaded with the objective)

        return critical_points(objective, view)


class CriticalPointsOverlay:
    def __init__(self, session: StudioSession, landscape: Landscape, tasks: TaskRunner, status) -> None:
        self.session, self.landscape, self.tasks, self.status = session, landscape, tasks, status
        self.enabled = False
        self.points: list[CriticalPoint] = []
        self.loss: Objective | None = None  # the loss the points are of
        self.items: dict[str, Markers] = {}
        landscape = landscape
        for kind, (symbol, color, size) in KIND_STYLE.items():
            item = Markers(symbol=symbol, size=size, brush=pg.mkBrush(color), pen=pg.mkPen("k", width=1.2),
                           hoverable=True, tip=lambda x, y, data: data, name=kind)
            landscape.add_overlay(item, 22)
            item.setVisible(False)
            self.items[kind] = item
        self._key = None
        self._slice: dict[str, float] = {}  # the slice the markers were drawn for
        self.typeset = TypesetTips(self.draw, landscape.plot)  # (the tooltips again, typeset, once drawn)
        landscape.fields.ready.connect(lambda _result: self.refresh())  # (its frame may have moved: searched again)

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        for item in self.items.values():
            item.setVisible(on)
        if on:
            self.refresh(force=True)
        else:
            self.tasks.cancel("critical")
            self.typeset.stop()

    def refresh(self, force: bool = False) -> None:
        """Recompute when the loss or view changed (only while shown)."""
        if not self.enabled:
            return
        problem = self.session.problem()  # (the loss drawn: a typed one before the document keeps it)
        objective = problem.objective if problem is not None else None
        if objective is None:
            self.loss, self.points = None, []
            self.typeset.draw([], 1.0)
            self.draw()
            return
        view = self._view(objective)
        key = (id(objective), objective.text, objective.variables, tuple(sorted(view.items())))  # (id: scaled or not)
        if key == self._key and not force:
            if not self.tasks.busy("critical"):
                self.draw()
            return
        self._key = key
        self.status("finding critical points…")
        self.tasks.start("critical", lambda task: (objective, find(bounded(objective, ROWS), view, task)), self._done,
                         lambda error: self.status(f"critical points: {error}"), first=True)

    def _view(self, objective: Objective) -> dict[str, tuple[float, float]]:
        """Where to search: what the landscape draws of this loss (a preset is framed on its known minima, wider than
        the scenario's view, and a frame grows as paths leave it), else the scenario's view."""
        view = self.session.view(objective)
        if self.landscape.objective is objective:
            view.update({v: tuple(map(float, self.landscape.range_of(v))) for v in view})
        return view

    def _done(self, result: tuple[Objective, list[CriticalPoint]]) -> None:
        self.loss, points = result
        self.points = points
        counts = {k: sum(p.kind == k for p in points) for k in KIND_STYLE}
        self.status("critical points: " + ", ".join(f"{count_of(n, k)} {KIND_GLYPH[k]}"
                                                     for k, n in counts.items() if n) if points else "no critical points in the view")
        self.typeset.draw(points, self.landscape.plot.devicePixelRatioF())
        self.draw()

    def follow_slice(self) -> None:
        """Redraw when the slice through the other variables moved (it follows the selected run)."""
        if self.enabled and self.points and self.landscape.slice_point() != self._slice:
            self.draw()

    def draw(self) -> None:
        axes = self.session.axes
        self._slice = self.landscape.slice_point()
        for kind, item in self.items.items():
            chosen = [p for p in self.points if p.kind == kind and all(a in p.point for a in axes)] if axes else []
            if not chosen:
                item.setData(pos=np.empty((0, 2)))
                continue
            xs = [p.point[axes[0]] for p in chosen]
            ys = [p.loss if len(axes) == 1 else p.point[axes[1]] for p in chosen]
            off = [self._off_slice(p, axes) for p in chosen]
            color = KIND_STYLE[kind][1]
            item.setData(x=xs, y=ys, data=[self._tip(p, o) for p, o in zip(chosen, off)],
                         brush=[marker_brush(color, FADED if o else 1.0) for o in off])

    def _tip(self, point: CriticalPoint, off: str) -> str:
        """Typeset once its pictures are drawn; its text until then."""
        note = f"off this slice ({off})" if off else ""
        pictures = self.typeset.pictures.get(id(point))
        if pictures:
            return tooltip(point, pictures, self.typeset.scale, note)
        return describe(point) + (f" — {note}" if note else "")

    def _off_slice(self, point: CriticalPoint, axes: tuple[str, ...]) -> str:
        """With more variables than axes, how a point lies off the slice drawn ('' when on it): such
        points are drawn faded, so a saddle at z = 0 does not pass for the minimum of the slice z = −0.7."""
        held, far = self._slice, []
        for name, value in point.point.items():
            if name in axes or name not in held:
                continue
            low, high = self.session.scenario.range_of(name)
            if abs(value - held[name]) > 0.01 * (high - low):
                far.append(f"{name} = {fmt(value)}, the slice is at {fmt(held[name])}")
        return "; ".join(far)

    def count(self, kind: str) -> int:
        """Markers drawn for one kind (tests)."""
        return len(self.items[kind].data) if self.items[kind].isVisible() else 0
