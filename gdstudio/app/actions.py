"""The window's File, Run and View menus, its toolbar and the speed slider: each action calls the
session or a file action; none holds state of its own."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSlider

from .session import RunState, StudioSession

if TYPE_CHECKING:
    from .files import FileActions
    from .plots.loss_curve import LossCurve

SPEEDS = (1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 100000, math.inf)
DEFAULT_SPEED = SPEEDS.index(1000)


def speed_text(speed: float) -> str:
    return "max" if math.isinf(speed) else f"{speed:,.0f}/s"


class Actions:
    """Builds the menus and toolbar into `window` and keeps the run actions enabled as the run state allows."""

    def __init__(self, window: QMainWindow, session: StudioSession, files: FileActions, loss_curve: LossCurve,
                 edit_properties, presets: QMenu, frame_runs) -> None:
        self.window, self.session = window, session
        K = QKeySequence.StandardKey
        self.new = self._action("&New", files.new, K.New)
        self.open = self._action("&Open…", files.open_dialog, K.Open)
        self.save = self._action("&Save", files.save, K.Save)
        self.save_as = self._action("Save &As…", files.save_as, K.SaveAs)
        self.csv = self._action("Export trajectories (CSV)…", lambda: files.export_csv(), "Ctrl+E")
        self.png = self._action("Export plots (PNG)…", lambda: files.export_png(), "Ctrl+Shift+E")
        self.animation = self._action("Export animation (GIF, MP4)…", lambda: files.export_animation(), None,
                                      "the runs descending the landscape, as an animated GIF (or an MP4, with imageio-ffmpeg)")
        self.properties = self._action("Name and &description…", edit_properties, None,
                                       "what the title bar and the Help panel say about this scenario")
        self.quit = self._action("&Quit", window.close, K.Quit)
        self.run = self._action("Run", session.run, "F5", "run every run (or resume)")
        self.pause = self._action("Pause", session.pause, "F6", "pause the runs")
        self.step = self._action("Step", session.step, "F10", "one step of every run")
        self.reset = self._action("Reset", session.reset, "Ctrl+R", "stop and clear the runs")
        self.log = self._action("Log scale", loss_curve.log.toggle, "Ctrl+L")
        self.frame = self._action("Frame runs", frame_runs, "Ctrl+0", "frame the starts, minima and paths on the landscape")
        running = (self.run, self.pause, self.step, self.reset)
        for action in running:
            action.setObjectName(action.text().split()[-1].lower() + "Action")
        menu = window.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addActions([self.new, self.open])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.examples_menu = file_menu.addMenu("&Examples")
        files.fill_examples(self.examples_menu)
        session.stagger.follow(files.recent_changed, self.show_recent)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as, self.properties])
        file_menu.addSeparator()
        file_menu.addActions([self.csv, self.png, self.animation])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)
        menu.addMenu("&Run").addActions(list(running))
        self.view_menu = menu.addMenu("&View")  # (the 3-D view adds itself here)
        self.view_menu.addActions([self.log, self.frame])
        presets_menu = menu.addMenu("&Presets")
        presets_menu.addActions(presets.actions())
        presets_menu.setEnabled(bool(presets.actions()))
        self._files = files
        self._toolbar(running)
        session.state_changed.connect(self.enable)
        self.enable()

    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip or text} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _toolbar(self, running: tuple[QAction, ...]) -> None:
        bar = self.window.addToolBar("Main")
        bar.setObjectName("mainToolBar")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addActions([self.open, self.save])
        bar.addSeparator()
        bar.addActions(list(running))
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

    def _speed_changed(self, position: int) -> None:
        self.speed_label.setText(speed_text(SPEEDS[position]))
        self.session.set_speed(SPEEDS[position])

    def set_speed(self, speed: float) -> None:
        self.speed.setValue(SPEEDS.index(speed))

    def show_recent(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            self.recent_menu.addAction(Path(path).name, lambda p=path: self._files.open_path(p)).setToolTip(path)
        self.recent_menu.setEnabled(bool(paths))

    def enable(self, *_args) -> None:
        state, active = self.session.state, self.session.controller.active
        self.run.setEnabled(state != RunState.RUNNING)
        self.pause.setEnabled(active and state in (RunState.RUNNING, RunState.STARTING))
        self.step.setEnabled(state != RunState.RUNNING)
        self.reset.setEnabled(state != RunState.IDLE)
