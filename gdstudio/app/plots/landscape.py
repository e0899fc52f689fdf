"""The landscape: where the runs walk.

2 variables: shaded loss with contour lines, each run's path, start ○ and
current ● markers, known minima ★; before a run, each run's start as a dashed ○
(so a click that moves a start shows at once). 1 variable: the loss curve with each run's
point and tangent. More: a 2-D slice over two chosen variables through the
selected run's current point (re-sliced at most once a second while it moves).
The background is recomputed only when the loss, view or slice changes; each
frame only feeds paths and markers with `setData`. A left click sets the
selected run's start (`start_clicked`); a start can be dragged (`drag`, start_drag.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QGraphicsItem, QHBoxLayout, QLabel, QPushButton,
                               QSizePolicy, QVBoxLayout, QWidget)

from ...core.scenario import Scenario
from ...core.scenario_model import start_point
from ..session import Problem
from ..buffers import RunBuffer
from ..document import run_color
from ..stagger import Stagger
from .contours import Field
from .field_service import FieldRequest, FieldResult, FieldService
from .style import Markers, marker_pen, show_labels, text_color, themed_plot
from .run_marks import RunMarks
from .start_drag import StartDrag
from .framing import Framing, grown
from .gradient_arrows import GradientArrows
from .paint_ahead import draw_ahead
from .paint_hold import PaintHold
from .tracks import CELLS, Track
from .view_range import ViewRangeBar

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective


class Landscape(Framing, QWidget):
    start_clicked = Signal(dict)  # {variable: value} for the plotted variables
    view_chosen = Signal(dict)  # {variable: (low, high)} when the user asks to recompute for the visible area
    axes_changed = Signal(object)  # the plotted variables, when a new loss or the user changes them

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = themed_plot(grid=False)  # (the picture and its contours cover the plot)
        self.plot.setObjectName("landscapePlot")
        self.item = self.plot.getPlotItem()
        self.vb = self.item.vb
        self.x_axis = QComboBox(objectName="xAxis")
        self.y_axis = QComboBox(objectName="yAxis")
        self.lines_box = QCheckBox("contour lines", checked=True)
        self.fit_button = QPushButton("Use visible area", objectName="fitView")
        self.fit_button.setToolTip("recompute the landscape for the area you panned/zoomed to (it becomes the view range)")
        self.frame_button = QPushButton("Frame runs", objectName="frameRuns")
        self.frame_button.setToolTip("frame the starts, the known minima and the paths; paths that leave it grow it again")
        self.frame_button.clicked.connect(self.frame_runs)
        self.note = QLabel(objectName="landscapeNote")
        # a long note ("… · slice through y=2, z=0.5") must not widen the window: it is clipped, whole in the tooltip
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        self.axis_label = QLabel("axes")
        for w in (self.axis_label, self.x_axis, self.y_axis, self.lines_box, self.fit_button):
            bar.addWidget(w)
        self.gradient = GradientArrows(self)  # (its check box and arrows, by their old names too)
        self.arrows_box, self.arrows = self.gradient.box, self.gradient.item
        bar.insertWidget(bar.indexOf(self.fit_button), self.arrows_box)
        bar.insertWidget(bar.indexOf(self.fit_button) + 1, self.frame_button)
        bar.addWidget(self.note, 1)
        self.range_bar = ViewRangeBar()  # the view range, editable: the landscape is recomputed for it
        self.range_bar.chosen.connect(self.view_chosen)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.range_bar)
        layout.addWidget(self.plot, 1)

        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.image.setOpacity(0.85)
        # white lines, made translucent as a whole (their picture is kept as a pixmap, blended at once): Qt draws a
        # translucent line ~30x slower than an opaque one, and a new landscape's contours took ~15 ms to draw
        self.lines = pg.PlotDataItem(pen=pg.mkPen("w", width=1), connect="finite")
        self.lines.setOpacity(110 / 255)
        self.curve_item = pg.PlotDataItem(pen=pg.mkPen(text_color(), width=2))
        self.minima = Markers(symbol="star", size=18, brush=pg.mkBrush("#ffd700"), pen=pg.mkPen("k"))
        self.planned = Markers(symbol="o", size=12, brush=pg.mkBrush(None))
        self.planned.setZValue(5)
        for item in (self.image, self.lines, self.arrows, self.curve_item, self.minima, self.planned):
            self.item.addItem(item)
        for static in (self.image, self.lines, self.curve_item):  # repainted from a pixmap while runs move
            static.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        for item, z in ((self.image, -10), (self.lines, -5), (self.minima, 20)):
            item.setZValue(z)

        self.objective: Objective | None = None
        self.scenario: Scenario | None = None
        self.field: Field | None = None  # the one drawn (a preview while `computing`)
        self.fields = FieldService(self, "landscape")
        self.fields.ready.connect(self._field_ready)
        self.hold = PaintHold(self.plot)  # a new loss or view is painted with its field (paint_hold.py)
        self._ahead = Stagger(self)  # (the field's pictures made ahead of its paint, in a turn of their own)
        self._awaiting: FieldRequest | None = None
        self._reset_pending = False
        self._caption = ""
        self._frame: dict[str, tuple[float, float]] = {}  # what is drawn: the view grown to hold what matters (framing.py)
        self._follow = True  # paths that leave the frame grow it, until the person pans or zooms
        self._frame_time = 0.0
        self.vb.sigRangeChangedManually.connect(self._stop_following)
        self.marks = RunMarks(self.item)
        self._selected = 0
        self._slice_at: np.ndarray | None = None
        self._slice_time = 0.0
        self._minima: list[tuple[dict[str, float], float]] = []

        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.drag = StartDrag(self)  # press on a start (or Shift) and drag it: start_drag.py
        self.x_axis.activated.connect(lambda _i: self._axes_chosen(self.x_axis))
        self.y_axis.activated.connect(lambda _i: self._axes_chosen(self.y_axis))
        self._shown_axes: tuple[str, str] = ("", "")
        self.lines_box.toggled.connect(self.lines.setVisible)
        self.fit_button.clicked.connect(self._use_visible)

    # -- what is plotted --------------------------------------------------------------
    @property
    def variables(self) -> tuple[str, ...]:
        return self.objective.variables if self.objective else ()

    def axes(self) -> tuple[str, ...]:
        """The plotted variables: (x,) for one variable, (x, y) otherwise."""
        names = self.variables
        if len(names) <= 2:
            return names
        return (self.x_axis.currentText(), self.y_axis.currentText())

    def set_problem(self, problem: Problem) -> None:
        """A new loss, view, slice or set of runs. The background (the only expensive step) is recomputed
        only when the loss, its view or its slice changed; new starts alone are drawn at once."""
        objective, scenario = problem.objective, problem.scenario
        before = self.slice_point()
        same = (objective is self.objective and self.scenario is not None
                and all(scenario.range_of(v) == self.scenario.range_of(v) for v in objective.variables))
        changed_vars, new_loss = objective.variables != self.variables, objective is not self.objective
        self.objective, self.scenario, self._minima, self._caption = objective, scenario, problem.minima, problem.caption
        self.dim_runs(list(problem.dimmed))
        if not same:  # following the runs again, in the view chosen; a new loss framed on what matters in it
            points = [*self._starts(), *(point for point, _ in self._minima), *self._ends()] if new_loss else []
            self._frame, self._follow = grown(self._view(), points), True
        if same and (len(self.variables) <= 2 or self.slice_point() == before):
            self._show_minima(self.axes())
            self._show_planned()
            return
        if changed_vars:
            names = objective.variables
            for combo, default in ((self.x_axis, 0), (self.y_axis, 1)):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(list(names))
                combo.setCurrentIndex(min(default, len(names) - 1))
                combo.blockSignals(False)
        many = len(objective.variables) > 2
        for w in (self.axis_label, self.x_axis, self.y_axis):
            w.setVisible(many)
        self.lines_box.setVisible(len(objective.variables) >= 2)
        self.arrows_box.setVisible(len(objective.variables) >= 2)
        self._recompute(reset_range=True)
        self.axes_changed.emit(self.axes())

    def slice_point(self) -> dict[str, float]:
        """Where the variables not on the axes are held (the selected run's start, or where it stands)."""
        if self._slice_at is not None:
            return dict(zip(self.variables, map(float, self._slice_at)))
        if self.scenario and self.scenario.runs:
            spec = self.scenario.runs[min(self._selected, len(self.scenario.runs) - 1)]
            return {v: spec.start.get(v, float(np.mean(self.scenario.range_of(v)))) for v in self.variables}
        return {}

    def _recompute(self, reset_range: bool = False) -> None:
        """Ask for the background of the current loss, axes, view and slice (computed in the field service's
        thread: see _field_ready); everything cheap is drawn at once."""
        objective, scenario = self.objective, self.scenario
        self._shown_axes = (self.x_axis.currentText(), self.y_axis.currentText())
        if objective is None or scenario is None:
            return
        axes = self.axes()
        ranges = tuple(self.range_of(a) for a in axes)
        self._awaiting = FieldRequest(objective, axes, ranges, self.slice_point() if len(axes) == 2 else {})
        self.fields.request(self._awaiting)
        if reset_range:
            self.hold.hold()
        if (len(axes) == 1) != (self.field is None):  # from a curve to a field or back: the old picture cannot stay
            self._show_background(None, None)
        show_labels(self.item, bottom=axes[0], left="loss" if len(axes) == 1 else axes[1])
        self._set_note("computing the landscape…")
        self.gradient.update(anew=True)
        self._show_minima(axes)
        self._show_planned()
        self.range_bar.show_ranges(axes, {a: self.range_of(a) for a in axes})
        if reset_range:
            self._reset_pending = len(axes) == 1  # a curve's loss range is known once it is computed
            self.vb.setRange(xRange=ranges[0], yRange=ranges[1] if len(axes) == 2 else self._y_range(axes), padding=0)
            self.marks.retrace()  # cells follow the new view: paths are traced again
        else:
            self.marks.redraw()
        self.refresh()

    @property
    def computing(self) -> bool:
        """The full background (and the arrows, when shown) of the current loss, view and slice is not drawn yet."""
        return self._awaiting is not None or self._ahead.pending() or self.gradient.awaited

    def _field_ready(self, result: FieldResult) -> None:
        if result.request is not self._awaiting:
            return  # a request overtaken by a newer one
        if not result.preview:
            self._awaiting = None
        if result.error:
            self.hold.release()
            self._set_note(f"the landscape cannot be drawn here ({result.error[:120]})")
            return
        self._show_background(result.field, result.curve)
        axes = result.request.axes
        if result.curve is not None and self._reset_pending:
            self.vb.setRange(xRange=result.request.ranges[0], yRange=self._y_range(axes), padding=0)
            self._reset_pending = result.preview
        note = ""
        if result.field is not None:
            note = "log-spaced levels" if result.field.log else "evenly spaced levels"
            if len(self.variables) > 2:
                note += " · slice through " + ", ".join(f"{k}={v:.3g}" for k, v in result.request.fixed.items() if k not in axes)
        if result.preview or result.sampled_rows:  # (runs use every row; a costly loss is drawn over a sample)
            note = (f"preview{result.rows_note()}, computing the full picture… " if result.preview else
                    f"drawn{result.rows_note()} · ") + note
        self._set_note(note)
        self._ahead.later("ahead", self._draw_ahead)  # (what the paint would make, before it, after this turn's ~5 ms)

    def _draw_ahead(self) -> None:
        draw_ahead(self.item, [self.image], [self.lines.curve])  # (not in the paint's turn: paint_ahead.py)
        self.hold.release()

    def _show_background(self, field: Field | None, line: tuple[np.ndarray, np.ndarray] | None) -> None:
        """A field (shade and contour lines), a curve, or nothing."""
        self.field = field
        self.curve_item.setData(*(line if line is not None else ([], [])))
        if field is None:
            self.image.clear()
            self.lines.setData([], [])
            if line is not None:
                self.arrows.setData([], [])
            return
        finite = field.shade[np.isfinite(field.shade)]
        levels = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        self.image.setImage(field.shade, levels=levels if levels[1] > levels[0] else (levels[0], levels[0] + 1))
        (x0, x1), (y0, y1) = (field.xs[0], field.xs[-1]), (field.ys[0], field.ys[-1])
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.lines.setData(field.lines_x, field.lines_y)

    def _set_note(self, text: str) -> None:
        text = " · ".join(part for part in (text.strip(), self._caption) if part)
        self.note.setText(text)
        self.note.setToolTip(text)

    def _y_range(self, axes: tuple[str, ...]) -> tuple[float, float]:
        if len(axes) == 2:
            return self.range_of(axes[1])
        _, ys = self.curve_item.getData()
        finite = ys[np.isfinite(ys)] if ys is not None else np.empty(0)
        if not finite.size:
            return (0.0, 1.0)
        low, high = float(finite.min()), float(finite.max())
        pad = 0.05 * (high - low or 1.0)
        return (low - pad, high + pad)

    def _show_minima(self, axes: tuple[str, ...]) -> None:
        points = []
        for point, loss in self._minima:
            if all(a in point for a in axes):
                points.append((point[axes[0]], loss if len(axes) == 1 else point[axes[1]]))
        self.minima.setData(pos=points if points else np.empty((0, 2)))

    def _show_planned(self) -> None:
        """Where each run will start (its start, or its seeded draw), while nothing has run. Runs on
        scaled data columns are left out: their parameters are in other units than the plot's."""
        axes, scenario = self.axes(), self.scenario
        points, pens = [], []
        if not self.marks.buffers and scenario is not None and self.objective is not None and axes:
            columns = [self.variables.index(a) for a in axes]
            for i, spec in enumerate(scenario.runs):
                if spec.scale:
                    continue
                start = start_point(spec, scenario, self.variables)
                y = float(self.objective.loss(*start)) if len(axes) == 1 else start[columns[1]]
                points.append((start[columns[0]], y))
                pens.append(marker_pen(run_color(scenario, i), 2, style=Qt.PenStyle.DashLine))
        self.planned.setData(pos=np.array(points, dtype=float).reshape(-1, 2), pen=pens or None)

    # -- overlays (insight tools draw their own items in data coordinates) --------------
    def add_overlay(self, item: QGraphicsItem, z: float = 15.0) -> QGraphicsItem:
        """Put an extra item (critical points, basins, restarts, arrows) on the plot; the caller owns it."""
        item.setZValue(z)
        self.item.addItem(item)
        return item

    # -- runs -------------------------------------------------------------------------
    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        self.marks.set_runs(buffers, colors)
        self._slice_at = None
        self._show_planned()

    def dim_runs(self, dimmed: list[bool]) -> None:
        self.marks.dim(dimmed)

    def set_selected(self, index: int) -> None:
        self._selected = max(index, 0)
        self.marks.select(self._selected)

    def refresh(self, part: tuple[int, int] = (0, 1)) -> None:
        """Called on the redraw timer: extend paths and move markers of runs that advanced (O(new rows); many runs'
        paths in parts: RunMarks.refresh)."""
        axes = self.axes()
        if not axes or self.objective is None:
            return
        self.marks.refresh(axes, self.variables, self._new_track, self._tangent, part)
        if not self._maybe_reslice():
            self._maybe_follow(axes)

    def _new_track(self) -> Track:
        (x0, x1), (y0, y1) = self.vb.viewRange()
        sx, sy = (x1 - x0) or 1.0, (y1 - y0) or 1.0
        return Track((sx / CELLS, sy / CELLS), ((x0 + x1) / 2, (y0 + y1) / 2), (sx, sy))

    def _tangent(self, x: float, y: float) -> tuple[list[float], list[float]] | None:
        """The tangent of a loss of one variable at (x, y): a short dashed segment."""
        slope = float(self.objective.grad(x)[0])
        low, high = self.range_of(self.variables[0])
        half = 0.08 * (high - low)
        if not (np.isfinite(slope) and np.isfinite(y)):
            return None
        return [x - half, x + half], [y - slope * half, y + slope * half]

    def shutdown(self) -> None:
        """Stop the background threads (idempotent)."""
        self.fields.shutdown()
        self.gradient.shutdown()

    # -- interaction ------------------------------------------------------------------
    def _axes_chosen(self, chosen: QComboBox) -> None:
        """The same variable on both axes draws nothing: the other axis takes the one it replaced."""
        other = self.y_axis if chosen is self.x_axis else self.x_axis
        if chosen.currentText() == other.currentText():
            before = self._shown_axes[0 if chosen is self.x_axis else 1]
            other.blockSignals(True)
            other.setCurrentText(before)
            other.blockSignals(False)
        self._recompute(reset_range=True)
        self.axes_changed.emit(self.axes())

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.objective is None:
            return
        if not self.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = self.vb.mapSceneToView(event.scenePos())
        axes = self.axes()
        values = {axes[0]: float(point.x())}
        if len(axes) == 2:
            values[axes[1]] = float(point.y())
        event.accept()
        self.start_clicked.emit(values)
