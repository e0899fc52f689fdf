"""Retake the README's screenshots from the real studio.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python resources/screenshots/take_screenshots.py [NAME ...]

(or, with an Xvfb already running: `DISPLAY=:12 QT_QPA_PLATFORM=xcb .venv/bin/python resources/...`). The
3-D landscape needs OpenGL, which Xvfb gives with Mesa's software renderer and Qt's offscreen platform does
not: under offscreen the 3-D shot is refused, the others still work. NAME picks shots by prefix.

- The lessons (02, 03, 05): each example is opened, run to the end as fast as possible, and the window grabbed.
- 16_live_drag_3d: Himmelblau with four runs ending in its four minima and the 3-D landscape open beside the
  contour view; one start is grabbed with the mouse and dragged across the hill into another basin, and the
  window is grabbed while the mouse still holds it, both views showing the live paths (the Loss and Insight
  docks are hidden for room: the insight panels are not redone while a start is held).
- 16_lr_knob: x² with gd; the lr slider is pressed and dragged past 2/λmax = 1 (λmax = 2), the path following
  live, and the window is grabbed once it is let go (so the insight panels, not redone while a knob is held,
  agree): the path zig-zags outward across the bowl and the loss grows until the run diverges.

Each goes to resources/screenshots/<name>.png. Settings go to a throwaway organisation, not the user's.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDockWidget

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parents[1] / "scenarios"
EXAMPLES = ("02_learning_rate", "03_batch_sgd_minibatch", "05_momentum")
LEFT = Qt.MouseButton.LeftButton
LESSON_SIZE, LIVE_SIZE = (1500, 900), (1600, 1000)  # (the live shots hold more side by side: the whole Xvfb screen)

HIMMELBLAU = {
    "format": "gdstudio-scenario", "version": 1, "name": "Himmelblau: four basins",
    "loss": "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "view": {"x": [-5, 5], "y": [-5, 5]},
    "stop": {"max_steps": 2000, "grad_tol": 1e-6, "loss_tol": None, "divergence": 1e12},
    "runs": [{"label": f"GD {i + 1}", "optimizer": {"name": "gd", "lr": 0.01}, "start": {"x": x, "y": y}}
             for i, (x, y) in enumerate([(-0.6, 0.2), (0.6, -1.6), (-1.2, 0.8), (-1.2, -1.8)])]}
CAMERA = {"distance": 2.8, "elevation": 50.0}  # closer and higher than the first camera: the surface fills the dock
DRAG = [(-0.4, 0.25), (-0.15, 0.3), (0.1, 0.35), (0.35, 0.45), (0.55, 0.6)]  # run 1's start, over the hill's ridge
PARABOLA = {
    "format": "gdstudio-scenario", "version": 1, "name": "x²: the learning rate past 2/λmax",
    "loss": "x^2", "view": {"x": [-3, 3]},
    "stop": {"max_steps": 500, "grad_tol": 1e-6, "loss_tol": None, "divergence": 1e12},
    "runs": [{"label": "gd", "optimizer": {"name": "gd", "lr": 0.3}, "start": {"x": 2.0}}]}
PAST = 1.0  # the knob is swept up until the lr passes this (2/λmax): a pixel moves it by about 8 %


def pump(seconds: float, until: Callable[[], bool] = lambda: False) -> None:
    """Let the studio work (threads answer through the event loop) until `until()` or `seconds` pass."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not until():
        QApplication.processEvents()
        time.sleep(0.005)


def wait(condition: Callable[[], bool], what: str, seconds: float = 120) -> None:
    pump(seconds, condition)
    if not condition():
        raise SystemExit(f"gave up waiting for {what}")


def open_scenario(window, path: Path) -> None:
    """Open a file and wait until its loss is derived and its landscape drawn (both in threads)."""
    window.files.open_path(str(path), ask=False)
    session = window.session

    def ready() -> bool:
        return (not window.files.opening and window.document.path == path.resolve() and session.objective is not None
                and session.objective.text == session.scenario.loss and not window.landscape.computing)

    wait(ready, f"{path.name} to open")


def run_to_end(window) -> None:
    window.menus.set_speed(math.inf)
    window.session.run()
    wait(lambda: window.session.state == "finished" and not window.landscape.computing, "the runs to end", 300)


def save(window, name: str) -> None:
    pump(0.8)  # the last frames and the insight panels
    path = HERE / f"{name}.png"
    window.grab().save(str(path))
    print(f"wrote {path}")


def lesson(window, name: str, _folder: Path) -> None:
    open_scenario(window, SCENARIOS / f"{name}.json")
    run_to_end(window)
    save(window, name)


