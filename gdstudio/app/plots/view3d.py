"""The 3-D landscape: the loss as a surface over the two plotted axes, each run's path on it and a ball where
it is now (issue 16, part 3).

It draws what the contour view computed, never computing a background of its own: the same axes, the same
slice of the other variables and the same colours (it listens to the landscape's field service and reads
the field the landscape kept). The arrays come from scene3d (no Qt, no GL), so they can be checked where
Qt has no OpenGL; the canvas (view3d_gl) is created only where gl_support finds OpenGL, else one line
says why in its place and in the status bar. Its paths are drawn where the 2-D views' are, in the
window's redraw (the redraw timer while a Run animates, every live frame of a drag or a knob, the end of a
run): `set_runs` only takes the new buffers, `refresh` feeds each track the rows that are new and hands
the canvas its arrays. Live paths replace the buffers at every frame, so the canvas keeps its GL items while
the runs' colours stay the same: a frame of a drag is only `setData`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ..buffers import LOSS, PARAMS, RunBuffer
from .field_service import FieldResult
from .gl_support import gl_problem
from .scene3d import CLIP_QUANTILE, DEFAULT_CAMERA, Camera, HeightMode, Scene

if TYPE_CHECKING:
    from ..session import StudioSession
    from .landscape import Landscape

MODES = {HeightMode.AUTO: "auto (as the contours)", HeightMode.LINEAR: "linear", HeightMode.LOG: "log",
         HeightMode.CLIPPED: f"clipped at the {CLIP_QUANTILE:.0%} quantile"}
DIMMED = 0.25


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = pg.mkColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha)


class Landscape3D(QWidget):
    def __init__(self, session: StudioSession, landscape: Landscape, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("landscape3d")
        self.session, self.landscape = session, landscape
        self.heights_box = QComboBox(objectName="heightMode")
        for mode, text in MODES.items():
            self.heights_box.addItem(text, mode)
        self.heights_box.setToolTip("how the loss becomes height: log or clipped heights tame steep losses such as Rosenbrock")
        self.reset_button = QPushButton("Reset camera", objectName="resetCamera")
        self.reset_button.setToolTip("back to the first view (drag to rotate, wheel to zoom, Ctrl+drag to pan)")
        self.note = QLabel(objectName="view3dNote")
        self.note.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message = QLabel(objectName="view3dMessage", wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.message.setVisible(False)
        bar = QHBoxLayout()
        for widget in (QLabel("heights"), self.heights_box, self.reset_button):
            bar.addWidget(widget)
        bar.addWidget(self.note, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.message, 1)

        base = QApplication.palette().color(QPalette.ColorRole.Base)
        self.scene = Scene(pg.colormap.get("viridis").getLookupTable(nPts=256, alpha=True),  # the contour view's colours
                           (base.redF(), base.greenF(), base.blueF()))
        self.camera = DEFAULT_CAMERA  # (where no canvas holds one)
        self.problem: str | None = None
        self.buffers: list[RunBuffer] = []
        self.colors: list[str] = []
        self.paths: list[np.ndarray] = []  # what each run's line was handed (box units)
        self.balls = np.empty((0, 3), dtype=np.float32)  # where each drawn run is now
        self._drawn: list[tuple] = []
        self.canvas = self._make_canvas()
        if self.canvas is not None:
            layout.addWidget(self.canvas, 1)
        self.heights_box.currentIndexChanged.connect(lambda _i: self.set_mode(self.heights_box.currentData()))
        self.reset_button.clicked.connect(self.reset_camera)
        landscape.fields.ready.connect(self._background_ready)  # (after the landscape's own slot: it kept the field)
        session.buffers_changed.connect(lambda buffers: self.set_runs(buffers, session.run_colors()))
        self.set_runs(session.buffers, session.run_colors())
        self.take_background()

    def _make_canvas(self):
        problem = gl_problem()
        canvas = None
        if problem is None:
            try:
                from .view3d_gl import Canvas

                palette = QApplication.palette()
                canvas = Canvas(palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text))
                canvas.set_camera(self.camera)
                canvas.failed.connect(self.show_problem, Qt.ConnectionType.QueuedConnection)  # (not from inside paintGL)
            except Exception as error:  # a driver or install that fails only now: said, never a crash
                problem = f"The 3-D view cannot start ({type(error).__name__}: {error}); the 2-D views work as before."
        if problem is not None:
            self.show_problem(problem)
        return canvas

    def show_problem(self, text: str) -> None:
        """OpenGL is missing or failed: one line in place of the view and in the status bar; the 2-D views go on."""
        if self.problem is not None:
            return
        self.problem = text
        if getattr(self, "canvas", None) is not None:
            self.canvas.setVisible(False)
        self.message.setText(text)
        self.message.setVisible(True)
        self.session.status.emit(text, 10000)

    # -- the background -------------------------------------------------------------------
    def _background_ready(self, result: FieldResult) -> None:
        landscape = self.landscape
        if result.error or result.request.arrows:
            return
        if result.field is not None and result.field is landscape.field:
            self.take_background()
        elif result.curve is not None and result.request.axes == landscape.axes():
            self._show(self.scene.show_curve(*result.curve, axes=result.request.axes))

    def take_background(self) -> None:
        """What the contour view shows now: its field, its curve, or nothing yet."""
        landscape, axes = self.landscape, self.landscape.axes()
        if len(axes) == 2 and landscape.field is not None:
            field = landscape.field
            self._show(self.scene.show_field(field.xs, field.ys, field.z, field.shade, field.log, axes,
                                             (field.lines_x, field.lines_y)))
        elif len(axes) == 1 and (curve := landscape.curve_item.getData())[0] is not None and len(curve[0]) > 1:
            self._show(self.scene.show_curve(*curve, axes=axes))
        else:
            self.scene.clear()
            self._show(True)

    def _show(self, moved: bool) -> None:
        """The scene's surface to the canvas; the paths again (traced anew when the frame moved)."""
        self._drawn = [()] * len(self.buffers)
        if moved:
            self.paths = [np.empty((0, 3), dtype=np.float32) for _ in self.buffers]
        if self.canvas is not None:
            self.canvas.show_surface(self.scene.surface, self.scene.lines)
            self.canvas.show_axes(self.scene.frame.axes if self.scene.frame else ())
        heights = self.scene.heights
        note = heights.describe() if heights is not None else "waiting for the landscape…"
        if heights is not None and len(self.landscape.variables) > 2:
            axes = self.landscape.axes()
            note += " · slice through " + ", ".join(f"{k}={v:.3g}" for k, v in self.landscape.slice_point().items() if k not in axes)
        self.note.setText(note)
        self.note.setToolTip(note)
        self.refresh(force=True)

    def set_mode(self, mode: HeightMode) -> None:
        """Linear, log or clipped heights: the surface and every path again, in the same transform."""
        self.scene.set_mode(HeightMode(mode))
        if self.heights_box.currentData() != mode:
            self.heights_box.setCurrentIndex(self.heights_box.findData(mode))
        self._show(False)

    # -- the runs ---------------------------------------------------------------------------
    def set_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        """New runs (or a live frame's new paths): traced from their first row at the next refresh."""
        self.buffers, self.colors = list(buffers), list(colors)
        self.scene.set_runs(len(buffers))
        self.paths = [np.empty((0, 3), dtype=np.float32) for _ in buffers]
        self._drawn = [()] * len(buffers)
        if self.canvas is not None:
            self.canvas.set_runs(self.colors)

    def _columns(self, buffer: RunBuffer) -> list[int] | None:
        """The buffer's columns of the axes the surface is drawn over, or None when it walks other variables."""
        variables, axes = self.landscape.variables, self.scene.frame.axes if self.scene.frame else ()
        if buffer.variables != variables or not axes or not set(axes) <= set(variables) or buffer.rows.shape[1] != PARAMS + len(variables):
            return None
        return [PARAMS + variables.index(a) for a in axes]

    def refresh(self, force: bool = False) -> None:
        """On the redraw timer: the paths of runs that advanced, and the balls (O(new rows); nothing when hidden)."""
        heights = self.scene.heights
        if heights is None or (not force and not self.isVisible()):
            return
        moved = False
        for i, buffer in enumerate(self.buffers):
            track = self.scene.track(i)
            if track is None or i >= len(self.colors):
                continue
            drawn = self._drawn[i]
            if drawn and drawn[0] == buffer.version and drawn[1] == heights and drawn[2] is track:
                continue
            self._drawn[i] = (buffer.version, heights, track)
            columns = self._columns(buffer)  # (None: a run over other variables, drawn as nothing)
            steps, rows = buffer.after(track.last_step) if columns is not None else ((), None)
            if len(steps):
                track.last_step = int(steps[-1])
                track.feed(rows[:, columns[0]], rows[:, columns[1]] if len(columns) == 2 else None, rows[:, LOSS])
            self.paths[i] = track.path(heights)
            if self.canvas is not None:
                self.canvas.show_path(i, self.paths[i], self.colors[i], self._dimmed(i))
            moved = True
        if moved or force:
            self._show_marks()

    def _dimmed(self, index: int) -> bool:
        marks = getattr(self.landscape, "marks", None)
        return bool(marks is not None and marks.dimmed(index))

    def _show_marks(self) -> None:
        heights, balls, starts, ball_colors, start_colors = self.scene.heights, [], [], [], []
        for i, track in enumerate(self.scene.tracks):
            if track is None or heights is None or track.end is None or i >= len(self.colors):
                continue
            alpha = DIMMED if self._dimmed(i) else 1.0
            balls.append(track.ball(heights))
            starts.append(track.start(heights))
            ball_colors.append(rgba(self.colors[i], alpha))
            start_colors.append(rgba(self.colors[i], 0.8 * alpha))
        self.balls = np.array(balls, dtype=np.float32).reshape(-1, 3)
        if self.canvas is not None:
            self.canvas.show_marks(self.balls, ball_colors, np.array(starts).reshape(-1, 3), start_colors)

    # -- the camera -----------------------------------------------------------------------------
    def reset_camera(self) -> None:
        self.camera = DEFAULT_CAMERA
        if self.canvas is not None:
            self.canvas.set_camera(DEFAULT_CAMERA)

    def current_camera(self) -> Camera:
        return self.canvas.camera() if self.canvas is not None else self.camera
