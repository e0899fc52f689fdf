"""Paths as drawn on the landscape: short however long the run, and always paintable.

A converging run makes millions of steps inside one pixel; a diverging one leaves for 1e300. What is
drawn keeps the visible shape of both: points within one small cell of the previous are skipped, and
points far outside the view are pulled in along their ray from its centre (which keeps every visible
segment's direction and never hands the painter coordinates it cannot take).
"""

from __future__ import annotations

import numpy as np

from ...core.trace import FAR, tracer

MAX_PATH_POINTS = 20000  # drawn points per path at most (the buffers keep every step)
TOTAL_PATH_POINTS = 60000  # drawn points of all paths together at most: many long paths stay quick to paint
THICK_UP_TO = 3000  # a path of this many points or fewer is drawn 2 px wide; longer ones 1 px (Qt strokes a wide
                    # line ~8x slower than a hairline: 20 zig-zagging paths of 20,000 points took 180 ms to paint)


def path_points(runs: int) -> int:
    """The drawn points one path may have when `runs` paths share the landscape."""
    return max(2000, min(MAX_PATH_POINTS, TOTAL_PATH_POINTS // max(runs, 1)))


THICK_RUNS = 4  # paths and loss curves are drawn 2 px wide for this many runs or fewer (20 runs' 2 px paths, 3,000
                # points each, took ~100 ms of every frame to stroke)


def line_width(points: int, runs: int) -> int:
    return 2 if points <= THICK_UP_TO and runs <= THICK_RUNS else 1


CELLS = 1500  # a path point is kept only when it leaves the (view span / CELLS)-sized cell of the previous row


def pull_in(xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float], span: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Points farther than FAR view spans from the centre, moved in along their ray to that distance."""
    (cx, cy), (sx, sy) = centre, span
    with np.errstate(all="ignore"):
        far = np.maximum(np.abs(xs - cx) / sx, np.abs(ys - cy) / sy)
        if not (far > FAR).any():
            return xs, ys
        shrink = np.where(far > FAR, FAR / far, 1.0)
    return cx + (xs - cx) * shrink, cy + (ys - cy) * shrink


class Track:
    """What one run's path on the landscape shows, fed only with the rows that are new.

    Rows that stay within one small cell of the view as the previous row add nothing visible
    and are skipped (a converging run makes millions of such steps), so the drawn path stays
    short however long the run; non-finite points are dropped; far-away points are pulled in."""

    def __init__(self, cell: tuple[float, float], centre: tuple[float, float], span: tuple[float, float]) -> None:
        self.cell, self.centre, self.span = cell, centre, span
        self.xs = np.empty(0)
        self.ys = np.empty(0)
        self.last_step = -1
        self.last_cell: tuple[float, float] | None = None
        self.end: tuple[float, float] | None = None  # the latest point (drawn even inside the last cell)
        self.first: tuple[float, float] | None = None
        self.max_points = MAX_PATH_POINTS

    def feed(self, xs: np.ndarray, ys: np.ndarray) -> bool:
        """Take new rows; False when none of them is finite (nothing changed)."""
        compiled = tracer()  # (None until the engine has loaded it: the same points, with NumPy)
        kept = self._trace(xs, ys) if compiled is None else self._trace_compiled(compiled, xs, ys)
        if kept is None:
            return False
        if len(kept[0]):
            self.xs = np.concatenate((self.xs, kept[0]))
            self.ys = np.concatenate((self.ys, kept[1]))
            if len(self.xs) > self.max_points:  # a wandering run: coarser cells for what is drawn
                self.cell = (2 * self.cell[0], 2 * self.cell[1])
                q = np.floor(self.xs / self.cell[0]), np.floor(self.ys / self.cell[1])
                again = np.r_[True, (q[0][1:] != q[0][:-1]) | (q[1][1:] != q[1][:-1])]
                self.xs, self.ys = self.xs[again], self.ys[again]
        return True

    def _trace_compiled(self, compiled, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """`_trace`, by core/trace.py's compiled loop."""
        out = np.empty((len(xs), 2))
        count, first_x, first_y, qx, qy, end_x, end_y = compiled(
            xs, ys, *self.centre, *self.span, *self.cell, *(self.last_cell or (0.0, 0.0)), self.last_cell is not None, out)
        if count < 0:
            return None
        if self.first is None:
            self.first = (first_x, first_y)
        self.last_cell, self.end = (qx, qy), (end_x, end_y)
        return out[:count, 0], out[:count, 1]

    def _trace(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """The points to add (core/trace.py's, with NumPy), or None when no row is finite; updates the last cell."""
        finite = np.isfinite(xs) & np.isfinite(ys)
        if not finite.all():
            xs, ys = xs[finite], ys[finite]
        if not len(xs):
            return None
        xs, ys = pull_in(xs, ys, self.centre, self.span)
        with np.errstate(all="ignore"):
            qx, qy = np.floor(xs / self.cell[0]), np.floor(ys / self.cell[1])
        keep = np.empty(len(xs), dtype=bool)
        keep[1:] = (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1])
        keep[0] = self.last_cell is None or (qx[0], qy[0]) != self.last_cell
        if self.first is None:
            self.first = (float(xs[0]), float(ys[0]))
        self.last_cell = (qx[-1], qy[-1])
        self.end = (float(xs[-1]), float(ys[-1]))
        return xs[keep], ys[keep]

    def path(self) -> tuple[np.ndarray, np.ndarray]:
        if self.end is None:
            return self.xs, self.ys
        return np.concatenate((self.xs, self.end[:1])), np.concatenate((self.ys, self.end[1:]))


def drawable(xs: np.ndarray, ys: np.ndarray, centre: tuple[float, float], span: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """At most MAX_PATH_POINTS finite points (evenly strided, the last kept), points beyond FAR view spans pulled in
    along their ray from the centre: a diverging racer never hands the painter coordinates it cannot take."""
    finite = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[finite], ys[finite]
    if len(xs) > MAX_PATH_POINTS:
        keep = np.unique(np.r_[np.arange(0, len(xs), -(-len(xs) // MAX_PATH_POINTS)), len(xs) - 1])
        xs, ys = xs[keep], ys[keep]
    return pull_in(xs, ys, centre, span)
