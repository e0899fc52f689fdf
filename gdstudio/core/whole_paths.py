"""Every run of a scenario from its start to its end, again and again while a person drags.

Dragging a start or a knob asks for the whole path of each run, many times a second. `WholePaths`
answers with the engine's own run (runner.RunProgress from plan.scenario_plan, with the start from
plan.start_point and the row limit of runner.ScenarioRunner), so a path shown live is, bit for bit,
what `gdstudio run` makes from the same scenario; only the chunking differs, which never changes a
trajectory. It keeps what it computed and recomputes only runs whose settings changed, and reuses
each run's plan (a scaled data set is scaled once, not at every frame).

A deadline (while dragging) may cut a run over data short when finishing it would take longer again
than it has taken (a loss without data only once it has taken LONG_SECONDS: a preset's 10,000 steps
take milliseconds and are always finished, however busy the machine): a cut run is a prefix of the
full path, marked `cut`.
`stale()` is asked between chunks, so a newer request abandons older work at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from .expression import Objective
from .plan import RunPlan, scenario_plan, start_point
from .runner import RunProgress
from .scenario import RunSpec, Scenario
from .trajectory import Trajectory, row_limit

FIRST_CHUNK = 4  # steps; each next chunk doubles while a chunk takes less than CHUNK_SECONDS
CHUNK_SECONDS = 0.004  # so a deadline or a newer request is noticed within a few milliseconds
LONG_SECONDS = 1.0  # a run of a loss without data is cut only once it has taken this long


@dataclass(frozen=True)
class WholePath:
    """One run's path as computed: its trajectory, how it ended, and whether a deadline cut it short."""

    index: int
    label: str
    trajectory: Trajectory
    status: str  # the engine's ("finished", "converged", "diverged", …), or "running" when cut
    reason: str
    steps: int  # updates made
    max_steps: int  # the run's step limit

    @property
    def cut(self) -> bool:
        return self.status == "running"


def _plan_key(spec: RunSpec) -> RunSpec:
    """What a run's plan depends on: all of its spec but the start, the label and the colour."""
    return replace(spec, start={}, label="", color=None)


def _same(a: tuple, b: tuple) -> bool:
    """Keys are (settings, objects): settings compare by value, the loss and the data set by identity
    (comparing them by value would compare their arrays)."""
    return a[0] == b[0] and len(a[1]) == len(b[1]) and all(x is y for x, y in zip(a[1], b[1]))


class WholePaths:
    """Whole paths of a scenario's runs, kept between calls (one instance per live view, one thread)."""

    def __init__(self) -> None:
        self._plans: dict[int, tuple[tuple, RunPlan]] = {}
        self._paths: dict[int, tuple[tuple, WholePath]] = {}

    def compute(self, scenario: Scenario, objective: Objective, deadline: float | None = None,
                stale: Callable[[], bool] = lambda: False) -> list[WholePath] | None:
        """Each run's path (None when `stale()` said a newer request came). With a `deadline`
        (time.perf_counter() seconds) runs share the time left and may come back cut; a cut path is
        reused only while dragging (with a deadline), never as a final answer."""
        limit = row_limit(len(scenario.runs))
        data = scenario.data.dataset if scenario.data else None
        paths: list[WholePath] = []
        for index, spec in enumerate(scenario.runs):
            key = ((spec, scenario.stop, limit), (objective, data))
            known = self._paths.get(index)
            if known is not None and _same(known[0], key) and (deadline is not None or not known[1].cut):
                paths.append(replace(known[1], label=spec.label))
                continue
            share = None
            if deadline is not None:
                share = time.perf_counter() + max(0.0, deadline - time.perf_counter()) / (len(scenario.runs) - index)
            path = self._run(index, spec, scenario, objective, limit, share, stale)
            if path is None:
                return None
            self._paths[index] = (key, path)
            paths.append(path)
        for index in [i for i in self._paths if i >= len(scenario.runs)]:
            self._paths.pop(index, None)
            self._plans.pop(index, None)
        return paths

    def _plan(self, index: int, spec: RunSpec, scenario: Scenario, objective: Objective) -> RunPlan:
        key = ((_plan_key(spec), scenario.stop), (objective, scenario.data.dataset if scenario.data else None))
        known = self._plans.get(index)
        if known is None or not _same(known[0], key):
            known = self._plans[index] = (key, scenario_plan(scenario, spec, objective))
        return known[1]

    def _run(self, index: int, spec: RunSpec, scenario: Scenario, objective: Objective, limit: int,
             deadline: float | None, stale: Callable[[], bool]) -> WholePath | None:
        plan = self._plan(index, spec, scenario, objective)
        run = RunProgress(index, plan, start_point(spec, scenario, plan.objective.variables), limit)
        chunk, began, per_step = FIRST_CHUNK, time.perf_counter(), 0.0
        while not run.done:
            if stale():
                return None
            if deadline is not None and run.steps and (now := time.perf_counter()) >= deadline:
                if plan.objective.data is None:  # (its first chunks' pace says little: compiling, a busy GUI thread)
                    if now - began > LONG_SECONDS:
                        break
                elif (plan.stop.max_steps - run.steps) * per_step > now - began:  # at the last, largest chunk's pace
                    break
            chunk_began, steps = time.perf_counter(), run.steps
            run.advance(chunk)
            spent = time.perf_counter() - chunk_began
            per_step = spent / max(run.steps - steps, 1)
            if spent < CHUNK_SECONDS:
                chunk *= 2
        assert isinstance(run.trajectory, Trajectory)
        return WholePath(index, spec.label, run.trajectory, run.status, "" if not run.done else run.reason,
                         run.steps, int(plan.stop.max_steps))
