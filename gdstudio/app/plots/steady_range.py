"""The range a growing plot follows, in steps: its axes stay put until the data leave them.

Followed exactly, the loss curves' range moved at every frame of running runs, and each move laid both axes and the
grid out again (~5 of the ~9 ms twenty curves took to paint). Rounded out to steps (steps to the next of 1, 1.2, 1.5,
2, 2.5, 3, 4, 5, 6, 8 × 10^k; a log axis to quarter decades), it moves a few times a second at first, then ever more
rarely; the curves fill at least three quarters of the width, and the numbers on the axes hold still to be read.
"""

from __future__ import annotations

import math

LADDER = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def step_up(value: float) -> float:
    """The least number of the ladder (1, 1.2 … 8 × 10^k) at or above a positive value."""
    base = 10.0 ** math.floor(math.log10(value))
    return next(m * base for m in LADDER if m * base >= value * (1 - 1e-12))


def steady(low: float, high: float, log: bool) -> tuple[float, float]:
    """[low, high] rounded out to steps: to quarter decades on a log axis (values > 0), else to half the power of ten
    below the span. Values no step can take (the 1e300 of a diverging run) are kept as they are."""
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        return low, high
    if log:
        if low <= 0:
            return low, high
        return 10.0 ** (math.floor(4 * math.log10(low)) / 4), 10.0 ** (math.ceil(4 * math.log10(high)) / 4)
    span = high - low or abs(high) or 1.0
    step = 10.0 ** math.floor(math.log10(span)) / 2
    rounded = math.floor(low / step) * step, math.ceil(high / step) * step
    return rounded if all(map(math.isfinite, rounded)) else (low, high)
