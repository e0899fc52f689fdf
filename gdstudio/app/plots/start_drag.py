"""Grab a run's start on the landscape and drag it.

A press on a run's start marker (within GRAB_PIXELS of it), or anywhere with Shift for the selected
run, takes the start along with the mouse over the contour view, the N-D slice (the two plotted
variables move, the others keep their start) or the 1-D curve (the variable moves, the marker rides
the curve). A ring in the run's colour follows the mouse at once; `moved` asks for the paths
(app/live.py computes them off the GUI thread) and `released` hands over the start to keep. The press,
moves and release of a drag are taken from pyqtgraph (they would pan the view, or set the start
with a click); everything else goes on to it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent

from ..document import run_color
from .style import Markers, marker_pen

if TYPE_CHECKING:
    from .landscape import Landscape

GRAB_PIXELS = 10.0


class StartDrag(QObject):
    moved = Signal(int, dict)  # run index, {plotted variable: value}
    released = Signal(int, dict)

    def __init__(self, landscape: Landscape) -> None:
        super().__init__(landscape)
        self.landscape = landscape
        self.index = -1  # the run whose start is held
        self.values: dict[str, float] = {}
        self.ghost = Markers(symbol="o", size=16, brush=pg.mkBrush(None))
        self.ghost.setZValue(30)
        self.ghost.setVisible(False)
        landscape.item.addItem(self.ghost)
        landscape.plot.viewport().installEventFilter(self)

    @property
    def active(self) -> bool:
        return self.index >= 0

    def starts(self) -> list[tuple[int, float, float]]:
        """(run, x, y) of every start drawn on the landscape, in data coordinates (runs in other units left out)."""
        from ...core.plan import start_point
        ls = self.landscape
        objective, scenario, axes = ls.objective, ls.scenario, ls.axes()
        if objective is None or scenario is None or not axes:
            return []
        columns = [ls.variables.index(a) for a in axes]
        found = []
        for i, spec in enumerate(scenario.runs):
            if not ls.marks.dimmed(i):
                start = start_point(spec, scenario, ls.variables)
                x = float(start[columns[0]])
                found.append((i, x, self._height(x, None) if len(axes) == 1 else float(start[columns[1]])))
        return found

    def _height(self, x: float, pointer: float | None) -> float:
        """Where a start at x sits on a 1-D curve (the pointer's height for a loss over data: not evaluated here)."""
        objective = self.landscape.objective
        if objective is None or (objective.data is not None and pointer is not None):
            return pointer if pointer is not None else 0.0
        with np.errstate(all="ignore"):
            return float(objective.loss(x))

    def _nearest(self, scene: QPointF) -> int:
        """The run whose start marker is within GRAB_PIXELS of the mouse (the nearest), or -1."""
        vb, best, nearest = self.landscape.vb, -1, GRAB_PIXELS
        for index, x, y in self.starts():
            at = vb.mapViewToScene(QPointF(x, y))
            distance = math.hypot(at.x() - scene.x(), at.y() - scene.y())
            if distance < nearest or (distance == nearest and index == self.landscape._selected):
                best, nearest = index, distance  # (runs starting together: the selected one is taken)
        return best

    def _grab(self, scene: QPointF, shift: bool) -> int:
        """The run whose start marker is under the mouse; with Shift, else, the selected run."""
        best = self._nearest(scene)
        if best < 0 and shift:
            runs = self.landscape.scenario.runs if self.landscape.scenario else ()
            selected = min(self.landscape._selected, len(runs) - 1)
            if selected >= 0 and not self.landscape.marks.dimmed(selected):
                best = selected
        return best

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            return False
        assert isinstance(event, QMouseEvent)
        scene = self.landscape.plot.mapToScene(event.position().toPoint())
        viewport = self.landscape.plot.viewport()
        if kind == QEvent.Type.MouseButtonPress:
            if event.button() != Qt.MouseButton.LeftButton or not self.landscape.vb.sceneBoundingRect().contains(scene):
                return False
            index = self._grab(scene, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            if index < 0:
                return False
            self.index = index
            viewport.setCursor(Qt.CursorShape.ClosedHandCursor)
            self._move(scene)
            return True
        if kind == QEvent.Type.MouseMove:
            if self.active:
                self._move(scene)
                return True
            if not event.buttons() and self._nearest(scene) >= 0:  # (a hand over a start: it can be taken)
                viewport.setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                viewport.unsetCursor()
            return False
        if not self.active or event.button() != Qt.MouseButton.LeftButton:
            return False
        self._move(scene, tell=False)
        index, values = self.index, dict(self.values)
        self.index = -1
        self.ghost.setVisible(False)
        viewport.unsetCursor()
        self.released.emit(index, values)
        return True

    def _move(self, scene: QPointF, tell: bool = True) -> None:
        ls = self.landscape
        point = ls.vb.mapSceneToView(scene)
        axes = ls.axes()
        x, y = float(point.x()), float(point.y())
        self.values = {axes[0]: x} if len(axes) == 1 else {axes[0]: x, axes[1]: y}
        if len(axes) == 1:
            y = self._height(x, y)
        if ls.scenario is not None and self.index < len(ls.scenario.runs):
            self.ghost.setData(pos=[(x, y)], pen=marker_pen(run_color(ls.scenario, self.index), 2, style=Qt.PenStyle.DotLine))
        self.ghost.setVisible(True)
        if tell:
            self.moved.emit(self.index, dict(self.values))
