"""Running a scenario: each run advances in chunks, records every step, and ends
with a status and a human reason.

The GUI's worker and the CLI drive the same `ScenarioRunner`; since all state
lives in the kernel's arrays, the chunk size never changes a trajectory. A runner
that does not keep rows (`keep_rows=False`) hands each chunk's rows to its caller
and holds only one reused scratch array and each run's last row, so a caller that
streams the rows to a file, or only wants the outcome, needs no memory per step.
Each run's kernel arrays come from its RunPlan (plan.py), as every other way of running does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from . import interpreted
from . import kernel as K
from .codegen import compiled_ready
from .errors import ExpressionError
from .expression import Objective
from .newton_notes import HALVINGS, describe_notes
from .plan import RunPlan, run_objective, scenario_objective, scenario_plan, start_point, stop_vector
from .scenario import Scenario
from .trajectory import PARAMS, ROW_LIMIT, Trajectory, row_limit

__all__ = ["Chunk", "RunProgress", "ScenarioRunner", "Scratch", "describe_outcome", "run_objective", "run_scenario",
           "scenario_objective", "start_point", "stop_vector"]


@dataclass(frozen=True)
class Chunk:
    """Rows a run produced in one advance: row k is the state at step first_step + k."""

    run: int
    first_step: int
    rows: np.ndarray  # (k, PARAMS + d): loss, grad_norm, lr, batch loss, parameters (see trajectory.py)
    status: str
    reason: str


class Scratch:
    """Stands in for a Trajectory when the caller takes each chunk's rows (`RunProgress.advance`
    returns a copy): the kernel writes into one reused array, which runs advanced one at a time
    may share, and nothing is kept. Its size is the largest chunk asked for."""

    def __init__(self, columns: int) -> None:
        self._rows = np.empty((0, columns))

    def reserve(self, n: int) -> np.ndarray:
        if n > len(self._rows):
            self._rows = np.empty((max(n, 1024), self._rows.shape[1]))
        return self._rows[:n]

    def commit(self, n: int) -> None:
        pass


class RunProgress:
    """One run's kernel arrays (S = 1), its trajectory so far (or a Scratch) and its outcome."""

    def __init__(self, index: int, plan: RunPlan, start: np.ndarray, limit: int = ROW_LIMIT,
                 scratch: Scratch | None = None) -> None:
        self.index, self.plan, self.spec = index, plan, plan.run
        self.objective = objective = plan.objective
        self.rule = plan.rule
        self.kernel = plan.kernel_runs(np.asarray(start, dtype=np.float64)[None, :])
        self.trajectory: Trajectory | Scratch = Trajectory(objective.variables, limit=limit) if scratch is None else scratch
        self.last_row: np.ndarray | None = None  # the latest row, whatever the trajectory keeps (a summary needs only it)
        self.cancelled_reason = ""

    @property
    def fg(self) -> Callable:
        return self.plan.fg

    @property
    def compiled(self) -> bool:
        """Whether the compiled kernel can step this run at once (nothing left to compile)."""
        return K.compiled_ready() and compiled_ready(self.objective, self.plan.optimizer.needs_hessian)

    @cached_property
    def python_fg(self) -> Callable | None:
        """The objective's fg in Python (interpreted.py), or None: this run cannot step in Python, or a step could not."""
        try:
            return interpreted.python_fg(self.objective, self.plan.optimizer.needs_hessian)
        except ExpressionError:
            return None

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def steps(self) -> int:
        return int(self.kernel.T[0])

    @property
    def status(self) -> str:
        return "cancelled" if self.cancelled_reason else K.STATUS_NAMES[self.kernel.STATUS[0]]

    @property
    def done(self) -> bool:
        return self.status != "running"

    @property
    def reason(self) -> str:
        return self.cancelled_reason or describe_outcome(self)

    def cancel(self) -> None:
        if not self.done:
            self.cancelled_reason = f"stopped by the user at step {self.steps}"

    def advance(self, n: int, interpret: bool = False) -> Chunk:
        """Up to n steps, by the compiled kernel, or with `interpret` in Python where it can (bit for bit the same;
        a chunk Python cannot step is undone, makes no rows, and leaves the run's `python_fg` None)."""
        first = self.steps  # the next row recorded is the state after this many updates
        if not self.done and n > 0:
            n = min(n, int(self.kernel.STOP[K.MAX_STEPS_AT]) - self.steps + 1)  # never reserve rows past the end
            out = self.trajectory.reserve(n)
            if not (interpret and self.python_fg is not None):
                self.kernel.advance(self.fg, self.rule, n, out[None])
            elif not interpreted.advance(self.kernel, self.python_fg, self.rule, n, out[None]):
                self.python_fg = None
            rows = out[: self.kernel.COUNT[0]].copy()
            self.trajectory.commit(len(rows))
            if len(rows):
                self.last_row = rows[-1].copy()  # (a view would keep the whole chunk alive)
        else:
            rows = np.empty((0, PARAMS + self.objective.dimension))
        return Chunk(self.index, first, rows, self.status, self.reason if self.done else "")


