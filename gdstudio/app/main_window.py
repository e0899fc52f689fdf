"""The studio window: docks and plots around one Document and one RunController.

The window wires signals and owns the redraw timer; it holds no maths. Runs
execute in the controller's worker thread; their chunks land in GUI-side
buffers here, and every ~30 ms the plots and tables draw what is new.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QSlider, QSplitter, QWidget

from ..core.expression import Objective
from ..core.scenario import Scenario
from ..core.trajectory import row_limit
from .buffers import RunBuffer
from .collector import collect_on_gui_thread
from .document import Document, run_color
from .files import FileActions, ask_unsaved
from .panels.loss_editor import LossEditor
from .panels.runs_panel import RunsPanel
from .plots.landscape import Landscape
from .plots.loss_curve import LossCurve
from .presets import minima_for
from .settings import recent_files, settings

FRAME_MS = 30
SPEEDS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 100000, math.inf)
DEFAULT_SPEED = SPEEDS.index(1000)


def speed_text(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:,.0f}/s"


class MainWindow(QMainWindow):
    def __init__(self, scenario: Scenario | None = None) -> None:
        super().__init__()
        collect_on_gui_thread()
        self.setObjectName("studio")
        self.document = Document(scenario, self)
        self.files = FileActions(self)
        from .worker import RunController

        self.controller = RunController(self)
        from .recovery import Recovery

        self.recovery = Recovery(self)  # autosave of unsaved work; offered after a crash (main.launch)
        self.objective: Objective | None = None
        self.buffers: list[RunBuffer] = []
        self.state = "idle"  # idle | starting | running | paused | finished
        self.message_box: QMessageBox | None = None
        self._shown = False
        self.ask_unsaved = lambda: ask_unsaved(self)  # tests replace this

        self.editor = LossEditor()
        self.runs_panel = RunsPanel(self.document)
        self.landscape = Landscape()
        self.loss_curve = LossCurve()
        self.plots = QSplitter(Qt.Orientation.Vertical)
        self.plots.addWidget(self.landscape)
        self.plots.addWidget(self.loss_curve)
        self.plots.setSizes([620, 320])
        self.setCentralWidget(self.plots)
        self._dock("Loss", self.editor, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.runs_dock = self._dock("Runs", self.runs_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.status_label = QLabel(objectName="statusLine")
        self.statusBar().addWidget(self.status_label, 1)
        self._build_actions()
        self.setAcceptDrops(True)

        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.timeout.connect(lambda: self.redraw(everything=False))
        self.document.changed.connect(self._document_changed)
        self.document.path_changed.connect(self._update_title)
        self.document.modified_changed.connect(self.setWindowModified)
        self.editor.loss_accepted.connect(lambda text, _o: self.document.update("loss", loss=text, variables=None))
        self.editor.objective_ready.connect(self._objective_ready)
        self.editor.preset_chosen.connect(self.apply_preset)
        self.runs_panel.selection_changed.connect(self._selection_changed)
        self.landscape.start_clicked.connect(self.set_start)
        self.landscape.view_chosen.connect(lambda v: self.document.update("view", view={**self.document.scenario.view, **v}))
        self.controller.started.connect(self._runs_started)
        self.controller.chunks.connect(self._chunks)
        self.controller.finished.connect(self._runs_finished)

        from .panels.data_import import install as install_data

        self.data_actions = install_data(self)  # the Data dock and menu
        self.resize(1400, 900)
        geometry = settings().value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._update_title()
        self._document_changed(self.document.scenario, "all")
        self.update_recent(recent_files())
        self._update_buttons()
        from .insight import Insight  # insight tools: menu, dock, overlays (issue 6)
        from .panels.help import install_help  # Help ▸ What am I looking at? (issue 7)

        self.insight = Insight(self)
        self.help = install_help(self)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=f"{title.lower()}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        widget.setMinimumWidth(260)  # (with the landscape's controls: a window from about 1,050 pixels wide)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip or text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip or text)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.new_action = self._action("&New", self.files.new, K.New)
        self.open_action = self._action("&Open…", self.files.open_dialog, K.Open)
        self.save_action = self._action("&Save", self.files.save, K.Save)
        self.save_as_action = self._action("Save &As…", self.files.save_as, K.SaveAs)
        self.csv_action = self._action("Export trajectories (CSV)…", lambda: self.files.export_csv(), "Ctrl+E")
        self.png_action = self._action("Export plots (PNG)…", lambda: self.files.export_png(), "Ctrl+Shift+E")
        self.properties_action = self._action("Name and &description…", self.edit_properties, None,
                                              "what the title bar and the Help panel say about this scenario")
        self.quit_action = self._action("&Quit", self.close, K.Quit)
        self.run_action = self._action("Run", self.run, "F5", "run every run (or resume)")
        self.pause_action = self._action("Pause", self.pause, "F6", "pause the runs")
        self.step_action = self._action("Step", self.step, "F10", "one step of every run")
        self.reset_action = self._action("Reset", self.reset, "Ctrl+R", "stop and clear the runs")
        self.log_action = self._action("Log scale", self.loss_curve.log.toggle, "Ctrl+L")
        for action in (self.run_action, self.pause_action, self.step_action, self.reset_action):
            action.setObjectName(action.text().split()[-1].lower() + "Action")
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.new_action, self.open_action):
            file_menu.addAction(action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.examples_menu = file_menu.addMenu("&Examples")
        self.files.fill_examples(self.examples_menu)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action, self.properties_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.csv_action)
        file_menu.addAction(self.png_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = menu.addMenu("&Run")
        for action in (self.run_action, self.pause_action, self.step_action, self.reset_action):
            run_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.log_action)
        presets_menu = menu.addMenu("&Presets")
        presets_menu.addActions(self.editor.presets_menu.actions())
        presets_menu.setEnabled(bool(self.editor.presets_menu.actions()))

        bar = self.addToolBar("Main")
        bar.setObjectName("mainToolBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.open_action, self.save_action):
            bar.addAction(action)
        bar.addSeparator()
        for action in (self.run_action, self.pause_action, self.step_action, self.reset_action):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(" speed "))
        self.speed = QSlider(Qt.Orientation.Horizontal, objectName="speed", minimum=0, maximum=len(SPEEDS) - 1)
        self.speed.setFixedWidth(160)
        self.speed.setToolTip("steps per second for each run; rightmost = as fast as possible")
        self.speed_label = QLabel(objectName="speedLabel")
        self.speed_label.setMinimumWidth(70)
        bar.addWidget(self.speed)
        bar.addWidget(self.speed_label)
        self.speed.valueChanged.connect(self._speed_changed)
        self.speed.setValue(DEFAULT_SPEED)
        self._speed_changed(DEFAULT_SPEED)

    # -- title, recent files, messages ------------------------------------------------
    def _update_title(self) -> None:
        self.setWindowTitle(f"{self.document.scenario.name} — {self.document.display_name()}[*] — gdstudio")
        self.setWindowModified(self.document.modified)

    def update_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self.files.open_path(p)).setToolTip(path)
        self.recent_menu.setEnabled(bool(paths))

    def edit_properties(self):
        from .panels.properties import edit_properties

        return edit_properties(self)

    def show_message(self, title: str, text: str) -> None:
        """A warning that does not block (tests and the event loop keep going)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("messageBox")
        self.message_box = box
        box.open()
        self.statusBar().showMessage(f"{title}: {text.splitlines()[-1]}", 8000)

    # -- document -> views ------------------------------------------------------------
    def _document_changed(self, scenario: Scenario, what: str) -> None:
        self._update_title()
        if what in ("insight", "meta"):  # tools' settings, name, description: nothing drawn or running depends on them
            return
        if what in ("all", "data"):
            self.editor.set_data(scenario.data)
            self.editor.set_text(scenario.loss)
        if what in ("view", "all", "runs") and self.objective is not None and what != "all":
            self.landscape.set_problem(self.objective, scenario, minima_for(self.objective))
        if self.state in ("running", "starting") and what != "all":
            self.run(restart=True)  # live: the runs follow the edit
        elif self.state != "idle":
            self.reset()

    def _objective_ready(self, objective: Objective) -> None:
        self.objective = objective
        scenario = self.document.scenario
        self.runs_panel.set_variables(objective.variables)
        self.landscape.set_problem(objective, scenario, minima_for(objective))
        self.landscape.set_runs(self.buffers, self._colors())

    def _colors(self) -> list[str]:
        scenario = self.document.scenario
        return [run_color(scenario, i) for i in range(len(scenario.runs))][: len(self.buffers)]

    def _selection_changed(self, index: int) -> None:
        self.landscape.set_selected(index)
        self._update_status()

    def set_start(self, values: dict) -> None:
        """A click on the landscape: the selected run starts there."""
        index = max(self.runs_panel.current(), 0)
        scenario = self.document.scenario
        if index < len(scenario.runs):
            start = {**scenario.runs[index].start, **{k: round(v, 6) for k, v in values.items()}}
            self.document.update_run(index, start=start)
            self.statusBar().showMessage(f"{scenario.runs[index].label} starts at "
                                         + ", ".join(f"{k}={v:.4g}" for k, v in values.items()), 4000)

    def apply_preset(self, preset) -> None:
        """A preset's loss, variables, view and start; every run keeps its other settings."""
        from .presets import preset_changes

        self.stop_runs()
        self.document.update("all", **preset_changes(self.document.scenario, preset))

    # -- runs -------------------------------------------------------------------------
    def _speed_changed(self, position: int) -> None:
        speed = SPEEDS[position]
        self.speed_label.setText(speed_text(speed))
        self.controller.set_speed(speed)

    def set_speed(self, speed: float) -> None:
        self.speed.setValue(SPEEDS.index(speed))

    def _runnable_objective(self, scenario: Scenario) -> Objective | None:
        o = self.objective
        data = scenario.data.dataset.values if scenario.data else None
        if (o is not None and o.text == scenario.loss and (scenario.variables is None or o.variables == scenario.variables)
                and o.data is data):
            return o
        return None  # the worker parses the loss itself

    def unapplied_edit(self) -> str | None:
        """An edit on screen that failed its check, so the document still holds the value before it:
        running now would quietly run something other than what is shown."""
        if self.editor.text() != self.document.scenario.loss.strip():
            if self.editor.busy:  # (its verdict on screen may be about the text before the last keys)
                return "the loss shown is still being checked"
            if self.editor.error:
                return f"the loss shown has an error ({self.editor.error})"
        for problem in (self.runs_panel.editor.problem.text(), self.runs_panel.stop_box.problem.text()):
            if problem:
                return f"a setting shown is not valid ({problem.removeprefix('✖ ')})"
        return None

    def _refuse_unapplied(self) -> bool:
        problem = self.unapplied_edit()
        if problem:
            self.show_message("Not run", f"{problem[0].upper()}{problem[1:]}. Fix it, or undo the edit, and run again.")
        return problem is not None

    def run(self, restart: bool = False) -> None:
        if not restart and self._refuse_unapplied():
            return
        if self.state == "paused" and self.controller.active and not restart:
            self.controller.set_paused(False)
            self.state = "running"
        else:
            self._start(paused=False)
        self._update_buttons()

    def _start(self, paused: bool) -> None:
        scenario = self.document.scenario
        if not scenario.runs:
            self.reset()  # (the runs were removed while running: nothing of them stays drawn)
            self.statusBar().showMessage("no runs: add one in the Runs panel", 4000)
            return
        self.stop_runs()
        self._running = scenario
        self.state = "starting"
        self.controller.start(scenario, self._runnable_objective(scenario), paused=paused)
        self.timer.start()

    def pause(self) -> None:
        if self.state in ("running", "starting"):
            self.controller.set_paused(True)
            self.state = "paused"
            self._update_buttons()

    def step(self) -> None:
        if self._refuse_unapplied():
            return
        fresh = not self.controller.active
        if fresh:
            self._start(paused=True)
        if self.controller.active:
            self.controller.step(2 if fresh else 1)  # (fresh: the start's row, then the state after one update)
            self.state = "paused"
        self._update_buttons()

    def reset(self) -> None:
        self.stop_runs()
        self.buffers = []
        self.landscape.set_runs([], [])
        self.loss_curve.set_runs([], [])
        self.runs_panel.clear_status()
        self.state = "idle"
        self._update_buttons()
        self._update_status()

    def stop_runs(self) -> None:
        """Cancel and join the worker (if any); what was drawn stays."""
        was_active = self.controller.active
        self.controller.stop()
        for buffer in self.buffers:
            if buffer.status in ("running", "waiting"):
                buffer.status, buffer.reason = "cancelled", f"stopped by the user at step {buffer.steps_done}"
        if was_active:
            self.state = "finished" if self.buffers else "idle"
            self.redraw()
        self._update_buttons()

    def _runs_started(self, runs: list) -> None:
        limit = row_limit(len(runs))  # (as the core's runner keeps them)
        self.buffers = [RunBuffer(label, variables, limit) for label, variables in runs]
        for buffer in self.buffers:
            buffer.status = "running"
        colors = [run_color(self._running, i) for i in range(len(runs))]
        self.landscape.set_runs(self.buffers, colors)
        self.loss_curve.set_runs(self.buffers, colors)
        data = self._running.data.dataset if self._running.data else None  # epoch = step · batch / rows
        self.loss_curve.set_epoch_scales([min(s.batch_size or data.rows, data.rows) / data.rows for s in self._running.runs]
                                         if data is not None and data.rows else None)
        if self.state == "starting":
            self.state = "paused" if self.controller.paused else "running"
        self._update_buttons()

    def _chunks(self, chunks: list) -> None:
        for chunk in chunks:
            buffer = self.buffers[chunk.run]
            buffer.extend(chunk.rows)
            buffer.status, buffer.reason = chunk.status, chunk.reason

    def _runs_finished(self, error: str) -> None:
        if error:
            for buffer in self.buffers:
                if buffer.status in ("running", "waiting"):
                    buffer.status, buffer.reason = "error", error
            self.show_message("The run could not start" if not self.buffers else "The run stopped", error)
        self.state = "finished"
        self.redraw()
        self.timer.stop()
        self._update_buttons()

    def _update_buttons(self) -> None:
        active = self.controller.active
        self.run_action.setEnabled(self.state != "running")
        self.pause_action.setEnabled(active and self.state in ("running", "starting"))
        self.step_action.setEnabled(self.state != "running")
        self.reset_action.setEnabled(self.state != "idle")

    # -- drawing ----------------------------------------------------------------------
    def redraw(self, everything: bool = True) -> None:
        """One frame: plots and tables from the buffers (cheap when nothing moved). While runs go,
        the timer alternates between the two plots so each event-loop pass paints only one of them
        (a repaint of a plot costs ~10-25 ms; both at once would stall input handling longer)."""
        self._frame = getattr(self, "_frame", 0) + 1
        if everything or self._frame % 2:
            self.landscape.refresh()
        if everything or self._frame % 4 == 2:  # the loss curve (axes rescale as it grows) at ~8 frames/s
            self.loss_curve.refresh()
        self.runs_panel.show_status(self.buffers, paused=self.state == "paused")
        self._update_status()

    def _update_status(self) -> None:
        index = self.runs_panel.current()
        state = {"idle": "ready — press Run (F5)", "starting": "compiling…", "running": f"running at {self.speed_label.text()}",
                 "paused": "paused", "finished": "finished"}[self.state]
        if 0 <= index < len(self.buffers):
            buffer = self.buffers[index]
            last = buffer.last()
            if last is not None:
                line = f"{buffer.label} · step {buffer.steps_done:,} · loss {last[0]:.4g} · ‖∇‖ {last[1]:.3g}"
                self.status_label.setText(f"{line} · {buffer.reason}   [{state}]" if buffer.reason else f"{line}   [{state}]")
                return
        self.status_label.setText(state)

    # -- closing, drag and drop -------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown:  # docks can be sized only once the window is laid out
            self._shown = True
            self.resizeDocks([self.runs_dock], [self.runs_panel.natural_width()], Qt.Orientation.Horizontal)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.shutdown()
        self.recovery.discard()  # a clean quit: nothing to recover
        settings().setValue("geometry", self.saveGeometry())
        event.accept()

    def shutdown(self) -> None:
        """Stop everything that runs in the background (idempotent)."""
        self.timer.stop()
        self.controller.stop()
        self.editor.shutdown()
        self.landscape.shutdown()
        self.files.shutdown()
        if getattr(self, "insight", None) is not None:
            self.insight.shutdown()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile() and urls[0].toLocalFile().lower().endswith((".json", ".csv")):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """A scenario file opens; a CSV file becomes the data (as Data ▸ Import)."""
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            action = self.data_actions.import_csv if path.lower().endswith(".csv") else self.files.open_path
            QTimer.singleShot(0, lambda: action(path))
