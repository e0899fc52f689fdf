"""The sweeps dialog's two plots: a heatmap over log10(lr) × a hyper-parameter, and final loss against lr."""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg
from PySide6.QtGui import QBrush

from ...core import outcomes as K
from ..plots.style import SparseLogAxis, marker_brush, themed_plot

STATUS_COLORS = {K.CONVERGED: "#2ca02c", K.MAX_STEPS: "#ff7f0e", K.DIVERGED: "#d62728"}  # others: grey


def heatmap() -> tuple[pg.PlotWidget, pg.PlotItem, pg.ImageItem, pg.ColorBarItem]:
    """A plot whose image's x is log10 lr (its axis labels it as lr, like the curve's), with a colour bar."""
    # no grid (the image covers it); the themed axes have no SI prefix, which would read "×0.001" on log10 values
    plot = themed_plot(grid=False, axisItems={"bottom": SparseLogAxis("bottom")})
    plot.setObjectName("sweepHeatmap")
    item = plot.getPlotItem()
    item.getAxis("bottom").setLogMode(True)
    item.setLabels(bottom="learning rate")
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(pg.colormap.get("viridis"))
    item.addItem(image)
    bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, width=12)
    bar.setImageItem(image, insert_in=item)
    return plot, item, image, bar


def lr_curve() -> tuple[pg.PlotWidget, pg.PlotItem, pg.PlotDataItem]:
    """Final loss against lr, both on log axes; its points can be clicked."""
    plot = themed_plot(axisItems={"left": SparseLogAxis("left"), "bottom": SparseLogAxis("bottom")})
    plot.setObjectName("sweepCurve")
    item = plot.getPlotItem()
    item.setLabels(bottom="learning rate", left="final loss")
    return plot, item, item.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=5)


def status_brushes(statuses: Iterable[int]) -> list[QBrush]:
    """Each point of the lr curve coloured by how its run ended (green converged, orange step limit, red diverged)."""
    return [marker_brush(STATUS_COLORS.get(int(s), "#7f7f7f")) for s in statuses]
