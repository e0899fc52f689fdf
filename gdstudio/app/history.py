"""Undo and redo of the document's edits (Edit ▸ Undo, Ctrl+Z; Redo, Ctrl+Shift+Z).

Scenarios are frozen, so the history is the scenarios the document held before each edit, with the kind
of change that replaced each (undoing it emits that kind again, so every view updates as for the edit).
A gesture is one edit: a dragged start or a scrubbed knob writes the document once, when let go
(app/live.py), so one Ctrl+Z undoes the whole drag. Opening a file or New starts a new history.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from ..core.scenario import Scenario
from .document import Change, Document

DEPTH = 100  # edits kept


class History(QObject):
    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.undone: list[tuple[Change, Scenario]] = []
        self.done: list[tuple[Change, Scenario]] = []
        self._before = document.scenario
        self._replaying = False
        for change, signal in ((Change.LOSS, document.loss_changed), (Change.VIEW, document.view_changed),
                               (Change.RUNS, document.runs_changed), (Change.STOP, document.stop_changed),
                               (Change.DATA, document.data_changed), (Change.INSIGHT, document.insight_changed),
                               (Change.META, document.meta_changed), (Change.ALL, document.replaced)):
            signal.connect(lambda scenario, change=change: self._edited(change, scenario))

    def _edited(self, change: Change, scenario: Scenario) -> None:
        before, self._before = self._before, scenario
        if self._replaying:
            return
        if change == Change.ALL and not self.document.modified:  # a file opened, or New: a new history
            self.done.clear()
            self.undone.clear()
            return
        self.done.append((change, before))
        del self.done[:-DEPTH]
        self.undone.clear()

    def undo(self) -> bool:
        return self._replay(self.done, self.undone)

    def redo(self) -> bool:
        return self._replay(self.undone, self.done)

    def _replay(self, source: list, target: list) -> bool:
        if not source:
            return False
        change, scenario = source.pop()
        target.append((change, self.document.scenario))
        self._replaying = True
        try:
            self.document.update(change, **{f.name: getattr(scenario, f.name) for f in fields(scenario)})
        finally:
            self._replaying = False
        return True


def add_edit_menu(window: QMainWindow, history: History) -> tuple[QAction, QAction]:
    """Edit ▸ Undo and Redo, after the File menu. Their shortcuts give way to a text field's own undo
    while it has the focus."""
    undo = QAction("&Undo", window, objectName="undoAction", shortcut=QKeySequence.StandardKey.Undo)
    redo = QAction("&Redo", window, objectName="redoAction", shortcut=QKeySequence.StandardKey.Redo)
    undo.setToolTip("undo the last edit: a dragged start, a knob, a typed value (Ctrl+Z)")
    undo.triggered.connect(lambda _checked=False: history.undo())
    redo.triggered.connect(lambda _checked=False: history.redo())
    menu_bar = window.menuBar()
    actions = menu_bar.actions()
    menu = menu_bar.addMenu("&Edit")
    if len(actions) > 1:
        menu_bar.insertMenu(actions[1], menu)
    menu.addActions([undo, redo])
    return undo, redo
