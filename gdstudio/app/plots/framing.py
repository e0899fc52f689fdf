"""What the landscape frames: the scenario's view, grown to hold what matters on it.

A new loss is framed on its action: the runs' starts and its known minima, wherever they lie in the
view it inherited. While runs go, a path that leaves the frame grows it (at most once a second, and
never chasing a run that is running away to infinity), until the person pans or zooms: from then on
their view is kept, until "Frame runs" or "Use visible area" hands framing back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping

import numpy as np

from ...core.scenario_model import start_point
from ..buffers import PARAMS

Range = tuple[float, float]
MARGIN = 0.1  # of the span, around what must be seen
REACH = 4.0  # points farther than this many spans from the frame's centre are running away: not followed


def nice_limits(low: float, high: float) -> Range:
    """low..high with a margin, rounded out to a round step (1, 2 or 5 times a power of ten, about a tenth
    of the span), so frames are stable and their axes read well."""
    pad = MARGIN * ((high - low) or max(abs(low), 1.0))
    low, high = low - pad, high + pad
    raw = (high - low) / 10
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return math.floor(low / step) * step, math.ceil(high / step) * step


def grown(ranges: Mapping[str, Range], points: Iterable[Mapping[str, float]]) -> dict[str, Range]:
    """`ranges`, each grown to hold the finite points within REACH of it (to round limits, with a margin);
    a range that holds them all is returned as it was."""
    points, out = list(points), dict(ranges)
    for name, (low, high) in ranges.items():
        span, centre = (high - low) or 1.0, (low + high) / 2
        values = [p[name] for p in points if name in p and math.isfinite(p[name]) and abs(p[name] - centre) <= REACH * span]
        if values and (min(values) < low or max(values) > high):
            out[name] = nice_limits(min(low, *values), max(high, *values))
    return out

RESLICE_SECONDS = 1.0  # a slice or a frame follows the runs at most this often


class Framing:
    """The landscape's frame and slice, following its runs (mixed into Landscape: it reads the loss,
    scenario, runs' marks and selection the landscape holds, and redraws with `_recompute`). While a
    start or a knob is held (`holding`) neither moves: paths change at every frame of a drag."""

    holding = False

    def _runs_going(self) -> bool:
        """Runs are still stepping: the slice and the frame follow them at most once a second; once they have ended,
        at once."""
        return any(buffer.status == "running" for buffer in self.marks.buffers)

    def _maybe_reslice(self) -> bool:
        """A slice of three or more variables follows the selected run (at most once a second while runs go, at once
        when they have ended: else the slice could stay where the run was up to a second before its end); True when
        redrawn."""
        buffers = self.marks.buffers
        if len(self.variables) <= 2 or not buffers or self.holding:
            return False
        buffer = buffers[min(self._selected, len(buffers) - 1)]
        last = buffer.last()
        if last is None:
            return False
        point = last[PARAMS:]
        now = time.monotonic()
        if (self._slice_at is None or not np.array_equal(point, self._slice_at)) \
                and (not self._runs_going() or now - self._slice_time >= RESLICE_SECONDS):
            self._slice_at, self._slice_time = point.copy(), now
            self._recompute()
            return True
        return False

    # -- framing (see framing.py) -------------------------------------------------------
    def range_of(self, variable: str) -> tuple[float, float]:
        """The range drawn for a variable: its frame, else the scenario's view."""
        return self._frame.get(variable) or tuple(self.scenario.range_of(variable))

    def _view(self) -> dict[str, tuple[float, float]]:
        return {v: tuple(self.scenario.range_of(v)) for v in self.variables}

    def _starts(self) -> list[dict[str, float]]:
        return [dict(zip(self.variables, map(float, start_point(spec, self.scenario, self.variables)))) for spec in self.scenario.runs
                if not spec.scale]  # (runs on scaled columns walk in other units)

    def _ends(self) -> list[dict[str, float]]:
        """Where each run on this picture is now (runs in other units, faded, are not)."""
        return [dict(zip(self.variables, map(float, last[PARAMS:]))) for i, buffer in enumerate(self.marks.buffers)
                if (last := buffer.last()) is not None and buffer.variables == self.variables and not self.marks.dimmed(i)]

    def _maybe_follow(self, axes: tuple[str, ...]) -> None:
        """A run that left the frame grows it (at most once a second while runs go, at once when they have ended),
        unless the person took the view over."""
        now, buffers = time.monotonic(), self.marks.buffers
        if not self._follow or not buffers or self.holding or (self._runs_going() and now - self._frame_time < RESLICE_SECONDS):
            return
        frame = grown({a: self.range_of(a) for a in axes}, self._ends())
        if any(frame[a] != self.range_of(a) for a in axes):
            self._frame, self._frame_time = {**self._frame, **frame}, now
            self._recompute(reset_range=True)

    def frame_runs(self) -> None:
        """View ▸ Frame runs: the view, the starts, the known minima and where every run is now, framed; and
        paths that leave the frame grow it again."""
        if self.objective is None or self.scenario is None:
            return
        points = [*self._starts(), *(point for point, _ in self._minima), *self._ends()]
        self._frame, self._follow = grown(self._view(), points), True
        self._recompute(reset_range=True)

    def _stop_following(self, *_args) -> None:
        self._follow = False  # the person panned or zoomed: their view is kept

    def _use_visible(self) -> None:
        """"Use visible area": the range panned or zoomed to becomes the view (the landscape is recomputed for it)."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        axes = self.axes()
        chosen = {axes[0]: (float(x0), float(x1))}
        if len(axes) == 2:
            chosen[axes[1]] = (float(y0), float(y1))
        self.view_chosen.emit(chosen)