def at(landscape, x: float, y: float) -> QPoint:
    """Where the data point (x, y) is in the contour view's viewport."""
    view = landscape.plot.mapFromScene(landscape.vb.mapViewToScene(QPointF(x, y)))
    return QPoint(round(view.x()), round(view.y()))


def next_frame(window, act: Callable[[], None]) -> None:
    """Do `act` (a mouse move) and wait for the live frame it asked for, drawn."""
    live, frames = window.session.live, window.session.live.frames
    act()
    wait(lambda: live.frames > frames and not live.worker.busy, "a live frame")
    pump(0.05)


def live_drag_3d(window, folder: Path) -> None:
    path = folder / "himmelblau.json"
    path.write_text(json.dumps(HIMMELBLAU))
    open_scenario(window, path)
    window.view3d.action.setChecked(True)
    view = window.view3d.view
    wait(lambda: view.scene.surface is not None, "the 3-D surface")
    if view.canvas is None:
        raise SystemExit(f"no 3-D view here ({view.problem}): run under Xvfb (see the docstring)")
    for dock in ("lossDock", "insightDock"):  # room for the 3-D view; the insight panels are not redone mid-drag
        window.findChild(QDockWidget, dock).hide()
    pump(0.2)
    window.resizeDocks([window.view3d.dock, window.runs_dock], [510, 480], Qt.Orientation.Horizontal)
    view.canvas.set_camera(replace(view.current_camera(), **CAMERA))
    run_to_end(window)
    landscape = window.landscape
    viewport = landscape.plot.viewport()
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at(landscape, *HIMMELBLAU["runs"][0]["start"].values()))
    for point in DRAG:
        next_frame(window, lambda: QTest.mouseMove(viewport, at(landscape, *point)))
    save(window, "16_live_drag_3d")
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, at(landscape, *DRAG[-1]))
    wait(lambda: window.session.live.settled, "the whole paths")
    window.view3d.action.setChecked(False)


def lr_knob(window, folder: Path) -> None:
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    path = folder / "parabola.json"
    path.write_text(json.dumps(PARABOLA))
    open_scenario(window, path)
    window.resizeDocks([window.runs_dock], [470], Qt.Orientation.Horizontal)
    run_to_end(window)
    window.runs_panel.select(0)
    editor = window.runs_panel.editor
    knob = editor.hyper._knobs[editor.hyper.field("lr")]

    def handle(value: float) -> QPoint:
        option = QStyleOptionSlider()
        knob.initStyleOption(option)
        option.sliderPosition = knob.scale.position(value)
        return knob.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, knob).center()

    field = editor.hyper.field("lr")
    press = handle(PARABOLA["runs"][0]["optimizer"]["lr"])
    QTest.mousePress(knob, LEFT, Qt.KeyboardModifier.NoModifier, press)
    point = press
    for x in range(press.x() + 1, handle(10.0).x()):  # a sweep up, a pixel at a time, until just past 2/λmax
        point, shown = QPoint(x, press.y()), field.text()
        QTest.mouseMove(knob, point)
        if field.text() != shown:
            next_frame(window, lambda: None)
        if float(field.text()) > PAST:
            break
    QTest.mouseRelease(knob, LEFT, Qt.KeyboardModifier.NoModifier, point)
    wait(lambda: window.session.live.settled, "the whole paths")
    lr = window.document.scenario.runs[0].hyper["lr"]
    if not lr > 1:
        raise SystemExit(f"the knob let go at lr = {lr}, not past 2/λmax = 1")
    save(window, "16_lr_knob")  # (let go: the insight panels, not redone while a knob is held, agree with the picture)


SHOTS: dict[str, Callable] = {**{name: (lambda w, f, name=name: lesson(w, name, f)) for name in EXAMPLES},
                              "16_live_drag_3d": live_drag_3d, "16_lr_knob": lr_knob}


def studio(size: tuple[int, int]):
    """A fresh studio window (each shot starts from the same layout), its engine loaded."""
    from gdstudio.app.main_window import MainWindow

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.resize(*size)
    window.show()
    wait(lambda: window.session.objective is not None and not window.landscape.computing, "the studio")
    return window


def main(prefixes: list[str]) -> int:
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)  # (as the studio's launch does)
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("gdstudio-screenshots")
    folder = Path(tempfile.mkdtemp())
    for name, shoot in SHOTS.items():
        if not prefixes or name.startswith(tuple(prefixes)):
            window = studio(LIVE_SIZE if name.startswith("16_") else LESSON_SIZE)
            try:
                shoot(window, folder)
            finally:
                window.shutdown()
                window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