def _point(variables: tuple[str, ...], values: np.ndarray) -> str:
    return "(" + ", ".join(f"{n}={v:.4g}" for n, v in zip(variables, values)) + ")"


def describe_outcome(run: RunProgress) -> str:
    """A sentence a person can read: why the run stopped, where, and what Newton had to do."""
    kernel = run.kernel
    if kernel.STATUS[0] == K.RUNNING:
        return ""
    reason, value = int(kernel.EVENT[0, 0]), float(kernel.EVENT[0, 1])
    step = run.steps
    where = _point(run.objective.variables, kernel.P[0])
    text = {
        K.GRAD_TOL: f"converged at step {step}: ‖∇‖ = {value:.3g} ≤ {kernel.STOP[K.GRAD_TOL_AT]:g}",
        K.LOSS_TOL: f"converged at step {step}: loss changed by {value:.3g} ≤ {kernel.STOP[K.LOSS_TOL_AT]:g}",
        K.STEP_LIMIT: f"reached the step limit ({step} step{'s' if step != 1 else ''})",
        K.LOSS_NONFINITE: f"diverged at step {step}: loss became {value}" + (
            f" at {where}, where it is undefined (a log or root of a negative number, 0/0 or ∞ − ∞)"
            if math.isnan(value) else ""),
        K.LOSS_ABOVE: f"diverged at step {step}: loss {value:.3g} exceeded {kernel.STOP[K.DIVERGENCE_AT]:g}",
        K.GRAD_NONFINITE: f"error at step {step}: the gradient is undefined ({value}) at {where}",
        K.NO_DESCENT: f"converged at step {step}: no step along the Newton direction lowers the loss (α halved until the step"
                      f" vanished in rounding, at most {HALVINGS} times; ‖∇‖ = {value:.3g})",
        K.HESSIAN_NONFINITE: f"error at step {step}: the Hessian is undefined at {where}, so Newton has no direction",
    }[reason]
    return text + describe_notes(kernel.NOTE[0])


class ScenarioRunner:
    """All runs of a scenario, advanced together chunk by chunk (or one by one: they are independent).

    With `keep_rows=False` the runs keep no trajectory: they share one Scratch, and each chunk's rows
    reach only the caller of `advance` (memory is the largest chunk, however long the runs)."""

    def __init__(self, scenario: Scenario, objective: Objective | None = None, max_steps: int | None = None,
                 keep_rows: bool = True) -> None:
        self.scenario = scenario
        self.objective = objective or scenario_objective(scenario)
        stop = scenario.stop if max_steps is None else replace(scenario.stop, max_steps=max_steps)
        limit = row_limit(len(scenario.runs))
        scratch = None if keep_rows else Scratch(PARAMS + self.objective.dimension)
        self.runs = []
        for index, spec in enumerate(scenario.runs):
            plan = scenario_plan(scenario, spec, self.objective, stop)
            self.runs.append(RunProgress(index, plan, start_point(spec, scenario, plan.objective.variables), limit, scratch))

    @property
    def finished(self) -> bool:
        return all(run.done for run in self.runs)

    def advance(self, steps: int, interpret: bool = False) -> list[Chunk]:
        """Advance every unfinished run by up to `steps` steps (see RunProgress.advance)."""
        return [run.advance(steps, interpret) for run in self.runs if not run.done]

    def run_to_end(self, chunk: int = 100_000) -> list[RunProgress]:
        while not self.finished:
            self.advance(chunk)
        return self.runs

    def cancel(self) -> None:
        for run in self.runs:
            run.cancel()


def run_scenario(scenario: Scenario, max_steps: int | None = None) -> list[RunProgress]:
    """Run every run of a scenario to its end (the headless face of the engine)."""
    return ScenarioRunner(scenario, max_steps=max_steps).run_to_end()
