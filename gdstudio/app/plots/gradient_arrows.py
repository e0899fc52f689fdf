"""The landscape's gradient arrows: the descent direction −∇ on a grid over its view, computed in a field service's
thread (like the landscape's background), only while they are shown, and once per loss, view and slice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtWidgets import QCheckBox, QGraphicsItem

from .field_service import FieldRequest, FieldResult, FieldService

if TYPE_CHECKING:
    from .landscape import Landscape


class GradientArrows:
    def __init__(self, landscape: Landscape) -> None:
        self.landscape = landscape
        self.box = QCheckBox("gradient arrows", objectName="gradientArrows")
        self.box.setToolTip("the descent direction −∇ on a grid (computed once per loss and view)")
        self.item = pg.PlotDataItem(pen=pg.mkPen("w", width=1), connect="finite")
        self.item.setOpacity(150 / 255)
        self.item.setVisible(False)
        self.item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # (repainted from a pixmap while runs move)
        self.item.setZValue(-4)
        self.fields = FieldService(landscape, "arrows")
        self.fields.ready.connect(self._ready)
        self.drawn_for: tuple | None = None  # the loss, axes, ranges and slice the arrows are (being) computed for
        self.awaited = False
        self.box.toggled.connect(self._toggled)

    def update(self, anew: bool = False) -> None:
        """Arrows for the landscape's loss, view and slice, when shown and not drawn for them yet (`anew`: the loss
        or the view changed, whatever the key says)."""
        if anew:
            self.drawn_for = None
        ls = self.landscape
        axes = ls.axes()
        if not self.box.isChecked() or ls.objective is None or ls.scenario is None or len(axes) != 2:
            return
        key = (ls.objective, axes, ls.range_of(axes[0]), ls.range_of(axes[1]), tuple(sorted(ls.slice_point().items())))
        if self.drawn_for == key:
            return
        self.drawn_for, self.awaited = key, True
        self.fields.request(FieldRequest(ls.objective, axes, key[2:4], ls.slice_point(), arrows=True))

    def _toggled(self, on: bool) -> None:
        self.item.setVisible(on)
        self.update()

    def _ready(self, result: FieldResult) -> None:
        request = result.request
        key = (request.objective, request.axes, *request.ranges, tuple(sorted(request.fixed.items())))
        if key == self.drawn_for:
            self.awaited = False
            self.item.setData(*(result.arrows if result.arrows is not None else ([], [])))

    def shutdown(self) -> None:
        self.fields.shutdown()
