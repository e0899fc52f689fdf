"""`gdstudio animate FILE --out race.gif|race.mp4 [--view 2d|3d]`: the checks that end in one `error:` line
before any work (the file's name and kind, the MP4 encoder, OpenGL for the 3-D view), then the drawing
(app/animate.py), written atomically.

Every refusal happens before the scenario's runs are computed or a frame drawn, and writes nothing.
"""

from __future__ import annotations

import os

from .commands import UserError, _load, _refuse_inputs, printable


def _application():
    """The QApplication the frames are drawn in. Without a display, Qt's offscreen platform (which has no OpenGL:
    the 3-D view is refused there). The OpenGL share group must be asked for before the application exists,
    as the studio does (app/main.py)."""
    if not any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # (no display needed for 2-D: the frames are drawn offscreen)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        return QApplication(["gdstudio"])
    return QApplication.instance()


def _check_opengl() -> None:
    """One error line where the 3-D view cannot be drawn (Qt's offscreen platform, no display, no PyOpenGL)."""
    from PySide6.QtCore import qInstallMessageHandler

    from .app.plots.gl_support import gl_reason

    previous = qInstallMessageHandler(lambda *_message: None)
    try:
        _application()
        reason = gl_reason()
    finally:
        qInstallMessageHandler(previous)
    if reason:
        raise UserError(f"--view 3d: the 3-D landscape needs OpenGL ({reason}); use --view 2d, or run it where there "
                        "is a display (e.g. under xvfb-run)")


def _check_out(out: str) -> str:
    """The output's kind ('.gif' or '.mp4'), or one error line."""
    from .app.video import problem, suffix_of

    if not out.strip():
        raise UserError("--out: the file name is empty")
    suffix = suffix_of(out)
    if not suffix:
        raise UserError(f"--out: {printable(out)!r}: an animation is written as a GIF or an MP4 (name it something.gif or .mp4)")
    missing = problem(suffix)
    if missing:
        raise UserError(f"--out {printable(out)}: {missing}")
    return suffix


def animate(path: str, out: str, fps: int, seconds: float, size: tuple[int, int], view: str) -> str:
    """A GIF or MP4 of the scenario's runs descending its landscape, seen in 2-D or 3-D."""
    suffix = _check_out(out)
    if view == "3d":  # (asked before the scenario is read: a 2-D animation imports no Qt before its checks)
        _check_opengl()
    scenario, _ = _load(path)
    _refuse_inputs(out, path, scenario)
    from PySide6.QtCore import qInstallMessageHandler

    from .app.animate import render
    from .app.video import even
    from .core.fileio import atomic_writer

    previous = qInstallMessageHandler(lambda *_message: None)  # (the offscreen platform's notes are no news here)
    try:
        app = _application()  # noqa: F841 (kept alive while rendering)
        with atomic_writer(out, binary=True) as stream:
            frames = render(scenario, stream, fps, seconds, size, view=view, suffix=suffix)
    except ValueError as error:
        raise UserError(f"{path}: {error}") from None
    finally:
        qInstallMessageHandler(previous)
    width, height = even(size) if suffix == ".mp4" else size
    seen = ", 3-D view" if view == "3d" else ""
    return f"wrote {out}: {frames} frames, {width}×{height}, {frames / fps:.1f} s at {fps} frames/s{seen}"
