"""What a plot's next paint would make, made beforehand: in the turn that changed the plot, not the one that paints.

The landscape's first paint with a new field was the heaviest turn of a lesson opened (8-15 ms): pyqtgraph makes
an axis's picture (its ticks' labels laid out, ~1 ms each) in its paint, an image's picture from its values
(~0.5 ms) and a curve's path (~0.5 ms for the contour lines) too. A turn after the field's own makes them now (in
the field's turn they made it 10-11 ms), while the plot's paint is held for them (paint_hold.py): the paint, in a
later turn, draws what is made.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtGui import QImage, QPainter


def draw_ahead(plot: pg.PlotItem, images: Iterable[pg.ImageItem] = (), curves: Iterable[pg.PlotCurveItem] = ()) -> None:
    for image in images:  # (images given new values: their picture is made anew)
        if image.image is not None:
            image.render()
    for curve in curves:
        curve.getPath()  # (kept until its data change)
    scratch = QImage(1, 1, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(scratch)  # (an axis's paint makes its picture once per range and size, then plays it here)
    try:
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            if axis.isVisible() and axis.picture is None:
                axis.paint(painter, None, None)
    finally:
        painter.end()
