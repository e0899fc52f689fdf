"""What a scenario is: frozen dataclasses for the experiment and its parts, and the limits they keep.

Reading, checking and writing them is scenario_format's job, files are scenario_files'; this module
only says what a valid scenario holds, so the studio's boxes and the file format share one set of limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .data import Dataset, scale
from .optimizers import OPTIMIZERS

if TYPE_CHECKING:
    from .expression import Objective

DEFAULT_RANGE = (-3.0, 3.0)  # of a variable the view leaves out
MAX_RUNS = 100
NAME_LIMIT, DESCRIPTION_LIMIT = 200, 10_000  # characters of a scenario's name and description
MAX_STEPS_LIMIT = 1_000_000_000

# what the insight tools accept (the studio's boxes use the same limits, so whatever they hold can be saved)
RESTARTS_LIMITS = (1, 10_000)
BASINS_LIMITS = (8, 512)
RACE_LIMITS = (1, 10_000_000)
SWEEP_CELLS_LIMITS = (2, 256)
SWEEP_STEPS_LIMITS = (1, 1_000_000)
SWEEP_LR_LIMITS = (1e-6, 1e6)  # (the dialog shows 6 decimals)
SWEEP_OTHER_LIMITS = (-1e6, 1e6)
SWEEP_METRICS = ("final_loss", "steps_to_tolerance")
SWEEP_PARAMS = frozenset(name for info in OPTIMIZERS.values() for name in info.sweepable())


class ScenarioError(ValueError):
    """Every problem found in a scenario, each with its JSON path."""

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        prefix = f"{source}: " if source else ""
        super().__init__("\n".join(prefix + p for p in problems))


@dataclass(frozen=True)
class StopRules:
    max_steps: int = 1000
    grad_tol: float | None = 1e-8
    loss_tol: float | None = None
    divergence: float | None = 1e12


@dataclass(frozen=True)
class RunSpec:
    label: str
    optimizer: str = "gd"
    hyper: Mapping[str, Any] = field(default_factory=dict)  # only what the file sets; defaults fill the rest
    start: Mapping[str, float] = field(default_factory=dict)  # variables left out start at a seeded random point
    schedule: str = "constant"
    schedule_params: Mapping[str, Any] = field(default_factory=dict)
    clip_kind: str | None = None  # "norm" or "value"
    clip_value: float | None = None
    seed: int = 0
    color: str | None = None
    batch_size: int | None = None  # rows per step: None = all (batch GD), 1 = stochastic, k = mini-batch
    replacement: bool = False  # draw batches with replacement instead of shuffled epochs
    scale: Mapping[str, str] = field(default_factory=dict)  # column -> "standard" | "minmax"


@dataclass(frozen=True)
class DataSpec:
    """The document's data section (kept as written, so files round-trip) and the rows it gives."""

    source: Mapping[str, Any]
    dataset: Dataset = field(compare=False)
    model: str | None = None  # what the data view draws, e.g. "w*x + b"
    target: str | None = None  # the column the model predicts


@dataclass(frozen=True)
class SweepSettings:
    """The sweep dialog's choices. `param` None: the selected optimizer's first sweepable parameter;
    `other` None: that parameter's usual range (a range belongs to the parameter it was set for)."""

    param: str | None = None
    metric: str = "final_loss"
    cells: int = 32
    steps: int = 500
    lr: tuple[float, float] = (1e-4, 1.0)
    other: tuple[float, float] | None = None


@dataclass(frozen=True)
class InsightSettings:
    """How the insight tools are set up, saved with the experiment; a file stores only what differs from these defaults."""

    restarts: int = 24  # random starts per click
    basins_resolution: int = 96  # cells per axis of the basins grid
    race_budget: int = 2000  # steps each racer gets
    sweep: SweepSettings = SweepSettings()


@dataclass(frozen=True)
class Scenario:
    loss: str
    name: str = "Untitled"
    description: str = ""
    variables: tuple[str, ...] | None = None
    view: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    runs: tuple[RunSpec, ...] = ()
    stop: StopRules = StopRules()
    data: DataSpec | None = None
    insight: InsightSettings = InsightSettings()

    def range_of(self, variable: str) -> tuple[float, float]:
        return tuple(self.view.get(variable, DEFAULT_RANGE))


def start_point(spec: RunSpec, scenario: Scenario, variables: tuple[str, ...]) -> np.ndarray:
    """The run's start, or a seeded uniform draw inside the view for variables it leaves open."""
    rng = np.random.default_rng(spec.seed)
    point = []
    for name in variables:
        low, high = scenario.range_of(name)
        drawn = rng.uniform(low, high)  # drawn for every variable, so a fixed seed gives a fixed point
        point.append(float(spec.start[name]) if name in spec.start else drawn)
    return np.array(point, dtype=np.float64)


def run_objective(objective: Objective, scenario: Scenario, spec: RunSpec) -> Objective:
    """The loss as one run sees it: bound to scaled columns when the run scales some (its landscape
    and its parameters are then in scaled units), else the scenario's own."""
    if spec.scale and scenario.data:
        return objective.bind(scale(scenario.data.dataset, spec.scale).values)
    return objective
