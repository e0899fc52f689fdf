"""Frames per second while dragging a start (issue 16, part 1's target: >= 30 on every preset, 10,000-step runs).

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/live_fps.py [--seconds 3]`
(not collected by pytest: the file name does not start with test_).

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

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

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
    """Counts the paint events of a widget."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, _watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
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
        app.processEvents()


def mouse(viewport, kind: QEvent.Type, point: QPoint, buttons: Qt.MouseButton) -> None:
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(kind, QPointF(point), QPointF(viewport.mapToGlobal(point)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def at(landscape, x: float, y: float) -> QPoint:
    view = landscape.plot.mapFromScene(landscape.vb.mapViewToScene(QPointF(x, y)))
    return QPoint(view.x(), view.y())


def plain_redraws(app: QApplication, window, seconds: float) -> float:
    """Frames/s of setData into the same items with precomputed paths (two, alternating), painted."""
    marks, curves, buffers = window.landscape.marks, window.loss_curve.curves, window.session.buffers
    axes = window.landscape.axes()
    columns = [4 + buffers[0].variables.index(a) for a in axes]
    paths = [(b.rows[:, columns[0]], b.rows[:, columns[1]]) for b in buffers]
    shifted = [(x + 0.01, y + 0.01) for x, y in paths]
    frames, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for item, curve, (x, y), buffer in zip(marks.paths, curves, shifted if frames % 2 else paths, buffers):
            item.setData(x, y)
            curve.setData(buffer.steps, buffer.loss * (1.001 if frames % 2 else 1.0))
        frames += 1
        app.processEvents()
    return frames / seconds


def drag_round(app: QApplication, window, seconds: float) -> dict:
    landscape, live = window.landscape, window.session.live
    viewport = landscape.plot.viewport()
    index, x0, y0 = landscape.drag.starts()[0]
    (xa, xb), (ya, yb) = landscape.vb.viewRange()
    radius = 0.25 * min(xb - xa, yb - ya)
    paints, gaps = Paints(viewport), Gaps()
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
        app.processEvents()
        cut.update(b.steps_done for b in window.session.buffers if b.status == "preview")
    took = time.perf_counter() - began
    longest = gaps.longest()
    frames, painted = live.frames - frames0, paints.count
    mouse(viewport, QEvent.Type.MouseButtonRelease, at(landscape, cx + radius, cy), Qt.MouseButton.NoButton)
    released = time.perf_counter()
    pump(app, 600, lambda: live.settled)
    whole = time.perf_counter() - released
    pump(app, 0.2)
    return {"fps": frames / took, "paints": painted / took, "moves": moves / took, "gap": longest, "whole": whole,
            "cut": min(cut, default=None), "steps": [b.steps_done for b in window.session.buffers]}


def open_scenario(app: QApplication, window, folder: Path, body: dict) -> None:
    path = folder / "scenario.json"
    path.write_text(json.dumps(body))
    window.files.open_path(str(path), ask=False)

    def ready() -> bool:
        scenario = window.document.scenario
        return (window.document.path == path.resolve() and not window.landscape.computing
                and window.session.runnable_objective(scenario) is not None)

    pump(app, 120, ready)


def preset(name: str) -> dict:
    from gdstudio.core.presets import preset_by_name

    p = preset_by_name(name)
    runs = [{"label": "Adam", "optimizer": {"name": "adam", "lr": 0.02}, "start": dict(p.start)},
            {"label": "SGD + momentum", "optimizer": {"name": "sgd", "lr": 0.0005, "momentum": 0.9}, "start": dict(p.start)}]
    return {"format": "gdstudio-scenario", "version": 1, "name": p.name, "loss": p.loss,
            "view": {k: list(v) for k, v in p.view.items()}, "stop": STOP, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    seconds = parser.parse_args().seconds
    folder = Path(tempfile.mkdtemp())
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    app = QApplication(sys.argv[:1])
    from gdstudio.app.main import answer_quickly

    answer_quickly()  # (as the studio's launch does)
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
    for body in (preset("Rosenbrock"), preset("Himmelblau"), DATA):
        open_scenario(app, window, folder, body)
        drag_round(app, window, 1.0)  # warm-up: kernels compiled, caches filled
        plain = plain_redraws(app, window, 2.0)
        result = drag_round(app, window, seconds)
        cut = f"; while dragging, runs cut to as few as {result['cut']:,} steps" if result["cut"] is not None else ""
        print(f"{body['name']}: drag {result['fps']:.1f} frames/s = {result['fps'] / plain:.2f}x plain setData "
              f"({plain:.1f}/s); landscape painted {result['paints']:.1f}/s; mouse moves fed {result['moves']:.0f}/s; "
              f"longest gap {result['gap'] * 1000:.0f} ms = {result['gap'] / idle:.1f}x idle; whole paths "
              f"{result['whole']:.2f} s after release (steps {result['steps']}){cut}"
              f"  (target >= 30 frames/s: {'met' if result['fps'] >= 30 else 'NOT met'})")
    window.shutdown()
    window.close()


if __name__ == "__main__":
    main()
