"""The 3-D view's arrays (scene3d: no Qt, no OpenGL): heights, the surface mesh, the paths on it."""

from __future__ import annotations

import numpy as np
import pytest

from gdstudio.app.plots.scene3d import (LIFT, LIMIT, MAX_PATH_POINTS, TALL, Frame, Heights, HeightMode, PathTrack, Scene,
                                        contour_segments, surface_mesh)

LUT = np.c_[np.linspace(0, 255, 256), np.zeros(256), np.linspace(255, 0, 256), np.full(256, 255)]


def grid(f, n=41, span=2.0):
    xs = ys = np.linspace(-span, span, n)
    X, Y = np.meshgrid(xs, ys)
    return xs, ys, f(X, Y)


def test_each_mode_puts_the_least_loss_at_0_and_the_greatest_at_the_top():
    xs, ys, z = grid(lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2)
    for mode in (HeightMode.LINEAR, HeightMode.LOG, HeightMode.CLIPPED):
        h = Heights.fit(z, mode)
        assert h(z.min()) == pytest.approx(0.0, abs=1e-9) and h(z.max()) == pytest.approx(TALL)
    log, clipped = Heights.fit(z, HeightMode.LOG), Heights.fit(z, HeightMode.CLIPPED)
    assert (log(z) > 0.5 * TALL).mean() > 0.5  # Rosenbrock's valley shows: most of the view is not squashed flat
    assert clipped.cap == pytest.approx(np.quantile(z, 0.9)) and (clipped(z) >= TALL - 1e-12).mean() == pytest.approx(0.1, abs=0.01)
    assert Heights.fit(z, HeightMode.AUTO, log_levels=True).mode == HeightMode.LOG
    assert Heights.fit(z, HeightMode.AUTO, log_levels=False).mode == HeightMode.LINEAR


def test_log_heights_take_losses_at_or_below_zero_and_below_the_view():
    z = np.array([-7.0, -5.0, 0.0, 3.0])
    h = Heights.fit(z, HeightMode.LOG)
    assert np.isfinite(h(z)).all() and h(-7.0) == pytest.approx(0.0)
    assert np.isfinite(h(-100.0)) and h(-100.0) == pytest.approx(0.0)  # a path below the view's least loss: at the bottom


def test_a_flat_or_undefined_loss_is_drawn_flat():
    assert Heights.fit(np.full(9, 2.0), HeightMode.LINEAR)(np.array([2.0])) == pytest.approx([0.0])
    h = Heights.fit(np.full(9, np.nan), HeightMode.LOG)
    assert h.mode == HeightMode.LOG


def test_the_surface_fills_a_box_and_leaves_out_undefined_cells():
    xs, ys, z = grid(lambda x, y: x ** 2 + y ** 2, n=11, span=5.0)
    z[5, 5] = np.nan
    mesh = surface_mesh(xs, ys, z, z, Frame((-5.0, 5.0), (-5.0, 5.0)), Heights.fit(z, HeightMode.LINEAR), LUT)
    assert mesh.vertices.shape == (121, 3) and mesh.colors.shape == (121, 4)
    assert len(mesh.faces) == 2 * 100 - 2 * 4  # the four cells around the undefined point
    assert 5 * 11 + 5 not in mesh.faces
    assert mesh.vertices[:, 0].min() == -1 and mesh.vertices[:, 0].max() == 1 and mesh.z_range == pytest.approx((0, TALL))
    assert (mesh.colors >= 0).all() and (mesh.colors <= 1).all()


def test_paths_lie_on_the_surface_and_keep_only_visible_steps():
    frame = Frame((-2.0, 2.0), (-2.0, 2.0), ("x", "y"))
    track = PathTrack(frame)
    xs = np.r_[np.linspace(-2, 1, 300), np.full(100000, 1.0)]  # then a converging run makes 100,000 steps in one place
    ys = np.zeros_like(xs)
    loss = xs ** 2
    assert track.feed(xs, ys, loss)
    heights = Heights.fit(np.array([0.0, 4.0]), HeightMode.LINEAR)
    path = track.path(heights)
    assert len(path) < 400
    assert np.allclose(path[:, 2], heights((2 * path[:, 0]) ** 2) + LIFT, atol=1e-5)  # (box x = x / 2)
    assert np.allclose(track.ball(heights), [0.5, 0.0, heights(1.0) + LIFT])


def test_paths_stay_short_and_paintable_whatever_the_run():
    track = PathTrack(Frame((-1.0, 1.0), (-1.0, 1.0)))
    rng = np.random.default_rng(0)
    track.feed(rng.uniform(-1, 1, 200000), rng.uniform(-1, 1, 200000), rng.uniform(0, 1, 200000))
    assert len(track.points) <= MAX_PATH_POINTS
    track.feed(np.array([1e300, np.inf, np.nan]), np.array([1e300, 0.0, 0.0]), np.array([1e300, 1.0, 1.0]))
    path = track.path(Heights.fit(np.array([0.0, 1.0]), HeightMode.LINEAR))
    assert np.isfinite(path).all() and np.abs(path).max() <= LIMIT + TALL


def test_contour_lines_lie_on_the_surface():
    xs, ys, z = grid(lambda x, y: x ** 2 + y ** 2)
    theta = np.linspace(0, 2 * np.pi, 50)
    lines_x, lines_y = np.r_[np.cos(theta), np.nan, 1.5 * np.cos(theta)], np.r_[np.sin(theta), np.nan, 1.5 * np.sin(theta)]
    heights = Heights.fit(z, HeightMode.LINEAR)
    segments = contour_segments(lines_x, lines_y, xs, ys, z, Frame((-2.0, 2.0), (-2.0, 2.0)), heights)
    assert segments.shape == (2 * 2 * 49, 3)  # no segment across the gap
    assert np.allclose(segments[: 2 * 49, 2], heights(1.0) + LIFT / 2, atol=0.01)


def test_a_new_frame_starts_the_tracks_again_and_a_new_mode_keeps_them():
    xs, ys, z = grid(lambda x, y: x ** 2 + y ** 2)
    scene = Scene(LUT)
    scene.set_runs(1)
    assert scene.show_field(xs, ys, z, z, False, ("x", "y"))
    scene.track(0).feed(np.array([0.5]), np.array([0.5]), np.array([0.5]))
    kept = scene.track(0)
    scene.set_mode(HeightMode.LOG)
    assert scene.track(0) is kept and scene.heights.mode == HeightMode.LOG
    assert not scene.show_field(xs, ys, z, z, False, ("x", "y"))  # (a new slice in the same frame)
    assert scene.track(0) is kept
    assert scene.show_field(xs, ys, z, z, False, ("x", "z"))  # other axes over the same ranges
    assert scene.track(0) is not kept
