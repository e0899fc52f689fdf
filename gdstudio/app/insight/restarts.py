"""Random restarts: N seeded random starts of the selected run's optimizer, all at once; the landscape
shows each start ○, where it ended ● and a line between them — local minima at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from ...core import outcomes as K
from ..plots.style import Markers, marker_brush, marker_pen
from .common import fmt
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ...core.expression import Objective
    from ...core.sweeps import Restarts
    from ..plots.landscape import Landscape
    from ..session import StudioSession


class RestartsOverlay:
    def __init__(self, session: StudioSession, landscape: Landscape, tasks: TaskRunner, status) -> None:
        self.session, self.landscape, self.tasks, self.status = session, landscape, tasks, status
        self.result: Restarts | None = None
        self.objective: Objective | None = None  # the loss the restarts ran on
        landscape = landscape
        self.lines = landscape.add_overlay(pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 150), width=1,
                                                                         style=pg.QtCore.Qt.PenStyle.DashLine), connect="pairs"), 12)
        self.starts = landscape.add_overlay(Markers(symbol="o", size=8, pen=pg.mkPen("w", width=1.5),
                                                    brush=pg.mkBrush(None)), 13)
        self.finals = landscape.add_overlay(Markers(symbol="o", size=9, pen=pg.mkPen("k"), hoverable=True,
                                                    tip=lambda x, y, data: data), 14)

    def run(self) -> None:
        objective, spec = self.session.selected_loss(), self.session.selected()
        if objective is None or spec is None:
            self.status("random restarts need a loss and a run")
            return
        n = self.session.insight.restarts
        view, stop = self.session.view(objective), self.session.scenario.stop
        label = f"{n} random restarts of {spec.optimizer}"
        self.objective = objective

        def work(task):
            from ...core.plan import RunPlan
            from ...core.sweeps import random_restarts  # (in the task's thread, with the engine loaded)

            return random_restarts(RunPlan(objective, spec, stop), view, n, spec.seed,
                                   progress=task.report, cancel=lambda: task.cancelled, chunk_steps=max(100, stop.max_steps // 40))

        self.tasks.run_tool("restarts", label, work, self._done)

    def _done(self, result: Restarts) -> None:
        self.result = result
        self.draw()
        ends = result.final[np.isfinite(result.loss) & (result.status != K.DIVERGED)]
        distinct = []
        for x in ends:
            if all(np.max(np.abs(x - y)) > 1e-3 * (1 + np.max(np.abs(y))) for y in distinct):
                distinct.append(x)
        best = result.best()
        where = "" if best is None else f"; best loss {fmt(result.loss[best])} at (" + ", ".join(fmt(v) for v in result.final[best]) + ")"
        diverged = int(np.sum(result.status == K.DIVERGED))
        self.status(f"{len(result.starts)} random restarts ended at {len(distinct)} different points{where}"
                    + (f"; {diverged} diverged" if diverged else ""))

    def draw(self) -> None:
        """Starts ○ and ends ● on the plotted axes (on the curve itself for a loss of one variable)."""
        result, axes, objective = self.result, self.session.axes, self.objective
        if result is None or objective is None or not axes or any(a not in objective.variables for a in axes):
            self.clear(keep=True)
            return
        i = objective.variables.index(axes[0])
        # white shows on the contour's colours; a curve of one variable is drawn on the plain background
        ink = QApplication.palette().color(QPalette.ColorRole.Text) if len(axes) == 1 else QColor("white")
        faint = QColor(ink)
        faint.setAlpha(150)
        self.lines.setPen(pg.mkPen(faint, width=1, style=Qt.PenStyle.DashLine))
        self.starts.setPen(marker_pen(ink.name(), 1.5))
        if len(axes) == 2:
            j = objective.variables.index(axes[1])
            s, f = result.starts[:, [i, j]], result.final[:, [i, j]]
        else:  # one variable: (x, J(x))
            with np.errstate(all="ignore"):
                s = np.column_stack([result.starts[:, i], objective.loss(*result.starts.T)])
                f = np.column_stack([result.final[:, i], result.loss])
        ok = np.all(np.isfinite(f), axis=1)
        pairs = np.empty((2 * int(ok.sum()), 2))
        pairs[0::2], pairs[1::2] = s[ok], f[ok]
        self.lines.setData(pairs[:, 0], pairs[:, 1])
        self.starts.setData(pos=s[np.all(np.isfinite(s), axis=1)])
        finite = result.loss[ok]
        low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        cmap = pg.colormap.get("plasma")
        shades = np.round(np.clip((finite - low) / (high - low), 0, 1) * 63) / 63 if high > low else np.zeros(len(finite))
        colors = [marker_brush(cmap.map(v, mode="qcolor").name()) for v in shades]  # (64 shades: marker_brush)
        tips = [f"restart {k}: loss {fmt(result.loss[k])} after {int(result.steps[k])} steps ({K.STATUS_NAMES[result.status[k]]})"
                for k in np.flatnonzero(ok)]
        self.finals.setData(pos=f[ok], brush=colors, data=tips)

    def clear(self, keep: bool = False) -> None:
        if not keep:
            self.result = None
            self.tasks.cancel("restarts")
        self.lines.setData([], [])
        self.starts.setData(pos=np.empty((0, 2)))
        self.finals.setData(pos=np.empty((0, 2)))
