"""What the 3-D landscape draws, as plain arrays: no Qt, no OpenGL.

The view hands these arrays to pyqtgraph's GL items, and the tests read them where Qt has no OpenGL
(its offscreen platform). Everything lives in a box of similar sides, whatever the units: the plotted
axes map to [-1, 1] and the heights to [0, TALL], so Rosenbrock's 2,500 over a 4-wide view and a
loss of 1e-3 over [-1e3, 1e3] both look like landscapes. Heights are linear, logarithmic
(log10(f − min + ε), which takes f ≤ 0) or clipped at a quantile (steep losses), and the paths go
through the same transform, so a run lies on its surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

TALL = 1.1  # the heights' extent in box units (the axes span 2)
CLIP_QUANTILE = 0.9  # "clipped" caps heights at this quantile of the loss over the view
LIMIT = 2.5  # path points farther than this (box units) from the box's centre are pulled in along their ray
LIFT = 0.012  # paths float this far (box units) above what they walk on, so the surface does not hide them
RIBBON = 0.06  # a 1-D curve's half width (box units)
CELLS = 1500  # a path point is kept when it leaves the (2 / CELLS)-sized cell of the previous one
MAX_PATH_POINTS = 20000
LIGHT = np.array([-0.45, -0.6, 0.66]) / np.linalg.norm([-0.45, -0.6, 0.66])  # from the front left, above
AMBIENT = 0.55  # the share of a colour that shows in the shadow of the light
WASH = 0.15  # the contour view's image is drawn at 85 % opacity over the plot's background: so is the surface


class HeightMode(StrEnum):
    AUTO = "auto"  # log where the contour view draws log-spaced levels, else linear
    LINEAR = "linear"
    LOG = "log"
    CLIPPED = "clipped"


@dataclass(frozen=True)
class Heights:
    """From a loss value to a height in the box: the transform of a mode, fitted to the loss over the view."""

    mode: HeightMode  # LINEAR, LOG or CLIPPED (AUTO is resolved when fitted)
    low: float  # the least loss over the view
    floor: float  # ε of the log: a small fraction of the span
    cap: float  # clipped: the quantile the heights stop at (inf otherwise)
    bottom: float  # transformed least and greatest loss: heights 0 and TALL
    top: float

    @classmethod
    def fit(cls, z: np.ndarray, mode: HeightMode, log_levels: bool = False) -> Heights:
        finite = np.asarray(z, dtype=float)
        finite = finite[np.isfinite(finite)]
        if mode == HeightMode.AUTO:
            mode = HeightMode.LOG if log_levels else HeightMode.LINEAR
        if not finite.size:
            return cls(mode, 0.0, 1.0, np.inf, 0.0, 1.0)
        low, high = float(finite.min()), float(finite.max())
        span = high - low
        floor = max(span * 1e-6, float(np.quantile(finite - low, 0.002)), 1e-300)
        cap = float(np.quantile(finite, CLIP_QUANTILE)) if mode == HeightMode.CLIPPED else np.inf
        heights = cls(mode, low, floor, cap, 0.0, 1.0)
        bottom, top = (float(v) for v in heights.raw(np.array([low, min(high, cap)])))
        return cls(mode, low, floor, cap, bottom, top)

    def raw(self, z: np.ndarray) -> np.ndarray:
        """The transformed loss, before it is scaled into the box."""
        z = np.asarray(z, dtype=float)
        with np.errstate(all="ignore"):
            if self.mode == HeightMode.LOG:
                return np.log10(np.maximum(z - self.low, 0.0) + self.floor)
            return np.minimum(z, self.cap)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Heights in box units: 0 at the least loss over the view, TALL at the greatest (or the cap)."""
        span = self.top - self.bottom
        with np.errstate(all="ignore"):
            return (self.raw(z) - self.bottom) * (TALL / span) if span > 0 else np.zeros(np.shape(z))

    def describe(self) -> str:
        if self.mode == HeightMode.LOG:
            return f"heights log10(f − {self.low:.3g} + {self.floor:.2g})"
        if self.mode == HeightMode.CLIPPED:
            return f"heights clipped at {self.cap:.3g} (the {CLIP_QUANTILE:.0%} quantile)"
        return "linear heights"


