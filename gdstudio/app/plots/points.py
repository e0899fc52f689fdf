"""A data set's points: round dots a few pixels wide, one picture of a dot per colour stamped at every point.

pyqtgraph's ScatterPlotItem sets each point up in Python (its symbol, size, pen and brush looked up per point, ~5 µs
a point): the 2,000 points shown of a data set were 5-10 ms of a data lesson's turn, and of every million-row file
opened. Here a colour's points are stamped with its dot's picture in one QPainter.drawPixmapFragments call, as
pyqtgraph's scatter paints (QPainter.drawPoints with a round pen took 3-5 ms for 2,000 antialiased dots).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem


class Points(pg.GraphicsObject):
    def __init__(self, size: float = 6.0) -> None:
        super().__init__()
        self.size = size
        self._xs = self._ys = np.empty(0)
        self._groups: list[tuple[QColor, np.ndarray]] = []  # per colour: its points, shape (2, n)
        self._dots: dict[tuple[str, float], QPixmap] = {}  # a dot's picture, by colour and device pixel ratio
        self._fragments = pg.Qt.internals.PrimitiveArray(QPainter.PixmapFragment, 10)
        self._bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._rect: QRectF | None = None
        # (drawn once into a pixmap, blitted at later paints: the data view is painted at every frame of running runs,
        # whose model curves move over the points)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_points(self, xs: np.ndarray, ys: np.ndarray, colors: Sequence[str], classes: np.ndarray | None = None) -> None:
        """The points, all in colors[0] (`classes` None), or each in colors[classes[i]]."""
        self.prepareGeometryChange()
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        finite = np.isfinite(xs) & np.isfinite(ys)
        self._xs, self._ys = xs, ys
        self._groups = []
        for k, color in enumerate(colors if classes is not None else colors[:1]):
            mask = finite if classes is None else finite & (classes == k)
            if mask.any():
                self._groups.append((pg.mkColor(color), np.vstack([xs[mask], ys[mask]])))
        self._bounds = ((float(xs[finite].min()), float(xs[finite].max())),
                        (float(ys[finite].min()), float(ys[finite].max()))) if finite.any() else None
        self._rect = None
        self.informViewBoundsChanged()
        self.update()

    def getData(self) -> tuple[np.ndarray, np.ndarray]:
        return self._xs, self._ys

    def colors(self) -> list[str]:
        """The colours drawn (one per class that has points)."""
        return [color.name() for color, _points in self._groups]

    def dataBounds(self, ax: int, frac: float = 1.0, orthoRange=None) -> tuple[float | None, float | None]:
        return self._bounds[ax] if self._bounds is not None else (None, None)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # (the dots' pixels are another width in data units)
        self._rect = None

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            return QRectF()
        if self._rect is None:
            (x0, x1), (y0, y1) = self._bounds
            px, py = self.pixelVectors()
            pad_x = (px.length() if px is not None else 0.0) * self.size
            pad_y = (py.length() if py is not None else 0.0) * self.size
            self._rect = QRectF(x0 - pad_x, y0 - pad_y, x1 - x0 + 2 * pad_x, y1 - y0 + 2 * pad_y)
        return self._rect

    def paint(self, painter: QPainter, _option=None, widget=None) -> None:
        ratio = widget.devicePixelRatioF() if widget is not None else 1.0
        transform = painter.transform()
        painter.resetTransform()  # (the stamps are placed in device pixels)
        for color, points in self._groups:
            dot = self._dot(color, ratio)
            at = pg.functions.clip_array(pg.functions.transformCoordinates(transform, points), -2 ** 30, 2 ** 30)
            self._fragments.resize(at.shape[1])
            fragments = self._fragments.ndarray()
            fragments[:, 0:2] = at.T  # (each stamp's centre)
            fragments[:, 2:6] = (0, 0, dot.width(), dot.height())  # (the whole picture)
            fragments[:, 6:10] = (1 / ratio, 1 / ratio, 0.0, 1.0)  # (scale, rotation, opacity)
            painter.drawPixmapFragments(*self._fragments.drawargs(), dot)
        painter.setTransform(transform)

    def _dot(self, color: QColor, ratio: float) -> QPixmap:
        key = (color.name(QColor.NameFormat.HexArgb), ratio)
        if key not in self._dots:
            side = int(np.ceil(self.size * ratio)) + 2
            dot = QPixmap(side, side)
            dot.fill(Qt.GlobalColor.transparent)
            painter = QPainter(dot)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawEllipse(QRectF(1, 1, side - 2, side - 2))
            painter.end()
            self._dots[key] = dot
        return self._dots[key]
