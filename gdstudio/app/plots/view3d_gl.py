"""The 3-D view's OpenGL canvas: pyqtgraph's GLViewWidget with the surface, the paths and the balls.

Imported only when the 3-D view is first opened and gl_support found OpenGL (this module imports PyOpenGL
and pyqtgraph.opengl). Items are created once per set of run colours and fed with setData; the arrays come
from scene3d. A GL error while drawing is caught, said once (`failed`), and the canvas stops drawing:
never a traceback per frame, never a crash.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QVector3D

from .scene3d import TALL, Camera, Mesh

# The surface is pushed back a little in depth, so the paths drawn on it are not half hidden in it.
SURFACE_GL = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: False, GL.GL_CULL_FACE: False, GL.GL_POLYGON_OFFSET_FILL: True,
              "glPolygonOffset": (1.0, 2.0)}
LINE_GL = {GL.GL_DEPTH_TEST: True, GL.GL_BLEND: True, GL.GL_CULL_FACE: False, GL.GL_POLYGON_OFFSET_FILL: False,
           "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}
# behind a hill a path still shows, faintly; the balls always show
GHOST_GL = {**LINE_GL, GL.GL_DEPTH_TEST: False}
GHOST_ALPHA = 0.6
CONTOUR_ALPHA = 0.4
PATH_WIDTH = 3.0
BALL_SIZE = 15
START_SIZE = 8
DIMMED_ALPHA = 0.25


def rgba(color: str, alpha: float = 1.0) -> tuple[float, float, float, float]:
    c = QColor(color)
    return (c.redF(), c.greenF(), c.blueF(), alpha)


class Canvas(gl.GLViewWidget):
    """Draws what it is handed; holds no state of the studio."""

    failed = Signal(str)  # one line: why it stopped drawing

    def __init__(self, background: QColor, text: QColor) -> None:
        super().__init__()
        self.setObjectName("view3dCanvas")
        self.setBackgroundColor(background)
        self.broken = False
        self.frames = 0  # frames painted (the benchmark counts them)
        self.surface = gl.GLMeshItem(smooth=True, computeNormals=False, shader=None, glOptions=SURFACE_GL)
        self.addItem(self.surface)
        self.contours = gl.GLLinePlotItem(color=(1.0, 1.0, 1.0, CONTOUR_ALPHA), width=1.0, antialias=False, mode="lines",
                                          glOptions=LINE_GL)
        self.addItem(self.contours)
        grid = gl.GLGridItem(size=QVector3D(2, 2, 1), color=(*text.getRgb()[:3], 60))
        grid.setSpacing(0.25, 0.25)
        self.addItem(grid)
        self.labels = [gl.GLTextItem(color=text) for _ in range(3)]
        for label in self.labels:
            self.addItem(label)
        self.paths: list[gl.GLLinePlotItem] = []
        self.ghosts: list[gl.GLLinePlotItem] = []
        self.colors: list[str] = []
        self.balls = gl.GLScatterPlotItem(pxMode=True, size=BALL_SIZE, glOptions=GHOST_GL)
        self.starts = gl.GLScatterPlotItem(pxMode=True, size=START_SIZE, glOptions=LINE_GL)
        self.balls.setDepthValue(10)  # (drawn last: over the paths)
        for item in (self.starts, self.balls):
            self.addItem(item)

    # -- what is drawn ------------------------------------------------------------------
    def show_surface(self, mesh: Mesh | None, lines: np.ndarray) -> None:
        self.contours.setData(pos=lines if len(lines) else np.empty((0, 3), dtype=np.float32))
        if mesh is None or not len(mesh.faces):
            self.surface.setVisible(False)
            return
        self.surface.setMeshData(vertexes=mesh.vertices, faces=mesh.faces, vertexColors=mesh.colors)
        self.surface.setVisible(True)

    def show_axes(self, names: tuple[str, ...]) -> None:
        """The plotted variables at the box's near edges, "loss" up its corner."""
        places = [(0.0, -1.3, 0.0), (1.3, 0.0, 0.0)][: len(names)] + [(-1.05, 1.05, TALL)]
        texts = [*names, "loss"]
        for label, place, text in zip(self.labels, [*places, None, None], [*texts, "", ""]):
            label.setData(pos=np.array(place or (0.0, 0.0, 0.0)), text=text)

    def set_runs(self, colors: list[str]) -> None:
        """A path and its ghost per run, kept while the colours are the same (live frames only `setData` them)."""
        if colors and colors == self.colors:
            return
        self.colors = list(colors)
        for item in (*self.paths, *self.ghosts):
            self.removeItem(item)
        self.paths, self.ghosts = [], []
        for color in colors:
            path = gl.GLLinePlotItem(color=rgba(color), width=PATH_WIDTH, antialias=False, mode="line_strip", glOptions=LINE_GL)
            ghost = gl.GLLinePlotItem(color=rgba(color, GHOST_ALPHA), width=1.5, antialias=True, mode="line_strip",
                                      glOptions=GHOST_GL)
            path.setDepthValue(2)
            ghost.setDepthValue(1)
            self.addItem(ghost)
            self.addItem(path)
            self.paths.append(path)
            self.ghosts.append(ghost)
        self.show_marks(np.empty((0, 3)), [], np.empty((0, 3)), [])

    def show_path(self, index: int, points: np.ndarray, color: str, dimmed: bool) -> None:
        alpha = DIMMED_ALPHA if dimmed else 1.0
        if len(points) < 2:  # (a line strip of one point draws nothing; pyqtgraph would still upload it)
            points = np.empty((0, 3), dtype=np.float32)
        self.paths[index].setData(pos=points, color=rgba(color, alpha))
        self.ghosts[index].setData(pos=points, color=rgba(color, GHOST_ALPHA * alpha))

    def show_marks(self, balls: np.ndarray, ball_colors: list, starts: np.ndarray, start_colors: list) -> None:
        self.balls.setData(pos=np.asarray(balls, np.float32).reshape(-1, 3), color=np.array(ball_colors, np.float32).reshape(-1, 4))
        self.starts.setData(pos=np.asarray(starts, np.float32).reshape(-1, 3), color=np.array(start_colors, np.float32).reshape(-1, 4))

    # -- the camera ---------------------------------------------------------------------
    def set_camera(self, camera: Camera) -> None:
        self.setCameraPosition(pos=QVector3D(*camera.center), distance=camera.distance, elevation=camera.elevation,
                               azimuth=camera.azimuth)

    def camera(self) -> Camera:
        c = self.opts["center"]
        return Camera((c.x(), c.y(), c.z()), float(self.opts["distance"]), float(self.opts["elevation"]),
                      float(self.opts["azimuth"]))

    # -- drawing, with errors caught -----------------------------------------------------
    def initializeGL(self) -> None:
        try:
            super().initializeGL()
        except Exception as error:  # (raised from a Qt virtual it would only be printed)
            self._fail(error)

    def paintGL(self) -> None:
        if self.broken:
            GL.glClearColor(*self.opts["bgcolor"])
            GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
            return
        try:
            super().paintGL()
            self.frames += 1
        except Exception as error:
            self._fail(error)

    def drawItemTree(self, item=None, useItemNames: bool = False) -> None:
        """pyqtgraph's, without its catch-and-print: an item that cannot draw stops the canvas (paintGL says why)."""
        if item is not None:
            return super().drawItemTree(item, useItemNames)
        for each in sorted(self.items, key=lambda a: a.depthValue()):
            if not each.visible():
                continue
            self._modelViewStack.append(self.currentModelView() * each.transform())
            try:
                if self.default_vao.isCreated():
                    self.default_vao.bind()
                each.paint()
            finally:
                self._modelViewStack.pop()

    def _fail(self, error: Exception) -> None:
        if not self.broken:
            self.broken = True
            self.failed.emit(f"The 3-D view stopped drawing: OpenGL failed ({type(error).__name__}: {str(error)[:160]}). "
                             "The 2-D views work as before.")
