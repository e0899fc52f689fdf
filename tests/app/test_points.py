"""A data set's points as round dots of their class's colour, drawn one call per colour (app/plots/points.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gdstudio.app.plots.points import Points
from gdstudio.app.plots.style import themed_plot


def test_points_are_dots_of_their_classs_colour_and_frame_the_view(qtbot):
    plot = themed_plot(grid=False)
    qtbot.addWidget(plot)
    plot.resize(300, 300)
    plot.show()
    qtbot.waitExposed(plot)
    item = plot.getPlotItem()
    points = Points(size=8)
    item.addItem(points)
    xs, ys = np.array([0.0, 1.0, 2.0, np.nan]), np.array([0.0, 1.0, 2.0, 5.0])
    points.set_points(xs, ys, ["#ff0000", "#0000ff"], np.array([0, 1, 0, 1]))
    assert points.colors() == ["#ff0000", "#0000ff"] and points.getData()[0] is not None
    assert points.dataBounds(0) == (0.0, 2.0) and points.dataBounds(1) == (0.0, 2.0)  # (the NaN row left out)
    item.vb.autoRange(padding=0.2)
    image = plot.grab().toImage()

    def at(x: float, y: float, dx: int = 0):
        where = plot.mapFromScene(item.vb.mapViewToScene(pg.Point(x, y)))
        return image.pixelColor(where.x() + dx, where.y()).name()

    assert at(0, 0) == at(2, 2) == "#ff0000" and at(1, 1) == "#0000ff"
    assert at(1, 1, dx=10) != "#0000ff"  # (a dot, not a line)
    points.set_points(np.empty(0), np.empty(0), ["#ff0000"])
    assert points.colors() == [] and points.boundingRect().isEmpty()
