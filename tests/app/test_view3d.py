"""The 3-D landscape (issue 16, part 3): opened from View, it draws the contour view's field as a surface,
follows the runs, changes its heights, resets its camera, closes cleanly, and says in one line when
OpenGL is missing.

Qt's offscreen platform (the suite's) has no OpenGL widgets, so here the view shows its one-line message
and the tests check the arrays it would hand to the GL items; run with a display
(`QT_QPA_PLATFORM=xcb DISPLAY=:9`, Xvfb and Mesa) and the same tests check the GL items too.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from gdstudio.app.buffers import LOSS, PARAMS
from gdstudio.app.plots import gl_support
from gdstudio.app.plots.scene3d import DEFAULT_CAMERA, LIFT, TALL, Camera, HeightMode, PathTrack

from .conftest import OFFSCREEN_NOISE
from .helpers import HANG, type_loss


def view_action(window):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    return next(a for a in menu.actions() if a.text() == "3-D landscape")


def open_view(qtbot, window):
    view_action(window).trigger()
    dock = window.findChild(QDockWidget, "view3dDock")
    qtbot.waitUntil(lambda: dock.isVisible() and window.view3d.view.scene.surface is not None, timeout=HANG * 1000)
    return window.view3d.view


@pytest.fixture
def fresh_gl_probe():
    gl_support.gl_problem.cache_clear()
    yield
    gl_support.gl_problem.cache_clear()


def test_opens_from_the_view_menu_with_the_contour_fields_surface(qtbot, window):
    assert not view_action(window).isChecked()
    view = open_view(qtbot, window)
    assert view_action(window).isChecked()
    field = window.landscape.field
    view.set_mode(HeightMode.LINEAR)
    mesh, heights = view.scene.surface, view.scene.heights
    finite = field.z[np.isfinite(field.z)]
    assert heights.low == pytest.approx(finite.min())
    assert mesh.z_range == pytest.approx((0.0, TALL), abs=1e-6)  # the least and greatest loss over the view
    expected = (field.z.ravel() - finite.min()) / (finite.max() - finite.min()) * TALL
    assert np.allclose(mesh.vertices[:, 2], expected, atol=1e-5)
    assert mesh.vertices[:, :2].min() == pytest.approx(-1) and mesh.vertices[:, :2].max() == pytest.approx(1)
    assert len(mesh.faces) == 2 * (len(field.xs) - 1) * (len(field.ys) - 1)
    if view.canvas is None:  # (offscreen: one line in place of the view)
        assert view.message.isVisible() and "OpenGL" in view.message.text()
    else:
        assert view.canvas.surface.opts["meshdata"].vertexes().shape == mesh.vertices.shape


def test_follows_a_run_and_its_ball_sits_at_the_last_row(qtbot, window):
    view = open_view(qtbot, window)
    window.menus.set_speed(1000)
    window.session.run()
    qtbot.waitUntil(lambda: len(view.paths) == 2 and len(view.paths[0]) > 3, timeout=HANG * 1000)
    before = len(view.paths[0])
    qtbot.waitUntil(lambda: len(view.paths[0]) > before, timeout=HANG * 1000)
    window.session.pause()
    window.redraw()
    buffer, track, heights = window.session.buffers[0], view.scene.tracks[0], view.scene.heights
    last = buffer.last()
    x, y = view.scene.frame(np.array([last[PARAMS]]), np.array([last[PARAMS + 1]]))
    assert np.allclose(view.balls[0], [x[0], y[0], heights(last[LOSS]) + LIFT], atol=1e-5)
    assert np.allclose(view.paths[0][-1], view.balls[0])
    assert track.last_step == buffer.steps_done
    if view.canvas is not None:
        assert np.allclose(view.canvas.paths[0].pos, view.paths[0])
        assert np.allclose(view.canvas.balls.pos[0], view.balls[0])


def test_height_modes_change_the_surface_and_the_paths_alike(qtbot, window):
    view = open_view(qtbot, window)
    window.menus.set_speed(float("inf"))
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=HANG * 1000)
    window.redraw()
    shown = {}
    for mode in (HeightMode.LINEAR, HeightMode.LOG, HeightMode.CLIPPED):
        view.heights_box.setCurrentIndex(view.heights_box.findData(mode))
        assert view.scene.heights.mode == mode and mode.value in view.note.text().replace("log10", "log")
        shown[mode] = (view.scene.surface.vertices[:, 2].copy(), view.paths[0].copy())
        assert view.scene.surface.z_range == pytest.approx((0.0, TALL), abs=1e-6)
    for a, b in ((HeightMode.LINEAR, HeightMode.LOG), (HeightMode.LINEAR, HeightMode.CLIPPED)):
        assert not np.allclose(shown[a][0], shown[b][0])
        assert not np.allclose(shown[a][1][:, 2], shown[b][1][:, 2])
        assert np.allclose(shown[a][1][:, :2], shown[b][1][:, :2])  # (only the heights change)
    clipped = view.scene.heights
    assert (view.scene.surface.vertices[:, 2] >= TALL - 1e-6).mean() == pytest.approx(0.1, abs=0.02)
    assert clipped.cap == pytest.approx(np.quantile(window.landscape.field.z, 0.9))


def test_log_heights_take_losses_at_or_below_zero(qtbot, window):
    type_loss(qtbot, window, "x^2 + y^2 - 5")
    view = open_view(qtbot, window)
    view.set_mode(HeightMode.LOG)
    z = view.scene.surface.vertices[:, 2]
    assert np.isfinite(z).all() and z.min() == pytest.approx(0.0, abs=1e-6) and z.max() == pytest.approx(TALL)


def test_a_loss_of_one_variable_is_a_ribbon_with_the_path_on_it(qtbot, window):
    type_loss(qtbot, window, "x^2")
    view = open_view(qtbot, window)
    xs, ys = window.landscape.curve_item.getData()
    assert view.scene.frame.y is None and len(view.scene.surface.vertices) == 2 * len(xs)
    window.menus.set_speed(float("inf"))
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=HANG * 1000)
    window.redraw()
    assert len(view.paths[0]) >= 2 and np.allclose(view.paths[0][:, 1], 0.0)  # along the ribbon's middle


def test_three_variables_show_the_contour_views_slice(qtbot, window):
    type_loss(qtbot, window, "x^2 + 2*y^2 + 3*z^2")
    view = open_view(qtbot, window)
    view.set_mode(HeightMode.LINEAR)
    field = window.landscape.field
    assert view.scene.frame.axes == window.landscape.axes() == ("x", "y")
    z = view.scene.surface.vertices[:, 2]
    assert np.allclose(z, view.scene.heights(field.z.ravel()), atol=1e-5)  # the landscape's field, not computed again
    assert "slice through z=" in view.note.text()


def assert_3d_as_2d(window, view, runs=None) -> None:
    """The 3-D scene shows the runs the 2-D view shows, from the same rows, bit for bit: each path is the rows
    (x, y, loss) its track keeps of the run (every point a row, the first and the last always), its start and
    ball are the 2-D view's start and current markers. With `runs` (headless), the rows are theirs too."""
    landscape, scene = window.landscape, view.scene
    columns = [PARAMS + landscape.variables.index(a) for a in landscape.axes()] + [LOSS]
    assert scene.frame.axes == landscape.axes() and len(view.paths) == len(window.session.buffers)
    for i, buffer in enumerate(window.session.buffers):
        rows = buffer.rows if runs is None else runs[i].trajectory.rows
        assert np.array_equal(buffer.rows, rows, equal_nan=True)
        fresh = PathTrack(scene.frame)
        fresh.feed(*(rows[:, c] for c in columns))
        track = scene.tracks[i]
        assert np.array_equal(track.points, fresh.points) and np.array_equal(track.end, fresh.end)
        assert np.array_equal(view.paths[i], fresh.path(scene.heights))
        assert np.array_equal(view.balls[i], track.ball(scene.heights))
        xs, ys = landscape.marks.paths[i].getData()  # what the 2-D view draws of the same rows
        assert (xs[0], ys[0]) == tuple(track.first[:2]) == tuple(rows[0, columns[:2]])
        assert (xs[-1], ys[-1]) == tuple(track.end[:2]) == tuple(rows[-1, columns[:2]])
        assert [(p["x"], p["y"]) for p in landscape.marks.currents.data if p["data"] == i] == [tuple(track.end[:2])]
        drawn = set(map(tuple, rows[:, columns]))
        assert all(tuple(p) in drawn for p in track.points)
        assert all(p in {r[:2] for r in drawn} for p in zip(xs, ys))


