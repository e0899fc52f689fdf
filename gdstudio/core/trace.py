"""A run's new rows thinned to the path a view shows, in one compiled pass (the landscape's paths: app/plots/tracks.py).

Done with NumPy, each frame's new rows of each run went through a dozen whole-array passes (finite, pulled in,
cells, kept, joined): ~0.25 ms a run, half of twenty runs' frame on the contour view. Compiled, it is one loop.
Numba is imported only when the engine loads the tracer (never with the window), so the NumPy version draws the
first frames of a first start and is the reference this one matches point for point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

FAR = 1000.0  # points farther than this many view spans from the centre are pulled in along their ray

_compiled: Callable | None = None


def _trace(xs, ys, cx, cy, sx, sy, cell_x, cell_y, last_qx, last_qy, has_last, out):
    """Writes the kept points of (xs, ys) into `out` and returns (how many, or -1 when no point is finite; the first
    finite point; the last one's cell; the last point), each point as `tracks.Track.feed` computes it with NumPy:
    non-finite rows dropped, every point moved by `cx + (x - cx) * shrink` when any is beyond FAR spans, a point
    kept when its cell differs from the previous one's."""
    pull = False
    for i in range(len(xs)):
        x, y = xs[i], ys[i]
        if np.isfinite(x) and np.isfinite(y) and max(abs(x - cx) / sx, abs(y - cy) / sy) > FAR:
            pull = True
            break
    count, seen, have = 0, False, has_last
    qx0, qy0 = last_qx, last_qy
    first_x = first_y = end_x = end_y = 0.0
    for i in range(len(xs)):
        x, y = xs[i], ys[i]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        if pull:
            far = max(abs(x - cx) / sx, abs(y - cy) / sy)
            shrink = FAR / far if far > FAR else 1.0
            x, y = cx + (x - cx) * shrink, cy + (y - cy) * shrink
        qx, qy = np.floor(x / cell_x), np.floor(y / cell_y)
        if not seen:
            first_x, first_y, seen = x, y, True
        if not have or qx != qx0 or qy != qy0:
            out[count, 0], out[count, 1] = x, y
            count += 1
        qx0, qy0, have = qx, qy, True
        end_x, end_y = x, y
    return (count if seen else -1), first_x, first_y, qx0, qy0, end_x, end_y


def compiled_tracer() -> Callable:
    """`_trace`, compiled (or loaded from Numba's cache): call off the GUI thread (the engine does, as it loads)."""
    global _compiled
    if _compiled is None:
        from numba import njit, types

        from .jit import JIT

        column, f8 = types.Array(types.float64, 1, "A"), types.float64
        result = types.Tuple((types.intp, f8, f8, f8, f8, f8, f8))
        signature = result(column, column, f8, f8, f8, f8, f8, f8, f8, f8, types.boolean, types.float64[:, ::1])
        _compiled = njit(signature, **JIT)(_trace)
    return _compiled


def tracer() -> Callable | None:
    """The compiled tracer once loaded, else None (the caller traces with NumPy)."""
    return _compiled
