"""The studio's model: the document, the loss it derives to, the runs and their state — no widgets.

Panels, plots and tools observe the session through typed signals and ask it to change things; none
of them knows the window (as napari's ViewerModel is to its QtViewer). The session reacts to the
document before any view does (it connects first), so no behaviour depends on the order in which
views were built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.errors import ExpressionError
from ..core.optimizers import optimizer
from ..core.scenario import InsightSettings, RunSpec, Scenario
from ..core.scenario_model import run_objective, start_point
from ..core.trajectory import row_limit
from .buffers import PARAMS, RunBuffer
from . import foreground
from .document import PALETTE, Change, Document, run_color
from .kernels import KernelWarmer
from .objectives import OBJECTIVES
from .stagger import Stagger
from .worker import RunController

if TYPE_CHECKING:  # the engine (SymPy, Numba) loads after the window shows: see engine.py
    from ..core.expression import Objective


class RunState(StrEnum):
    IDLE = "idle"
    STARTING = "starting"  # the worker builds and compiles the runs
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"


@dataclass(frozen=True)
class Problem:
    """What the landscape draws: a loss (scaled columns bound when the selected run scales some), the
    scenario whose view and starts go with it, known minima, a caption saying whose loss it is, and
    which runs walk in other units (faded)."""

    objective: Objective
    scenario: Scenario
    minima: list = field(default_factory=list)
    caption: str = ""
    dimmed: tuple[bool, ...] = ()


class StudioSession(QObject):
    objective_changed = Signal(object)  # the Objective of the loss shown (typed, opened or chosen)
    state_changed = Signal(object)  # RunState
    buffers_changed = Signal(list)  # [RunBuffer]: new, empty runs (colours: run_colors()), or [] after a reset
    runs_finished = Signal(str)  # "" or why they stopped
    kernel_state = Signal(list)  # [(run index, copy of its optimizer state)]
    selection_changed = Signal(int)
    axes_changed = Signal(object)  # the plotted variables
    problem_changed = Signal(object)  # Problem: the landscape's loss, view and starts
    message = Signal(str, str)  # a warning for the person: title, text
    status = Signal(str, int)  # a passing note: text, milliseconds

    def __init__(self, scenario: Scenario | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = Document(scenario, self)
        self.stagger = Stagger(self)  # views that follow a change in turns of their own (stagger.py)
        self.kernels = KernelWarmer()
        self.controller = RunController(self, self.kernels)
        self._warm = foreground.WhenQuiet(self, self._warm_kernel)
        from .live import LivePaths

        self.live = LivePaths(self)  # drags and knobs: whole paths at once (live.py)
        self.objective: Objective | None = None
        self.buffers: list[RunBuffer] = []
        self.state = RunState.IDLE
        self.running: Scenario | None = None  # the scenario the buffers were run from
        self.selection = 0
        self.axes: tuple[str, ...] = ()
        self.guards: list[Callable[[], str | None]] = []  # views' "an edit on screen is not applied" checks
        self._scaled: dict[tuple, Objective] = {}
        self._scaled_for: tuple = (None, None)
        for signal in (self.document.loss_changed, self.document.view_changed, self.document.runs_changed,
                       self.document.stop_changed, self.document.data_changed):
            signal.connect(self._edited)
        self.document.replaced.connect(lambda _s: self.state == RunState.IDLE or self.reset())  # (a new document)
        for signal in (self.document.view_changed, self.document.runs_changed, self.document.data_changed):
            signal.connect(self._show_problem)
        self.selection_changed.connect(self._show_problem)
        self.controller.started.connect(self._runs_started)
        self.controller.chunks.connect(self._chunks)
        self.controller.finished.connect(self._runs_finished)
        self.controller.kernel_state.connect(self.kernel_state)

    @property
    def scenario(self) -> Scenario:
        return self.document.scenario

    # -- the loss ---------------------------------------------------------------------
    def set_objective(self, objective: Objective) -> None:
        """The loss shown was derived (in the editor's thread): every view draws it, the landscape in this turn (its
        field is asked for first), the rest in a turn of its own (stagger.py): together ~10 ms a loss typed."""
        self.objective = objective
        self._show_problem()
        self.stagger.later(self.objective_changed, lambda: self.objective_changed.emit(self.objective))
        self._warm.start()

    def _warm_kernel(self) -> None:
        """The shown loss's run kernel compiles (kernels.py) once its landscape and critical points are drawn
        (foreground.py): Numba's compiler is Python too, and shared the interpreter with them."""
        if self.objective is not None:
            self.kernels.ahead(self.objective, any(optimizer(s.optimizer).needs_hessian for s in self.scenario.runs))

    def problem(self) -> Problem | None:
        """The landscape in the selected run's units: its loss over scaled columns when it scales some (its
        path's view included), else the loss shown."""
        from .presets import minima_for

        objective, scenario, spec = self.objective, self.scenario, self.selected()
        if objective is None:
            return None
        units = spec.scale if spec is not None and scenario.data is not None else {}
        dimmed = tuple(scenario.data is not None and r.scale != units for r in scenario.runs)
        scaled = self.loss_of(spec) if units and objective is self.document_objective() else None
        if scaled is None:
            return Problem(objective, scenario, minima_for(objective), dimmed=dimmed)
        view = dict(scenario.view)
        index = self.selected_index()
        if index < len(self.buffers) and len(self.buffers[index]) and self.buffers[index].variables == scaled.variables:
            rows = self.buffers[index].rows[:, PARAMS:]
            for k, name in enumerate(scaled.variables):  # the scaled optimum is elsewhere: the view holds the path
                column = rows[:, k][np.isfinite(rows[:, k])]
                if column.size:
                    low, high = scenario.range_of(name)
                    low, high = min(low, float(column.min())), max(high, float(column.max()))
                    view[name] = (low - 0.1 * (high - low), high + 0.1 * (high - low))
        how = ", ".join(f"{c} {k}" for c, k in units.items())
        return Problem(scaled, replace(scenario, view=view), [], f"loss as {spec.label} sees it ({how} scaled)", dimmed)

    def _show_problem(self, *_args) -> None:
        problem = self.problem()
        if problem is not None:
            self.problem_changed.emit(problem)

    def document_objective(self) -> Objective | None:
        """The document's loss, when it is known without deriving it here (never on the GUI thread)."""
        scenario, o = self.scenario, self.objective
        if o is not None and o.text == scenario.loss and (scenario.variables is None or o.variables == scenario.variables):
            return o
        data = scenario.data.dataset if scenario.data else None
        known = OBJECTIVES.peek(scenario.loss, scenario.variables, data.columns if data else (), data.values if data else None)
        return None if isinstance(known, ExpressionError) else known

    def loss_of(self, spec: RunSpec | None) -> Objective | None:
        """The loss as a run sees it (scaled data columns bound when it scales some): what its steps,
        Hessian and landscape are about. The same object for the same loss and scaling."""
        objective, scenario = self.document_objective(), self.scenario
        if objective is None or spec is None or not (spec.scale and scenario.data):
            return objective
        if self._scaled_for[0] is not objective or self._scaled_for[1] is not scenario.data:  # a new loss or data
            self._scaled_for, self._scaled = (objective, scenario.data), {}
        key = tuple(sorted(spec.scale.items()))
        if key not in self._scaled:  # one per scaling, so every run that scales alike shares one object
            try:
                self._scaled[key] = run_objective(objective, scenario, spec)
            except ValueError:  # the objective is for other data (a newer one is on its way)
                return None
        return self._scaled[key]

    def selected_loss(self) -> Objective | None:
        return self.loss_of(self.selected())

    # -- selection and axes -----------------------------------------------------------
    def select(self, index: int) -> None:
        if index != self.selection:
            self.selection = index
            self.selection_changed.emit(index)

    def selected_index(self) -> int:
        runs = self.scenario.runs
        return min(max(self.selection, 0), len(runs) - 1) if runs else -1

    def selected(self) -> RunSpec | None:
        index = self.selected_index()
        return self.scenario.runs[index] if index >= 0 else None

    def set_axes(self, axes: tuple[str, ...]) -> None:
        if axes != self.axes:
            self.axes = axes
            self.axes_changed.emit(axes)

    # -- questions about runs ---------------------------------------------------------
    def hyper(self, spec: RunSpec) -> dict:
        return optimizer(spec.optimizer).check(spec.hyper)

    def start(self, spec: RunSpec, objective: Objective) -> np.ndarray:
        return start_point(spec, self.scenario, objective.variables)

    def view(self, objective: Objective) -> dict[str, tuple[float, float]]:
        return {v: tuple(map(float, self.scenario.range_of(v))) for v in objective.variables}

    def run_colors(self) -> list[str]:
        scenario = self.running or self.scenario
        return [run_color(scenario, i) for i in range(len(scenario.runs))][: len(self.buffers)]

    # -- edits ------------------------------------------------------------------------
    @property
    def insight(self) -> InsightSettings:
        return self.scenario.insight

    def set_insight(self, **changes: Any) -> None:
        """The tools' settings are the experiment's: they live in the document, so Save writes them."""
        self.document.update(Change.INSIGHT, insight=replace(self.insight, **changes))

    def set_sweep(self, **changes: Any) -> None:
        self.set_insight(sweep=replace(self.insight.sweep, **changes))

    def set_start(self, values: dict[str, float]) -> None:
        """The selected run starts here (a click on the landscape)."""
        index, scenario = self.selected_index(), self.scenario
        if index >= 0:
            start = {**scenario.runs[index].start, **{k: round(v, 6) for k, v in values.items()}}
            self.document.update_run(index, start=start)
            self.status.emit(f"{scenario.runs[index].label} starts at " + ", ".join(f"{k}={v:.4g}" for k, v in values.items()), 4000)

    def add_run(self, spec: RunSpec) -> int:
        """Append a run (with a colour no other run uses) and select it; returns its index."""
        scenario = self.scenario
        runs = [replace(r, color=run_color(scenario, i)) for i, r in enumerate(scenario.runs)]
        used = {r.color for r in runs}
        runs.append(replace(spec, color=next((c for c in PALETTE if c not in used), PALETTE[len(runs) % len(PALETTE)])))
        self.document.set_runs(runs)
        self.select(len(runs) - 1)
        return len(runs) - 1

    def add_variant(self, spec: RunSpec, label: str, hyper: dict) -> int:
        """A copy of a run with other hyper-parameters (a sweep's point), starting where the run starts
        (its seeded draw written out, so the variant keeps it whatever the seed)."""
        objective, start = self.document_objective(), dict(spec.start)
        if objective is not None:
            start = dict(zip(objective.variables, map(float, self.start(spec, objective))))
        return self.add_run(replace(spec, label=label, hyper=hyper, start=start, color=None))

    def apply_preset(self, preset: Any) -> None:
        """A preset's loss, variables, view and start; every run keeps its other settings."""
        from .presets import preset_changes

        self.stop_runs()
        self.document.update(Change.ALL, **preset_changes(self.scenario, preset))

    def _edited(self, _scenario: Scenario) -> None:
        if self.state in (RunState.RUNNING, RunState.STARTING):
            self.run(restart=True)  # live: the runs follow the edit
        elif self.live.following and self.live.preview(self.scenario):
            pass  # the whole paths follow the edit (live.py)
        elif self.state != RunState.IDLE:
            self.reset()

    # -- running ----------------------------------------------------------------------
    def _set_state(self, state: RunState) -> None:
        self.state = state
        self.state_changed.emit(state)

    def unapplied_edit(self) -> str | None:
        """An edit on screen that failed its check (the document still holds the value before it):
        running now would quietly run something other than what is shown."""
        return next((problem for guard in self.guards if (problem := guard())), None)

    def _refuse_unapplied(self) -> bool:
        problem = self.unapplied_edit()
        if problem:
            self.message.emit("Not run", f"{problem[0].upper()}{problem[1:]}. Fix it, or undo the edit, and run again.")
        return problem is not None

    def set_speed(self, speed: float) -> None:
        """Steps per second per run (math.inf: as fast as possible)."""
        self.controller.set_speed(speed)
        self.state_changed.emit(self.state)  # (the status line says the speed)

    def run(self, restart: bool = False) -> None:
        if not restart and self._refuse_unapplied():
            return
        if self.state == RunState.PAUSED and self.controller.active and not restart:
            self.controller.set_paused(False)
            self._set_state(RunState.RUNNING)
        else:
            self._start(paused=False)

    def _start(self, paused: bool) -> None:
        scenario = self.scenario
        if not scenario.runs:
            self.reset()  # (the runs were removed while running: nothing of them stays drawn)
            self.status.emit("no runs: add one in the Runs panel", 4000)
            return
        self.stop_runs()
        self.running = scenario
        self.controller.start(scenario, self.runnable_objective(scenario), paused=paused)  # (None: the worker derives it)
        self._set_state(RunState.STARTING)

    def runnable_objective(self, scenario: Scenario) -> Objective | None:
        """The derived loss when it is `scenario`'s (its text, variables and data), else None."""
        objective = self.objective
        data = scenario.data.dataset.values if scenario.data else None
        runnable = (objective is not None and objective.text == scenario.loss and objective.data is data
                    and (scenario.variables is None or objective.variables == scenario.variables))
        return objective if runnable else None

    def show_paths(self, scenario: Scenario, buffers: list[RunBuffer], settled: bool) -> None:
        """Whole paths computed at once (live.py) become the runs shown, finished; a paused animation gives way."""
        if self.controller.active:
            self.controller.stop()
        self.running, self.buffers = scenario, buffers
        self.buffers_changed.emit(buffers)
        if self.state != RunState.FINISHED:
            self._set_state(RunState.FINISHED)
        if settled:
            self.runs_finished.emit("")

    def pause(self) -> None:
        if self.state in (RunState.RUNNING, RunState.STARTING):
            self.controller.set_paused(True)
            self._set_state(RunState.PAUSED)

    def step(self) -> None:
        if self._refuse_unapplied():
            return
        fresh = not self.controller.active
        if fresh:
            self._start(paused=True)
        if self.controller.active:
            self.controller.step(2 if fresh else 1)  # (fresh: the start's row, then the state after one update)
            self._set_state(RunState.PAUSED)

    def reset(self) -> None:
        """The runs go: stopped, not settled first (settling runs past their row limit thins each of them exactly, as
        the command line does, ~5 ms a run: twenty runs held the Reset 100 ms for rows it then dropped)."""
        self.live.cancel()
        self.controller.stop()
        self.buffers = []
        self.running = None
        self.buffers_changed.emit([])
        self._set_state(RunState.IDLE)

    def stop_runs(self) -> None:
        """Cancel and join the worker (if any) and live mode; what was drawn stays."""
        was_active = self.controller.active
        self.live.cancel()
        self.controller.stop()
        for buffer in self.buffers:
            if buffer.status in ("running", "waiting"):
                buffer.status, buffer.reason = "cancelled", f"stopped by the user at step {buffer.steps_done}"
        if was_active:
            self._set_state(RunState.FINISHED if self.buffers else RunState.IDLE)

    def _runs_started(self, runs: list) -> None:
        limit = row_limit(len(runs))  # (as the core's runner keeps them)
        self.buffers = [RunBuffer(label, variables, limit, self.stagger) for label, variables in runs]
        for buffer in self.buffers:
            buffer.status = "running"
        self.buffers_changed.emit(self.buffers)
        if self.state == RunState.STARTING:
            self._set_state(RunState.PAUSED if self.controller.paused else RunState.RUNNING)

    def _chunks(self, chunks: list) -> None:
        for chunk in chunks:
            buffer = self.buffers[chunk.run]
            buffer.extend(chunk.rows)
            buffer.status, buffer.reason = chunk.status, chunk.reason

    def _runs_finished(self, error: str) -> None:
        if error:
            for buffer in self.buffers:
                if buffer.status in ("running", "waiting"):
                    buffer.status, buffer.reason = "error", error
            self.message.emit("The run could not start" if not self.buffers else "The run stopped", error)
        self._set_state(RunState.FINISHED)
        self.runs_finished.emit(error)
        self._show_problem()  # (a scaled run's view follows its path)

    def epoch_scales(self) -> list[float] | None:
        """Per run, the fraction of the data one step sees (epoch = step · batch / rows), for runs over data."""
        scenario = self.running or self.scenario
        data = scenario.data.dataset if scenario.data else None
        if data is None or not data.rows:
            return None
        return [min(s.batch_size or data.rows, data.rows) / data.rows for s in scenario.runs]

    def shutdown(self) -> None:
        """Stop the workers and join their threads (idempotent)."""
        self.stagger.close()
        self._warm.stop()
        self.controller.stop()
        self.live.shutdown()
        self.kernels.shutdown()
