"""Plot colours that follow the application palette (light or dark)."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem


def themed_plot(**kwargs) -> pg.PlotWidget:
    palette = QApplication.palette()
    widget = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base), **kwargs)
    text = palette.color(QPalette.ColorRole.Text)
    item = widget.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
        axis.enableAutoSIPrefix(False)  # "(x1e+12)" beside a log-scale loss axis reads as a bug, not a unit
        # an axis draws its grid across the whole plot, so every moving path repaints it (tick text
        # and all, ~3 ms each): from a pixmap instead, regenerated only when its range changes
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    item.showGrid(x=True, y=True, alpha=0.15)
    return widget


class SparseLogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten when its minor ticks are crowded
    (pyqtgraph labels every one of 2..9 and they overlap: "6·10¹ 5·10¹ 4·10¹ …")."""

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        if len(values) <= 6:
            return strings
        mantissas = [round(10 ** (v - math.floor(v)), 6) if math.isfinite(v) else 0.0 for v in values]
        return [text if m in (1.0, 2.0, 5.0) else "" for text, m in zip(strings, mantissas)]


def text_color() -> str:
    return QApplication.palette().color(QPalette.ColorRole.Text).name()
