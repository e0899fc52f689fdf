"""Learning-rate schedules as closed forms of the step number.

Each matches the torch.optim.lr_scheduler of the same idea (StepLR, ExponentialLR,
CosineAnnealingLR, LinearLR) to rounding; inverse-time decay α₀/(1 + k·(t−1)) is the
textbook one, counted so that the first update uses α₀. Step t = 1 is the first update, so
torch's `last_epoch` is t − 1. The registry is here; the compiled closed forms are rules.learning_rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .optimizers import HyperParam, _check_value


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    code: int  # what the kernel switches on
    params: tuple[HyperParam, ...]
    formula: str

    def check(self, values: Mapping[str, object]) -> dict[str, object]:
        known = {p.name: p for p in self.params}
        for name in values:
            if name not in known:
                listed = ", ".join(known) or "none"
                raise ValueError(f"{name}: unknown parameter of the {self.name} schedule (known: {listed})")
        merged = {p.name: p.default for p in self.params} | dict(values)
        return {name: _check_value(p, merged[name]) for name, p in known.items()}

    def flatten(self, values: Mapping[str, object]) -> np.ndarray:
        flat = [self.code] + [float(values[p.name]) for p in self.params]
        return np.array(flat + [0.0] * (4 - len(flat)), dtype=np.float64)


SCHEDULES: dict[str, ScheduleInfo] = {
    s.name: s
    for s in [
        ScheduleInfo("constant", 0, (), "α_t = α₀"),
        ScheduleInfo(
            "step", 1,
            (HyperParam("step_size", 100.0, "steps between decays", low=1.0, integer=True), HyperParam("gamma", 0.5, "decay factor", high=1.0)),
            "α_t = α₀ · γ^⌊(t−1)/step_size⌋",
        ),
        ScheduleInfo("exponential", 2, (HyperParam("gamma", 0.99, "decay factor per step", high=1.0),), "α_t = α₀ · γ^(t−1)"),
        ScheduleInfo("inverse_time", 3, (HyperParam("decay", 0.01, "k in α₀ / (1 + k·(t−1))"),), "α_t = α₀ / (1 + k·(t−1))"),
        ScheduleInfo(
            "cosine", 4,
            (HyperParam("T_max", 1000.0, "steps in a half cosine period", low=1.0, integer=True), HyperParam("eta_min", 0.0, "smallest rate")),
            "α_t = η_min + (α₀ − η_min)(1 + cos(π(t−1)/T_max))/2",
        ),
        ScheduleInfo(
            "warmup", 5,
            (
                HyperParam("start_factor", 0.1, "fraction of α₀ at the first step", strict=True, high=1.0),
                HyperParam("end_factor", 1.0, "fraction of α₀ after the warm-up", high=1.0),
                HyperParam("total_iters", 100.0, "length of the linear warm-up in steps", low=1.0, integer=True),
            ),
            "α_t = α₀ · (start + (end − start)·min(t−1, T)/T)",
        ),
    ]
}


def schedule(name: object) -> ScheduleInfo:
    if not isinstance(name, str) or name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r} (known: {', '.join(SCHEDULES)})")
    return SCHEDULES[name]
