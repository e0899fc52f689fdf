"""Each run on the landscape: its path, where it started (○), where it is (●) and, for a loss of one
variable, its tangent; created once per set of runs and fed only with the rows that are new."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QPen

from ..buffers import LOSS, PARAMS, RunBuffer
from .style import Curve, Markers, marker_brush, marker_pen
from .tracks import Track, line_width, path_points

FADED = 0.25  # opacity of runs in other units than the loss drawn
HALVED_FROM = 8  # runs from which a frame extends the paths of part of them (MainWindow.redraw: half, the rest next)
PATH_Z, SELECTED_PATH_Z = 5.0, 5.5  # the selected run's path over the others' (paths that share a valley hid it)


class RunMarks:
    """Per run a path item (and, for a loss of one variable, a tangent item); every run's start and current point
    share two scatter items (a point each, in the run's colour). Twenty runs made eighty items as they started,
    each ~1.5 ms to add to the plot, and every frame fed forty scatter items one point each."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.buffers: list[RunBuffer] = []
        self.paths: list[Curve] = []  # (not PlotDataItem: a third of the cost of feeding twenty each frame)
        self.tangents: list[pg.PlotDataItem] = []  # made when a loss of one variable first needs them
        self.starts = Markers(symbol="o", size=12, brush=pg.mkBrush(None))
        self.currents = Markers(symbol="o", size=11)
        for z, item in ((6, self.starts), (7, self.currents)):
            item.setZValue(z)
            plot.addItem(item)
        self._firsts: list[tuple[float, float] | None] = []  # per run: where its start and current markers are
        self._ends: list[tuple[float, float] | None] = []
        self._drawn: list[int] = []
        self._tracks: list[Track | None] = []
        self._dimmed: list[bool] = []
        self._colors: list[str] = []
        self._styles: list[tuple[QPen, QPen, QBrush]] = []  # per run: start pen, current pen and brush
        self._selected = 0

    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        """New runs; the items of the last set are kept when the colours are the same (live paths replace
        the runs at every frame of a drag: only `setData` then), and through a reset (Run, Reset, Run: twenty runs'
        paths took 15-50 ms to make again)."""
        self.buffers = buffers
        self._firsts, self._ends = [None] * len(buffers), [None] * len(buffers)
        if not colors or colors == self._colors:
            if not colors:  # (a reset: the items wait, emptied, for the same runs again)
                for item in (*self.paths, *self.tangents):
                    item.setData([], [])
            self.retrace()
            self._show_markers()
            return
        self._colors = list(colors)
        for item in (*self.paths, *self.tangents):
            self.plot.removeItem(item)
        self.paths, self.tangents = [], []
        for color in colors:
            path = Curve(pen=pg.mkPen(color, width=2))
            self.plot.addItem(path)
            self.paths.append(path)
        self.select(self._selected)
        self.retrace()
        self.dim(self._dimmed)

    def prepare(self, colors: list[str]) -> None:
        """Make the paths of runs about to start (the scenario's), empty until they do: set_runs then finds them made."""
        if colors != self._colors and not self.buffers:
            self.set_runs([], colors)

    def select(self, index: int) -> None:
        """The selected run's path is drawn over the other paths (under every marker), its markers over theirs."""
        self._selected = index
        for i, path in enumerate(self.paths):
            path.setZValue(SELECTED_PATH_Z if i == index else PATH_Z)
        self._show_markers()

    def dim(self, dimmed: list[bool]) -> None:
        """Fade the runs whose parameters are in other units than the landscape (a run on scaled columns
        while the raw loss is drawn, or the other way round): their paths do not belong on this picture."""
        self._dimmed = list(dimmed)
        for items in (self.paths, self.tangents):
            for i, item in enumerate(items):
                item.setOpacity(FADED if self.dimmed(i) else 1.0)
        self._restyle()
        self._show_markers()

    def _restyle(self) -> None:
        """Each run's marker pens and brushes (made once per set of runs or of faded runs, not every frame)."""
        self._styles = []
        for i, color in enumerate(self._colors):
            alpha = FADED if self.dimmed(i) else 1.0
            self._styles.append((marker_pen(color, 2, alpha), marker_pen("w", 1, alpha), marker_brush(color, alpha)))

    def _show_markers(self, starts: bool = True) -> None:
        """Every run's current ● (and start ○), faded like its path, each point's data its run's index."""
        items = ((self.starts, self._firsts, False), (self.currents, self._ends, True))
        for item, places, current in items if starts else items[1:]:
            shown = sorted((i for i, at in enumerate(places) if at is not None and i < len(self._styles)),
                           key=lambda i: i == self._selected)  # (drawn in order: the selected run's last)
            styles = [self._styles[i] for i in shown]
            item.setData(pos=np.array([places[i] for i in shown], dtype=float).reshape(-1, 2), data=shown,
                         pen=[s[1] if current else s[0] for s in styles],
                         brush=[s[2] for s in styles] if current else marker_brush(None))

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
                tangent: Callable[[float, float], tuple[list[float], list[float]] | None],
                part: tuple[int, int] = (0, 1)) -> None:
        """Extend the paths and move the markers of runs that advanced (O(new rows)). `part` (k, n): from HALVED_FROM
        runs on, only the runs i with i % n == k (twenty runs' paths at full speed took 5-11 ms of one turn)."""
        columns = [PARAMS + variables.index(a) for a in axes]
        moved = started = False
        k, n = part if len(self.buffers) >= HALVED_FROM else (0, 1)
        for i in range(k, len(self.buffers), n):
            buffer = self.buffers[i]
            if i >= len(self._drawn) or self._drawn[i] == buffer.version or buffer.rows.shape[1] != PARAMS + len(variables):
                continue
            self._drawn[i] = buffer.version
            track = self._tracks[i]
            if track is None:
                track = self._tracks[i] = new_track()
                track.max_points = path_points(len(self.buffers))
            steps, rows = buffer.after(track.last_step)
            if not len(buffer):
                self.paths[i].setData([], [])
                if self.tangents:
                    self.tangents[i].setData([], [])
                started |= self._firsts[i] is not None
                moved |= self._ends[i] is not None
                self._firsts[i] = self._ends[i] = None
                continue
            if not len(steps):
                continue
            track.last_step = int(steps[-1])
            xs = rows[:, columns[0]]
            ys = rows[:, LOSS] if len(axes) == 1 else rows[:, columns[1]]
            if not track.feed(xs, ys):
                continue
            self.paths[i].setData(*track.path())
            if (width := line_width(len(track.xs), len(self.buffers))) != self.paths[i].opts["pen"].width():
                self.paths[i].setPen(pg.mkPen(self._colors[i], width=width))
            started |= self._firsts[i] is None
            self._firsts[i], self._ends[i], moved = tuple(track.first), tuple(track.end), True
            if len(axes) == 1 and (line := tangent(*track.end)) is not None:
                self._tangent_items()[i].setData(*line)
        if moved or started:
            self._show_markers(starts=started)

    def _tangent_items(self) -> list[pg.PlotDataItem]:
        """The runs' tangents, made the first time a loss of one variable needs them."""
        if not self.tangents:
            for i, color in enumerate(self._colors):
                tangent = pg.PlotDataItem(pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine))
                tangent.setZValue(8)
                tangent.setOpacity(FADED if self.dimmed(i) else 1.0)
                self.plot.addItem(tangent)
                self.tangents.append(tangent)
        return self.tangents
