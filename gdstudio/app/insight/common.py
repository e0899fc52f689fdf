"""What every insight tool needs from the window: the loss, the view, the selected run."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ...core.expression import Objective
from ...core.optimizers import optimizer
from ...core.runner import run_objective, scenario_objective, start_point
from ...core.scenario import InsightSettings, RunSpec, Scenario
from ..document import PALETTE, run_color

if TYPE_CHECKING:
    from ..main_window import MainWindow

KIND_STYLE = {  # symbol, colour, size: ★ minimum, ▲ maximum, ✕ saddle, ◆ degenerate
    "minimum": ("star", "#ffd700", 20),
    "maximum": ("t1", "#ff4d4d", 15),
    "saddle": ("x", "#f0f0f0", 15),
    "degenerate": ("d", "#ff9f1c", 13),
}
KIND_GLYPH = {"minimum": "★", "maximum": "▲", "saddle": "✕", "degenerate": "◆"}
KIND_PLURAL = {"minimum": "minima", "maximum": "maxima", "saddle": "saddles", "degenerate": "degenerate points"}


def count_of(n: int, kind: str) -> str:
    """'1 minimum', '4 minima'."""
    return f"{n} {kind if n == 1 else KIND_PLURAL[kind]}"


def fmt(value: float) -> str:
    return f"{value:.4g}"


def show_value(widget, value) -> None:
    """Put the document's value in a box without the box writing it back (which would mark it unsaved)."""
    widget.blockSignals(True)
    widget.setValue(value)
    widget.blockSignals(False)


class Context:
    """Read-only questions about the window's current state (GUI thread only)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window

    @property
    def scenario(self) -> Scenario:
        return self.window.document.scenario

    def objective(self) -> Objective | None:
        """The loss as the window parsed it, when it is the document's; else parsed here (None if it fails)."""
        scenario, o = self.scenario, self.window.objective
        if o is not None and o.text == scenario.loss and (scenario.variables is None or o.variables == scenario.variables):
            return o
        cached = getattr(self, "_parsed", None)
        if cached is not None and cached[0] is scenario:  # parse each scenario at most once
            return cached[1]
        try:
            parsed = scenario_objective(scenario)
        except ValueError:
            parsed = None
        self._parsed = (scenario, parsed)
        return parsed

    def loss_of(self, spec: RunSpec | None) -> Objective | None:
        """The loss as a run sees it (scaled data columns bound when it scales some): what its
        steps, Hessian and landscape are about. The same object for the same loss and scaling."""
        objective, scenario = self.objective(), self.scenario
        if objective is None or spec is None or not (spec.scale and scenario.data):
            return objective
        cached_for = getattr(self, "_scaled_for", (None, None))
        if cached_for[0] is not objective or cached_for[1] is not scenario.data:  # a new loss or data: start again
            self._scaled_for, self._scaled = (objective, scenario.data), {}
        key = tuple(sorted(spec.scale.items()))
        if key not in self._scaled:  # one per scaling, so every run that scales alike shares one object
            try:
                self._scaled[key] = run_objective(objective, scenario, spec)
            except ValueError:  # the objective is for other data (a newer one is on its way)
                return None
        return self._scaled[key]

    def selected_loss(self) -> Objective | None:
        """The loss as the selected run sees it: the landscape the tools draw on."""
        return self.loss_of(self.selected())

    def view(self, objective: Objective) -> dict[str, tuple[float, float]]:
        return {v: tuple(map(float, self.scenario.range_of(v))) for v in objective.variables}

    @property
    def insight(self) -> InsightSettings:
        return self.scenario.insight

    def set_insight(self, **changes) -> None:
        """Edit the tools' settings in the document: they are the experiment's, so Save writes them."""
        self.window.document.update("insight", insight=replace(self.insight, **changes))

    def set_sweep(self, **changes) -> None:
        self.set_insight(sweep=replace(self.insight.sweep, **changes))

    def selected_index(self) -> int:
        runs = self.scenario.runs
        if not runs:
            return -1
        return min(max(self.window.runs_panel.current(), 0), len(runs) - 1)

    def selected(self) -> RunSpec | None:
        index = self.selected_index()
        return self.scenario.runs[index] if index >= 0 else None

    def hyper(self, spec: RunSpec) -> dict:
        return optimizer(spec.optimizer).check(spec.hyper)

    def start(self, spec: RunSpec, objective: Objective) -> np.ndarray:
        return start_point(spec, self.scenario, objective.variables)

    def axes(self) -> tuple[str, ...]:
        return self.window.landscape.axes()

    def add_run(self, spec: RunSpec) -> int:
        """Append a run (with a colour no other run uses) and select it; returns its index."""
        scenario = self.scenario
        runs = [replace(r, color=run_color(scenario, i)) for i, r in enumerate(scenario.runs)]
        used = {r.color for r in runs}
        color = next((c for c in PALETTE if c not in used), PALETTE[len(runs) % len(PALETTE)])
        runs.append(replace(spec, color=color))
        self.window.document.set_runs(runs)
        self.window.runs_panel.select(len(runs) - 1)
        return len(runs) - 1


def compact_hyper(name: str, hyper: dict) -> dict:
    """Only the settings that differ from the optimizer's defaults (what a scenario file stores)."""
    defaults = optimizer(name).defaults()
    out = {}
    for key, value in hyper.items():
        if key == "lr" or defaults.get(key) != value:
            out[key] = value
    return out
