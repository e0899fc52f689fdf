"""Whether this studio can draw with OpenGL, asked once, before any GL widget exists.

A QOpenGLWidget on a platform or driver without OpenGL does not fail politely: Qt warns, draws black, and
on Qt's offscreen platform without an X display the process can crash. So the 3-D view asks here first,
and imports PyOpenGL and pyqtgraph.opengl only then (the studio's start-up never pays for them).

What Qt offers: the offscreen platform has no OpenGL widgets at all (it lacks the raster-GL surfaces
QOpenGLWidget composes through; with an X display it can make a GLX context, but the widget still
refuses); xcb under Xvfb with Mesa's software renderer (llvmpipe) gives OpenGL 4.5.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

NO_GL_WIDGETS = ("offscreen", "minimal", "vnc", "linuxfb")  # Qt platforms whose QOpenGLWidget cannot draw
NEEDED = (2, 1)  # pyqtgraph.opengl's shaders


def import_gl() -> None:
    """PyOpenGL and pyqtgraph.opengl (raises ImportError or whatever a broken install raises)."""
    import OpenGL.GL  # noqa: F401
    import pyqtgraph.opengl  # noqa: F401


def context_problem() -> str | None:
    """Why no OpenGL context can be made current here (None when one can)."""
    context = QOpenGLContext()
    if not context.create():
        return "no OpenGL context could be created"
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not surface.isValid() or not context.makeCurrent(surface):
            return "the OpenGL context could not be made current"
        version = context.format().version()
        if not context.isOpenGLES() and version < NEEDED:
            return f"OpenGL {version[0]}.{version[1]} is too old (the 3-D view needs {NEEDED[0]}.{NEEDED[1]})"
        return None
    finally:
        context.doneCurrent()
        surface.destroy()


def _why() -> tuple[str, str] | None:
    """(a few words, one sentence for the studio) saying why nothing can be drawn with OpenGL here; None when it can."""
    platform = QGuiApplication.platformName()
    if platform in NO_GL_WIDGETS:
        return (f"Qt's {platform} platform offers none",
                f"The 3-D view needs OpenGL, which Qt's {platform} platform does not offer; the 2-D views work as before.")
    try:
        import_gl()
    except ImportError as error:
        return (f"PyOpenGL: {error}; pip install PyOpenGL",
                f"The 3-D view needs PyOpenGL ({error}); pip install PyOpenGL. The 2-D views work as before.")
    except Exception as error:  # a broken driver or install: said, never a crash
        return (f"{type(error).__name__}: {error}",
                f"The 3-D view cannot load OpenGL ({type(error).__name__}: {error}); the 2-D views work as before.")
    problem = context_problem()
    return (problem, f"The 3-D view cannot draw: {problem}. The 2-D views work as before.") if problem else None


def gl_reason() -> str | None:
    """Why OpenGL is missing here, in a few words (None when it is not): `gdstudio animate --view 3d` says it in
    its one error line."""
    why = _why()
    return why[0] if why else None


@cache
def gl_problem() -> str | None:
    """One line saying why the 3-D view cannot be drawn here, or None when it can (asked once per process)."""
    why = _why()
    return why[1] if why else None
