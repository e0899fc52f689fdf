"""The selected run's settings: label, colour, optimizer and its generated form,
schedule, clipping, start point and seed; with data, the batch size (full batch,
stochastic, mini-batch of k rows), sampling with or without replacement and each
column's scaling.

Every finished edit is validated with the registry's own `check` and, when it
passes, written to the document as a new RunSpec; a bad value shows the core's
message (`lr: must be > 0, got -1`) under the form and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QCheckBox, QColorDialog, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget)

from ...core.optimizers import OPTIMIZERS
from ...core.scenario import RunSpec
from ...core.schedules import SCHEDULES
from .formulas import TypesetLines
from .named_rows import NamedRows
from .rules_latex import RULES
from .param_form import ParamForm, finite_number, fmt

CLIPS = (("no clipping", None), ("clip ‖∇‖ to", "norm"), ("clip each ∂ to ±", "value"))
BATCHES = (("full batch (batch GD)", "full"), ("stochastic (1 row)", "sgd"), ("mini-batch of", "mini"))
SCALES = (("not scaled", None), ("standardised (z-score)", "standard"), ("min-max to [0, 1]", "minmax"))


class RunEditor(QWidget):
    """Edits one RunSpec; emits `run_edited(new_spec)` with a spec the core accepts."""

    run_edited = Signal(object)
    run_previewed = Signal(object)  # a knob is held: the spec it shows, not committed (app/live.py)
    knob_released = Signal()  # a knob was let go (its edit, if any, emitted first)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spec: RunSpec | None = None
        self._color = "#1f77b4"
        self.label = QLineEdit(objectName="runLabel")
        self.color = QPushButton(objectName="runColor", toolTip="the run's colour in every plot")
        self.color.setFixedWidth(36)
        self.optimizer = QComboBox(objectName="optimizer")
        for name, info in OPTIMIZERS.items():
            self.optimizer.addItem(info.title, name)
            self.optimizer.setItemData(self.optimizer.count() - 1, info.formula, 3)  # tooltip role
        self.formula = TypesetLines("optimizerFormula")  # the update rule, typeset
        self.hyper = ParamForm()
        self.schedule = QComboBox(objectName="schedule")
        for name, info in SCHEDULES.items():
            self.schedule.addItem(name.replace("_", " "), name)
            self.schedule.setItemData(self.schedule.count() - 1, info.formula, 3)
        self.schedule_form = ParamForm()
        self.clip_kind = QComboBox(objectName="clipKind")
        for text, kind in CLIPS:
            self.clip_kind.addItem(text, kind)
        self.clip_value = QLineEdit(objectName="clipValue", placeholderText="1.0")
        self.starts = NamedRows(self._start_edit, lambda name: f"start {name}")
        self._start_edits: dict[str, QLineEdit] = {}
        self.seed = QSpinBox(objectName="seed", maximum=2**31 - 1, toolTip="seeds the random start of variables left empty")
        self.problem = QLabel(objectName="runProblem", wordWrap=True, styleSheet="color: #d62728;")
        self.batch_kind = QComboBox(objectName="batchKind", toolTip="rows per step: all of them, one, or k drawn at random")
        for text, kind in BATCHES:
            self.batch_kind.addItem(text, kind)
        self.batch_size = QSpinBox(objectName="batchSize", minimum=2, maximum=1_000_000, value=32, suffix=" rows")
        self.replacement = QCheckBox("draw with replacement", objectName="replacement",
                                     toolTip="off: shuffled epochs (each row once per epoch); on: rows drawn independently")
        self.scales = NamedRows(self._scale_box, lambda name: f"scale {name}")
        self._scale_boxes: dict[str, QComboBox] = {}  # (one per data column; none without data)

        name_row = QHBoxLayout()
        name_row.addWidget(self.label, 1)
        name_row.addWidget(self.color)
        opt = QGroupBox("Optimizer")
        opt_layout = QVBoxLayout(opt)
        opt_layout.addWidget(self.optimizer)
        opt_layout.addWidget(self.formula)
        opt_layout.addWidget(self.hyper)
        sched = QGroupBox("Learning-rate schedule")
        sched_layout = QVBoxLayout(sched)
        sched_layout.addWidget(self.schedule)
        sched_layout.addWidget(self.schedule_form)
        other = QGroupBox("Start, seed, clipping")
        other_layout = QFormLayout(other)
        other_layout.addRow(self.starts)
        other_layout.addRow("seed", self.seed)
        clip_row = QHBoxLayout()
        clip_row.addWidget(self.clip_kind)
        clip_row.addWidget(self.clip_value)
        other_layout.addRow(clip_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(name_row)
        layout.addWidget(opt)
        layout.addWidget(sched)
        layout.addWidget(other)
        self.data_box = QGroupBox("Data: batches and scaling", objectName="dataBox")
        data_layout = QFormLayout(self.data_box)
        batch_row = QHBoxLayout()
        batch_row.addWidget(self.batch_kind, 1)
        batch_row.addWidget(self.batch_size)
        data_layout.addRow("batch", batch_row)
        data_layout.addRow(self.replacement)
        data_layout.addRow(self.scales)
        self.data_box.setVisible(False)
        layout.addWidget(self.data_box)
        layout.addWidget(self.problem)
        layout.addStretch(1)

        self.label.editingFinished.connect(self._commit)
        self.color.clicked.connect(self._pick_color)
        self.optimizer.activated.connect(self._optimizer_chosen)
        self.hyper.edited.connect(self._commit)
        for form in (self.hyper, self.schedule_form):
            form.scrubbed.connect(self._preview)
            form.let_go.connect(self.knob_released)
        self.schedule.activated.connect(self._schedule_chosen)
        self.schedule_form.edited.connect(self._commit)
        self.clip_kind.activated.connect(self._commit)
        self.clip_value.editingFinished.connect(self._commit)
        self.seed.editingFinished.connect(self._commit)
        self.batch_kind.activated.connect(self._commit)
        self.batch_size.editingFinished.connect(self._commit)
        self.replacement.toggled.connect(self._commit)

    def show_run(self, spec: RunSpec | None, variables: tuple[str, ...], color: str, columns: tuple[str, ...] = ()) -> None:
        """Display a run (None disables the editor); `columns` are the scenario's data columns."""
        self._spec, self._color = spec, color
        self.setEnabled(spec is not None)
        self.problem.clear()
        if spec is None:
            self.label.clear()  # (no run: nothing of the last one shown)
            return
        self.label.setText(spec.label)
        self.color.setStyleSheet(f"background-color: {color};")
        self.optimizer.setCurrentIndex(self.optimizer.findData(spec.optimizer))
        info = OPTIMIZERS[spec.optimizer]
        self.formula.show_lines(RULES[spec.optimizer], info.formula)
        self.hyper.set_params(info.params, spec.hyper)
        self.schedule.setCurrentIndex(self.schedule.findData(spec.schedule))
        self.schedule_form.set_params(SCHEDULES[spec.schedule].params, spec.schedule_params)
        self.clip_kind.setCurrentIndex(self.clip_kind.findData(spec.clip_kind))
        self.clip_value.setText(fmt(spec.clip_value) if spec.clip_value is not None else "")
        self.clip_value.setEnabled(spec.clip_kind is not None)
        self.seed.setValue(min(spec.seed, self.seed.maximum()))
        self._show_start(spec, variables)
        self._show_data(spec, columns)

    def _show_data(self, spec: RunSpec, columns: tuple[str, ...]) -> None:
        self.data_box.setVisible(bool(columns))
        self._scale_boxes = self.scales.show_names(columns)  # type: ignore[assignment]
        widgets = (self.batch_kind, self.batch_size, self.replacement, *self._scale_boxes.values())
        for w in widgets:
            w.blockSignals(True)
        kind = "full" if spec.batch_size is None else "sgd" if spec.batch_size == 1 else "mini"
        self.batch_kind.setCurrentIndex(self.batch_kind.findData(kind))
        if kind == "mini":
            self.batch_size.setValue(spec.batch_size)
        self.batch_size.setEnabled(kind == "mini")
        self.replacement.setChecked(spec.replacement)
        self.replacement.setEnabled(kind != "full")
        for name, box in self._scale_boxes.items():
            box.setCurrentIndex(box.findData(spec.scale.get(name)))
        for w in widgets:
            w.blockSignals(False)

    def _scale_box(self, name: str) -> QComboBox:
        box = QComboBox(objectName=f"scale_{name}")
        for text, kind in SCALES:
            box.addItem(text, kind)
        box.setToolTip(f"how this run sees column {name}; a scaled run's parameters are in scaled units")
        box.activated.connect(self._commit)
        return box

    def _start_edit(self, name: str) -> QLineEdit:
        edit = QLineEdit(objectName=f"start_{name}", placeholderText="random")
        edit.setToolTip(f"start value of {name}; empty = a seeded random point in the view")
        edit.editingFinished.connect(self._commit)
        return edit

    def _show_start(self, spec: RunSpec, variables: tuple[str, ...]) -> None:
        self._start_edits = self.starts.show_names(variables)  # type: ignore[assignment]
        for name, edit in self._start_edits.items():
            edit.setText(fmt(spec.start[name]) if name in spec.start else "")

    def _optimizer_chosen(self) -> None:
        if self._spec is None:
            return
        name = self.optimizer.currentData()
        if name != self._spec.optimizer:  # a new optimizer starts from its own defaults
            info = OPTIMIZERS[name]
            self.formula.show_lines(RULES[name], info.formula)
            self.hyper.set_params(info.params, {})
            self._commit()

    def _schedule_chosen(self) -> None:
        if self._spec is None:
            return
        name = self.schedule.currentData()
        if name != self._spec.schedule:
            self.schedule_form.set_params(SCHEDULES[name].params, {})
            self._commit()

    def _pick_color(self) -> None:
        color = QColorDialog.getColor(QColor(self._color), self, "Run colour")
        if color.isValid() and self._spec is not None:
            self._color = color.name()
            self.color.setStyleSheet(f"background-color: {self._color};")
            self.run_edited.emit(replace(self._spec, color=self._color))

    def build(self) -> RunSpec:
        """The spec the form shows; raises ValueError with the core's message."""
        assert self._spec is not None
        optimizer = self.optimizer.currentData()
        hyper = self.hyper.values()
        OPTIMIZERS[optimizer].check(hyper)
        schedule = self.schedule.currentData()
        schedule_params = self.schedule_form.values()
        SCHEDULES[schedule].check(schedule_params)
        clip_kind = self.clip_kind.currentData()
        self.clip_value.setEnabled(clip_kind is not None)
        clip_value = None
        if clip_kind is not None:
            text = self.clip_value.text() or "1.0"
            clip_value = finite_number(text, "clip")
            if not clip_value > 0:
                raise ValueError(f"clip: must be a positive number, got {text}")
        start = {k: v for k, v in self._spec.start.items() if k not in self._start_edits}  # other losses' starts
        for name, edit in self._start_edits.items():
            text = edit.text().strip()
            if text:
                start[name] = finite_number(text, f"start {name}")
        label = self.label.text().strip() or optimizer
        batch_size, replacement, scale = self._spec.batch_size, self._spec.replacement, dict(self._spec.scale)
        if self._scale_boxes:  # (the loss has data columns)
            kind = self.batch_kind.currentData()
            self.batch_size.setEnabled(kind == "mini")
            self.replacement.setEnabled(kind != "full")
            batch_size = {"full": None, "sgd": 1, "mini": self.batch_size.value()}[kind]
            replacement = self.replacement.isChecked() and batch_size is not None
            scale = {name: box.currentData() for name, box in self._scale_boxes.items() if box.currentData()}
        return replace(self._spec, label=label, optimizer=optimizer, hyper=hyper, schedule=schedule,
                       schedule_params=schedule_params, clip_kind=clip_kind, clip_value=clip_value,
                       start=start, seed=self.seed.value(), batch_size=batch_size, replacement=replacement, scale=scale)

    def _checked(self) -> RunSpec | None:
        """The run as the fields now say, or None (and the problem shown) when they say nothing valid."""
        if self._spec is None:
            return None
        try:
            spec = self.build()
        except ValueError as error:
            self.problem.setText(f"✖ {error}")
            return None
        self.problem.clear()
        return spec

    def _preview(self) -> None:
        if (spec := self._checked()) is not None:
            self.run_previewed.emit(spec)

    def _commit(self) -> None:
        if (spec := self._checked()) is not None and spec != self._spec:
            self._spec = spec
            self.run_edited.emit(spec)