def drag_frames(qtbot, window, moves, each) -> None:
    """Press on the first start, move through `moves` (data points), calling each() after each live frame; release."""
    from .test_live_drag import viewport_point

    landscape, live = window.landscape, window.session.live
    viewport = landscape.plot.viewport()
    _index, x0, y0 = landscape.drag.starts()[0]
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, x0, y0))
    for point in moves:
        frames = live.frames
        qtbot.mouseMove(viewport, viewport_point(landscape, *point))
        qtbot.waitUntil(lambda: live.frames > frames, timeout=HANG * 1000)
        each()
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, *moves[-1]))


MOVES = [(-1.0, 1.5), (0.5, 1.8), (1.2, -0.5), (-0.8, -0.4)]


def test_follows_a_live_drag_frame_by_frame_with_the_2d_views_rows(qtbot, window):
    """Live paths reach both views by the window's redraw: after every frame of a drag the 3-D scene shows what
    the contour view shows, not the frame before (checked on the arrays, so offscreen too)."""
    from .test_live_drag import headless, settle

    view = open_view(qtbot, window)
    before = [p.copy() for p in view.paths]
    shown = []
    drag_frames(qtbot, window, MOVES, lambda: (assert_3d_as_2d(window, view), shown.append(view.paths[0].copy())))
    assert not np.array_equal(shown[0], shown[-1]) and not any(np.array_equal(shown[0], p) for p in before)
    settle(qtbot, window)
    window.redraw()
    assert_3d_as_2d(window, view, headless(window))  # the whole paths after the release: a headless run's


