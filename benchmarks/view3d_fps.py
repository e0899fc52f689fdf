"""Frames per second of the 3-D landscape with a moving path, against the 2-D contour view (issue 16, part 3).

Run under a display with OpenGL, e.g. Xvfb and Mesa's software renderer:
  `Xvfb :9 -screen 0 1600x1000x24 & DISPLAY=:9 QT_QPA_PLATFORM=xcb .venv/bin/python benchmarks/view3d_fps.py`
(not collected by pytest: the file name does not start with test_).

For each scenario (the Rosenbrock and Himmelblau presets, and the linear model over 1,000,000 rows of
benchmarks/open_stalls.py) the studio opens it, runs it to the end and keeps the rows; then, for each view in
turn, fresh buffers are fed the rows a frame at a time (the whole run over FRAMES frames, as a live run
arrives) and the view is redrawn and painted at once: `refresh()` (what the redraw timer calls) and a
synchronous repaint (for the 3-D canvas, its GL commands finished with glFinish, so software rendering is
counted whole). Both views are measured in the same window and run, so the ratio holds on any machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

from PySide6.QtWidgets import QApplication  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from open_stalls import SCENARIOS as DATA_SCENARIOS  # noqa: E402
from probe import one_pass, studio_application  # noqa: E402

FRAMES = 240
DATA_STEPS = 300  # steps of the data loss's runs (each step reads the million rows)


def wait(app: QApplication, condition, limit: float = 120.0) -> None:
    end = time.perf_counter() + limit
    while not condition() and time.perf_counter() < end:
        one_pass(app)


def fps(app: QApplication, view, paint, rows: list, colors: list[str], variables: tuple[str, ...]) -> float:
    """Frames per second while `view` draws `rows` growing over FRAMES frames (each frame: refresh and paint)."""
    from gdstudio.app.buffers import RunBuffer

    buffers = [RunBuffer(f"run {i}", variables) for i in range(len(rows))]
    for buffer in buffers:
        buffer.status = "running"
    view.set_runs(buffers, colors)
    fed = [0] * len(rows)
    times = []
    for frame in range(1, FRAMES + 1):
        began = time.perf_counter()
        for i, run in enumerate(rows):
            upto = math.ceil(len(run) * frame / FRAMES)
            buffers[i].extend(run[fed[i]:upto])
            fed[i] = upto
        view.refresh()
        paint()
        one_pass(app)
        times.append(time.perf_counter() - began)
    return 1.0 / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="run the scenarios whose name contains this")
    only = parser.parse_args().only
    folder = Path(tempfile.mkdtemp())
    app = studio_application(folder)
    from gdstudio.app.main_window import MainWindow
    from gdstudio.app.presets import load_presets

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.resize(1600, 1000)
    window.show()
    wait(app, lambda: window.session.objective is not None and not window.landscape.computing)
    window.view3d.action.trigger()
    view = window.view3d.view
    wait(app, lambda: view.scene.surface is not None, 10)
    if view.canvas is None:
        sys.exit(f"no 3-D view here: {view.problem}")
    print(f"platform {app.platformName()}; 3-D canvas {view.canvas.width()}×{view.canvas.height()}, "
          f"contour plot {window.landscape.plot.width()}×{window.landscape.plot.height()} pixels")

    from OpenGL import GL

    def paint_3d() -> None:
        view.canvas.repaint()
        view.canvas.makeCurrent()
        GL.glFinish()
        view.canvas.doneCurrent()

    presets = {p.name: p for p in load_presets()}
    scenarios = [("Rosenbrock", presets["Rosenbrock"]), ("Himmelblau", presets["Himmelblau"]),
                 ("linear model, 1,000,000 rows", DATA_SCENARIOS["linear model, 1,000,000 rows"])]
    print(f"{'scenario':32} {'rows drawn':>11} {'2-D fps':>8} {'3-D fps':>8} {'3-D / 2-D':>9}")
    for name, source in scenarios:
        if only and only not in name:
            continue
        if isinstance(source, dict):
            path = folder / "scenario.json"
            path.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "name": name,
                                        "stop": {"max_steps": DATA_STEPS}, **source}))
            window.files.open_path(str(path), ask=False)
            wait(app, lambda: window.document.path == path.resolve() and window.session.objective is not None
                 and window.session.objective.text == window.document.scenario.loss)
        else:
            window.session.apply_preset(source)
            wait(app, lambda: window.session.objective is not None and window.session.objective.text == window.document.scenario.loss)
        wait(app, lambda: not window.landscape.computing)
        window.menus.set_speed(math.inf)
        window.session.run()
        wait(app, lambda: window.session.state == "finished", 300)
        window.redraw()
        wait(app, lambda: not window.landscape.computing)
        rows = [buffer.rows.copy() for buffer in window.session.buffers]
        colors, variables = window.session.run_colors(), window.session.buffers[0].variables
        flat = fps(app, window.landscape, window.landscape.plot.viewport().repaint, rows, colors, variables)
        deep = fps(app, view, paint_3d, rows, colors, variables)
        window.session.reset()
        print(f"{name:32} {sum(map(len, rows)):>11,} {flat:>8.1f} {deep:>8.1f} {deep / flat:>9.2f}")
    window.shutdown()
    window.close()


if __name__ == "__main__":
    main()
