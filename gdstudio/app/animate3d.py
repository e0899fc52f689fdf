"""The 3-D frames of `gdstudio animate --view 3d`: View ▸ 3-D landscape's own surface, paths and balls, over
the loss curve, with the camera turning slowly round the landscape.

It reuses the studio's Landscape3D (the same height transform, colours, paths and balls) fed by a headless
stand-in for the studio's session; only its GL canvas is shown, without the view's controls. It needs
OpenGL (gl_support): callers ask `gl_problem()` first and refuse the 3-D view in one line where it is
missing, before any run is computed.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSplitter

from .buffers import RunBuffer
from .plots.landscape import Landscape
from .plots.loss_curve import LossCurve
from .plots.scene3d import DEFAULT_CAMERA, Camera

TURN = -40.0  # degrees the camera turns round the landscape over the whole animation, from half of it before the studio's view
SURFACE_SHARE = 0.64  # of the frame's width (or, in a tall frame, its height), for the 3-D view; the loss curve beside it
WIDE = 1.2  # a frame at least this much wider than tall has the loss curve beside the surface, else below it


class _Session(QObject):
    """What Landscape3D reads of the studio's session, and no more: the runs, their colours, a status line."""

    buffers_changed = Signal(list)
    status = Signal(str, int)

    def __init__(self) -> None:
        super().__init__()
        self.buffers: list[RunBuffer] = []
        self.colors: list[str] = []

    def run_colors(self) -> list[str]:
        return self.colors


def camera_at(fraction: float, start: Camera = DEFAULT_CAMERA) -> Camera:
    """The camera a fraction (0 … 1) of the way through the animation: a slow turn, the same at its last frame
    however many frames there are."""
    return replace(start, azimuth=start.azimuth - TURN / 2 + TURN * min(max(fraction, 0.0), 1.0))


class Stage3D:
    """The 3-D canvas above the loss curve, in one widget to grab; `show(buffers, colors)` then `frame(f)`."""

    def __init__(self, landscape: Landscape, curve: LossCurve, size: tuple[int, int]) -> None:
        from .plots.view3d import Landscape3D

        self.session = _Session()
        self.view3d = Landscape3D(self.session, landscape)  # type: ignore[arg-type]
        if self.view3d.canvas is None:  # (gl_problem was asked first; a driver that fails only now)
            raise ValueError(self.view3d.problem or "the 3-D view needs OpenGL")
        self.canvas, self.plot = self.view3d.canvas, curve.plot
        wide = size[0] >= WIDE * size[1]
        self.widget = QSplitter(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        self.widget.addWidget(self.canvas)  # (the canvas alone: not the heights box and camera button)
        self.widget.addWidget(self.plot)
        self.widget.setHandleWidth(0)
        self.widget.resize(*size)
        side = size[0] if wide else size[1]
        self.widget.setSizes([int(side * SURFACE_SHARE), side - int(side * SURFACE_SHARE)])
        self.widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        self.widget.show()

    def take_background(self) -> None:
        """The landscape's field (computed by now) as the surface."""
        self.view3d.take_background()

    def show_runs(self, buffers: list[RunBuffer], colors: list[str]) -> None:
        self.session.buffers, self.session.colors = list(buffers), list(colors)
        self.view3d.set_runs(buffers, colors)

    def frame(self, fraction: float) -> None:
        """The paths and balls as the buffers hold them now, seen from where the camera is at this point."""
        self.view3d.refresh(force=True)
        self.view3d.canvas.set_camera(camera_at(fraction))

    def grab(self) -> QImage:
        """The frame: the canvas's framebuffer (drawn now, its alpha dropped: GL leaves blended lines' alpha below 1,
        which a composed grab would take for transparency) beside the loss curve's plot."""
        image = QImage(self.widget.size() * self.widget.devicePixelRatioF(), QImage.Format.Format_RGB32)
        image.setDevicePixelRatio(self.widget.devicePixelRatioF())
        image.fill(self.plot.palette().color(QPalette.ColorRole.Base))
        surface = self.canvas.grabFramebuffer()
        surface.reinterpretAsFormat(QImage.Format.Format_RGB32)
        painter = QPainter(image)
        painter.drawImage(QRectF(self.canvas.geometry()), surface)
        painter.drawPixmap(self.plot.geometry().topLeft(), self.plot.grab())
        painter.end()
        return image

    def close(self) -> None:
        self.view3d.canvas.setParent(self.view3d)  # (deleted with its view)
        for widget in (self.widget, self.view3d):
            widget.close()
            widget.deleteLater()