def test_follows_a_scrubbed_knob_frame_by_frame(qtbot, window):
    from PySide6.QtCore import QPoint

    from .test_live_drag import knob_point

    view = open_view(qtbot, window)
    window.runs_panel.select(1)
    editor = window.runs_panel.editor
    knob = editor.hyper._knobs[editor.hyper.field("lr")]
    press = knob_point(knob, 0.0005)
    qtbot.mousePress(knob, Qt.MouseButton.LeftButton, pos=press)
    for to in (0.0007, 0.001):  # (where the handle would be for these: the knob's width does not matter)
        frames = window.session.live.frames
        qtbot.mouseMove(knob, QPoint(knob_point(knob, to).x(), press.y()))
        qtbot.waitUntil(lambda: window.session.live.frames > frames, timeout=HANG * 1000)
        assert window.session.running.runs[1].hyper["lr"] == float(editor.hyper.field("lr").text())
        assert_3d_as_2d(window, view)
    qtbot.mouseRelease(knob, Qt.MouseButton.LeftButton, pos=QPoint(knob_point(knob, 0.001).x(), press.y()))


def test_the_gl_canvas_paints_every_frame_of_a_drag_into_the_same_items(qtbot, window):
    """Under a display with OpenGL (Xvfb and Mesa: QT_QPA_PLATFORM=xcb): each live frame is painted, by setData
    into the GL items made once, and the picture moves."""
    view = open_view(qtbot, window)
    if view.canvas is None:
        pytest.skip(f"needs OpenGL (Xvfb with QT_QPA_PLATFORM=xcb): {view.message.text()}")
    canvas = view.canvas
    window.session.live.frame.connect(lambda: setattr(canvas, "asked", canvas.frames))  # (after the window's redraw)
    items, pictures = [], []

    def painted() -> None:
        qtbot.waitUntil(lambda: canvas.frames > canvas.asked, timeout=HANG * 1000)
        items.append((*canvas.paths, *canvas.ghosts))
        for i, path in enumerate(view.paths):
            assert np.array_equal(canvas.paths[i].pos, path) and np.array_equal(canvas.ghosts[i].pos, path)
        assert np.array_equal(canvas.balls.pos, view.balls)
        pictures.append(canvas.grabFramebuffer())

    drag_frames(qtbot, window, MOVES, painted)
    assert all(frame == items[0] for frame in items) and len(items[0]) == 2 * len(window.session.buffers)
    assert not view.problem and not canvas.broken
    assert pictures[0] != pictures[-1]


