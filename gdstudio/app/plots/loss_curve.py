"""Loss (or ‖∇‖, or learning rate) against step for every run, live.

Curve items are created once per set of runs and fed with `setData` from the
GUI-side buffers on the redraw timer, only when a buffer grew. Long curves stay
fast through peak downsampling and clip-to-view. Hovering reports step, value
and parameters of every run at that step.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..buffers import GRAD_NORM, LOSS, LR, RunBuffer
from .style import themed_plot

QUANTITIES = (("loss", LOSS), ("gradient norm ‖∇‖", GRAD_NORM), ("learning rate", LR))


class LossCurve(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = themed_plot()
        self.plot.setObjectName("lossPlot")
        self.item = self.plot.getPlotItem()
        self.item.setLabel("bottom", "step")
        self.item.addLegend(offset=(-10, 10))
        self.quantity = QComboBox(objectName="quantity")
        for text, column in QUANTITIES:
            self.quantity.addItem(text, column)
        self.log = QCheckBox("log scale", objectName="logScale", checked=True)
        self.log.setToolTip("logarithmic vertical axis (Ctrl+L)")
        self.hover = QLabel(objectName="hover")
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("show"))
        bar.addWidget(self.quantity)
        bar.addWidget(self.log)
        bar.addWidget(self.hover, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        self.curves: list[pg.PlotDataItem] = []
        self._drawn: list[int] = []
        self._buffers: list[RunBuffer] = []
        self.quantity.currentIndexChanged.connect(self._redraw_all)
        self.log.toggled.connect(self._set_log)
        self._set_log(True)
        self._proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        """New set of runs: make one curve item per run (items are reused between frames)."""
        for curve in self.curves:
            self.item.removeItem(curve)
        legend = self.item.legend
        if legend is not None:
            legend.clear()
        self.curves = []
        for buffer, color in zip(buffers, colors):
            curve = self.item.plot([], [], pen=pg.mkPen(color, width=2), name=buffer.label)
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self.curves.append(curve)
        self._buffers = buffers
        self._drawn = [-1] * len(buffers)
        self.hover.clear()

    def _column(self) -> int:
        return int(self.quantity.currentData())

    def refresh(self) -> None:
        """Called on the redraw timer: setData only for runs whose buffers changed."""
        column = self._column()
        for i, (buffer, curve) in enumerate(zip(self._buffers, self.curves)):
            if self._drawn[i] != buffer.version:
                self._drawn[i] = buffer.version
                curve.setData(buffer.steps, self._values(buffer, column))

    def _values(self, buffer: RunBuffer, column: int) -> np.ndarray:
        values = buffer.rows[:, column]
        if self.log.isChecked():  # log10 of zero or less is undefined: leave a gap there
            values = np.where(values > 0, values, np.nan)
        return values

    def _redraw_all(self) -> None:
        self._drawn = [-1] * len(self._buffers)
        self.item.setLabel("left", self.quantity.currentText())
        self.refresh()

    def _set_log(self, on: bool) -> None:
        self.item.setLogMode(y=on)
        self._redraw_all()

    def _moved(self, event: tuple) -> None:
        position = event[0]
        if not self._buffers or not self.item.sceneBoundingRect().contains(position):
            return
        step = int(round(self.item.vb.mapSceneToView(position).x()))
        parts = []
        for buffer in self._buffers:
            if 0 <= step < len(buffer):
                row = buffer.rows[step]
                params = ", ".join(f"{n}={v:.4g}" for n, v in zip(buffer.variables, row[3:]))
                parts.append(f"{buffer.label}: loss {row[0]:.4g} ({params})")
        self.hover.setText(f"step {step}: " + "; ".join(parts) if parts else "")
