"""Loss (or ‖∇‖, learning rate, or the loss on each step's batch) against step for every run, live.

Curve items (`run_curve.RunCurve`) are created once per set of runs and fed on the redraw timer, only when a buffer
grew. What they get is an incremental min/max decimation (`decimate.Decimator`), so a frame costs O(new rows) even
after millions of steps (non-finite values are gaps); zooming in re-decimates just the visible slice. (pyqtgraph's own
downsampling and clipping went over every curve's points again at every change of the view, which is every frame
while runs grow.) Hovering reports
step, value and parameters of every run at that step (from the full buffers).
"""

from __future__ import annotations

import html
import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..buffers import BATCH_LOSS, GRAD_NORM, LOSS, LR, PARAMS, RunBuffer
from .decimate import Decimator, buckets
from .paint_hold import PaintHold
from .run_curve import RunCurve
from .steady_range import step_up, steady
from .style import SparseLogAxis, themed_plot
from .tracks import line_width

# More runs than this are named in one line of text above the plot, not in a legend on it: twenty entries of pyqtgraph's
# legend took ~110 ms of the GUI thread to make and lay out as the runs started, and covered the curves.
LEGEND_RUNS = 8
DETAIL_SECONDS = 0.25  # while zoomed in and running, the visible slice is re-decimated at most this often

# "loss" is over the whole data set; "batch loss" over the rows each step drew (the same curve for
# full-batch runs and losses without data), so SGD's noisy view of the loss shows beside the true one.
QUANTITIES = (("loss", LOSS), ("gradient norm ‖∇‖", GRAD_NORM), ("learning rate", LR), ("batch loss", BATCH_LOSS))


