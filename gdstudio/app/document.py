"""The open scenario: what is edited, where it lives on disk and whether it is saved.

Panels never edit each other; they replace the document's (frozen) Scenario via `update`, naming
the kind of change, and each view listens to the kinds it draws: one signal per kind. Undo keeps the
scenarios before each edit (history.py).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core import scenario as sc
from ..core.fileio import default_scenario_text
from ..core.scenario import DataSpec, RunSpec, Scenario

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
           # then their lighter halves (matplotlib's tab20): twenty runs, twenty colours
           "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#9edae5", "#dbdb8d", "#c7c7c7")


def default_scenario() -> Scenario:
    return sc.loads(default_scenario_text(), "built-in default scenario")


def run_color(scenario: Scenario, index: int) -> str:
    """The colour a run is drawn in: its own, or the palette's by position."""
    color = scenario.runs[index].color
    return color or PALETTE[index % len(PALETTE)]


class Change(StrEnum):
    """What an edit changed; each kind has its own signal on the Document."""

    LOSS = "loss"
    VIEW = "view"
    RUNS = "runs"
    STOP = "stop"
    DATA = "data"
    INSIGHT = "insight"  # the tools' settings: nothing drawn or running depends on them
    META = "meta"  # name and description
    ALL = "all"  # a whole new problem: a file, New, a preset


class Document(QObject):
    """Holds the current Scenario, its file path and the unsaved-changes flag."""

    replaced = Signal(object)  # Change.ALL: the scenario, all of it new
    loss_changed = Signal(object)
    view_changed = Signal(object)
    runs_changed = Signal(object)
    stop_changed = Signal(object)
    data_changed = Signal(object)
    insight_changed = Signal(object)
    meta_changed = Signal(object)
    changed = Signal(object)  # after any of the above, for views that redraw from the whole scenario
    path_changed = Signal()
    modified_changed = Signal(bool)

    def __init__(self, scenario: Scenario | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scenario = scenario or default_scenario()
        self.path: Path | None = None
        self.modified = False
        self._signals = {Change.ALL: self.replaced, Change.LOSS: self.loss_changed, Change.VIEW: self.view_changed,
                         Change.RUNS: self.runs_changed, Change.STOP: self.stop_changed, Change.DATA: self.data_changed,
                         Change.INSIGHT: self.insight_changed, Change.META: self.meta_changed}

    def _emit(self, change: Change, scenario: Scenario) -> None:
        self._signals[Change(change)].emit(scenario)
        self.changed.emit(scenario)

    # -- whole documents --------------------------------------------------------------
    def reset(self, scenario: Scenario, path: Path | None = None) -> None:
        self.scenario, self.path = scenario, path
        self._set_modified(False)
        self.path_changed.emit()
        self._emit(Change.ALL, scenario)

    def load(self, path: str | Path) -> None:
        """Read a file into the document; raises ScenarioError and then leaves the document as it was."""
        scenario = sc.load(path)
        self.reset(scenario, Path(path).resolve())

    def save(self, path: str | Path | None = None) -> None:
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no file name")
        old_folder = self.path.parent if self.path else Path.cwd()
        scenario = sc.relocate(self.scenario, old_folder, target.resolve().parent)
        sc.save(scenario, target)
        self.scenario = scenario
        self.path = target.resolve()
        self._set_modified(False)
        self.path_changed.emit()

    # -- edits ------------------------------------------------------------------------
    def update(self, change: Change, **changes: Any) -> None:
        new = replace(self.scenario, **changes)
        old = self.scenario
        same_rows = (new.data is None) == (old.data is None) and (new.data is None or new.data.dataset is old.data.dataset)
        if new == old and same_rows:  # (DataSpec compares by source: a re-read CSV of the same name is new data)
            return
        self.scenario = new
        self._set_modified(True)
        self._emit(change, new)

    def update_run(self, index: int, **changes: Any) -> None:
        runs = list(self.scenario.runs)
        runs[index] = replace(runs[index], **changes)
        self.update(Change.RUNS, runs=tuple(runs))

    def set_runs(self, runs: list[RunSpec]) -> None:
        self.update(Change.RUNS, runs=tuple(runs))

    def set_data(self, data: DataSpec | None, **changes: Any) -> None:
        """New data (None removes it), with any other changes (a loss that fits it). Runs keep the
        scaling of columns that still exist; without data every run goes back to the full batch."""
        columns = data.dataset.columns if data is not None else ()
        runs = tuple(replace(r, scale={k: v for k, v in r.scale.items() if k in columns},
                             batch_size=r.batch_size if data is not None else None,
                             replacement=r.replacement if data is not None else False)
                     for r in changes.pop("runs", self.scenario.runs))
        self.update(Change.DATA, data=data, runs=runs, **changes)

    def display_name(self) -> str:
        return self.path.name if self.path else "untitled.json"

    def _set_modified(self, modified: bool) -> None:
        if modified != self.modified:
            self.modified = modified
            self.modified_changed.emit(modified)
