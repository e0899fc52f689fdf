"""Shareable animations: the landscape (2-D contours, or the 3-D surface) with the runs' growing paths, and
the loss curve, as a GIF or an MP4.

The runs are computed first, headless (the same trajectories as `gdstudio run`); the studio's own
landscape and loss-curve views then draw them frame by frame offscreen (the 3-D view: animate3d), and
video.py writes them (Pillow for GIF, imageio-ffmpeg for MP4).
Frames are chosen evenly in log-steps (step 0, 1, 2, 3, 5, 8, … up to the last), so the fast first
steps and the slow last ones both show. The 2-D view works without a display (Qt's offscreen platform).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QSplitter

from ..core.runner import ScenarioRunner
from ..core.scenario import Scenario
from ..core.trajectory import row_limit
from .background import lower_this_thread
from .buffers import RunBuffer
from .document import run_color
from .plots.landscape import Landscape
from .plots.loss_curve import LossCurve
from .presets import minima_for
from .session import Problem
from .video import even, frames_for

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


def render(scenario: Scenario, out: BinaryIO | str | Path, fps: int = 30, seconds: float = 8.0, size: tuple[int, int] = (960, 640),
           progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] = lambda: False, *,
           view: str = "2d", suffix: str = ".gif") -> int:
    """Write the animation to `out` as a GIF or (suffix ".mp4") an MP4; returns its number of frames. Needs a
    QApplication; the 3-D view needs OpenGL too (gl_support.gl_problem() is None), the MP4 imageio-ffmpeg
    (video.problem), which the callers ask first. An MP4's odd side is rounded down to even."""
    if suffix == ".mp4":
        size = even(size)
    # (in a thread: the GUI keeps answering)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-animate", initializer=lower_this_thread)
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
    landscape, curve = Landscape(), LossCurve()
    holder = QSplitter(Qt.Orientation.Vertical)  # the plots alone, without the controls around them (the views still draw on them)
    holder.addWidget(landscape.plot)
    holder.setHandleWidth(0)
    stage = None
    if view == "3d":
        from .animate3d import Stage3D

        holder.resize(*size)  # (the contour view computes the field the surface shows; unseen)
        stage = Stage3D(landscape, curve, size)
    else:
        holder.addWidget(curve.plot)
        holder.resize(*size)
        holder.setSizes([int(size[1] * 0.66), size[1] - int(size[1] * 0.66)])
    sink = None
    holder.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    holder.show()
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
        if stage is not None:
            stage.take_background()
            stage.show_runs(buffers, colors)
        sink = frames_for(suffix, fps, size)
        fed = [0] * len(runs)
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
            curve.refresh(range_now=False)
            if stage is not None:
                stage.frame(index / max(len(steps) - 1, 1))
            QCoreApplication.processEvents()
            sink.add(rgb_of(stage.grab() if stage is not None else holder.grab().toImage(), size))
            if progress is not None:
                progress(index + 1, len(steps))
        sink.finish(out)
        sink = None
        return len(steps)
    finally:
        if sink is not None:
            sink.abort()
        landscape.shutdown()
        if stage is not None:
            stage.close()
        holder.close()
        for widget in (holder, landscape, curve):
            widget.deleteLater()


def rgb_of(qimage: QImage, size: tuple[int, int]) -> np.ndarray:
    """A grabbed QImage as an RGB array of exactly `size` (a grab may be a pixel wider, or twice as big on a
    high-DPI screen), copied out of Qt's rows (which may be padded)."""
    if (qimage.width(), qimage.height()) != size:
        qimage = qimage.scaled(*size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    qimage = qimage.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(qimage.constBits(), dtype=np.uint8).reshape(qimage.height(), qimage.bytesPerLine())
    return rows[:, : qimage.width() * 3].reshape(qimage.height(), qimage.width(), 3).copy()
