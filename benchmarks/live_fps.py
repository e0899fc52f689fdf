"""Frames per second while dragging a start, in the 2-D views and in the 3-D landscape (issue 16: >= 30 drag
frames/s on every preset with 10,000-step runs; drag and 3-D frames/s on Rosenbrock, Himmelblau and 1M rows).

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/live_fps.py [--seconds 3] [--only NAME]`, 2-D only;
the 3-D part needs a display with OpenGL (Qt's offscreen platform has none; it then says so and skips it):
  `Xvfb :12 -screen 0 1600x1000x24 & DISPLAY=:12 QT_QPA_PLATFORM=xcb .venv/bin/python benchmarks/live_fps.py`
(about 4 minutes; not collected by pytest: the file name does not start with test_).

For each scenario the studio is opened on it with every run set to 10,000 steps (no tolerance stops them
earlier), a start marker is pressed with a real mouse event and then moved round a circle, one mouse
move per event-loop pass: positions are fed as fast as the app takes them, and the worker computes the
latest (app/live.py). Reported:
- drag frames/s: live frames drawn per second (whole paths set into the plots and painted), and paints of
  the landscape per second;
- the longest gap of a 5 ms QTimer in the GUI thread during the drag;
- baselines measured in the same run: frames/s of plain `setData` redraws of the same items with a
  precomputed path (the most a frame can be drawn at), and the idle window's longest timer gap;
- after the release: seconds until the whole (uncut) paths are drawn.
With OpenGL, each scenario is then dragged again with View ▸ 3-D landscape open beside the contour view (after
all the 2-D drags: once a window has shown a GL widget, Qt composes all of it with OpenGL, in software under Xvfb):
- 3-D frames/s: paints of the 3-D canvas per second, and how many of them showed a new live frame;
- its baselines, in the same run, precomputed paths fed with `setData` (two, alternating): into the 3-D canvas
  alone, and into both views at every frame (what a live frame changes): the most frames the window can show
  on this machine, whatever the drag computes.
Scenarios: Rosenbrock and Himmelblau (presets, 2 runs each) and a linear model over 1,000,000 rows
(gd and sgd with batches of 32), where a drag cuts the runs short to keep up.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from probe import one_pass, studio_application  # noqa: E402

STEPS = 10_000
STOP = {"max_steps": STEPS, "grad_tol": None, "loss_tol": None, "divergence": 1e12}
DATA = {
    "format": "gdstudio-scenario", "version": 1, "name": "linear model, 1,000,000 rows", "loss": "mean((w*x + b - y)^2)",
    "data": {"generate": {"kind": "noisy_line", "n": 1_000_000, "seed": 1, "slope": 2, "intercept": 1, "noise": 1},
             "model": "w*x + b", "target": "y"},
    "view": {"w": [-1, 5], "b": [-3, 5]}, "stop": STOP,
    "runs": [{"label": "gd", "optimizer": {"name": "gd", "lr": 0.005}, "start": {"w": 0, "b": 0}},
             {"label": "sgd", "optimizer": {"name": "sgd", "lr": 0.01}, "start": {"w": 0, "b": 0}, "batch_size": 32}]}


class Paints(QObject):
    """Counts the paint events of a widget, and those that showed something new (`showing()` changed)."""

    def __init__(self, widget, showing=lambda: None) -> None:
        super().__init__()
        self.count = self.fresh = 0
        self.showing, self._shown = showing, object()
        widget.installEventFilter(self)

    def eventFilter(self, _watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            shown = self.showing()
            self.fresh += shown is not self._shown
            self._shown = shown
        return False


class Gaps:
    """The gaps between the ticks of a 5 ms timer in the GUI thread."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def longest(self) -> float:
        self.timer.stop()
        return float(np.diff(self.ticks).max()) if len(self.ticks) > 1 else math.nan


def pump(app: QApplication, seconds: float, until=lambda: False) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end and not until():
        one_pass(app)


