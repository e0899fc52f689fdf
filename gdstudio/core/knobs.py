"""Where a slider's positions fall for a hyper-parameter: the knobs a person scrubs in the run editor.

A learning rate spans decades, so its knob is logarithmic; a momentum, a β or a decay factor lives in
[0, 1] and is linear; a count of steps is logarithmic and whole. A parameter that may be zero but
usually spans decades (damping, weight decay, a decay rate) gets a logarithmic knob whose first
position is 0. Values are rounded to what a person would type (3 significant digits on a log knob),
so the field beside the knob reads well and the file written says what the knob showed. Every value
a knob gives passes the parameter's own check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .optimizers import HyperParam

POSITIONS = 1000  # a slider's positions: 0 … POSITIONS


@dataclass(frozen=True)
class KnobScale:
    low: float
    high: float
    log: bool = False
    zero: bool = False  # position 0 is 0 (a log knob of a parameter that may be zero)
    integer: bool = False

    def value(self, position: int) -> float:
        position = min(max(int(position), 0), POSITIONS)
        if self.zero and position == 0:
            return 0.0
        if self.log:
            first = 1 if self.zero else 0
            t = (position - first) / (POSITIONS - first)
            raw = math.exp(math.log(self.low) + t * (math.log(self.high) - math.log(self.low)))
            value = float(round(raw)) if self.integer else float(f"{raw:.3g}")
        else:
            raw = self.low + (self.high - self.low) * position / POSITIONS
            digits = max(0, -math.floor(math.log10((self.high - self.low) / POSITIONS)))
            value = round(raw, digits)
        return min(max(value, self.low), self.high)

    def position(self, value: float) -> int:
        if not math.isfinite(value):
            return 0
        if self.zero and value <= 0:
            return 0
        if self.log:
            first = 1 if self.zero else 0
            v = min(max(value, self.low), self.high)
            t = (math.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
            return first + round(t * (POSITIONS - first))
        t = (value - self.low) / (self.high - self.low)
        return min(max(round(t * POSITIONS), 0), POSITIONS)


def knob_scale(param: HyperParam, value: float, pair: bool = False) -> KnobScale:
    """The knob for `param` now showing `value` (one half of a pair when `pair`): its range holds the value."""
    if pair:  # β₁, β₂: each in [0, 1)
        return KnobScale(0.0, 0.999)
    if param.integer:
        low = max(param.low, 1.0)
        return KnobScale(low, max(10_000.0, 10 * value, low * 10), log=True, integer=True)
    if math.isfinite(param.high):
        step = (param.high - param.low) / POSITIONS
        return KnobScale(param.low + (step if param.strict else 0.0), param.high)
    if param.low == 0:  # decades: around the value, and for a rate at least 1e-5 … 10
        low, high = (value / 1000, value * 1000) if value > 0 else (1e-4, 10.0)
        if param.name == "lr":
            low, high = min(low, 1e-5), max(high, 10.0)
        return KnobScale(float(f"{low:.1g}"), float(f"{high:.1g}"), log=True, zero=not param.strict)
    return KnobScale(param.low, param.low + 10.0)
