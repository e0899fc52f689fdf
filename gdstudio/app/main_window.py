"""The studio window: menus, docks and layout around one StudioSession.

The window holds no state of the studio and no maths: it builds the views, hands each the session
(or the signals it needs), shows the session's messages and owns the redraw timer. Runs execute in
the session's worker thread; every ~30 ms the plots and tables draw what is new.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMenu, QMessageBox, QSplitter, QWidget

from ..core.scenario import Scenario
from .actions import Actions
from .collector import collect_on_gui_thread, freeze_what_is_loaded
from .document import Change, run_color
from . import engine, foreground
from .engine import EngineLoader
from .files import FileActions, ask_unsaved
from .history import History, add_edit_menu
from .paint_later import PaintAfterTimers
from .panels.loss_editor import LossEditor
from .panels.math_view import drawing, stop_drawing
from .panels.runs_panel import RunsPanel
from .plots.landscape import Landscape
from .plots.loss_curve import LEGEND_RUNS, LossCurve
from .recovery import Recovery
from .scroll_bars import flatten
from .session import RunState, StudioSession
from .settings import recent_files, settings

FRAME_MS = 30
IDLE_RETRY_MS = 500  # how soon a build left for an idle moment looks again
UNPAINTED_MS = 2000  # a window shown but never painted (started minimised, say) is built in full all the same


class MainWindow(QMainWindow):
    def __init__(self, scenario: Scenario | None = None) -> None:
        super().__init__()
        engine.hold_until_painted()  # deriving, compiling and typesetting wait for the first paint (eventFilter)
        collect_on_gui_thread()
        self.setObjectName("studio")
        self.session = session = StudioSession(scenario, self)
        self.document = session.document
        self.message_box: QMessageBox | None = None
        self._shown = False
        self._built = False  # (the rest of the window, after the first paint: _painted)
        self._frame = 0
        self.ask_unsaved = lambda: ask_unsaved(self, self.document)  # tests replace this

        self.editor = LossEditor()
        self.runs_panel = RunsPanel(session)
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
        self.files = FileActions(session, self, lambda: self.ask_unsaved(), self._shown_plots)
        self.recovery = Recovery(session, self)  # autosave of unsaved work; offered after a crash (main.launch)
        self.menus = Actions(self, session, self.files, self.loss_curve, self.edit_properties, self.editor.presets_menu,
                             self.landscape.frame_runs)
        self.history = History(self.document, self)  # Edit ▸ Undo (a whole drag is one step)
        self.undo_action, self.redo_action = add_edit_menu(self, self.history)
        self.setAcceptDrops(True)
        self.engine = EngineLoader(self)
        self.engine.loading.connect(lambda text: self.statusBar().showMessage(text))
        self.engine.ready.connect(self._engine_ready)
        self.engine.kernel_ready.connect(self._kernel_ready)
        self.installEventFilter(self)
        PaintAfterTimers(self)  # (whatever changed the window, its paint is a turn of its own: paint_later.py)
        self.timer = QTimer(self, interval=FRAME_MS)
        self.timer.timeout.connect(lambda: self.redraw(everything=False))
        self._connect()
        from .insight import Insight
        from .view3d_dock import View3DDock

        self.insight = Insight(session, self, self.landscape, self.runs_panel)  # menu, dock (shown), overlays
        self.view3d = View3DDock(session, self, self.landscape, self.menus.view_menu)  # View ▸ 3-D landscape
        self.data_actions = self.help = None  # hidden at first: built once the window has painted (_painted)
        self.resize(1400, 900)
        geometry = settings().value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._update_title()
        self._show_scenario(self.document.scenario)
        self.menus.show_recent(recent_files())

    def _connect(self) -> None:
        session, document = self.session, self.document
        document.replaced.connect(self._show_scenario)
        document.data_changed.connect(self._show_scenario)
        document.changed.connect(self._update_title)
        document.path_changed.connect(self._update_title)
        document.modified_changed.connect(self.setWindowModified)
        self.editor.loss_accepted.connect(lambda text, _o: document.update(Change.LOSS, loss=text, variables=None))
        self.editor.objective_ready.connect(session.set_objective)
        self.editor.preset_chosen.connect(session.apply_preset)
        session.guards.append(lambda: self.editor.commit_pending() or self.editor.unapplied_edit(document.scenario.loss))
        session.guards.append(self.runs_panel.unapplied_edit)
        session.objective_changed.connect(lambda objective: self.runs_panel.set_variables(objective.variables))
        session.problem_changed.connect(self.landscape.set_problem)
        session.selection_changed.connect(self.landscape.set_selected)
        session.selection_changed.connect(self.loss_curve.set_selected)
        session.selection_changed.connect(lambda _i: self._update_status())
        session.buffers_changed.connect(self._buffers_changed)
        for signal in (document.replaced, document.runs_changed):
            session.stagger.follow(signal, self._prepare_runs)
        # and after a Reset (the runs' own items wait, emptied, for them); not at every new set of runs shown, a live
        # drag's frames among them: prepare has nothing to do while runs are shown
        session.buffers_changed.connect(
            lambda buffers: buffers or session.stagger.later(self._prepare_runs, self._prepare_runs))
        session.state_changed.connect(self._state_changed)
        session.message.connect(self.show_message)
        session.status.connect(lambda text, msecs: self.statusBar().showMessage(text, msecs))
        self.landscape.start_clicked.connect(session.set_start)
        self.landscape.view_chosen.connect(lambda v: document.update(Change.VIEW, view={**document.scenario.view, **v}))
        self.landscape.axes_changed.connect(session.set_axes)
        self._connect_live()

    def _connect_live(self) -> None:
        """Drags of a start and knobs of the run editor show whole paths live (app/live.py)."""
        live, landscape, editor = self.session.live, self.landscape, self.runs_panel.editor
        landscape.drag.moved.connect(live.drag_start)
        landscape.drag.released.connect(self._start_released)
        editor.run_previewed.connect(live.scrub_run)
        editor.knob_released.connect(live.let_go)
        live.frame.connect(self.redraw)
        live.holding_changed.connect(lambda holding: setattr(landscape, "holding", holding))

    def _start_released(self, index: int, values: dict) -> None:
        """A dragged start is let go: it becomes the run's start (one edit, one undo step)."""
        self.session.select(index)
        self.session.set_start(values)
        self.session.live.let_go()

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self, objectName=f"{title.lower()}Dock")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        widget.setMinimumWidth(260)  # (with the landscape's controls: a window from about 1,050 pixels wide)
        self.addDockWidget(area, dock)
        return dock

    # -- title and messages -----------------------------------------------------------
    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.document.scenario.name} — {self.document.display_name()}[*] — gdstudio")
        self.setWindowModified(self.document.modified)

    def _shown_plots(self) -> list:
        """What File ▸ Export plots draws: the landscape, the loss curve and, with data, the fitted models."""
        plots = [self.landscape.plot, self.loss_curve.plot]
        data = self.data_actions
        return plots + [data.view.plot] if data is not None and data.dock.isVisible() else plots

    def edit_properties(self):
        from .panels.properties import edit_properties

        return edit_properties(self.document, self)

    def show_message(self, title: str, text: str) -> None:
        """A warning that does not block (tests and the event loop keep going)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("messageBox")
        self.message_box = box
        box.open()
        self.statusBar().showMessage(f"{title}: {text.splitlines()[-1]}", 8000)

    # -- the session -> views ---------------------------------------------------------
    def _show_scenario(self, scenario: Scenario) -> None:
        """A new scenario or new data: the editor checks its loss (and announces the objective)."""
        self.editor.set_data(scenario.data)
        self.editor.set_text(scenario.loss)

    def _buffers_changed(self, buffers: list) -> None:
        colors = self.session.run_colors()
        self.landscape.set_runs(buffers, colors)
        self.loss_curve.set_runs(buffers, colors)
        self.loss_curve.set_epoch_scales(self.session.epoch_scales() if buffers else None)
        if not buffers:
            self.runs_panel.clear_status()

    def _prepare_runs(self, *_args) -> None:
        """Many runs' paths and curves made before Run, in turns of their own: the first Run of twenty runs made them,
        their key and their markers in the turn that started the runs (60-100 ms). Not a few runs' (a lesson's): their
        legend's entries (~5 ms each, and its layout again at each) made the turns after a lesson opened 3-30 ms
        longer, for less than their Run saves."""
        scenario = self.session.scenario
        if len(scenario.runs) <= LEGEND_RUNS:
            return
        colors = [run_color(scenario, i) for i in range(len(scenario.runs))]
        self.landscape.marks.prepare(colors)
        if self.loss_curve.prepare([run.label for run in scenario.runs], colors):
            self.session.stagger.later(self._prepare_runs, self._prepare_runs)  # (the next few in a later turn)

    def _state_changed(self, state: RunState) -> None:
        if state == RunState.STARTING:
            self.timer.start()
        elif state in (RunState.FINISHED, RunState.IDLE):
            self.timer.stop()
            self.redraw()
        self._update_status()

    def redraw(self, everything: bool = True) -> None:
        """One frame: plots and tables from the buffers (cheap when nothing moved). While runs go, each tick of
        the timer feeds one of them, and a plot's paint comes in a turn of its own (paint_hold.py), so no pass of the
        event loop both feeds and paints, nor paints two plots: the contour view every other tick (many runs' paths
        half of them at a time), and between them the loss curves, half the runs' at a time (painted, their axes
        rescaled, after the second half), and the runs' numbers every fourth: the contour view at ~16 frames/s, the rest
        at ~8."""
        self._frame += 1
        half = (0, 1) if everything else (self._frame // 2 % 2, 2)  # (many runs: by halves)
        if everything or self._frame % 2:
            if not everything:  # (its paint a turn later: paint_hold.py)
                self.landscape.hold.defer()
            self.landscape.refresh(part=half)
        if everything or not self._frame % 2:
            self.loss_curve.refresh(part=half)
        self.view3d.refresh()  # (the 3-D landscape, when open: the same frames as the contour view)
        if everything or self._frame % 4 == 0:  # (20 runs' cells: 1-2 ms a frame, and up to 30 when the table grows)
            self.runs_panel.show_status(self.session.buffers, paused=self.session.state == RunState.PAUSED)
            self._update_status()

    def _update_status(self) -> None:
        session = self.session
        index = session.selected_index()
        state = {RunState.IDLE: "ready — press Run (F5)", RunState.STARTING: "compiling…",
                 RunState.RUNNING: f"running at {self.menus.speed_label.text()}", RunState.PAUSED: "paused",
                 RunState.FINISHED: "live — drag a start or a knob" if session.live.showing else "finished"}[session.state]
        if 0 <= index < len(session.buffers):
            buffer = session.buffers[index]
            last = buffer.last()
            if last is not None:
                line = f"{buffer.label} · step {buffer.steps_done:,} · loss {last[0]:.4g} · ‖∇‖ {last[1]:.3g}"
                self.status_label.setText(f"{line} · {buffer.reason}   [{state}]" if buffer.reason else f"{line}   [{state}]")
                return
        self.status_label.setText(state)

    def _painted(self) -> None:
        """After the first paint: the rest of the window, one piece per event-loop pass (so typing is answered
        in between), then the engine."""
        if self._built or not self.isVisible():  # (done already; or closed before it ever painted)
            return
        self._built = True
        self.removeEventFilter(self)
        steps = [self._build_data, self._build_help, lambda: flatten(self), engine.painted, self.engine.start,
                 self._build_when_idle]

        def next_step() -> None:
            steps.pop(0)()
            if steps:
                QTimer.singleShot(0, next_step)

        next_step()

    # The Data and Help menus and their docks (hidden at first) are built after the first paint, which they
    # would delay: their modules and widgets take a few hundredths of a second (the data view's plot, later still).
    def _build_data(self) -> None:
        from .panels.data_import import DataActions

        self.data_actions = DataActions(self.session, self, self.timer)  # the Data dock and menu
        insight_menu = self.findChild(QMenu, "insightMenu")
        self.menuBar().insertMenu(insight_menu.menuAction(), self.data_actions.menu)  # (File … Data, Insight, Help)

    def _build_help(self) -> None:
        from .panels.help import Help

        self.help = Help(self.session, self, self.menus.examples_menu)  # Help ▸ What am I looking at?

    def _kernel_ready(self, seconds: float) -> None:
        self.statusBar().showMessage(f"engine loaded in {seconds:.1f} s", 4000)
        freeze_what_is_loaded()

    def _build_when_idle(self) -> None:
        """The data view (10-20 ms of widgets: not in the launch's turns), then the sweep dialog, made and drawn once
        off screen, once the engine has loaded and nothing else runs, one piece a pass, not in the turn that opens
        it: its two plots (and pyqtgraph's menus for them) take ~30 ms alone, and up to 200 ms beside the threads
        that typeset formulas and compile kernels (both Python, sharing the interpreter)."""
        if not self.isVisible():  # (closed: nothing to build for)
            return
        session = self.session
        if engine.kernel_loaded() and foreground.quiet() and not (drawing() or session.kernels.busy) \
                and session.state not in (RunState.STARTING, RunState.RUNNING):
            if not self.data_actions.view_made:
                self.data_actions.view  # noqa: B018  (the data view, made ahead: one piece)
                QTimer.singleShot(0, self, self._build_when_idle)
            elif not self.insight.build_ahead():
                QTimer.singleShot(0, self, self._build_when_idle)  # (the next piece, in the next pass)
        else:
            QTimer.singleShot(IDLE_RETRY_MS, self, self._build_when_idle)

    def _engine_ready(self, _seconds: float) -> None:
        if self.data_actions.view_made:  # (made later, it draws the model from the start)
            self.data_actions.view.engine_ready()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """The window paints for the first time: once that paint is done (a zero timer), the rest of the window is
        built and the engine loads, which would otherwise delay that paint. (Not at its first UpdateRequest: that one
        comes before the window is exposed and paints nothing, and the Data and Help docks were built before the
        first paint, ~30 ms of it.)"""
        if watched is self and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self._painted)
        return False

    # -- closing, drag and drop -------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown:  # docks can be sized only once the window is laid out
            self._shown = True
            QTimer.singleShot(UNPAINTED_MS, self, self._painted)
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
        """Stop everything that runs in the background and join its threads (idempotent); the typesetting thread,
        which may be in the middle of a line, is joined once the window has gone (main.launch: join_drawing)."""
        engine.painted()  # (work held for a paint that never came goes on, and ends)
        self.engine.stop()  # (a first compile of the run kernel ends now: nothing below waits for it)
        self.timer.stop()
        self.session.shutdown()
        self.editor.shutdown()
        self.landscape.shutdown()
        self.files.shutdown()
        self.insight.shutdown()
        stop_drawing()
        self.engine.join()

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
