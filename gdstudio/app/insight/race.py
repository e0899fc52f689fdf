"""Race: every run's optimizer from the selected run's start with the same step budget, ranked in a
table (rank, optimizer, steps to tolerance, final loss, status, wall time), their paths on the landscape."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QPushButton, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from ...core.optimizers import optimizer
from ...core.scenario import RACE_LIMITS
from ..document import run_color
from .common import fmt, show_value
from .race_paths import RacePaths
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ...core.sweeps import RaceEntry
    from ..plots.landscape import Landscape
    from ..session import StudioSession

COLUMNS = ("rank", "run", "optimizer", "steps to tol", "final loss", "status", "wall time")


def _item(text: str, tip: str = "") -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if tip:
        item.setToolTip(tip)
    return item


def distinct_racers(runs) -> list[tuple[int, str]]:
    """(index, label) of the first run of each distinct optimizer and settings: runs that differ only in
    their start or seed would race the same race from the selected start (lesson 8's eight seeds)."""
    first: dict[str, int] = {}
    alike: dict[int, int] = {}
    for i, r in enumerate(runs):
        key = repr((r.optimizer, sorted(optimizer(r.optimizer).check(r.hyper).items())))
        leader = first.setdefault(key, i)
        alike[leader] = alike.get(leader, 0) + 1
    return [(i, runs[i].label + (f" (and {n - 1} alike)" if n > 1 else "")) for i, n in alike.items()]


class RacePanel(QWidget):
    def __init__(self, session: StudioSession, landscape: Landscape, tasks: TaskRunner, status,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.tasks, self.status = session, tasks, status
        self.budget = QSpinBox(objectName="raceBudget", minimum=RACE_LIMITS[0], maximum=RACE_LIMITS[1], singleStep=100)
        self.budget.setToolTip("the same number of steps for every optimizer (saved in the scenario)")
        self.show_settings()
        self.budget.valueChanged.connect(lambda v: session.set_insight(race_budget=v))
        self.go = QPushButton("Race", objectName="raceButton")
        self.go.setToolTip("every run's optimizer (runs alike race once) from the selected run's start, same budget, ranked")
        self.note = QLabel(objectName="raceNote")
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), objectName="raceTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("step budget"))
        bar.addWidget(self.budget)
        bar.addWidget(self.go)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        self.go.clicked.connect(self.run)
        self.entries: list[RaceEntry] = []
        self.paths = RacePaths(session, landscape)
        self.colors: list[str] = []

    def show_settings(self) -> None:
        show_value(self.budget, self.session.insight.race_budget)

    def run(self) -> None:
        objective, spec, scenario = self.session.selected_loss(), self.session.selected(), self.session.scenario
        if objective is None or spec is None:
            self.status("a race needs a loss and at least one run")
            return
        start = self.session.start(spec, objective)
        racers = distinct_racers(scenario.runs)
        runs = [replace(scenario.runs[i], label=label) for i, label in racers]
        labels = [label for _, label in racers]
        self.colors = [run_color(scenario, i) for i, _ in racers]
        self.paths.clear()
        budget, stop = self.budget.value(), scenario.stop
        where = ", ".join(f"{n}={fmt(v)}" for n, v in zip(objective.variables, start))
        self.note.setText(f"from ({where}), {budget:,} steps each, stop rules of the scenario "
                          "(schedules, clipping and batches are left out: the optimizers alone, on all the data)")
        self.go.setEnabled(False)

        def work(task):
            from ...core.sweeps import race  # (in the task's thread, with the engine loaded)

            return race(objective, runs, start, budget, stop, cancel=lambda: task.cancelled)

        self.tasks.run_tool("race", f"race of {len(labels)} runs", work, self._done, lambda _error: self.go.setEnabled(True),
                            exclusive=False)

    def cancelled(self) -> None:
        self.go.setEnabled(True)

    def clear(self) -> None:
        """The loss changed: a race of the old one (finished or running) says nothing about the new."""
        if self.tasks.busy("race"):
            self.tasks.cancel("race")
            self.go.setEnabled(True)
        self.entries = []
        self.table.setRowCount(0)
        self.note.clear()
        self.paths.clear()

    def _done(self, entries: list[RaceEntry]) -> None:
        self.go.setEnabled(True)
        self.entries = entries
        self.paths.show(entries, self.colors)
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            to_tol = f"{e.steps:,}" if e.status == "converged" else "—"
            loss = fmt(e.final_loss) if math.isfinite(e.final_loss) else str(e.final_loss)
            values = (str(e.rank), e.label, e.name, to_tol, loss, e.status, f"{1000 * e.wall_time:.1f} ms")
            for column, text in enumerate(values):
                self.table.setItem(row, column, _item(text, e.reason))
        if entries:
            self.status(f"race: {entries[0].label} wins ({entries[0].reason})")