@dataclass(frozen=True)
class Frame:
    """The plotted axes' ranges, mapped to [-1, 1] (the y range is None for a loss of one variable)."""

    x: tuple[float, float]
    y: tuple[float, float] | None = None
    axes: tuple[str, ...] = ()  # (another pair of axes over the same ranges is another frame)

    def __call__(self, xs: np.ndarray, ys: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        def box(values: np.ndarray, low: float, high: float) -> np.ndarray:
            return (np.asarray(values, dtype=float) - (low + high) / 2) * (2 / ((high - low) or 1.0))

        bx = box(xs, *self.x)
        return bx, (box(ys, *self.y) if self.y is not None and ys is not None else np.zeros_like(bx))


@dataclass(frozen=True)
class Mesh:
    """Triangles for GLMeshItem: vertices (n, 3), faces (m, 3) and vertex colours (n, 4) in 0..1."""

    vertices: np.ndarray
    faces: np.ndarray
    colors: np.ndarray

    @property
    def z_range(self) -> tuple[float, float]:
        used = self.vertices[np.unique(self.faces), 2] if len(self.faces) else np.empty(0)
        return (float(used.min()), float(used.max())) if used.size else (0.0, 0.0)


def colors_of(shade: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """The contour view's colours: `shade` (what its image shows) through the colormap's table, between its
    least and greatest finite value, as RGBA in 0..1."""
    lut = np.asarray(lut, dtype=float)
    lut = lut / 255.0 if lut.max() > 1.0 else lut
    if lut.shape[1] == 3:
        lut = np.c_[lut, np.ones(len(lut))]
    finite = shade[np.isfinite(shade)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    with np.errstate(all="ignore"):
        t = np.nan_to_num((shade - low) / ((high - low) or 1.0), nan=0.0)
    return lut[np.clip((t * (len(lut) - 1)).round().astype(int), 0, len(lut) - 1)]


def lit(colors: np.ndarray, normals: np.ndarray, backdrop: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> np.ndarray:
    """Colours washed towards the backdrop as the contour view's are, then shaded by a fixed light (Lambert, with
    AMBIENT in the shadow): the relief shows from every side."""
    lambert = np.clip(normals @ LIGHT, 0.0, 1.0)
    out = colors.copy()
    out[..., :3] = (1 - WASH) * out[..., :3] + WASH * np.asarray(backdrop)
    out[..., :3] *= (AMBIENT + (1 - AMBIENT) * lambert)[..., None]
    return out


def surface_mesh(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, shade: np.ndarray, frame: Frame, heights: Heights,
                 lut: np.ndarray, backdrop: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """The loss over a grid (z[j, i] at xs[i], ys[j]) as lit, coloured triangles; cells with an undefined corner
    are left out."""
    bx, by = frame(xs, ys)
    X, Y = np.meshgrid(bx, by)
    Z = heights(z)
    ok = np.isfinite(Z)
    Z = np.where(ok, Z, 0.0)
    gy, gx = np.gradient(Z, by if len(by) > 1 else 1.0, bx if len(bx) > 1 else 1.0)
    normals = np.stack([-gx, -gy, np.ones_like(Z)], axis=-1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    colors = lit(colors_of(shade, lut), normals, backdrop)
    ny, nx = Z.shape
    index = np.arange(ny * nx).reshape(ny, nx)
    a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
    whole = (ok[:-1, :-1] & ok[:-1, 1:] & ok[1:, :-1] & ok[1:, 1:]).ravel()
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3)[whole], np.stack([c, b, d], -1).reshape(-1, 3)[whole]])
    vertices = np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=-1)
    return Mesh(vertices.astype(np.float32), faces.astype(np.uint32), colors.reshape(-1, 4).astype(np.float32))


def ribbon_mesh(xs: np.ndarray, ys: np.ndarray, frame: Frame, heights: Heights, lut: np.ndarray,
                backdrop: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """A loss of one variable as a narrow ribbon along x (its width along y), coloured by height."""
    bx, _ = frame(xs, None)
    Z = heights(ys)
    shade = heights.raw(ys)
    ok = np.isfinite(Z)
    Z = np.where(ok, Z, 0.0)
    slope = np.gradient(Z, bx) if len(bx) > 1 else np.zeros_like(Z)
    normals = np.stack([-slope, np.zeros_like(Z), np.ones_like(Z)], -1)
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    colors = lit(colors_of(np.where(ok, shade, np.nan), lut), normals, backdrop)
    n = len(bx)
    vertices = np.concatenate([np.stack([bx, np.full(n, -RIBBON), Z], -1), np.stack([bx, np.full(n, RIBBON), Z], -1)])
    i = np.arange(n - 1)
    whole = ok[:-1] & ok[1:]
    faces = np.concatenate([np.stack([i, i + 1, i + n], -1)[whole], np.stack([i + n, i + 1, i + n + 1], -1)[whole]])
    return Mesh(vertices.astype(np.float32), faces.astype(np.uint32), np.concatenate([colors, colors]).astype(np.float32))


def contour_segments(lines_x: np.ndarray, lines_y: np.ndarray, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, frame: Frame,
                     heights: Heights) -> np.ndarray:
    """The contour view's lines (joined, NaN between them) laid on the surface, as segment pairs (2k, 3) for a
    line item in "lines" mode: each point at the loss interpolated from the grid, lifted as the paths are."""
    if len(lines_x) < 2 or len(xs) < 2 or len(ys) < 2:
        return np.empty((0, 3), dtype=np.float32)
    fx = np.clip((lines_x - xs[0]) / (xs[1] - xs[0]), 0, len(xs) - 1.000001)
    fy = np.clip((lines_y - ys[0]) / (ys[1] - ys[0]), 0, len(ys) - 1.000001)
    ok = np.isfinite(fx) & np.isfinite(fy)
    i, j = np.where(ok, fx, 0).astype(int), np.where(ok, fy, 0).astype(int)
    tx, ty = np.where(ok, fx - i, 0), np.where(ok, fy - j, 0)
    with np.errstate(all="ignore"):
        level = ((1 - ty) * ((1 - tx) * z[j, i] + tx * z[j, i + 1]) + ty * ((1 - tx) * z[j + 1, i] + tx * z[j + 1, i + 1]))
        bx, by = frame(lines_x, lines_y)
        points = np.stack([bx, by, heights(level) + LIFT / 2], axis=-1)
    whole = np.isfinite(points).all(axis=1)
    pair = whole[:-1] & whole[1:]
    return np.stack([points[:-1][pair], points[1:][pair]], axis=1).reshape(-1, 3).astype(np.float32)


def pulled_in(points: np.ndarray) -> np.ndarray:
    """Points farther than LIMIT from the box's centre, moved in along their ray (a diverging run never hands
    OpenGL coordinates of 1e300)."""
    centre = np.array([0.0, 0.0, TALL / 2])
    with np.errstate(all="ignore"):
        far = np.abs(points - centre).max(axis=-1, keepdims=True)
        shrink = np.where(far > LIMIT, LIMIT / far, 1.0)
    return centre + (points - centre) * shrink


class PathTrack:
    """One run's path in loss units (x, y, loss), fed only with its new rows: points that stay within one small
    cell of the view as the previous kept one add nothing visible and are skipped (a converging run makes
    millions of them), non-finite ones are dropped, and the last point is always kept (the ball)."""

    def __init__(self, frame: Frame) -> None:
        self.frame = frame
        self.cell = 2.0 / CELLS
        self.points = np.empty((0, 3))  # kept (x, y, loss)
        self.last_step = -1
        self.first: np.ndarray | None = None
        self.end: np.ndarray | None = None
        self._last_cell: tuple[float, float] | None = None

    def feed(self, xs: np.ndarray, ys: np.ndarray | None, loss: np.ndarray) -> bool:
        ys = np.zeros_like(xs) if ys is None else ys
        finite = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(loss)
        xs, ys, loss = xs[finite], ys[finite], loss[finite]
        if not len(xs):
            return False
        bx, by = self.frame(xs, ys if self.frame.y is not None else None)
        with np.errstate(all="ignore"):
            qx, qy = np.floor(bx / self.cell), np.floor(by / self.cell)
        keep = np.empty(len(xs), dtype=bool)
        keep[1:] = (qx[1:] != qx[:-1]) | (qy[1:] != qy[:-1])
        keep[0] = self._last_cell is None or (qx[0], qy[0]) != self._last_cell
        self._last_cell = (qx[-1], qy[-1])
        rows = np.stack([xs, ys, loss], axis=-1)
        if self.first is None:
            self.first = rows[0]
        self.end = rows[-1]
        self.points = np.concatenate([self.points, rows[keep]])
        while len(self.points) > MAX_PATH_POINTS:  # a wandering run: coarser cells for what is drawn
            self.cell *= 2
            if self.cell > 4.0:  # (jumping all over the box: every k-th point)
                self.points = self.points[:: -(-len(self.points) // MAX_PATH_POINTS)]
                break
            q = np.floor(np.stack(self.frame(self.points[:, 0], self.points[:, 1]), -1) / self.cell)
            self.points = self.points[np.r_[True, (q[1:] != q[:-1]).any(axis=1)]]
        return True

    def path(self, heights: Heights) -> np.ndarray:
        """The kept points and the latest one, in box units, lifted a little off the surface: (n, 3) float32."""
        points = self.points if self.end is None else np.concatenate([self.points, self.end[None]])
        return self.placed(points, heights)

    def placed(self, points: np.ndarray, heights: Heights) -> np.ndarray:
        if not len(points):
            return np.empty((0, 3), dtype=np.float32)
        bx, by = self.frame(points[:, 0], points[:, 1] if self.frame.y is not None else None)
        box = np.stack([bx, by, heights(points[:, 2]) + LIFT], axis=-1)
        return pulled_in(np.nan_to_num(box, nan=0.0, posinf=1e300, neginf=-1e300)).astype(np.float32)

    def ball(self, heights: Heights) -> np.ndarray | None:
        """Where the run is now, in box units."""
        return None if self.end is None else self.placed(self.end[None], heights)[0]

    def start(self, heights: Heights) -> np.ndarray | None:
        return None if self.first is None else self.placed(self.first[None], heights)[0]


@dataclass(frozen=True)
class Camera:
    """Where the camera looks from: GLViewWidget's centre, distance, elevation and azimuth (degrees)."""

    center: tuple[float, float, float] = (0.0, 0.0, TALL * 0.38)
    distance: float = 3.2
    elevation: float = 42.0
    azimuth: float = -60.0


DEFAULT_CAMERA = Camera()


class Scene:
    """The 3-D view's state as arrays: the surface of the latest background, one track per run, the height mode.

    A new background in another frame (other axes or ranges) drops the tracks: the runs are traced again from
    their buffers. A new height mode keeps them (they hold losses, not heights)."""

    def __init__(self, lut: np.ndarray, backdrop: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> None:
        self.lut, self.backdrop = lut, backdrop
        self.mode = HeightMode.AUTO
        self.frame: Frame | None = None
        self.heights: Heights | None = None
        self.surface: Mesh | None = None
        self.lines = np.empty((0, 3), dtype=np.float32)  # contour lines on the surface, segment pairs
        self.tracks: list[PathTrack | None] = []
        self._source: tuple | None = None  # ("field", xs, ys, z, shade, log) or ("curve", xs, ys)

    def show_field(self, xs: np.ndarray, ys: np.ndarray, z: np.ndarray, shade: np.ndarray, log: bool,
                   axes: tuple[str, ...] = (), lines: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
        """A background over two axes (and its contour lines); True when the frame changed (the tracks start again)."""
        self._source = ("field", xs, ys, z, shade, log, lines)
        return self._rebuild(Frame((float(xs[0]), float(xs[-1])), (float(ys[0]), float(ys[-1])), tuple(axes)))

    def show_curve(self, xs: np.ndarray, ys: np.ndarray, axes: tuple[str, ...] = ()) -> bool:
        """A loss of one variable; True when the frame changed."""
        self._source = ("curve", xs, ys)
        return self._rebuild(Frame((float(xs[0]), float(xs[-1])), None, tuple(axes)))

    def clear(self) -> None:
        self._source, self.surface, self.heights, self.frame = None, None, None, None
        self.lines = np.empty((0, 3), dtype=np.float32)
        self.tracks = [None] * len(self.tracks)

    def set_mode(self, mode: HeightMode) -> None:
        self.mode = HeightMode(mode)
        if self.frame is not None:
            self._rebuild(self.frame)

    def _rebuild(self, frame: Frame) -> bool:
        source, moved = self._source, frame != self.frame
        self.frame = frame
        if source[0] == "field":
            _, xs, ys, z, shade, log, lines = source
            self.heights = Heights.fit(z, self.mode, log)
            self.surface = surface_mesh(xs, ys, z, shade, frame, self.heights, self.lut, self.backdrop)
            self.lines = (contour_segments(*lines, xs, ys, z, frame, self.heights) if lines is not None
                          else np.empty((0, 3), dtype=np.float32))
        else:
            _, xs, ys = source
            self.lines = np.empty((0, 3), dtype=np.float32)
            self.heights = Heights.fit(ys, self.mode, log_levels=_spans_decades(ys))
            self.surface = ribbon_mesh(xs, ys, frame, self.heights, self.lut, self.backdrop)
        if moved:
            self.tracks = [None] * len(self.tracks)
        return moved

    def set_runs(self, count: int) -> None:
        self.tracks = [None] * count

    def track(self, index: int) -> PathTrack | None:
        """The run's track (a new one when the frame is new); None before any background."""
        if self.frame is None or index >= len(self.tracks):
            return None
        if self.tracks[index] is None:
            self.tracks[index] = PathTrack(self.frame)
        return self.tracks[index]


def _spans_decades(values: np.ndarray) -> bool:
    """As the contour view decides log-spaced levels: most of the curve near its bottom."""
    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return False
    low, span = float(finite.min()), float(np.ptp(finite))
    return span > 0 and span / max(float(np.quantile(finite, 0.1)) - low, span * 1e-12) > 50
