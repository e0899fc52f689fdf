"""Insight tools in the studio: critical points, step-size diagnosis, sweeps, basins, race, optimizer
state and random restarts (issue 6), over the tested core in gdstudio.core.analysis / sweeps.

`Insight(session, window, landscape, runs_panel)` adds an Insight menu, a dock (Step size · Optimizer state · Race), overlays on the
landscape and a progress bar with Cancel in the status bar. Every core computation runs on the
TaskRunner's pool threads; only the GUI thread touches widgets. `shutdown()` cancels and joins.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFrame, QHBoxLayout, QLabel, QMainWindow, QProgressBar, QPushButton,
                               QScrollArea, QSpinBox, QTabWidget, QWidget, QWidgetAction)

from ...core.optimizers import optimizer
from ...core.scenario import BASINS_LIMITS, RESTARTS_LIMITS
from ..plots.field_service import bounded
from .basins import BasinsOverlay
from .common import show_value
from .critical_points import CriticalPointsOverlay
from .optimizer_state import OptimizerStatePanel, on_batches
from .race import RacePanel
from .restarts import RestartsOverlay
from .step_size import PointFacts, StepSizePanel, diagnose, point_facts, snapshot
from .sweep_dialog import SweepDialog
from .sweep_plots import heatmap, lr_curve
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ..panels.runs_panel import RunsPanel
    from ..plots.landscape import Landscape
    from ..session import StudioSession

PANEL_MS = 200  # live panels (step size at the current point, optimizer state) refresh at most this often
PANEL_ROWS = 50_000  # rows the panels' Hessian and gradient read (every k-th of more): a logistic loss over 1,000,000
                     # rows took seconds a point, and tasks no newer one could stop piled up


class TaskBar(QWidget):
    """Status-bar progress of the long insight tasks, with Cancel."""

    def __init__(self, cancel) -> None:
        super().__init__()
        self.setObjectName("insightTaskBar")
        self.label = QLabel()
        self.bar = QProgressBar(objectName="insightProgress", maximumWidth=160)
        self.button = QPushButton("Cancel", objectName="insightCancel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.bar, self.button):
            layout.addWidget(w)
        self.active: dict[str, str] = {}
        self.button.clicked.connect(lambda: [cancel(name) for name in list(self.active)])
        self.setVisible(False)

    def set(self, name: str, label: str | None, done: int | None = None, total: int | None = None) -> None:
        if label is None:
            self.active.pop(name, None)
        else:
            self.active[name] = label
        if not self.active:
            self.setVisible(False)
            return
        current = list(self.active)[-1]
        self.label.setText(self.active[current] + "…")
        if done is None or total in (None, 0):
            self.bar.setRange(0, 0)  # busy, no known total
        else:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        self.setVisible(True)


def _scrolled(panel: QWidget) -> QScrollArea:
    """A panel that scrolls in a short dock instead of squeezing its wrapped lines on top of each other."""
    area = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
    area.setWidget(panel)
    return area


class Insight(QObject):
    def __init__(self, session: StudioSession, window: QMainWindow, landscape: Landscape, runs_panel: RunsPanel) -> None:
        super().__init__(window)
        self.session, self.window, self.runs_panel = session, window, runs_panel  # (the window: where the dock and menu go)
        self.task_bar = TaskBar(self.cancel)
        self.tasks = TaskRunner(self, self.status, self.task_bar.set)
        window.statusBar().addPermanentWidget(self.task_bar)
        self.critical = CriticalPointsOverlay(session, landscape, self.tasks, self.status)
        self.basins = BasinsOverlay(session, landscape, self.tasks, self.status)
        self.restarts = RestartsOverlay(session, landscape, self.tasks, self.status)
        self.step_panel = StepSizePanel()
        self.state_panel = OptimizerStatePanel(landscape)
        self.race_panel = RacePanel(session, landscape, self.tasks, self.status)
        self.tabs = QTabWidget(objectName="insightTabs")
        self.tabs.addTab(_scrolled(self.step_panel), "Step size")
        self.tabs.addTab(self.state_panel, "Optimizer state")
        self.tabs.addTab(self.race_panel, "Race")
        self.dock = QDockWidget("Insight", window, objectName="insightDock")
        self.dock.setWidget(self.tabs)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        runs_dock = window.findChild(QDockWidget, "runsDock")
        if runs_dock is not None:
            window.splitDockWidget(runs_dock, self.dock, Qt.Orientation.Vertical)
        self.sweep_dialog: SweepDialog | None = None
        self._sweep_plots: list[tuple] = []  # (see build_ahead)
        self._sweep_drawn = False
        self.states: dict[int, np.ndarray] = {}  # run index -> copy of its kernel state buffers
        self.diagnoses: list[list[str]] | None = None
        self._shown = None
        self._basins_for = None
        self._build_menu()

        document = session.document
        session.objective_changed.connect(lambda _o: self._problem_changed())
        document.loss_changed.connect(lambda _s: self._problem_changed(new_loss=True))  # (before or after the objective)
        document.view_changed.connect(lambda _s: self._problem_changed(new_loss=False))
        document.replaced.connect(lambda _s: self._show_settings())  # (the editor derives its loss: objective_changed)
        document.runs_changed.connect(lambda _s: self._selection_changed())
        session.selection_changed.connect(lambda _i: self._selection_changed())
        session.buffers_changed.connect(self._buffers_changed)
        session.runs_finished.connect(self._runs_finished)
        session.kernel_state.connect(self._kernel_state)
        session.axes_changed.connect(lambda _axes: self._axes_changed())
        self.timer = QTimer(self, interval=PANEL_MS)
        self.timer.timeout.connect(self.refresh_panels)
        self.timer.timeout.connect(self.critical.follow_slice)
        self.timer.start()
        self.refresh_panels(force=True)

    # -- menu -------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut: str | None = None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self.window, checkable=checkable)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        (action.toggled if checkable else action.triggered).connect(slot)
        return action

    def _build_menu(self) -> None:
        menu = self.window.menuBar().addMenu("&Insight")
        menu.setObjectName("insightMenu")
        menu.setToolTipsVisible(True)
        self.critical_action = self._action("Critical points", self.critical.set_enabled, "Ctrl+Shift+K", True,
                                            "mark minima ★, maxima ▲, saddles ✕ and degenerate points ◆ on the landscape")
        self.basins_action = self._action("Basins of attraction", self.basins.set_enabled, "Ctrl+Shift+B", True,
                                          "colour the landscape by the minimum the selected run's optimizer reaches from each start")
        self.restarts_action = self._action("Random restarts", self.restarts.run, "Ctrl+Shift+R", False,
                                            "N seeded random starts of the selected run's optimizer, all at once")
        self.clear_restarts_action = self._action("Clear restarts", lambda: self.restarts.clear(), None, False)
        self.sweep_action = self._action("Sweeps…", self.show_sweeps, "Ctrl+Shift+W", False,
                                         "learning rate × hyper-parameter heatmap and the 1-D learning-rate curve")
        self.race_action = self._action("Race the runs", self.run_race, "Ctrl+Shift+A", False,
                                        "every run's optimizer from the selected run's start with the same budget, ranked")
        for action in (self.critical_action, self.basins_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.restarts_action, self.clear_restarts_action):
            menu.addAction(action)
        menu.addSeparator()
        self.restarts_count = self._spin_action(menu, "restarts", "restarts", RESTARTS_LIMITS, "random starts per click")
        self.basins_grid = self._spin_action(menu, "basins grid", "basins_resolution", BASINS_LIMITS,
                                             "cells per axis of the basins grid (the square of it runs at once)")
        menu.addSeparator()
        menu.addAction(self.sweep_action)
        menu.addAction(self.race_action)
        menu.addSeparator()
        panel = self.dock.toggleViewAction()
        panel.setText("Insight panel (step size, optimizer state, race)")
        menu.addAction(panel)
        self.menu = menu

    def _spin_action(self, menu, text: str, key: str, limits: tuple[int, int], tip: str) -> QSpinBox:
        """One of the scenario's insight settings, edited right in the menu."""
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(24, 2, 8, 2)
        spin = QSpinBox(minimum=limits[0], maximum=limits[1], objectName=f"{key}Spin")
        show_value(spin, getattr(self.session.insight, key))
        spin.setToolTip(tip + " (saved in the scenario)")
        spin.valueChanged.connect(lambda v: self.session.set_insight(**{key: v}))
        layout.addWidget(QLabel(text))
        layout.addWidget(spin)
        action = QWidgetAction(menu)
        action.setDefaultWidget(box)
        menu.addAction(action)
        return spin

    # -- helpers ----------------------------------------------------------------------
    def status(self, text: str) -> None:
        self.session.status.emit(text, 12000)

    def cancel(self, name: str) -> None:
        self.tasks.cancel(name)
        if name == "race":
            self.race_panel.cancelled()
        if name == "basins":
            self.basins_action.setChecked(False)
        self.status(f"{name}: cancelled")

    def build_ahead(self) -> bool:
        """(idle moments, one piece each, ~10-20 ms alone) The sweep dialog's two plots, the dialog, and its first
        drawing off screen (its plots' first paint lays out their axes and text: ~50 ms when the dialog first opened);
        True once there is nothing left to do."""
        if self.sweep_dialog is None:
            if len(self._sweep_plots) < 2:
                self._sweep_plots.append((heatmap, lr_curve)[len(self._sweep_plots)]())
            else:
                self.sweep_dialog = SweepDialog(self.session, self.tasks, self.window, plots=tuple(self._sweep_plots))
                self._sweep_plots = []  # (the dialog owns them now)
            return False
        if not self._sweep_drawn:
            self._sweep_drawn = True
            self.sweep_dialog.grab()
        return True

    def show_sweeps(self) -> SweepDialog:
        while self.sweep_dialog is None:  # (whatever was not made ahead, now)
            self.build_ahead()
        self.sweep_dialog.prepare()
        if self.sweep_dialog.isVisible():
            self.sweep_dialog.raise_()  # (a native window: only when it is already open behind)
        self.sweep_dialog.show()
        return self.sweep_dialog

    def run_race(self) -> None:
        self.dock.show()
        self.tabs.setCurrentWidget(self.race_panel)
        self.race_panel.run()

    # -- the session changed -----------------------------------------------------------
    def _problem_changed(self, new_loss: bool = True) -> None:
        """The critical points are asked for and the old results cleared at once (nothing of the loss before may
        land on the new one); the panels follow in a turn of their own (stagger.py)."""
        self.critical.refresh()
        if self.basins.enabled and len(self.session.axes) != 2:  # (a loss of one variable has no basins to colour)
            self.basins_action.setChecked(False)
            self.status("basins: off — they need a loss of two or more variables")
        self.basins.stale()
        self.restarts.clear()
        if new_loss:  # (a race or a sweep does not depend on the view)
            self.race_panel.clear()
            if self.sweep_dialog is not None:
                self.sweep_dialog.loss_changed()
        else:
            self.race_panel.paths.clear()
        self.session.stagger.later(self.refresh_panels, lambda: self.refresh_panels(force=True))

    def _show_settings(self) -> None:
        """Every tool's boxes show the opened scenario's settings."""
        insight = self.session.insight
        show_value(self.restarts_count, insight.restarts)
        show_value(self.basins_grid, insight.basins_resolution)
        self.race_panel.show_settings()
        if self.sweep_dialog is not None:
            self.sweep_dialog.show_settings()

    def _selection_changed(self) -> None:
        spec = self.session.selected()
        key = None if spec is None else replace(spec, label="", color=None, start={})  # (what basins depend on)
        if self.basins.enabled and key != self._basins_for:
            self.basins.stale()
        self._basins_for = key
        if self.sweep_dialog is not None and self.sweep_dialog.isVisible() and not self.tasks.busy("sweep"):
            self.sweep_dialog.prepare()  # the dialog follows the selected run
        self.critical.refresh()  # (recomputed only when the run sees another loss: scaled columns)
        self.refresh_panels(force=True)

    def _axes_changed(self) -> None:
        self.critical.draw()
        self.restarts.draw()
        self.race_panel.paths.draw()
        self.basins.stale()
        self.refresh_panels(force=True)  # (the velocity arrow, on the new axes)

    # -- runs -------------------------------------------------------------------------
    def _buffers_changed(self, buffers: list) -> None:
        if not buffers:  # a reset: the race's paths go with the runs
            self.race_panel.paths.clear()
        self.states = {}
        self.diagnoses = None
        self.tasks.cancel("diagnose")
        self.refresh_panels(force=not self.session.live.holding)  # (a drag's frames: only when the panels show)

    def _kernel_state(self, states: list) -> None:
        for index, state in states:
            self.states[index] = state

    def _runs_finished(self, _error: str) -> None:
        session = self.session
        scenario, buffers = session.running or session.scenario, session.buffers
        objective = session.document_objective()
        if objective is None or objective.text != scenario.loss or not buffers:
            return
        specs = list(scenario.runs[: len(buffers)])
        try:
            hypers = [optimizer(s.optimizer).check(s.hyper) for s in specs]
        except ValueError:
            return
        trajectories = [snapshot(b) if len(b) and b.variables == objective.variables else None for b in buffers]
        losses = [self.session.loss_of(s) for s in specs]
        minima = (self.critical.loss, [p.loss for p in self.critical.points if p.kind == "minimum"])
        self.tasks.start("diagnose", lambda task: diagnose(losses, trajectories, specs, hypers, minima), self._diagnosed,
                         lambda error: self.status(f"diagnosis: {error}"))

    def _diagnosed(self, messages: list[list[str]]) -> None:
        self.diagnoses = messages
        table = self.runs_panel.table
        for i, (buffer, found) in enumerate(zip(self.session.buffers, messages)):
            item = table.topLevelItem(i)
            if item is not None and found:
                item.setToolTip(0, "\n".join([buffer.reason, *found]))
        index = self.session.selected_index()
        if 0 <= index < len(messages) and messages[index]:
            self.status(f"{self.session.buffers[index].label}: " + "; ".join(messages[index]))
        self.refresh_panels(force=True)

    def refresh_panels(self, force: bool = False) -> None:
        """Step size and optimizer state of the selected run (cheap: one Hessian, one gradient)."""
        if not force and not self.dock.isVisible():
            return
        index = self.session.selected_index()
        buffers = self.session.buffers
        if not buffers:  # reset (or an edit cleared the runs): their state and diagnosis are gone too
            self.states, self.diagnoses = {}, None
        buffer = buffers[index] if 0 <= index < len(buffers) else None
        state = self.states.get(index)
        key = (index, None if buffer is None else buffer.version, id(state), self.diagnoses is None, self.session.scenario)
        if key == self._shown and not force:
            return
        self._shown = key
        objective, spec = self.session.selected_loss(), self.session.selected()
        try:
            hyper = self.session.hyper(spec) if spec is not None else None
            start = self.session.start(spec, objective) if spec is not None and objective is not None else None
        except ValueError:
            hyper = start = None
        messages = None
        if self.diagnoses is not None and 0 <= index < len(self.diagnoses):
            messages = self.diagnoses[index]
        self.step_panel.show_messages(messages if spec is not None else None)
        if hyper is None or start is None:
            self.tasks.cancel("panels")
            self._show_panels(None, None, None, None, state)
            return
        last = before = None  # copies: the buffer grows in the GUI thread while the pool reads them
        if buffer is not None and len(buffer) and buffer.variables == objective.variables:
            last = buffer.rows[-1].copy()
            if len(buffer) >= 2 and buffer.steps[-1] - buffer.steps[-2] == 1:
                before = buffer.rows[-2].copy()
        steps_done, batches = buffer.steps_done if last is not None else 0, on_batches(spec, objective)

        def work(_task) -> PointFacts:  # (Hessians and a gradient over the data: never on the GUI thread)
            with np.errstate(all="ignore"):  # (over a sample of a costly loss's rows: this runs at every frame)
                return point_facts(bounded(objective, PANEL_ROWS), spec, hyper, start, last, before, steps_done, batches)

        self.tasks.start("panels", work, lambda facts: self._show_panels(objective, spec, hyper, facts, state),
                         lambda error: self.status(f"step size: {error}"))

    def _show_panels(self, objective, spec, hyper, facts: PointFacts | None, state) -> None:
        self.step_panel.show_run(spec, hyper, facts)
        self.state_panel.show_state(objective, spec, hyper, facts, state)

    # -- closing ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Cancel every computation and join the pool's threads (idempotent)."""
        self.timer.stop()
        if self.sweep_dialog is not None:
            self.sweep_dialog.close()
        self.tasks.shutdown()
        self.task_bar.active.clear()