def same_camera(a: Camera, b: Camera) -> bool:
    """(The canvas keeps its centre in single precision.)"""
    return (np.allclose(a.center, b.center, atol=1e-6) and np.isclose(a.distance, b.distance)
            and np.isclose(a.elevation, b.elevation) and np.isclose(a.azimuth, b.azimuth))


def test_reset_camera_restores_the_first_view(qtbot, window):
    view = open_view(qtbot, window)
    assert same_camera(view.current_camera(), DEFAULT_CAMERA)
    if view.canvas is not None:
        view.canvas.orbit(40, -10)
        view.canvas.setCameraParams(distance=9.0)
    else:
        view.camera = Camera(distance=9.0, azimuth=10.0)
    assert not same_camera(view.current_camera(), DEFAULT_CAMERA)
    view.reset_button.click()
    assert same_camera(view.current_camera(), DEFAULT_CAMERA)


def test_closes_and_opens_again_cleanly(qtbot, window):
    view = open_view(qtbot, window)
    dock = window.findChild(QDockWidget, "view3dDock")
    dock.close()
    qtbot.waitUntil(lambda: not dock.isVisible())
    assert not view_action(window).isChecked()  # the menu follows the dock's close button
    window.menus.set_speed(float("inf"))
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=HANG * 1000)
    view_action(window).trigger()
    qtbot.waitUntil(dock.isVisible)
    assert window.view3d.view is view and len(view.paths[0]) >= 2  # the same view, caught up with the run
    view_action(window).trigger()
    assert not dock.isVisible()


# (offscreen: a floating dock is a window it cannot raise; this mark takes the place of conftest's, so it says both)
@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE, "This plugin does not support raise")
def test_floats_and_docks_again_still_drawing(qtbot, window):
    """A floating dock gives the canvas another context: the GL resources, shared, stay valid."""
    view = open_view(qtbot, window)
    dock = window.findChild(QDockWidget, "view3dDock")
    for floating in (True, False):
        dock.setFloating(floating)
        qtbot.waitUntil(lambda: dock.isVisible() and dock.isFloating() == floating)
        if view.canvas is not None:
            drawn = view.canvas.frames
            view.canvas.update()
            qtbot.waitUntil(lambda: view.canvas.frames > drawn, timeout=HANG * 1000)
            assert not view.canvas.broken and view.problem is None


def test_without_opengl_one_line_says_so_and_the_2d_views_go_on(qtbot, window, monkeypatch, fresh_gl_probe):
    def missing() -> None:
        raise ImportError("No module named 'OpenGL'")

    monkeypatch.setattr(gl_support, "NO_GL_WIDGETS", ())  # (past the platform's own answer, to the import)
    monkeypatch.setattr(gl_support, "import_gl", missing)
    view = open_view(qtbot, window)
    assert view.canvas is None and view.message.isVisible()
    assert view.message.text().count("\n") == 0 and "PyOpenGL" in view.message.text()
    assert window.statusBar().currentMessage() == view.message.text()
    assert window.message_box is None
    window.menus.set_speed(float("inf"))
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=HANG * 1000)
    window.redraw()
    assert len(window.landscape.marks.paths[0].getData()[0]) > 2 and len(view.paths[0]) >= 2


def test_a_gl_error_while_drawing_stops_the_canvas_with_one_line(qtbot, window):
    view = open_view(qtbot, window)
    if view.canvas is None:
        pytest.skip("no OpenGL here: " + view.message.text())

    def broken() -> None:
        raise RuntimeError("GL_INVALID_OPERATION")

    view.canvas.surface.paint = broken
    view.canvas.update()
    qtbot.waitUntil(lambda: view.problem is not None, timeout=HANG * 1000)
    assert "GL_INVALID_OPERATION" in view.problem and not view.canvas.isVisible() and view.message.isVisible()


@pytest.mark.slow
def test_the_studio_starts_without_loading_opengl() -> None:
    """PyOpenGL and pyqtgraph.opengl load when the 3-D view is first opened, not when the studio starts."""
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from gdstudio.app.main_window import MainWindow; w = MainWindow(); w.shutdown();"
            "print(sorted(m for m in sys.modules if m.startswith(('OpenGL', 'pyqtgraph.opengl', 'gdstudio.app.plots.view3d'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG,
                          env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
