"""The landscape's background, computed once per loss/view change (never per frame).

Pure NumPy + contourpy so it can be tested and timed without a window. Levels
are log-spaced above the minimum when the values span several decades on the
grid (Rosenbrock), evenly spaced otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import contourpy
import numpy as np

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective


GRID = 180
LEVELS = 24


@dataclass(frozen=True)
class Field:
    """Loss on a grid over (x_var, y_var), with the other variables fixed."""

    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,)
    z: np.ndarray  # (ny, nx), NaN where undefined
    shade: np.ndarray  # what the image shows: z, or log10(z - min + floor)
    levels: np.ndarray
    log: bool
    lines_x: np.ndarray  # all contour lines joined, NaN between them
    lines_y: np.ndarray


def _levels(z: np.ndarray) -> tuple[np.ndarray, bool, float]:
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        return np.empty(0), False, 1.0
    low, high = float(finite.min()), float(finite.max())
    span = high - low
    if span <= 0 or not np.isfinite(span):
        return np.empty(0), False, 1.0
    low_tenth = float(np.quantile(finite, 0.1)) - low  # most of the picture near the bottom: log levels
    log = span / max(low_tenth, span * 1e-12) > 50
    if log:
        floor = max(span * 1e-6, float(np.quantile(finite - low, 0.002)) or span * 1e-6)
        levels = low + np.geomspace(floor, span, LEVELS)
    else:
        levels = np.linspace(low, high, LEVELS + 2)[1:-1]
        floor = span * 1e-6
    return levels, log, floor


class Cancelled(Exception):
    """A newer request took over while this grid was being evaluated."""


def _never() -> bool:
    return False


ROW_EVALS_PER_STRIP = 2_000_000  # grid points × data rows evaluated between two looks at the cancel flag


def _strips(objective: Objective, shape: tuple[int, ...]) -> int:
    """Into how many strips of grid rows a grid is cut: about ROW_EVALS_PER_STRIP data rows read in each, so one for
    a loss that reads none per point (no data, or a polynomial's moment sums); never more than the grid has rows.
    (Counted in points, not grid rows, a linear model's 1,000,000 rows made 16,200 strips of a 180-row grid, nearly all
    empty: 21 ms of the field's thread in Python, for a loss that takes 0.8 ms over the whole grid.)"""
    points = int(np.prod(shape))
    return max(1, min(shape[0], points * objective.rows_per_point() // ROW_EVALS_PER_STRIP))


def grid_values(objective: Objective, coords: list[np.ndarray], cancelled: Callable[[], bool] = _never,
                gradient: bool = False) -> np.ndarray:
    """The loss (or the gradient, shape (n, *grid)) at broadcast grid coordinates (2-D arrays), evaluated in
    strips of grid rows, so that a newer request cancels it within a fraction of a second even over a million
    data rows."""
    shape = np.broadcast_shapes(*(c.shape for c in coords))
    coords = [np.broadcast_to(c, shape) for c in coords]
    values = np.empty((objective.dimension, *shape) if gradient else shape)
    for part in np.array_split(np.arange(shape[0]), _strips(objective, shape)):
        if cancelled():
            raise Cancelled
        if len(part):
            strip = [c[part] for c in coords]
            if gradient:
                values[:, part] = objective.grad(*strip)
            else:
                values[part] = objective.loss(*strip)
    return values


def compute_field(objective: Objective, x_var: str, y_var: str, x_range: tuple[float, float],
                  y_range: tuple[float, float], fixed: Mapping[str, float], grid: int = GRID,
                  cancelled: Callable[[], bool] = _never) -> Field:
    """Evaluate the loss on a grid and trace its contour lines (raises Cancelled when `cancelled()` turns true)."""
    xs = np.linspace(*x_range, grid)
    ys = np.linspace(*y_range, grid)
    X, Y = np.meshgrid(xs, ys)
    coords = [X if v == x_var else Y if v == y_var else np.full_like(X, float(fixed.get(v, 0.0))) for v in objective.variables]
    z = grid_values(objective, coords, cancelled)
    z = np.where(np.isfinite(z), z, np.nan)
    levels, log, floor = _levels(z)
    if log:
        with np.errstate(all="ignore"):
            shade = np.log10(z - np.nanmin(z) + floor)
    else:
        shade = z
    lx, ly = _lines(xs, ys, z, levels)
    return Field(xs, ys, z, shade, levels, log, lx, ly)


def line_maker(xs: np.ndarray, ys: np.ndarray, z: np.ndarray) -> contourpy.ContourGenerator:
    """Contour lines of z (NaN left out), made in the field's thread with little of the interpreter lock: "serial"
    holds it while it marches, and the GUI thread, which needs it at every call into Python of a paint or a layout,
    waited meanwhile (3 ms of the ~5 a Rosenbrock's 24 levels take on this grid: benchmarks/lock_holders.py).
    "threaded" on one thread and one chunk (no thread of its own) marches the same lines point for point without it,
    taking it back only to make their arrays (~0.1 ms of them)."""
    return contourpy.contour_generator(xs, ys, np.ma.masked_invalid(z), name="threaded", thread_count=1,
                                       chunk_count=1, line_type=contourpy.LineType.Separate)


def _lines(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not len(levels):
        return np.empty(0), np.empty(0)
    generator = line_maker(xs, ys, z)
    pieces: list[np.ndarray] = []
    gap = np.array([[np.nan, np.nan]])
    for level in levels:
        for line in generator.lines(level):
            pieces.append(line)
            pieces.append(gap)
    if not pieces:
        return np.empty(0), np.empty(0)
    joined = np.concatenate(pieces)
    return joined[:, 0], joined[:, 1]


def curve(objective: Objective, x_range: tuple[float, float], points: int = 800,
          cancelled: Callable[[], bool] = _never) -> tuple[np.ndarray, np.ndarray]:
    """A one-variable loss sampled over its view range."""
    xs = np.linspace(*x_range, points)
    ys = grid_values(objective, [xs[:, None]], cancelled)[:, 0]
    return xs, np.where(np.isfinite(ys), ys, np.nan)


ARROWS = 21


def gradient_arrows(objective: Objective, x_var: str, y_var: str, x_range: tuple[float, float],
                    y_range: tuple[float, float], fixed: Mapping[str, float], grid: int = ARROWS,
                    cancelled: Callable[[], bool] = _never) -> tuple[np.ndarray, np.ndarray]:
    """Arrows of the descent direction −∇ on a coarse grid, as line pairs (x, y) with NaN gaps:
    each arrow a shaft and two head strokes, all the same length (the direction is what shows;
    where the gradient is zero or undefined there is no arrow). Computed once per view/loss."""
    xs = np.linspace(*x_range, grid + 2)[1:-1]
    ys = np.linspace(*y_range, grid + 2)[1:-1]
    X, Y = np.meshgrid(xs, ys)
    coords = [X if v == x_var else Y if v == y_var else np.full_like(X, float(fixed.get(v, 0.0))) for v in objective.variables]
    with np.errstate(all="ignore"):
        g = grid_values(objective, coords, cancelled, gradient=True)
        names = objective.variables
        gx, gy = -np.broadcast_to(g[names.index(x_var)], X.shape), -np.broadcast_to(g[names.index(y_var)], X.shape)
        sx, sy = (x_range[1] - x_range[0]) / (grid + 1), (y_range[1] - y_range[0]) / (grid + 1)
        u, v = gx / sx, gy / sy  # in cell units, so arrows look right whatever the aspect
        length = np.hypot(u, v)
        ok = np.isfinite(length) & (length > 0)
        u, v = np.where(ok, u / np.where(ok, length, 1), 0), np.where(ok, v / np.where(ok, length, 1), 0)
    half = 0.35
    x0, y0 = X - half * u * sx, Y - half * v * sy
    x1, y1 = X + half * u * sx, Y + half * v * sy
    c, s = np.cos(2.6), np.sin(2.6)  # head strokes at ±150° from the shaft
    hx1, hy1 = x1 + 0.25 * (c * u - s * v) * sx, y1 + 0.25 * (s * u + c * v) * sy
    hx2, hy2 = x1 + 0.25 * (c * u + s * v) * sx, y1 + 0.25 * (-s * u + c * v) * sy
    gap = np.full_like(X, np.nan)
    px = np.stack([x0, x1, hx1, gap, x1, hx2, gap], axis=-1)[ok]
    py = np.stack([y0, y1, hy1, gap, y1, hy2, gap], axis=-1)[ok]
    return px.ravel(), py.ravel()
