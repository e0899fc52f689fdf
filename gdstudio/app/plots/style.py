"""Plot colours that follow the application palette (light or dark)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPalette, QPen
from PySide6.QtWidgets import QApplication, QGraphicsItem


def themed_plot(grid: bool = True, **kwargs) -> pg.PlotWidget:
    """A plot in the palette's colours; `grid`: lines at the axes' ticks (not for a picture that covers the plot)."""
    palette = QApplication.palette()
    widget = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base), **kwargs)
    text = palette.color(QPalette.ColorRole.Text)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        axis.enableAutoSIPrefix(False)  # "(x1e+12)" beside a log-scale loss axis reads as a bug, not a unit
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # (tick text regenerated only when its
        # range changes; every moving path repainted it)
        # the room for tick labels only grows: narrower labels (a new lesson's, a zoom's) shrank the axis, which
        # resized the view, its items' caches and the other axis, and painted the whole plot twice (lessons opened
        # in a row: 18 such layouts in 13 opens)
        axis.setStyle(autoReduceTextSpace=False)
    for name in ("top", "right"):  # hidden, but linked to the view: with an automatic SI prefix each new range set
        item.getAxis(name).enableAutoSIPrefix(False)  # its label's HTML again (a text layout, ~1-10 ms a frame)
    # no "Plot Options" in the context menu (its view menu stays): its log axes, FFT, averaging and downsampling act on
    # pyqtgraph's data items behind the studio's own controls (a log axis the loss plot's checkbox did not know of)
    item.setMenuEnabled(False, enableViewBoxMenu=None)
    if grid:
        item.addItem(TickGrid(item), ignoreBounds=True)
    return widget


GRID_ALPHA = 0.15


# A scatter plot keys the symbols it has rendered by its pens' and brushes' identity (pyqtgraph's SymbolAtlas): a new
# QPen for the same look renders the symbol again and grows the item's atlas, and so its pixmap, until 1,000 symbols
# (48 more for every pass over the lessons, by their planned starts alone). Markers take their pens and brushes here,
# one object per look. They are shared: never change one.
@lru_cache(maxsize=1024)
def marker_pen(color: str | None, width: float = 1.0, alpha: float = 1.0,
               style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    return pg.mkPen(None) if color is None else pg.mkPen(_ink(color, alpha), width=width, style=style)


@lru_cache(maxsize=1024)
def marker_brush(color: str | None, alpha: float = 1.0) -> QBrush:
    return pg.mkBrush(None) if color is None else pg.mkBrush(_ink(color, alpha))


class Curve(pg.PlotCurveItem):
    """A plain curve (pyqtgraph's data item maps and checks every array again at each `setData`) that pyqtgraph's
    Matplotlib exporter (Export… in a plot's menu) reads as it reads a data item: it looks up each curve's symbol."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.opts.update(symbol=None, symbolPen=None, symbolBrush=None, symbolSize=0)


_POINTS = ("pos", "x", "y", "spots")
_EACH_POINT = ("data", "pen", "brush", "size", "symbol")  # (as lists: one for each point; one value is the default)


class Markers(pg.ScatterPlotItem):
    """A scatter plot that is not painted while it has no points: an empty one still went through pyqtgraph's paint
    (~0.15 ms) at every frame of the landscape while runs move, and three were empty (the planned starts, the
    restarts' starts and ends). No points given to one that has none is nothing to do: 121 of the 138 sets of
    markers in thirteen lessons opened (pyqtgraph's ~0.2 ms each, in the turn that shows a new loss)."""

    def setData(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph's name)
        given = [*args, *(kwargs[key] for key in _POINTS if key in kwargs)]
        only_points = all(key in _POINTS or (key in _EACH_POINT and isinstance(value, (list, np.ndarray)))
                          for key, value in kwargs.items())
        if len(self.data) or not only_points or any(value is not None and len(value) for value in given):
            super().setData(*args, **kwargs)

    def addPoints(self, *args, **kwargs) -> None:  # noqa: N802 (pyqtgraph's name)
        super().addPoints(*args, **kwargs)
        self._note_points()

    def clear(self) -> None:
        super().clear()
        self._note_points()

    def _note_points(self) -> None:
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, not len(self.data))


def _ink(color: str, alpha: float) -> QColor:
    ink = pg.mkColor(color)
    ink.setAlphaF(ink.alphaF() * alpha)
    return ink


def blend(ink: QColor, paper: QColor, alpha: float) -> QColor:
    """The opaque colour of `ink` at `alpha` over `paper`."""
    return QColor.fromRgbF(*(p + (i - p) * alpha for i, p in zip(ink.getRgbF()[:3], paper.getRgbF()[:3])))


class TickGrid(pg.UIGraphicsItem):
    """The plot's grid: a line at each tick of its axes, as pyqtgraph's own grid draws them (fainter for minor ticks),
    drawn in the view, opaque (its colour is the faint one a translucent line has over the background). pyqtgraph's
    axes draw their grid lines inside the axis item, whose picture then spans the whole plot: each axis took ~14 ms
    to repaint instead of ~1, at every new range of every plot (a new loss, a zoom, every frame of a growing loss
    curve)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        super().__init__()
        self.plot = plot
        self.setZValue(-20)  # (under the curves and markers)
        self._key: tuple | None = None
        self._lines: list[tuple[QPen, list[QLineF]]] = []

    def paint(self, painter, *_args) -> None:
        view = self.plot.getViewBox()
        rect = self.boundingRect()
        if rect.isEmpty() or view is None:
            return
        key = (rect, view.width(), view.height(), *(tuple(self.plot.getAxis(n).range) for n in ("bottom", "left")))
        if key != self._key:  # (moving paths repaint the grid every frame: its lines are worked out once per view)
            self._key, self._lines = key, self._work_out(rect, view)
        for pen, lines in self._lines:
            painter.setPen(pen)
            painter.drawLines(lines)

    def _work_out(self, rect: QRectF, view: pg.ViewBox) -> list[tuple[QPen, list[QLineF]]]:
        palette = QApplication.palette()
        ink, paper = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
        batches = []
        for name, vertical in (("bottom", True), ("left", False)):
            axis = self.plot.getAxis(name)
            pixels = view.width() if vertical else view.height()
            low, high = axis.range
            if pixels <= 0 or not (math.isfinite(low) and math.isfinite(high)) or high <= low:
                continue
            inside = (rect.left(), rect.right()) if vertical else (rect.top(), rect.bottom())
            drawn: set[float] = set()  # (a tick of a finer level where a coarser one is: drawn once)
            for level, (_spacing, ticks) in enumerate(axis.tickValues(low, high, pixels)):
                alpha = 1 / (level + 1) * GRID_ALPHA * min(max(0.05 * pixels / (len(ticks) + 1), 0.0), 1.0)
                pen = QPen(blend(ink, paper, alpha))  # (opaque: Qt draws a translucent line ~30x slower)
                pen.setCosmetic(True)
                new = [v for v in ticks if inside[0] <= v <= inside[1] and round(v, 12) not in drawn]
                drawn.update(round(v, 12) for v in new)
                batches.append((pen, [QLineF(v, rect.top(), v, rect.bottom()) if vertical
                                      else QLineF(rect.left(), v, rect.right(), v) for v in new]))
        return batches


class SparseLogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten when its minor ticks are crowded
    (pyqtgraph labels every one of 2..9 and they overlap: "6·10¹ 5·10¹ 4·10¹ …")."""

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        if len(values) <= 6:
            return strings
        mantissas = [round(10 ** (v - math.floor(v)), 6) if math.isfinite(v) else 0.0 for v in values]
        return [text if m in (1.0, 2.0, 5.0) else "" for text, m in zip(strings, mantissas)]


def show_labels(item: pg.PlotItem, **labels: str) -> None:
    """Axis labels (`bottom="x"`), set only where they change: pyqtgraph lays a label's HTML out anew and resizes its
    axis at every `setLabels`, ~0.5 ms a lesson opened for the landscape's same "x" and "y"."""
    for name, text in labels.items():
        if item.getAxis(name).labelText != text:
            item.setLabel(name, text)


def text_color() -> str:
    return QApplication.palette().color(QPalette.ColorRole.Text).name()
