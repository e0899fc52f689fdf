"""The racers' paths on the landscape: after a race, each optimizer's walk from the shared start, dashed
in its run's colour, so the table's ranking can be seen (who cut the corner, who overshot)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...core.trajectory import LOSS, PARAMS
from ..plots.style import Curve
from ..plots.tracks import drawable

if TYPE_CHECKING:
    from ...core.sweeps import RaceEntry
    from ..plots.landscape import Landscape
    from ..session import StudioSession


class RacePaths:
    """One dashed curve per racer, made when a race ends and removed by `clear` (new race, loss, view or Reset)."""

    def __init__(self, session: StudioSession, landscape: Landscape) -> None:
        self.session, self.landscape = session, landscape
        self.entries: list[RaceEntry] = []
        self.curves: list[Curve] = []

    def show(self, entries: list[RaceEntry], colors: list[str]) -> None:
        """Racers' paths; colors[i] is the colour of the run the i-th racer was made from."""
        self.clear()
        self.entries = entries
        landscape = self.landscape
        for entry in entries:
            pen = pg.mkPen(colors[entry.run.index % len(colors)], width=2, style=Qt.PenStyle.DashLine)
            self.curves.append(landscape.add_overlay(Curve(pen=pen, connect="finite"), 11))
        self.draw()

    def draw(self) -> None:
        """The paths on the plotted axes (on the curve itself for a loss of one variable)."""
        axes = self.session.axes
        (x0, x1), (y0, y1) = self.landscape.vb.viewRange()
        centre, span = ((x0 + x1) / 2, (y0 + y1) / 2), ((x1 - x0) or 1.0, (y1 - y0) or 1.0)
        for entry, curve in zip(self.entries, self.curves):
            trajectory = entry.run.trajectory
            if not axes or any(a not in trajectory.variables for a in axes):
                curve.setData([], [])
                continue
            rows = trajectory.rows
            columns = [PARAMS + trajectory.variables.index(a) for a in axes]
            ys = rows[:, LOSS] if len(axes) == 1 else rows[:, columns[1]]
            curve.setData(*drawable(rows[:, columns[0]], ys, centre, span))

    def clear(self) -> None:
        plot = self.landscape.item
        for curve in self.curves:
            plot.removeItem(curve)
        self.entries, self.curves = [], []
