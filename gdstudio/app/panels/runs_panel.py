"""The runs: a table with each run's colour and live status, add/duplicate/remove,
and the editor of the selected run below it, then the stop rules."""

from __future__ import annotations

from dataclasses import replace

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton, QScrollArea, QTreeWidget,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from ...core.scenario import MAX_RUNS, RunSpec, Scenario
from ..buffers import GRAD_NORM, LOSS, RunBuffer
from ..document import PALETTE, Change, run_color
from .run_editor import RunEditor
from .stop_rules import StopRulesBox

if TYPE_CHECKING:
    from ..session import StudioSession

COLUMNS = ("run", "steps", "loss", "‖∇‖", "status")
WIDEST = ("■ SGD + momentum", "1,000,000", "-8.88e-16", "8.88e-16", "max_steps")


def swatch(color: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def number(value: float) -> str:
    return f"{value:.3g}"  # the full value is in the status bar and the hover text


class RunsPanel(QWidget):
    """Lists the document's runs and edits the selected one."""

    def __init__(self, session: StudioSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.document = document = session.document
        self.table = QTreeWidget(objectName="runsTable")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.header()  # fixed widths: live numbers never trigger a relayout by content
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(40)
        metrics = self.table.fontMetrics()
        for column, sample in enumerate(WIDEST):  # wide enough for typical contents, measured in this font
            self.table.setColumnWidth(column, metrics.horizontalAdvance(sample) + 16)
        self.table.setMaximumHeight(150)
        self.add_button = QPushButton("Add", objectName="addRun", toolTip="add a run (gradient descent)")
        self.duplicate_button = QPushButton("Duplicate", objectName="duplicateRun", toolTip="copy the selected run")
        self.remove_button = QPushButton("Remove", objectName="removeRun", toolTip="remove the selected run")
        self.editor = RunEditor()
        self.stop_box = StopRulesBox()
        buttons = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.remove_button):
            buttons.addWidget(button)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        inner_layout.setContentsMargins(0, 0, 0, 0)
        inner_layout.addWidget(self.editor)
        inner_layout.addWidget(self.stop_box)
        scroll = QScrollArea()
        scroll.setWidget(inner)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(scroll, 1)

        self._variables: tuple[str, ...] = ()
        self.add_button.clicked.connect(self.add_run)
        self.duplicate_button.clicked.connect(self.duplicate_run)
        self.remove_button.clicked.connect(self.remove_run)
        self.table.currentItemChanged.connect(self._selected)
        self.editor.run_edited.connect(lambda spec: self.document.update_run(self.current(), **vars(spec)))
        self.stop_box.edited.connect(lambda rules: self.document.update(Change.STOP, stop=rules))
        for signal in (document.replaced, document.runs_changed, document.data_changed):
            signal.connect(self._show_runs)
        for signal in (document.replaced, document.stop_changed):
            signal.connect(lambda scenario: self.stop_box.show_rules(scenario.stop))
        session.selection_changed.connect(self.select)
        self._show_runs(document.scenario)
        self.stop_box.show_rules(document.scenario.stop)

    def natural_width(self) -> int:
        """Width at which every column shows in full (the window sizes the dock to it)."""
        margins = self.layout().contentsMargins()
        return sum(self.table.columnWidth(c) for c in range(len(COLUMNS))) + 8 + margins.left() + margins.right()

    def current(self) -> int:
        item = self.table.currentItem()
        return self.table.indexOfTopLevelItem(item) if item is not None else -1

    def select(self, index: int) -> None:
        if 0 <= index < self.table.topLevelItemCount():
            self.table.setCurrentItem(self.table.topLevelItem(index))

    def set_variables(self, variables: tuple[str, ...]) -> None:
        """The loss's variables (start fields follow them)."""
        self._variables = variables
        self._show_current()

    def _show_runs(self, scenario: Scenario) -> None:
        keep = max(self.current(), 0)
        self.table.blockSignals(True)
        while self.table.topLevelItemCount() > len(scenario.runs):
            self.table.takeTopLevelItem(self.table.topLevelItemCount() - 1)
        for i, spec in enumerate(scenario.runs):
            item = self.table.topLevelItem(i) or QTreeWidgetItem(self.table)
            if item.text(0) != spec.label:
                item.setText(0, spec.label)
                for column in range(1, len(COLUMNS)):
                    item.setText(column, "")
            item.setIcon(0, swatch(run_color(scenario, i)))
        self.select(min(keep, len(scenario.runs) - 1))
        self.table.blockSignals(False)
        self._selected()
        count = len(scenario.runs)
        self.duplicate_button.setEnabled(0 < count < MAX_RUNS)
        self.add_button.setEnabled(count < MAX_RUNS)
        self.remove_button.setEnabled(count > 0)

    def unapplied_edit(self) -> str | None:
        """A run or stop setting on screen that failed its check (the document keeps the value before it)."""
        for problem in (self.editor.problem.text(), self.stop_box.problem.text()):
            if problem:
                return f"a setting shown is not valid ({problem.removeprefix('✖ ')})"
        return None

    def show_status(self, buffers: list[RunBuffer], paused: bool = False) -> None:
        """Live numbers per run (called on the redraw timer); runs still going say "paused" while paused."""
        for i, buffer in enumerate(buffers):
            item = self.table.topLevelItem(i)
            if item is None:
                break
            last = buffer.last()
            texts = [(4, "paused" if paused and buffer.status == "running" else buffer.status)]
            if last is not None:
                texts += [(1, f"{buffer.steps_done:,}"), (2, number(last[LOSS])), (3, number(last[GRAD_NORM]))]
            for column, text in texts:  # only cells that changed: each setText re-lays out the table
                if item.text(column) != text:
                    item.setText(column, text)
            if item.toolTip(4) != buffer.reason:
                item.setToolTip(4, buffer.reason)
                item.setToolTip(0, buffer.reason)

    def clear_status(self) -> None:
        for i in range(self.table.topLevelItemCount()):
            for column in range(1, len(COLUMNS)):
                self.table.topLevelItem(i).setText(column, "")

    def _selected(self) -> None:
        self._show_current()
        self.session.select(self.current())

    def _show_current(self) -> None:
        scenario, index = self.document.scenario, self.current()
        if 0 <= index < len(scenario.runs):
            columns = scenario.data.dataset.columns if scenario.data else ()
            self.editor.show_run(scenario.runs[index], self._variables, run_color(scenario, index), columns)
        else:
            self.editor.show_run(None, self._variables, PALETTE[0])

    def add_run(self) -> None:
        scenario = self.document.scenario
        start = dict(scenario.runs[self.current()].start) if scenario.runs else {}
        self.session.add_run(RunSpec(label=f"run {len(scenario.runs) + 1}", optimizer="gd", start=start))

    def duplicate_run(self) -> None:
        scenario, index = self.document.scenario, self.current()
        if 0 <= index < len(scenario.runs):
            spec = scenario.runs[index]
            self.session.add_run(replace(spec, label=f"{spec.label} copy", color=None))

    def remove_run(self) -> None:
        index = self.current()
        runs = list(self.document.scenario.runs)
        if 0 <= index < len(runs):
            fixed = [replace(r, color=run_color(self.document.scenario, i)) for i, r in enumerate(runs)]
            del fixed[index]
            self.document.set_runs(fixed)
            self.select(min(index, len(fixed) - 1))