class LossCurve(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = themed_plot(axisItems={"left": SparseLogAxis("left")})
        self.plot.setObjectName("lossPlot")
        self.hold = PaintHold(self.plot)  # (a frame's paint a turn after its new rows: MainWindow.redraw)
        self.item = self.plot.getPlotItem()
        self.item.setLabel("bottom", "step")
        self.item.addLegend(offset=(-10, 10))
        self.quantity = QComboBox(objectName="quantity")
        for text, column in QUANTITIES:
            self.quantity.addItem(text, column)
        self.quantity.setItemData(self.quantity.findData(BATCH_LOSS), "the loss on the rows each step drew (SGD's noisy view); "
                                  "the loss itself for full-batch runs", Qt.ItemDataRole.ToolTipRole)
        self.log = QCheckBox("log scale", objectName="logScale", checked=True)
        self.log.setToolTip("logarithmic vertical axis (Ctrl+L)")
        self.hidden_note = QLabel("values ≤ 0 not drawn", objectName="hiddenNote", visible=False)
        self.hidden_note.setStyleSheet("color: #d62728")
        self.hidden_note.setToolTip("a logarithmic axis has no place for zero or negative values: "
                                    "untick log scale (Ctrl+L) to see them")
        self.hover = QLabel(objectName="hover")
        self.hover.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("show"))
        bar.addWidget(self.quantity)
        bar.addWidget(self.log)
        bar.addWidget(self.hidden_note)
        self.x_unit = QComboBox(objectName="xUnit")
        self.x_unit.addItems(["per step", "per epoch"])
        self.x_unit.setToolTip("horizontal axis: optimizer steps, or epochs (step · batch / rows) for runs on a data set")
        self.x_unit.setEnabled(False)
        bar.addWidget(self.x_unit)
        bar.addWidget(self.hover, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.key = QLabel(objectName="runKey", visible=False, wordWrap=True)  # (many runs: see LEGEND_RUNS)
        layout.addLayout(bar)
        layout.addWidget(self.key)
        layout.addWidget(self.plot, 1)
        self.curves: list[RunCurve] = []
        self.extent = pg.PlotCurveItem(pen=None)  # unseen: what the view follows (steady_range.py), the curves' bounds
        self.item.vb.addItem(self.extent)         # rounded out
        self._extents: list[tuple[float, float, float, float] | None] = []  # each curve's (x low, x high, y low, y high)
        self._points: list[int] = []  # each curve's drawn points
        self._decimators: list[Decimator] = []
        self._drawn: list[int] = []
        self._detail_range: tuple[float, float] | None = None
        self._detail_time = 0.0
        self._buffers: list[RunBuffer] = []
        self._made: list[tuple[str, str]] = []  # (label, colour) of the curves made
        self._selected = 0
        self._epoch_scales: list[float] | None = None  # epochs per step of each run (batch / rows)
        self._range_limit: float | None = None  # (see _limit_range)
        self.item.vb.sigStateChanged.connect(self._view_state_changed)  # (auto-range turned on or off)
        self.quantity.currentIndexChanged.connect(self._redraw_all)
        self.x_unit.currentIndexChanged.connect(self._unit_changed)
        self.log.toggled.connect(self._set_log)
        self._set_log(True)
        self._proxy = pg.SignalProxy(self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._moved)

    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        """New set of runs: make one curve item per run (items are reused between frames, and kept for a new
        set of runs with the same labels and colours: live paths replace the runs at every frame of a drag; and
        through a reset, emptied and unnamed meanwhile: Run, Reset, Run made twenty curves again, 15-50 ms)."""
        made = [(b.label, c) for b, c in zip(buffers, colors)]
        if buffers and (made != self._made or len(self.curves) < len(made)):
            self._make(made)
        elif not buffers:  # (a reset: the curves wait, emptied, for the same runs again)
            for curve in self.curves:
                curve.feed(np.empty(0), np.empty(0))
            self._show_no_runs()
        self._name_runs(bool(buffers))
        self._buffers = buffers
        self._reset_decimation()

    def prepare(self, labels: list[str], colors: list[str]) -> bool:
        """Make the curves of runs about to start (the scenario's), unnamed and empty until they do, six at a time:
        set_runs then finds them made. Whether more are to be made, in a later turn."""
        if self._buffers:
            return False
        made = list(zip(labels, colors))
        self._make(made, 6)
        self._name_runs(False)
        return len(self.curves) < len(made)

    def _make(self, made: list[tuple[str, str]], count: int | None = None) -> None:
        """The curves of a set of runs: all of them, or `count` more."""
        many, width = len(made) > LEGEND_RUNS, line_width(0, len(made))  # (refresh thins it as the curve grows long)
        if made != self._made:
            self._made = made
            for curve in self.curves:
                self.item.removeItem(curve)
            if self.item.legend is not None:
                self.item.legend.clear()
            self.key.setText("&nbsp; ".join(f"<span style='color:{color}'>■</span>&nbsp;{html.escape(label)}"
                                            for label, color in made) if many else "")
            self.curves = []
            self.hover.clear()
        for label, color in made[len(self.curves) : None if count is None else len(self.curves) + count]:
            curve = RunCurve(pg.mkPen(color, width=width), None if many else label, self._range_limit)
            self.item.addItem(curve, ignoreBounds=True)  # (the view follows `extent`: see _follow)
            self.curves.append(curve)
        self.set_selected(self._selected)

    def _name_runs(self, shown: bool) -> None:
        """The runs' names: in the legend, or in the key above the plot for many runs; none while no run is shown."""
        self.key.setVisible(shown and len(self.curves) > LEGEND_RUNS)
        if self.item.legend is not None:
            self.item.legend.setVisible(shown)

    def _show_no_runs(self) -> None:
        """The empty plot in its first range, not in the last runs' 3,000 steps."""
        self.hover.clear()
        self.item.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.item.vb.enableAutoRange()

    def set_selected(self, index: int) -> None:
        """The selected run's curve is drawn over the others (curves that run together hid it)."""
        self._selected = index
        for i, curve in enumerate(self.curves):
            curve.setZValue(1 if i == index else 0)

    def set_epoch_scales(self, scales: list[float] | None) -> None:
        """Epochs per step of each run (batch size / rows of the data set; 1 for full batches), or None
        when the scenario has no data set (then only steps make sense)."""
        if (list(scales) if scales else None) == self._epoch_scales and self.x_unit.isEnabled() == (scales is not None):
            return  # (the same: live paths set them at every frame of a drag)
        self._epoch_scales = list(scales) if scales else None
        self.x_unit.setEnabled(self._epoch_scales is not None)
        if self._epoch_scales is None and self.x_unit.currentIndex():
            self.x_unit.setCurrentIndex(0)
        else:
            self._unit_changed()

    def _scale(self, i: int) -> float:
        if self.x_unit.currentIndex() == 1 and self._epoch_scales and i < len(self._epoch_scales):
            return self._epoch_scales[i]
        return 1.0

    def _unit_changed(self) -> None:
        self.item.setLabel("bottom", "epoch" if self.x_unit.currentIndex() == 1 else "step")
        self._redraw_all()
        self.item.vb.enableAutoRange()

    def _reset_decimation(self) -> None:
        self._decimators = [Decimator(buckets(len(self._buffers)), log=self.log.isChecked()) for _ in self._buffers]
        self._drawn = [-1] * len(self._buffers)
        self._detail_range = None
        self._extents = [None] * len(self._buffers)
        self._points = [0] * len(self._buffers)
        self.extent.setData([], [])

    def _column(self) -> int:
        return int(self.quantity.currentData())

    def _zoomed_range(self) -> tuple[float, float] | None:
        """The visible step range when the user zoomed in on part of a long run, else None."""
        if self.item.vb.autoRangeEnabled()[0]:
            return None
        low, high = self.item.vb.viewRange()[0]
        longest = max((b.steps_done * self._scale(i) for i, b in enumerate(self._buffers)), default=0)
        return (low, high) if high - low < 0.9 * longest else None

    def refresh(self, range_now: bool = True, part: tuple[int, int] = (0, 1)) -> None:
        """Called on the redraw timer: feeds only runs whose buffers changed. `range_now`: see below (an
        animation grabs each frame at once, and its range is found in that paint, after the layout, as ever).
        `part` (k, n): only the runs i with i % n == k now, and nothing painted until the last part (n - 1) has fed
        its runs: twenty runs' new rows, decimated and handed to pyqtgraph, took 9-15 ms of one turn at full speed."""
        k, parts = part
        last = k == parts - 1
        if parts > 1:
            if last:
                self.hold.defer()  # (the whole frame, a turn later: paint_hold.py)
            else:
                self.hold.keep()
        else:
            self.hold.release()  # (a frame fed at once, after parts of one)
        column = self._column()
        zoom = self._zoomed_range()
        moved = any(d != b.version for d, b in zip(self._drawn, self._buffers))
        if zoom is not None:
            due = zoom != self._detail_range or (moved and time.monotonic() - self._detail_time > DETAIL_SECONDS)
            if due and last:
                self._detail_range, self._detail_time = zoom, time.monotonic()
                for i, (buffer, curve, decimator) in enumerate(zip(self._buffers, self.curves, self._decimators)):
                    s = self._scale(i)
                    x, y = decimator.detail(buffer.steps, buffer.rows[:, column], zoom[0] / s, zoom[1] / s)
                    curve.feed(x * s if s != 1.0 else x, y)
                self._drawn = [-2] * len(self._buffers)  # back to the envelope once zoomed out
            return
        self._detail_range = None
        if not moved:
            return
        for i in range(k, len(self._buffers), parts):
            buffer, curve = self._buffers[i], self.curves[i]
            if self._drawn[i] != buffer.version:
                self._drawn[i] = buffer.version
                # O(new rows): the decimator finds its place by step, so thinning old rows costs nothing here
                x, y = self._decimators[i].update(buffer.steps, buffer.rows[:, column])
                s = self._scale(i)
                x = x * s if s != 1.0 else x
                curve.feed(x, y)
                self._points[i] = len(x)
                if len(x):
                    self._extents[i] = (float(x[0]), float(x[-1]), float(np.fmin.reduce(y)), float(np.fmax.reduce(y)))
        if not last:
            return
        # one weight for every curve, thinner once one is long (as the paths: a long noisy curve's envelope stroked 2 px
        # wide took ~19 ms of every frame, a hairline ~9); each curve's own made a longer run's curve, decimated to
        # fewer points, thicker than a shorter one's
        width = line_width(max(self._points, default=0), len(self._buffers))
        for curve, (_label, color) in zip(self.curves, self._made):
            if curve.opts["pen"].width() != width:
                curve.setPen(pg.mkPen(color, width=width))
        self.hidden_note.setVisible(any(d.hid_nonpositive for d in self._decimators))
        view = self.item.vb
        if self._follow() and range_now and any(view.autoRangeEnabled()):
            # the new range now, not while painting: pyqtgraph finds it and applies it in its paint, and items moved
            # while painting are painted again (a second paint of the whole plot every frame). The paint checks again
            # all the same (unchanged, nothing moves): the plot may be laid out anew before it
            view.updateAutoRange()
            view.updateMatrix()
            view.queueUpdateAutoRange()

    def _follow(self) -> bool:
        """The extent the view follows: the curves' bounds, rounded out to steps (steady_range.py); whether it moved."""
        extents = [e for e in self._extents if e is not None]
        if not extents:
            return False
        x_low, x_high = min(0.0, *(e[0] for e in extents)), max(e[1] for e in extents)  # (from step 0)
        y_values = [v for e in extents for v in e[2:] if math.isfinite(v)]
        if not y_values:
            return False
        log = self.log.isChecked()
        y_low, y_high = steady(min(y_values), max(y_values), log)
        if log:
            y_low, y_high = math.log10(y_low), math.log10(y_high)
        x = [x_low, step_up(x_high) if x_high > 0 and math.isfinite(x_high) else x_high]
        old_x, old_y = self.extent.getData()
        if old_x is not None and list(old_x) == x and list(old_y) == [y_low, y_high]:
            return False
        self.extent.setData(x, [y_low, y_high])
        return True

    def _view_state_changed(self, _view) -> None:
        self._limit_range()
        if self._detail_range is not None and self._zoomed_range() is None:  # (zoomed out: what grew meanwhile is
            self.refresh()                                                   # in the bounds followed, now)

    def _limit_range(self) -> None:
        """pyqtgraph clips values far outside the vertical view (beyond a million view heights, which a painter cannot
        take), but then goes over every curve again at every change of that view: every frame while runs grow and
        the axis follows them. Following, the view holds every value and there is nothing to clip."""
        limit = None if self.item.vb.autoRangeEnabled()[1] else 1e6
        if limit != self._range_limit:
            self._range_limit = limit
            for curve in self.curves:
                curve.setDynamicRangeLimit(limit)

    def _redraw_all(self) -> None:
        self._reset_decimation()
        self.item.setLabel("left", self.quantity.currentText())
        self.refresh()

    def _set_log(self, on: bool) -> None:
        self.item.setLogMode(y=on)
        self._redraw_all()

    def _moved(self, event: tuple) -> None:
        position = event[0]
        if not self._buffers or not self.item.sceneBoundingRect().contains(position):
            return
        at = self.item.vb.mapSceneToView(position).x()
        step = int(round(at))
        parts = []
        for i, buffer in enumerate(self._buffers):
            row = buffer.row_at(int(round(at / self._scale(i))))
            if row is not None:
                params = ", ".join(f"{n}={v:.4g}" for n, v in zip(buffer.variables, row[PARAMS:]))
                batch = f", batch loss {row[BATCH_LOSS]:.4g}" if self._column() == BATCH_LOSS else ""
                parts.append(f"{buffer.label}: loss {row[LOSS]:.4g}{batch} ({params})")
        where = f"epoch {at:.4g}" if self.x_unit.currentIndex() == 1 else f"step {step}"
        self.hover.setText(f"{where}: " + "; ".join(parts) if parts else "")
