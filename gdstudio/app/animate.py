"""Shareable animations: the landscape with the runs' growing paths, and the loss curve, as a GIF.

The runs are computed first, headless (the same trajectories as `gdstudio run`); the studio's own
landscape and loss-curve views then draw them frame by frame offscreen, and Pillow writes the GIF.
Frames are chosen evenly in log-steps (step 0, 1, 2, 3, 5, 8, … up to the last), so the fast first
steps and the slow last ones both show. Works without a display (Qt's offscreen platform).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PySide6.QtCore import QBuffer, QCoreApplication, QIODevice, Qt
from PySide6.QtWidgets import QSplitter

from ..core.runner import ScenarioRunner
from ..core.scenario import Scenario
from ..core.trajectory import row_limit
from .buffers import RunBuffer
from .document import run_color
from .plots.landscape import Landscape
from .plots.loss_curve import LossCurve
from .presets import minima_for
from .session import Problem

HANG_MS = 120_000  # the landscape's background is computed in its thread: waited for at most this long


class Cancelled(Exception):
    """The person cancelled the export."""


def frame_steps(last: int, frames: int) -> np.ndarray:
    """`frames` steps from 0 to `last`, evenly spaced in log(1 + step), without repeats (fewer when the run
    has fewer steps)."""
    spaced = np.expm1(np.linspace(0.0, math.log1p(last), max(frames, 2)))
    return np.unique(np.clip(np.round(spaced).astype(np.int64), 0, last))


def _wait(condition: Callable[[], bool]) -> None:
    """Keep the event loop going (the studio answers, a Cancel is seen) until `condition()` or HANG_MS."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop

    clock = QElapsedTimer()
    clock.start()
    while not condition() and clock.elapsed() < HANG_MS:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def render(scenario: Scenario, out: str | Path, fps: int = 30, seconds: float = 8.0, size: tuple[int, int] = (960, 640),
           progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] = lambda: False) -> int:
    """Write the animation to `out` (GIF); returns its number of frames. Needs a QApplication."""
    from PIL import Image

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-animate")  # (the GUI keeps answering)
    computed = pool.submit(lambda: ScenarioRunner(scenario).run_to_end())
    _wait(lambda: computed.done() or cancelled())
    pool.shutdown(wait=False)  # (cancelled: the runs end in their thread, unwaited for)
    if not computed.done():
        raise Cancelled
    runs = computed.result()  # (ValueError for a run the engine cannot start)
    objective = runs[0].objective if runs else None
    if objective is None:
        raise ValueError("the scenario has no runs to animate")
    colors = [run_color(scenario, i) for i in range(len(runs))]
    view = QSplitter(Qt.Orientation.Vertical)
    landscape, curve = Landscape(), LossCurve()
    view.addWidget(landscape.plot)  # the plots alone, without the controls around them (the views still draw on them)
    view.addWidget(curve.plot)
    view.setHandleWidth(0)
    view.resize(*size)
    view.setSizes([int(size[1] * 0.66), size[1] - int(size[1] * 0.66)])
    view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    view.show()
    try:
        landscape.set_problem(Problem(objective, scenario, minima_for(objective)))
        whole = [RunBuffer(r.label, objective.variables, row_limit(len(runs))) for r in runs]
        for buffer, run in zip(whole, runs):
            buffer.extend(run.trajectory.rows)
            buffer.status = run.status
        landscape.set_runs(whole, colors)
        landscape.frame_runs()  # (the whole paths in view, from the first frame on)
        _wait(lambda: not landscape.computing)
        last = max(len(r.trajectory) for r in runs) - 1
        steps = frame_steps(last, max(1, round(fps * seconds)))
        buffers = [RunBuffer(r.label, objective.variables, row_limit(len(runs))) for r in runs]
        landscape.set_runs(buffers, colors)
        curve.set_runs(buffers, colors)
        images, fed = [], [0] * len(runs)
        for index, step in enumerate(steps):
            if cancelled():
                raise Cancelled
            for i, run in enumerate(runs):  # every run up to this row (a run that ended earlier stays at its end)
                rows = run.trajectory.rows[fed[i] : step + 1]
                buffers[i].extend(rows)
                fed[i] += len(rows)
                if fed[i] == len(run.trajectory):
                    buffers[i].status = run.status
            landscape.refresh()
            curve.refresh()
            QCoreApplication.processEvents()
            images.append(_image(view.grab().toImage(), Image).resize(size))  # (a grab may be a pixel wider)
            if progress is not None:
                progress(index + 1, len(steps))
        duration = round(1000 / fps)
        images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0, optimize=False)
        return len(images)
    finally:
        landscape.shutdown()
        view.close()
        for widget in (view, landscape, curve):
            widget.deleteLater()


def _image(qimage, image_module):
    """A QImage as a Pillow image (through PNG bytes: no copy of Qt's row layout to get wrong)."""
    import io

    data = QBuffer()
    data.open(QIODevice.OpenModeFlag.WriteOnly)
    qimage.save(data, "PNG")
    return image_module.open(io.BytesIO(bytes(data.data()))).convert("RGB")
