"""Sweeps: final loss or steps-to-tolerance over learning rate (log axis) × one other hyper-parameter,
for the selected run's optimizer and start, as a heatmap; a click on a cell creates that run. Below,
the 1-D learning-rate sweep: final loss against lr, log-log ("too small / just right / too large"); a click
on a point creates that run too. An optimizer with nothing but lr to sweep (gd) gets only the curve.

Both are computed off the GUI thread with a progress bar and Cancel."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QProgressBar,
                               QPushButton, QSizePolicy, QSpinBox, QSplitter, QVBoxLayout, QWidget)

from ...core import outcomes as K
from ...core.optimizers import optimizer
from ...core.scenario import (SWEEP_CELLS_LIMITS, SWEEP_LR_LIMITS, SWEEP_METRICS, SWEEP_OTHER_LIMITS, SWEEP_STEPS_LIMITS,
                              RunSpec)
from ..paint_later import PaintAfterTimers
from .sweep_plots import heatmap, lr_curve, status_brushes
from .common import compact_hyper, fmt, show_value
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ...core.sweeps import Sweep2D, SweepResult
    from ..session import StudioSession


def default_range(param: str) -> tuple[float, float]:
    return {"momentum": (0.0, 0.99), "beta1": (0.0, 0.99), "beta2": (0.9, 0.9999), "alpha": (0.5, 0.999),
            "rho": (0.5, 0.99), "dampening": (0.0, 0.9), "damping": (0.0, 1.0)}.get(param, (0.0, 0.1))


class SweepDialog(QDialog):
    run_created = Signal(int)

    def __init__(self, session: StudioSession, tasks: TaskRunner, parent: QWidget | None = None,
                 plots: tuple[tuple, tuple] | None = None) -> None:
        """`plots`: the heatmap's and the curve's (sweep_plots.heatmap(), lr_curve()), when made ahead."""
        super().__init__(parent)
        self.setObjectName("sweepDialog")
        PaintAfterTimers(self)  # (its two plots' changes are painted together, in a turn of their own: paint_later.py)
        self.setWindowTitle("Sweeps: learning rate × hyper-parameter")
        self.session, self.tasks = session, tasks
        self.sweep: Sweep2D | None = None
        self.curve_result: SweepResult | None = None
        self.spec: RunSpec | None = None  # the selected run, which the next Compute sweeps
        self.swept: RunSpec | None = None  # the run the results shown are of (a click adds a variant of it)

        self.heading = QLabel(objectName="sweepHeading")
        self.heading.setWordWrap(True)
        self.param = QComboBox(objectName="sweepParam")
        self.metric_box = QComboBox(objectName="sweepMetric")
        self.metric_box.addItems([m.replace("_", " ") for m in SWEEP_METRICS])
        self.lr_low = self._spin("lrLow", SWEEP_LR_LIMITS)
        self.lr_high = self._spin("lrHigh", SWEEP_LR_LIMITS)
        self.p_low = self._spin("paramLow", SWEEP_OTHER_LIMITS, log=False)
        self.p_high = self._spin("paramHigh", SWEEP_OTHER_LIMITS, log=False)
        self.cells = QSpinBox(objectName="sweepSize", minimum=SWEEP_CELLS_LIMITS[0], maximum=SWEEP_CELLS_LIMITS[1])
        self.steps = QSpinBox(objectName="sweepSteps", minimum=SWEEP_STEPS_LIMITS[0], maximum=SWEEP_STEPS_LIMITS[1], singleStep=100)
        self.show_settings()
        self.go = QPushButton("Compute", objectName="sweepGo")
        self.cancel_button = QPushButton("Cancel", objectName="sweepCancel", enabled=False)
        self.progress = QProgressBar(objectName="sweepProgress")
        self.progress.setTextVisible(True)
        form = QFormLayout()
        lr_row = QHBoxLayout()
        for w in (self.lr_low, QLabel("to"), self.lr_high):
            lr_row.addWidget(w)
        p_row = QHBoxLayout()
        for w in (self.param, QLabel("from"), self.p_low, QLabel("to"), self.p_high):
            p_row.addWidget(w)
        form.addRow("learning rate (log)", lr_row)
        form.addRow("second axis", p_row)
        grid_row = QHBoxLayout()
        for w in (self.cells, QLabel("steps"), self.steps, QLabel("show"), self.metric_box):
            grid_row.addWidget(w)
        form.addRow("cells per axis", grid_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.progress, 1)
        buttons.addWidget(self.go)
        buttons.addWidget(self.cancel_button)

        made_heatmap, made_curve = plots or (heatmap(), lr_curve())
        self.heat, self.heat_item, self.image, self.bar = made_heatmap
        self.curve, self.curve_item, self.curve_line = made_curve
        self.hover = QLabel(objectName="sweepHover")
        self.hover.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # new text never relayouts the plots
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.heat)
        plots.addWidget(self.curve)
        plots.setSizes([420, 220])

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(plots, 1)
        layout.addWidget(self.hover)
        self.resize(760, 860)

        self.param.currentTextChanged.connect(self._param_chosen)
        self.metric_box.currentIndexChanged.connect(self._metric_chosen)
        for box in (self.lr_low, self.lr_high):
            box.valueChanged.connect(self._lr_edited)
        for box in (self.p_low, self.p_high):
            box.valueChanged.connect(self._range_edited)
        self.cells.valueChanged.connect(lambda v: session.set_sweep(cells=v))
        self.steps.valueChanged.connect(lambda v: session.set_sweep(steps=v))
        self.go.clicked.connect(self.compute)
        self.cancel_button.clicked.connect(self.cancel)
        self.heat.scene().sigMouseClicked.connect(self._clicked)
        self.heat.scene().sigMouseMoved.connect(self._moved)
        self.curve_line.sigPointsClicked.connect(self._point_clicked)

    @staticmethod
    def _spin(name: str, limits: tuple[float, float], log: bool = True) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(objectName=name, decimals=6 if log else 4, minimum=limits[0], maximum=limits[1])
        if log:
            spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        return spin

    # -- the scenario's sweep settings ------------------------------------------------
    def show_settings(self) -> None:
        """The boxes show the document's settings (a document was opened or reset)."""
        sweep = self.session.insight.sweep
        for box, value in ((self.lr_low, sweep.lr[0]), (self.lr_high, sweep.lr[1]), (self.cells, sweep.cells),
                           (self.steps, sweep.steps)):
            show_value(box, value)
        self.metric_box.blockSignals(True)
        self.metric_box.setCurrentIndex(SWEEP_METRICS.index(sweep.metric))
        self.metric_box.blockSignals(False)
        names = [self.param.itemText(i) for i in range(self.param.count())]
        if names:
            self._fill_params(names)

    def _fill_params(self, names: list[str]) -> None:
        """The optimizer's parameters, the scenario's one chosen when it has it."""
        self.param.blockSignals(True)
        self.param.clear()
        self.param.addItems(names or ["(none)"])
        chosen = self.session.insight.sweep.param
        if chosen in names:
            self.param.setCurrentText(chosen)
        self.param.blockSignals(False)
        self._show_range(self.param.currentText())
        for widget in (self.param, self.p_low, self.p_high, self.metric_box):
            widget.setEnabled(bool(names))
        self.heat.setVisible(bool(names))
        self.hover.setText(self._hint())

    def _hint(self) -> str:
        return f"click a {'cell or ' if self.heat.isVisibleTo(self) else ''}point on the curve to add that run to the scenario"

    def _show_range(self, name: str) -> None:
        sweep = self.session.insight.sweep
        low, high = sweep.other if sweep.param == name and sweep.other is not None else default_range(name)
        show_value(self.p_low, low)
        show_value(self.p_high, high)

    def _can_sweep(self, name: str) -> bool:
        return self.spec is not None and name in optimizer(self.spec.optimizer).sweepable()

    def _param_chosen(self, name: str) -> None:
        if self._can_sweep(name):
            sweep = self.session.insight.sweep
            self.session.set_sweep(param=name, other=sweep.other if sweep.param == name else None)
        self._show_range(name)

    def _metric_chosen(self, index: int) -> None:
        self.session.set_sweep(metric=SWEEP_METRICS[index])
        self._draw()

    def _lr_edited(self) -> None:
        low, high = self.lr_low.value(), self.lr_high.value()
        if low < high:  # (while one end is being typed past the other, the file keeps the last valid range)
            self.session.set_sweep(lr=(low, high))

    def _range_edited(self) -> None:
        name, low, high = self.param.currentText(), self.p_low.value(), self.p_high.value()
        if low < high and self._can_sweep(name):
            self.session.set_sweep(param=name, other=(low, high))

    # -- the run the sweep is about ---------------------------------------------------
    def prepare(self) -> bool:
        """Take the selected run's optimizer, settings and start; False when there is nothing to sweep."""
        objective, spec = self.session.selected_loss(), self.session.selected()
        if objective is None or spec is None:
            self.heading.setText("Select a run first.")
            return False
        same = self.spec is not None and self.spec.optimizer == spec.optimizer
        self.spec = spec
        names = optimizer(spec.optimizer).sweepable()
        if same and [self.param.itemText(i) for i in range(self.param.count())] == (names or ["(none)"]):
            names = None  # the same choices: keep the combo and ranges as the user left them
        if names is not None:
            self._fill_params(names)
        start = self.session.start(spec, objective)
        where = ", ".join(f"{n}={fmt(v)}" for n, v in zip(objective.variables, start))
        heading = f"<b>{spec.label}</b> ({spec.optimizer}) from ({where}) on {objective.text}"
        if self.heading.text() != heading:
            self.heading.setText(heading)
        if self.sweep is None:
            self._empty_axes()
        return True

    def _empty_axes(self) -> None:
        """Before a Compute, the heatmap's axes span the ranges it will cover (not pyqtgraph's 0 to 1)."""
        low, high = self.lr_low.value(), self.lr_high.value()
        if 0 < low < high:
            self.heat_item.setRange(xRange=(math.log10(low), math.log10(high)),
                                    yRange=(self.p_low.value(), self.p_high.value()), padding=0)
        self.heat_item.setLabels(left=self.param.currentText())

    # -- computing ----------------------------------------------------------------------
    def compute(self) -> None:
        if not self.prepare():
            return
        from ...core.plan import RunPlan  # (prepared: the loss, and so the engine, are loaded)
        from ...core.sweeps import log_rates, lr_sweep, sweep_2d, sweep_chunk

        objective, spec = self.session.loss_of(self.spec), self.spec
        start = self.session.start(spec, objective)
        try:
            lrs = log_rates(self.lr_low.value(), self.lr_high.value(), self.cells.value())
        except ValueError as error:
            self.hover.setText(str(error))
            return
        name = self.param.currentText()
        values = np.linspace(self.p_low.value(), self.p_high.value(), self.cells.value()) if name in optimizer(spec.optimizer).sweepable() else None
        stop = replace(self.session.scenario.stop, max_steps=self.steps.value())
        plan = RunPlan(objective, spec, stop)

        def work(task):  # (chunks of steps: the bar moves, and a cancel or closing the window is obeyed at once)
            def cancel() -> bool:
                return task.cancelled

            curve = lr_sweep(plan, start, lrs, cancel=cancel,
                             chunk_steps=sweep_chunk(len(lrs)), progress=None if values is not None else task.report)
            if values is None:
                return curve, None
            grid = sweep_2d(plan, start, lrs, name, values, progress=task.report, cancel=cancel, rows_per_call=len(values),
                            chunk_steps=sweep_chunk(len(values) * len(lrs)))
            return curve, grid

        self.swept = spec
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.go.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.hover.setText("computing…")
        self.tasks.start("sweep", work, self._done, self._failed, self._progress, exclusive=True)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def cancel(self) -> None:
        self.tasks.cancel("sweep")
        self.go.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.hover.setText("cancelled")

    def _failed(self, error: str) -> None:
        self.go.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.hover.setText(f"cannot sweep: {error}")

    def _done(self, result) -> None:
        self.curve_result, self.sweep = result
        self.go.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setValue(self.progress.maximum())
        self._draw()
        self._draw_curve()
        self.hover.setText(self._hint())

    def loss_changed(self) -> None:
        """Results of the old loss go (a sweep of it still running is cancelled); the heading follows, when shown."""
        if self.tasks.busy("sweep"):
            self.cancel()
        self.sweep = self.curve_result = None
        self.image.clear()
        self.curve_line.setData([], [])
        self.progress.setValue(0)
        if self.isVisible():  # (else opening it prepares it: ~2 ms a loss typed, for a dialog nobody sees)
            self.prepare()
        self.hover.setText(self._hint())

    def done_computing(self) -> bool:
        return not self.tasks.busy("sweep")

    # -- drawing ----------------------------------------------------------------------
    def _draw(self) -> None:
        r = self.sweep
        if r is None:
            return
        by_steps = self.metric_box.currentIndex() == 1
        with np.errstate(all="ignore"):
            z = r.steps_to_tolerance if by_steps else np.log10(np.maximum(r.final_loss - np.nanmin(r.final_loss), 0) + 1e-12)
        z = np.where(r.status == K.DIVERGED, np.nan, z).astype(np.float64)
        finite = z[np.isfinite(z)]
        levels = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if levels[1] <= levels[0]:
            levels = (levels[0], levels[0] + 1)
        self.image.setImage(z, levels=levels)
        self.bar.setLevels(levels)
        lo, hi = math.log10(r.lrs[0]), math.log10(r.lrs[-1])
        dl = (hi - lo) / max(len(r.lrs) - 1, 1)
        p = r.param_values.astype(np.float64)
        dp = (p[-1] - p[0]) / max(len(p) - 1, 1) or 1.0
        self.image.setRect(QRectF(lo - dl / 2, p[0] - dp / 2, dl * len(r.lrs), dp * len(p)))
        label = "steps to tolerance (blank: never)" if by_steps else "log₁₀(final loss − best) (blank: diverged)"
        self.heat_item.setLabels(left=r.param_name)
        self.heat_item.setTitle(label, size="9pt")
        self.heat_item.autoRange(padding=0)

    def _draw_curve(self) -> None:
        c = self.curve_result
        if c is None:
            return
        loss = np.where(np.isfinite(c.final_loss), c.final_loss, np.nan)
        finite = np.isfinite(loss)
        positive = bool(finite.any() and np.all(loss[finite] > 0))
        self.curve_item.setLogMode(x=True, y=positive)
        self.curve_line.setData(c.lrs[finite], loss[finite], symbolBrush=status_brushes(c.status[finite]))
        self.curve_item.setLabels(left="final loss" + (" (log)" if positive else ""))
        self.curve_item.setTitle("final loss vs lr — green: converged · orange: step limit · red: diverged", size="9pt")

    # -- cells ------------------------------------------------------------------------
    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(row, column) of the heatmap cell at data coordinates (log10 lr, param)."""
        r = self.sweep
        if r is None:
            return None
        rect = self.image.mapRectToParent(self.image.boundingRect())
        if not rect.contains(x, y):
            return None
        column = int((x - rect.left()) / rect.width() * len(r.lrs))
        row = int((y - rect.top()) / rect.height() * len(r.param_values))
        return min(row, len(r.param_values) - 1), min(column, len(r.lrs) - 1)

    def _scene_cell(self, pos) -> tuple[int, int] | None:
        vb = self.heat_item.vb
        if not vb.sceneBoundingRect().contains(pos):
            return None
        point = vb.mapSceneToView(pos)
        return self.cell_at(point.x(), point.y())

    def _moved(self, pos) -> None:
        cell = self._scene_cell(pos)
        if cell is None or self.sweep is None:
            return
        r, (row, column) = self.sweep, cell
        steps = r.steps_to_tolerance[row, column]
        self.hover.setText(f"lr {fmt(r.lrs[column])}, {r.param_name} {fmt(float(r.param_values[row]))}: "
                           f"final loss {fmt(r.final_loss[row, column])}, {r.status_names[row, column]}"
                           + (f" after {int(steps)} steps" if np.isfinite(steps) else "") + " — click to add this run")

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self._scene_cell(event.scenePos())
        if cell is not None:
            event.accept()
            self.create_run(*cell)

    def _point_clicked(self, _item, points, _event) -> None:
        if len(points):
            self.create_lr_run(int(points[0].index()))

    def create_run(self, row: int, column: int) -> int:
        """Add the cell's run to the scenario (the selected run with that lr and parameter)."""
        r = self.sweep
        hyper = r.hyper_at(row, column)
        return self._add_run(hyper, f"lr={fmt(hyper['lr'])} {r.param_name}={fmt(float(r.param_values[row]))}")

    def create_lr_run(self, index: int) -> int:
        """Add the run of the curve's index-th drawn point (the selected run with that lr)."""
        c = self.curve_result
        lr = float(c.lrs[np.isfinite(c.final_loss)][index])  # (the curve leaves out non-finite losses)
        return self._add_run({**self.session.hyper(self.spec), "lr": lr}, f"lr={fmt(lr)}")

    def _add_run(self, hyper: dict, settings: str) -> int:
        label = f"{self.swept.optimizer} {settings}"
        index = self.session.add_variant(self.swept, label, compact_hyper(self.swept.optimizer, hyper))
        self.hover.setText(f"added “{label}” to the scenario")
        self.run_created.emit(index)
        return index

    def closeEvent(self, event) -> None:
        self.tasks.cancel("sweep")
        self.go.setEnabled(True)
        self.cancel_button.setEnabled(False)
        super().closeEvent(event)
