"""Incremental min/max ("peak") decimation of a growing curve, so a frame costs O(new rows).

pyqtgraph's own downsampling works on the whole array at every setData, which is
O(n) per frame and stalls the GUI once a run has millions of steps. Here each
bucket of B consecutive rows is reduced to its min and max once, as the rows
arrive; when there are more than `max_buckets` buckets, pairs are merged and B
doubles. The result (≤ 2·max_buckets points + 3 for the unfinished bucket) looks like
pyqtgraph's 'peak' mode: every spike stays visible at any zoom-out.
`detail(lo, hi)` decimates only a visible slice of the raw data (for zooming in).
x values are the rows' step numbers (rows of very long runs are thinned, so a
row's position is not its step).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

MAX_BUCKETS = 2048
MIN_BUCKETS = 512  # about one per pixel column of the plot: an envelope needs no more


def buckets(runs: int) -> int:
    """Buckets per curve when `runs` curves share the plot: painting 20 curves of 4,096 points each took ~12 ms of
    every frame; the drawn points of all curves together stay about the same as for four."""
    return max(MIN_BUCKETS, min(MAX_BUCKETS, 4 * MAX_BUCKETS // max(runs, 1)))


def _reduce(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    blocks = values.reshape(-1, size)
    return np.fmin.reduce(blocks, axis=1), np.fmax.reduce(blocks, axis=1)  # NaN-ignoring, no warnings


@lru_cache(maxsize=None)
def _limits(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)  # (made anew at each call: ~3 µs, at every frame of every run)
    return int(info.min), int(info.max)


def _find(xs: np.ndarray, x: float, side: str = "left") -> int:
    """np.searchsorted for a float step in integer steps, without the O(n) conversion of `xs` to float that a float
    key costs (2.6 ms over a run of 3 million rows, at every frame of every run)."""
    if xs.dtype.kind in "iu":
        if not math.isfinite(x):
            return 0 if x < 0 else len(xs)
        x = math.ceil(x) if side == "left" else math.floor(x)
        low, high = _limits(xs.dtype)
        x = min(max(x, low), high)
    return int(np.searchsorted(xs, xs.dtype.type(x), side=side))


def _envelope(x0: np.ndarray, x1: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertical min–max segments, one per bucket, joined into one polyline."""
    x = np.repeat((x0 + x1) / 2.0, 2)
    y = np.empty(2 * len(lows))
    y[0::2], y[1::2] = lows, highs
    return x, y


class Decimator:
    """Min/max buckets of one column of a growing buffer."""

    def __init__(self, max_buckets: int = MAX_BUCKETS, log: bool = False) -> None:
        self.max_buckets = max_buckets
        self.log = log  # values <= 0 have no logarithm: they become gaps
        self.reset()  # (hid_nonpositive: some finite value <= 0 became a gap, so the plot says so)

    def reset(self) -> None:
        self.size = 1
        self.hid_nonpositive = False
        self.done_step = None  # x (step) of the last row folded into buckets; rows are found again by it,
        # so thinning of older rows in the buffer (which shifts row positions) never forces a re-fold
        self.lows = self.highs = self.x0 = self.x1 = np.empty(0)

    def _finite(self, values: np.ndarray) -> np.ndarray:
        """Non-finite values (a diverging run's inf or nan) become gaps, never part of the picture; so do values <= 0
        on a log axis, which have no logarithm. (Runs for every run at every frame: one pass over the buffer's strided
        column, a copy, and the rest on the copy.)"""
        values = np.array(values, dtype=np.float64)
        bad = ~((values > 0) & (values < np.inf)) if self.log else ~np.isfinite(values)  # (nan compares false)
        if bad.any():
            if self.log and not self.hid_nonpositive:
                self.hid_nonpositive = bool(np.isfinite(values[bad]).any())
            values[bad] = np.nan
        return values

    def update(self, xs: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fold in rows added since the last call; return (x, y) to draw. `xs` must increase."""
        n = len(values)
        if self.done_step is not None and (n == 0 or xs[n - 1] < self.done_step):
            self.reset()  # a different (shorter) buffer: start again
        start = 0 if self.done_step is None else _find(xs[:n], self.done_step, "right")
        # grow the bucket size first (merging what is folded), so a long first batch is reduced once, at
        # its final size, instead of row by row and then halved again and again
        while len(self.lows) + (n - start) // self.size > self.max_buckets:
            even = len(self.lows) // 2 * 2
            odd = len(self.lows) > even
            self.lows = np.fmin(self.lows[0:even:2], self.lows[1:even:2])
            self.highs = np.fmax(self.highs[0:even:2], self.highs[1:even:2])
            self.x0, self.x1 = self.x0[0:even:2], self.x1[1:even:2]
            self.size *= 2
            if odd:  # the bucket left over is half a new one: its rows go back to the tail
                start = _find(xs[:n], self.x1[-1], "right") if len(self.x1) else 0
        complete = start + (n - start) // self.size * self.size
        if complete > start:
            lo, hi = _reduce(self._finite(values[start:complete]), self.size)
            starts = xs[start:complete:self.size].astype(np.float64)
            ends = xs[start + self.size - 1:complete:self.size].astype(np.float64)
            self.lows, self.highs = np.concatenate([self.lows, lo]), np.concatenate([self.highs, hi])
            self.x0, self.x1 = np.concatenate([self.x0, starts]), np.concatenate([self.x1, ends])
            start = complete
        self.done_step = self.x1[-1] if len(self.x1) else None
        if self.size == 1:  # at most max_buckets rows: draw them as they are
            return self.x0.copy(), self.lows.copy()
        tail_x = xs[start:n].astype(np.float64)
        tail_y = self._finite(values[start:n])
        if len(tail_y) > 3:  # the unfinished bucket as the others, then its last row: drawn as they are, its up to
            # `size` rows (a bucket is about a pixel wide) were as many points again as the whole envelope
            middle = (tail_x[0] + tail_x[-1]) / 2.0
            tail_x = np.array((middle, middle, tail_x[-1]))
            tail_y = np.array((np.fmin.reduce(tail_y), np.fmax.reduce(tail_y), tail_y[-1]))
        x, y = _envelope(self.x0, self.x1, self.lows, self.highs)
        return np.concatenate([x, tail_x]), np.concatenate([y, tail_y])

    def detail(self, xs: np.ndarray, values: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
        """Decimate just the rows with x in [low, high] (a zoomed-in view) at the same resolution."""
        n = len(values)
        first = max(_find(xs, low) - 1, 0)
        last = min(_find(xs, high, "right") + 1, n)
        if last <= first:
            return np.empty(0), np.empty(0)
        size = 1
        while (last - first) // size > self.max_buckets:
            size *= 2
        whole = first + (last - first) // size * size
        tail_x, tail_y = xs[whole:last].astype(np.float64), self._finite(values[whole:last])
        if whole == first:
            return tail_x, tail_y
        lo, hi = _reduce(self._finite(values[first:whole]), size)
        x, y = _envelope(xs[first:whole:size].astype(np.float64), xs[first + size - 1:whole:size].astype(np.float64), lo, hi)
        return np.concatenate([x, tail_x]), np.concatenate([y, tail_y])
