"""Basins of attraction on the landscape: every cell of a grid over the view coloured by the minimum the
selected run's optimizer reaches from it (greys: diverged, reached no minimum), with a legend saying
which colour is which minimum and what share of the starts ends there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from ...core.outcomes import DIVERGED_BASIN as DIVERGED, UNRESOLVED_BASIN as UNRESOLVED
from ...core.scenario import StopRules
from ..plots.style import Markers, marker_brush
from .common import count_of, fmt
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ...core.sweeps import Basins
    from ..plots.landscape import Landscape
    from ..session import StudioSession

COLORS = ((228, 26, 28), (55, 126, 184), (77, 175, 74), (152, 78, 163), (255, 127, 0), (255, 255, 51), (166, 86, 40),
          (247, 129, 191), (27, 158, 119), (102, 166, 30))
GREY = {DIVERGED: (60, 60, 60), UNRESOLVED: (150, 150, 150)}
MAX_STEPS = 3000


def legend_rows(result: Basins) -> list[tuple[tuple[int, int, int], str]]:
    """(colour, text) for each minimum, then for diverged and no-minimum starts, each with its share of the grid."""
    counts, total = result.counts(), result.labels.size

    def share(label: int) -> str:
        return f"{100 * counts.get(label, 0) / total:.0f}%"

    rows = [(COLORS[i % len(COLORS)], f"{', '.join(f'{k}={fmt(v)}' for k, v in p.point.items())}: {share(i)}")
            for i, p in enumerate(result.minima)]
    return rows + [(GREY[DIVERGED], f"diverged: {share(DIVERGED)}"), (GREY[UNRESOLVED], f"no minimum reached: {share(UNRESOLVED)}")]


def colorize(labels: np.ndarray) -> np.ndarray:
    rgba = np.zeros(labels.shape + (4,), dtype=np.uint8)
    rgba[..., 3] = 255
    for value in np.unique(labels):
        color = GREY.get(int(value), COLORS[int(value) % len(COLORS)] if value >= 0 else (150, 150, 150))
        rgba[labels == value, :3] = color
    return rgba


class BasinsOverlay:
    def __init__(self, session: StudioSession, landscape: Landscape, tasks: TaskRunner, status) -> None:
        self.session, self.landscape, self.tasks, self.status = session, landscape, tasks, status
        self.enabled = False
        self.result: Basins | None = None
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setOpacity(0.5)
        self.centres = Markers(symbol="o", size=9, brush=pg.mkBrush("w"), pen=pg.mkPen("k"))
        landscape.add_overlay(self.image, -4)
        landscape.add_overlay(self.centres, 21)
        self.legend = pg.LegendItem(offset=(-10, 10), labelTextSize="8pt", labelTextColor="w",
                                    brush=pg.mkBrush(0, 0, 0, 150))
        self.legend.setParentItem(landscape.item.vb)  # in the corner, not in data coordinates
        self.set_enabled(False)

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self.image.setVisible(on)
        self.centres.setVisible(on)
        self.legend.setVisible(on and self.result is not None)
        if on:
            self.compute()
        else:
            self.tasks.cancel("basins")

    def stale(self) -> None:
        """The loss, view or selected run changed: the picture no longer holds."""
        self.result = None
        self.image.clear()
        self.centres.setData(pos=np.empty((0, 2)))
        self.legend.clear()
        self.legend.setVisible(False)
        if self.enabled:
            self.compute()

    def compute(self) -> None:
        objective, spec = self.session.selected_loss(), self.session.selected()
        axes = self.session.axes
        if objective is None or spec is None or len(axes) != 2:
            self.status("basins need a loss of two or more variables and a run")
            return
        view = self.session.view(objective)
        start = self.session.start(spec, objective)
        fixed = dict(zip(objective.variables, map(float, start)))
        resolution = self.session.insight.basins_resolution
        stop = self.session.scenario.stop
        rules = StopRules(max_steps=min(stop.max_steps, MAX_STEPS), grad_tol=stop.grad_tol if stop.grad_tol is not None else 1e-8,
                          loss_tol=stop.loss_tol, divergence=stop.divergence)
        name = spec.optimizer
        label = f"basins of {spec.label} ({name})"

        def work(task):
            from ...core.plan import RunPlan
            from ...core.sweeps import basins  # (in the task's thread, with the engine loaded)

            return basins(RunPlan(objective, spec, rules), view, resolution, axes=axes, fixed=fixed,
                          progress=task.report, cancel=lambda: task.cancelled, chunk_steps=max(50, rules.max_steps // 40))

        self.tasks.run_tool("basins", label, work, self._done)

    def _done(self, result: Basins) -> None:
        self.result = result
        (xs, ys) = result.coords
        dx, dy = xs[1] - xs[0] if len(xs) > 1 else 1.0, ys[1] - ys[0] if len(ys) > 1 else 1.0
        self.image.setImage(colorize(result.labels), levels=(0, 255))
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys)))
        a, b = result.axes
        self.centres.setData(x=[p.point[a] for p in result.minima], y=[p.point[b] for p in result.minima],
                             brush=[marker_brush(COLORS[i % len(COLORS)]) for i in range(len(result.minima))])
        rows = legend_rows(result)
        self.legend.clear()
        for color, text in rows:
            self.legend.addItem(pg.ScatterPlotItem(symbol="s", size=10, brush=pg.mkBrush(color), pen=None), text)
        self.legend.setVisible(self.enabled)
        self.status(f"basins: {count_of(len(result.minima), 'minimum')} — " + "; ".join(text for _, text in rows))

    def labels(self) -> set[int]:
        return set() if self.result is None else {int(v) for v in np.unique(self.result.labels) if v >= 0}