def mouse(viewport, kind: QEvent.Type, point: QPoint, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def at(landscape, x: float, y: float) -> QPoint:
    view = landscape.plot.mapFromScene(landscape.vb.mapViewToScene(QPointF(x, y)))
    return QPoint(view.x(), view.y())


def plain_redraws(app: QApplication, window, seconds: float, view=None) -> float:
    """Frames/s of setData into the same items with precomputed paths (two, alternating), painted; with `view`
    (the 3-D landscape) its paths too, in every frame."""
    marks, curves, buffers = window.landscape.marks, window.loss_curve.curves, window.session.buffers
    axes = window.landscape.axes()
    columns = [4 + buffers[0].variables.index(a) for a in axes]
    paths = [(b.rows[:, columns[0]], b.rows[:, columns[1]]) for b in buffers]
    shifted = [(x + 0.01, y + 0.01) for x, y in paths]
    deep = [p.copy() for p in view.paths] if view is not None else []
    frames, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for item, curve, (x, y), buffer in zip(marks.paths, curves, shifted if frames % 2 else paths, buffers):
            item.setData(x, y)
            curve.setData(buffer.steps, buffer.loss * (1.001 if frames % 2 else 1.0))
        for i, points in enumerate(deep):
            view.canvas.show_path(i, points + np.float32(0.01 * (frames % 2)), view.colors[i], False)
        frames += 1
        one_pass(app)
    return frames / seconds


def plain_3d(app: QApplication, view, seconds: float) -> float:
    """Paints per second of the 3-D canvas alone fed its own paths again with setData (two, alternating)."""
    canvas, paths = view.canvas, [p.copy() for p in view.paths]
    shifted = [p + np.float32(0.01) for p in paths]
    paints, frames, end = Paints(canvas), 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for i, points in enumerate(shifted if frames % 2 else paths):
            canvas.show_path(i, points, view.colors[i], False)
        frames += 1
        one_pass(app)
    return paints.count / seconds


def drag_round(app: QApplication, window, seconds: float, view=None, whole: bool = True) -> dict:
    """Drag the first start round a circle for `seconds`; with `view` (the 3-D landscape), count its paints too.
    After the release, the whole paths are waited for (timed), or with `whole` False dropped."""
    landscape, live = window.landscape, window.session.live
    viewport = landscape.plot.viewport()
    index, x0, y0 = landscape.drag.starts()[0]
    (xa, xb), (ya, yb) = landscape.vb.viewRange()
    radius = 0.25 * min(xb - xa, yb - ya)
    paints, gaps = Paints(viewport), Gaps()
    deep = Paints(view.canvas, lambda: view.buffers) if view is not None else None
    mouse(viewport, QEvent.Type.MouseButtonPress, at(landscape, x0, y0), Qt.MouseButton.LeftButton)
    assert landscape.drag.active, "the press did not take the start marker"
    frames0, moves, cut = live.frames, 0, set()
    cx, cy = (xa + xb) / 2, (ya + yb) / 2
    gaps.start()
    began = time.perf_counter()
    while (now := time.perf_counter()) - began < seconds:
        angle = 2 * math.pi * (now - began) / 2.0  # once round every 2 s
        mouse(viewport, QEvent.Type.MouseMove, at(landscape, cx + radius * math.cos(angle), cy + radius * math.sin(angle)),
              Qt.MouseButton.LeftButton)
        moves += 1
        one_pass(app)
        cut.update(b.steps_done for b in window.session.buffers if b.status == "preview")
    took = time.perf_counter() - began
    longest = gaps.longest()
    frames, painted = live.frames - frames0, paints.count
    mouse(viewport, QEvent.Type.MouseButtonRelease, at(landscape, cx + radius, cy), Qt.MouseButton.NoButton)
    released = time.perf_counter()
    if not whole:
        live.cancel()
    pump(app, 600, lambda: live.settled)
    after = time.perf_counter() - released
    pump(app, 0.2)
    return {"fps": frames / took, "paints": painted / took, "moves": moves / took, "gap": longest, "whole": after,
            "cut": min(cut, default=None), "steps": [b.steps_done for b in window.session.buffers],
            "3d": deep.count / took if deep else None, "3d fresh": deep.fresh / took if deep else None}


def open_scenario(app: QApplication, window, folder: Path, body: dict) -> None:
    path = folder / "scenario.json"
    path.write_text(json.dumps(body))
    window.files.open_path(str(path), ask=False)

    def ready() -> bool:
        scenario = window.document.scenario
        return (window.document.path == path.resolve() and scenario.name == body["name"] and not window.files.opening
                and not window.landscape.computing and window.session.runnable_objective(scenario) is not None)

    pump(app, 120, ready)


def preset(name: str) -> dict:
    from gdstudio.core.presets import preset_by_name

    p = preset_by_name(name)
    runs = [{"label": "Adam", "optimizer": {"name": "adam", "lr": 0.02}, "start": dict(p.start)},
            {"label": "SGD + momentum", "optimizer": {"name": "sgd", "lr": 0.0005, "momentum": 0.9}, "start": dict(p.start)}]
    return {"format": "gdstudio-scenario", "version": 1, "name": p.name, "loss": p.loss,
            "view": {k: list(v) for k, v in p.view.items()}, "stop": STOP, "runs": runs}


def open_3d(app: QApplication, window):
    """View ▸ 3-D landscape opened and its surface drawn: the view when it can draw, else None."""
    window.view3d.action.setChecked(True)
    view = window.view3d.view
    pump(app, 60, lambda: view.scene.surface is not None and not window.landscape.computing)
    pump(app, 0.5)
    return view if view.canvas is not None and view.problem is None else None


def report_2d(name: str, app: QApplication, window, seconds: float, idle: float) -> dict:
    """A drag with the 2-D views only, against plain setData redraws and the idle window's gap."""
    drag_round(app, window, 1.0)  # warm-up: kernels compiled, caches filled
    plain = plain_redraws(app, window, 2.0)
    result = drag_round(app, window, seconds)
    cut = f"; while dragging, runs cut to as few as {result['cut']:,} steps" if result["cut"] is not None else ""
    print(f"{name}: drag {result['fps']:.1f} frames/s = {result['fps'] / plain:.2f}x plain setData "
          f"({plain:.1f}/s); landscape painted {result['paints']:.1f}/s; mouse moves fed {result['moves']:.0f}/s; "
          f"longest gap {result['gap'] * 1000:.0f} ms = {result['gap'] / idle:.1f}x idle; whole paths "
          f"{result['whole']:.2f} s after release (steps {result['steps']}){cut}"
          f"  (target >= 30 frames/s: {'met' if result['fps'] >= 30 else 'NOT met'})", flush=True)
    return result


def report_3d(name: str, app: QApplication, window, seconds: float, flat: dict | None) -> None:
    """The same drag with the 3-D landscape open: its paints per second against plain redraws of the 3-D canvas
    alone and of both views, and how many live frames it showed."""
    view = open_3d(app, window)
    if view is None:
        print(f"{name}: no 3-D figures: {window.view3d.view.problem}")
        return
    drag_round(app, window, 1.0, view, whole=False)  # warm-up: the paths drawn once
    alone, both = plain_3d(app, view, 2.0), plain_redraws(app, window, 2.0, view)
    result = drag_round(app, window, seconds, view, whole=False)
    versus = f" = {result['fps'] / flat['fps']:.2f}x the drag without it" if flat else ""
    print(f"{name}, 3-D open: drag {result['fps']:.1f} frames/s{versus}; 3-D painted {result['3d']:.1f}/s = "
          f"{result['3d'] / both:.2f}x plain setData into both views ({both:.1f}/s), {result['3d'] / alone:.2f}x into "
          f"the 3-D view alone ({alone:.1f}/s); {result['3d fresh'] / max(result['fps'], 1e-9):.2f} of the live frames "
          f"shown in 3-D; mouse moves fed {result['moves']:.0f}/s; longest gap {result['gap'] * 1000:.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--only", default="", help="the scenarios whose name contains this")
    arguments = parser.parse_args()
    seconds = arguments.seconds
    folder = Path(tempfile.mkdtemp())
    app = studio_application(folder)
    from gdstudio.app.main_window import MainWindow

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.resize(1400, 900)
    window.show()
    pump(app, 60, lambda: window.session.objective is not None and not window.landscape.computing)
    gaps = Gaps()
    gaps.start()
    pump(app, 2.0)
    idle = gaps.longest()
    print(f"idle window: longest 5 ms-timer gap over 2 s {idle * 1000:.1f} ms")
    scenarios = [body for body in (preset("Rosenbrock"), preset("Himmelblau"), DATA) if arguments.only in body["name"]]
    flat = {}
    for body in scenarios:  # (first the 2-D views alone: once a GL widget has been shown, the window composes with GL)
        open_scenario(app, window, folder, body)
        flat[body["name"]] = report_2d(body["name"], app, window, seconds, idle)
    from gdstudio.app.plots.gl_support import gl_problem

    if gl_problem() is not None:
        print(f"no 3-D figures: {gl_problem()}")
    (folder / "3d").mkdir()
    for body in scenarios if gl_problem() is None else ():
        open_scenario(app, window, folder / "3d", body)
        report_3d(body["name"], app, window, seconds, flat.get(body["name"]))
    window.shutdown()
    window.close()


if __name__ == "__main__":
    main()
