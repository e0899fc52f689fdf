"""Each run on the landscape: its path, where it started (○), where it is (●) and, for a loss of one
variable, its tangent; created once per set of runs and fed only with the rows that are new."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ..buffers import LOSS, PARAMS, RunBuffer
from .tracks import Track, line_width, path_points

FADED = 0.25  # opacity of runs in other units than the loss drawn


class RunMarks:
    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.buffers: list[RunBuffer] = []
        self.paths: list[pg.PlotDataItem] = []
        self.starts: list[pg.ScatterPlotItem] = []
        self.currents: list[pg.ScatterPlotItem] = []
        self.tangents: list[pg.PlotDataItem] = []
        self._drawn: list[int] = []
        self._tracks: list[Track | None] = []
        self._dimmed: list[bool] = []
        self._colors: list[str] = []

    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        """New runs; the items of the last set are kept when the colours are the same (live paths replace
        the runs at every frame of a drag: only `setData` then)."""
        if colors and colors == self._colors:
            self.buffers = buffers
            self.retrace()
            return
        self._colors = list(colors)
        for item in (*self.paths, *self.starts, *self.currents, *self.tangents):
            self.plot.removeItem(item)
        self.buffers = buffers
        self.paths, self.starts, self.currents, self.tangents = [], [], [], []
        for color in colors:
            path = pg.PlotDataItem(pen=pg.mkPen(color, width=2))
            start = pg.ScatterPlotItem(symbol="o", size=12, pen=pg.mkPen(color, width=2), brush=pg.mkBrush(None))
            current = pg.ScatterPlotItem(symbol="o", size=11, pen=pg.mkPen("w", width=1), brush=pg.mkBrush(color))
            tangent = pg.PlotDataItem(pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
            for z, item in enumerate((path, start, current, tangent)):
                item.setZValue(5 + z)
                self.plot.addItem(item)
            self.paths.append(path)
            self.starts.append(start)
            self.currents.append(current)
            self.tangents.append(tangent)
        self.retrace()
        self.dim(self._dimmed)

    def dim(self, dimmed: list[bool]) -> None:
        """Fade the runs whose parameters are in other units than the landscape (a run on scaled columns
        while the raw loss is drawn, or the other way round): their paths do not belong on this picture."""
        self._dimmed = list(dimmed)
        for i, items in enumerate(zip(self.paths, self.starts, self.currents, self.tangents)):
            for item in items:
                item.setOpacity(FADED if self.dimmed(i) else 1.0)

    def dimmed(self, index: int) -> bool:
        return index < len(self._dimmed) and self._dimmed[index]

    def retrace(self) -> None:
        """Every path again from its first row (new axes or view: the drawn cells follow the view)."""
        self._tracks = [None] * len(self.buffers)
        self._drawn = [-1] * len(self.buffers)

    def redraw(self) -> None:
        """Every path's items again from what is traced (a new background: nothing moved)."""
        self._drawn = [-1] * len(self.buffers)

    def refresh(self, axes: tuple[str, ...], variables: tuple[str, ...], new_track: Callable[[], Track],
                tangent: Callable[[float, float], tuple[list[float], list[float]] | None]) -> None:
        """Extend the paths and move the markers of runs that advanced (O(new rows))."""
        columns = [PARAMS + variables.index(a) for a in axes]
        for i, buffer in enumerate(self.buffers):
            if i >= len(self._drawn) or self._drawn[i] == buffer.version or buffer.rows.shape[1] != PARAMS + len(variables):
                continue
            self._drawn[i] = buffer.version
            track = self._tracks[i]
            if track is None:
                track = self._tracks[i] = new_track()
                track.max_points = path_points(len(self.buffers))
            steps, rows = buffer.after(track.last_step)
            if not len(buffer):
                for item in (self.paths[i], self.tangents[i]):
                    item.setData([], [])
                self.starts[i].setData(pos=np.empty((0, 2)))
                self.currents[i].setData(pos=np.empty((0, 2)))
                continue
            if not len(steps):
                continue
            track.last_step = int(steps[-1])
            had_start = track.first is not None
            xs = rows[:, columns[0]]
            ys = rows[:, LOSS] if len(axes) == 1 else rows[:, columns[1]]
            if not track.feed(xs, ys):
                continue
            self.paths[i].setData(*track.path())
            if (width := line_width(len(track.xs))) != self.paths[i].opts["pen"].width():
                self.paths[i].setPen(pg.mkPen(self._colors[i], width=width))
            if not had_start:
                self.starts[i].setData(pos=[track.first])
            self.currents[i].setData(pos=[track.end])
            if len(axes) == 1 and (line := tangent(*track.end)) is not None:
                self.tangents[i].setData(*line)
