"""The Data menu and dock: import a CSV, generate points, remove the data set.

`DataActions(session, window, timer)` adds the "Data" dock (the data view) and menu to the window and
connects them to the session's document and runs and to the redraw timer, so the window
itself only calls one function. Every failure is shown with the file, row and
column the core names, and leaves the document as it was.

Data that the current loss cannot use (it does not parse with the new columns)
comes with a loss and model that fit it: least squares on a line or a parabola,
logistic regression (`mean(softplus(z) - label*z)`) for two blobs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDockWidget, QDoubleSpinBox, QFileDialog, QMainWindow,
                               QFormLayout, QSpinBox, QWidget)

from ...core.data import GENERATORS, MAX_ROWS, DataError, Dataset, generate, read_csv
from ...core.scenario import DataSpec, Scenario
from ..document import run_color
from ..objectives import OBJECTIVES

if TYPE_CHECKING:
    from ..session import StudioSession
    from .data_view import DataView

CSV_FILTER = "CSV files (*.csv);;All files (*)"
INLINE_ROWS = 10_000  # without a scenario file, smaller CSVs are copied into it, larger ones referenced by absolute path
NOISE_OF = {"noisy_line": "noise", "noisy_quadratic": "noise", "two_blobs": "spread"}


def _fresh(name: str, taken: set[str]) -> str:
    while name in taken:
        name = "p_" + name
    return name


def fitting_model(columns: tuple[str, ...], kind: str | None = None) -> tuple[str, str, str]:
    """(loss, model, target) that fit these columns: the target is y (or label, or the last column)."""
    taken = set(columns)
    target = "label" if kind == "two_blobs" and "label" in columns else "y" if "y" in columns else columns[-1]
    inputs = [c for c in columns if c != target] or [columns[0]]
    b = _fresh("b", taken)
    if kind == "noisy_quadratic" and len(inputs) == 1:
        a, w = _fresh("a", taken), _fresh("w", taken)
        x = inputs[0]
        model = f"{a}*{x}^2 + {w}*{x} + {b}"
    elif len(inputs) == 1:
        model = f"{_fresh('w', taken)}*{inputs[0]} + {b}"
    else:
        model = " + ".join(f"{_fresh(f'w{i}', taken)}*{x}" for i, x in enumerate(inputs, start=1)) + f" + {b}"
    if kind == "two_blobs":
        return f"mean(softplus({model}) - {target}*({model}))", f"sigmoid({model})", target
    return f"mean(({model} - {target})^2)", model, target


def loss_fits(scenario: Scenario, dataset: Dataset) -> bool:
    """Whether the scenario's loss is a loss over these columns, with no column of the old data turning
    into a parameter (a CSV of area, y under mean((w*x + b - y)^2) would fit x as a constant)."""
    try:
        objective = OBJECTIVES.get(scenario.loss, scenario.variables, dataset.columns, dataset.values)  # (kept for the editor)
    except Exception:
        return False
    old = scenario.data.dataset.columns if scenario.data else ()
    return bool(objective.columns) and not any(v in old for v in objective.variables)


def data_changes(scenario: Scenario, source: dict[str, Any], dataset: Dataset, kind: str | None = None) -> dict[str, Any]:
    """The document changes for new data: the DataSpec, and a loss/model that fit it when the loss does not."""
    old = scenario.data
    model, target = (old.model, old.target) if old else (None, None)
    changes: dict[str, Any] = {}
    if not loss_fits(scenario, dataset) or (target is not None and target not in dataset.columns):
        loss, model, target = fitting_model(dataset.columns, kind)
        changes.update(loss=loss, variables=None)
    source = {**source, **({"model": model} if model else {}), **({"target": target} if target else {})}
    return {"data": DataSpec(source, dataset, model, target), **changes}


class GenerateDialog(QDialog):
    """Kind, rows, noise and seed of a generated data set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate data")
        self.setObjectName("generateDialog")
        self.kind = QComboBox(objectName="generateKind")
        for name in GENERATORS:
            self.kind.addItem(name.replace("_", " "), name)
        self.n = QSpinBox(objectName="generateRows", minimum=1, maximum=MAX_ROWS, value=100)
        self.noise = QDoubleSpinBox(objectName="generateNoise", minimum=0.0, maximum=1e6, decimals=3, value=1.0, singleStep=0.1)
        self.seed = QSpinBox(objectName="generateSeed", minimum=0, maximum=2**31 - 1)
        form = QFormLayout(self)
        form.addRow("kind", self.kind)
        form.addRow("rows", self.n)
        form.addRow("noise", self.noise)
        form.addRow("seed", self.seed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        self.noise.setToolTip("spread of each blob" if kind == "two_blobs" else "standard deviation of the noise on y")

    def spec(self) -> dict[str, Any]:
        kind = self.kind.currentData()
        return {"kind": kind, "n": self.n.value(), NOISE_OF[kind]: self.noise.value(), "seed": self.seed.value()}


class DataActions:
    """The Data menu and dock, on the session's document."""

    def __init__(self, session: StudioSession, window: QMainWindow, timer: QTimer) -> None:
        self.session, self.window = session, window  # (the window: where the dock and menu go, what dialogs are modal to)
        self.document = session.document
        self._view: DataView | None = None  # (made at its first need, or ahead in an idle moment: `view`)
        self.dock = QDockWidget("Data", window, objectName="dataDock")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        menu = window.menuBar().addMenu("&Data")
        self.menu = menu
        self.import_action = menu.addAction("Import CSV…", lambda: self.import_csv())
        self.generate_action = menu.addAction("Generate…", lambda: self.generate_dialog())
        menu.addSeparator()
        self.remove_action = menu.addAction("Remove data", self.remove)
        self.import_action.setToolTip("read a CSV file with a header row of column names")
        self.generate_action.setToolTip("seeded points: a noisy line, a noisy parabola or two blobs")
        self._stale = True  # the view has not followed the document: out of sight (a scenario without data)
        self.document.changed.connect(self._show_scenario)
        session.buffers_changed.connect(self._buffers_changed)
        session.runs_finished.connect(lambda _error: self._in_sight() and self.view.refresh())
        timer.timeout.connect(self._frame)
        self._show_scenario(self.document.scenario)

    @property
    def view(self) -> DataView:
        """The data view, made now if it is not yet: its plot is 10-20 ms of widgets in one turn, which the launch paid
        after its first paint; the window makes it in an idle moment once the engine has loaded (or a scenario with
        data, opened before, does)."""
        if self._view is None:
            from .data_view import DataView

            self._view = DataView()
            self._view.setObjectName("dataView")
            self.dock.setWidget(self._view)
        return self._view

    @property
    def view_made(self) -> bool:
        return self._view is not None

    # -- following the session --------------------------------------------------------
    def _show_scenario(self, scenario: Scenario) -> None:
        has = scenario.data is not None
        self.remove_action.setEnabled(has)
        # the dock shown or hidden lays the window out again (~7 ms with a million rows' file): a turn of its own
        self.session.stagger.later(self._show_dock, self._show_dock)
        # out of sight (a scenario without data) the view does not follow: its layout, points and each run's model
        # curve cost ~6 ms a file, for nothing; the next scenario with data draws it all, in a turn of its own after
        # the file's (4-11 ms for a lesson with data, which the file's turn took as well: stagger.py)
        self._stale = True
        if has:
            self.session.stagger.later(self._draw, self._draw)

    def _show_dock(self) -> None:
        has = self.document.scenario.data is not None
        if has:
            self.view  # noqa: B018  (made before its dock shows)
        self.dock.setVisible(has)

    def _draw(self) -> None:
        scenario = self.document.scenario
        if scenario.data is None:
            return
        self._stale = False
        self.view.set_scenario(scenario)
        self.session.stagger.later(self._draw_runs, self._draw_runs)  # (the runs' curves: a turn of their own)

    def _draw_runs(self) -> None:
        if not self._in_sight():
            return
        if self.session.buffers:
            self._buffers_changed(self.session.buffers)
        else:
            self._show_starts()

    def _show_starts(self) -> None:
        """No runs yet: each run's model at its start."""
        scenario = self.document.scenario
        colors = [run_color(scenario, i) for i in range(len(scenario.runs))]
        self._set_runs([], colors, scenario.runs)

    def _set_runs(self, buffers: list, colors: list[str], specs: tuple) -> None:
        if not self.view.set_runs(buffers, colors, specs):  # (a curve made: the next ones in turns of their own)
            self.session.stagger.later(self._draw_runs, self._draw_runs)

    def _in_sight(self) -> bool:
        """The view follows the document (a new document's runs are reset before the view hears of its data)."""
        return not self._stale and self.document.scenario.data is not None

    def _buffers_changed(self, buffers: list) -> None:
        if not self._in_sight():
            return
        if not buffers:
            self._show_starts()
            return
        scenario = self.session.running or self.document.scenario
        self._set_runs(buffers, self.session.run_colors(), scenario.runs)

    def _frame(self) -> None:
        if self.view_made and self.dock.isVisible():
            self.view.refresh()

    # -- the menu ---------------------------------------------------------------------
    def import_csv(self, path: str | None = None) -> bool:
        if path is None:
            start = str(self.document.path.parent) if self.document.path else ""
            path, _ = QFileDialog.getOpenFileName(self.window, "Import data (CSV)", start, CSV_FILTER)
            if not path:
                return False
        try:
            dataset = read_csv(path)
        except DataError as error:
            self.session.message.emit("Cannot import the data", str(error))
            return False
        if self.document.path is not None:
            relative = os.path.relpath(Path(path).resolve(), self.document.path.parent)
            source: dict[str, Any] = {"csv": Path(relative).as_posix()}
        elif dataset.rows <= INLINE_ROWS:  # no file yet to be relative to: the rows go into the scenario itself
            source = {"columns": {name: dataset.column(name).tolist() for name in dataset.columns}}
        else:
            source = {"csv": Path(path).resolve().as_posix()}
        note = self._set(source, dataset)
        self.session.status.emit(f"imported {dataset.rows:,} rows ({', '.join(dataset.columns)}) from {path}{note}", 10000)
        return True

    def generate_dialog(self) -> None:
        dialog = GenerateDialog(self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.generate(dialog.spec())

    def generate(self, spec: dict[str, Any]) -> bool:
        try:
            dataset = generate(spec)
        except DataError as error:
            self.session.message.emit("Cannot generate the data", str(error))
            return False
        note = self._set({"generate": dict(spec)}, dataset, spec.get("kind"))
        self.session.status.emit(f"generated {dataset.rows:,} rows ({', '.join(dataset.columns)}){note}", 10000)
        return True

    def remove(self) -> bool:
        scenario = self.document.scenario
        if scenario.data is None:
            return False
        objective = self.session.objective
        if objective is not None and objective.columns:  # without data this loss means nothing: keep both
            self.session.message.emit("Data kept", f"The loss {scenario.loss} uses the data's columns "
                                     f"({', '.join(objective.columns)}). Write a loss without them first, then remove the data.")
            return False
        self.session.stop_runs()
        self.document.set_data(None)
        return True

    def _set(self, source: dict[str, Any], dataset: Dataset, kind: str | None = None) -> str:
        """Put the data in the document; returns a note when the loss had to change with it."""
        self.session.stop_runs()
        old_loss = self.document.scenario.loss
        changes = data_changes(self.document.scenario, source, dataset, kind)
        self.document.set_data(**changes)
        if "loss" in changes and changes["loss"] != old_loss:
            return f"; the loss did not use these columns, so it is now {changes['loss']}"
        return ""
