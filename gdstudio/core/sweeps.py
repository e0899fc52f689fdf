"""Many runs at once, to see what one run cannot: learning-rate sweeps (1-D curve and 2-D heatmap),
basins of attraction, a fair race between optimizers, and seeded random restarts.

Every tool hands whole grids of starts or rates to `run_batch`, which advances them together in
compiled code; only the 2-D sweep loops in Python, once per value of its second parameter.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from . import kernel as K
from .analysis import CriticalPoint, critical_points, stable_step, view_box
from .batch import BatchResult, run_batch
from .expression import Objective
from .newton import TRIALS
from .optimizers import optimizer
from .runner import RunProgress, ScenarioRunner
from .scenario import RunSpec, Scenario, StopRules

__all__ = ["DIVERGED", "UNRESOLVED", "Basins", "RaceEntry", "Restarts", "Sweep2D", "SweepResult", "basins", "log_rates",
           "lr_sweep", "race", "random_restarts", "sweep_2d"]

DIVERGED, UNRESOLVED = -1, -2  # basin labels besides a minimum's index: diverged; reached no minimum

Start = Mapping[str, float] | Sequence[float] | np.ndarray


def start_vector(objective: Objective, start: Start) -> np.ndarray:
    """A start as a (d,) array, from {name: value} or a sequence in the objective's variable order."""
    if isinstance(start, Mapping):
        missing = [n for n in objective.variables if n not in start]
        if missing:
            raise ValueError(f"the start needs a value for {', '.join(missing)}")
        start = [start[n] for n in objective.variables]
    x = np.asarray(start, dtype=np.float64).reshape(-1)
    if x.shape != (objective.dimension,) or not np.all(np.isfinite(x)):
        raise ValueError(f"the start must be {objective.dimension} finite numbers ({', '.join(objective.variables)})")
    return x


def log_rates(low: float, high: float, count: int) -> np.ndarray:
    """Learning rates evenly spaced on a log axis, the natural axis for step sizes."""
    if not 0 < low < high or count < 2:
        raise ValueError("need 0 < low < high and at least 2 rates")
    return np.geomspace(low, high, count)


def _rates(lrs: Sequence[float] | np.ndarray) -> np.ndarray:
    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    if not len(lrs) or not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError("learning rates must be positive finite numbers")
    return lrs


def _steps_to_tolerance(steps: np.ndarray, status: np.ndarray) -> np.ndarray:
    return np.where(status == K.CONVERGED, steps.astype(np.float64), np.nan)


def _names(status: np.ndarray) -> np.ndarray:
    return np.array(K.STATUS_NAMES, dtype=object)[status]


# ---------------------------------------------------------------- learning-rate sweeps


@dataclass(frozen=True)
class SweepResult:
    """One run per learning rate from the same start: the "too small / just right / too large" curve."""

    lrs: np.ndarray  # (L,)
    final_loss: np.ndarray  # (L,)
    steps: np.ndarray  # (L,) updates done
    status: np.ndarray  # (L,) kernel status codes
    final: np.ndarray  # (L, d) where each run stopped

    @property
    def status_names(self) -> np.ndarray:
        return _names(self.status)

    @property
    def steps_to_tolerance(self) -> np.ndarray:
        """Updates until a stopping tolerance was met; nan where it never was."""
        return _steps_to_tolerance(self.steps, self.status)

    def best(self) -> int | None:
        """Index of the rate that converged fastest, else of the lowest finite final loss."""
        converged = np.flatnonzero(self.status == K.CONVERGED)
        if len(converged):
            return int(converged[np.lexsort((self.final_loss[converged], self.steps[converged]))[0]])
        finite = np.flatnonzero(np.isfinite(self.final_loss) & (self.status != K.DIVERGED))
        return int(finite[np.argmin(self.final_loss[finite])]) if len(finite) else None


def lr_sweep(objective: Objective, optimizer_name: str, start: Start, lrs: Sequence[float] | np.ndarray, stop: StopRules,
             hyper: Mapping[str, object] | None = None, schedule_name: str = "constant",
             schedule_params: Mapping[str, object] | None = None, cancel: Callable[[], bool] | None = None,
             chunk_steps: int | None = None, progress: Callable[[int, int], None] | None = None,
             like: RunSpec | None = None) -> SweepResult:
    """Run once per learning rate (one batched call, each start with its own rate). `progress(steps,
    max_steps + 1)` and `cancel()` come every `chunk_steps` steps; rates still running when cancel says
    stop are CANCELLED, loss nan. With `like`, each rate runs with that run's clipping and batches
    (see run_batch)."""
    lrs = _rates(lrs)
    starts = np.tile(start_vector(objective, start), (len(lrs), 1))
    out = run_batch(objective, optimizer_name, starts, stop, hyper, lrs, schedule_name, schedule_params,
                    chunk_steps=chunk_steps, progress=progress, cancel=cancel, like=like)
    loss, status = _mark_cancelled(out.loss, out.status)
    return SweepResult(lrs, loss, out.steps, status, out.final)


def _mark_cancelled(loss: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A batch runs every start to its end unless cancelled: the ones still running were cut short."""
    cut = status == K.RUNNING
    return np.where(cut, np.nan, loss), np.where(cut, K.CANCELLED, status)


def sweep_chunk(cells: int) -> int:
    """Steps per kernel call for a grid of `cells` runs: about two million run-steps, a few hundredths of
    a second, so a cancel (or closing the window) is obeyed at once even for a million-step sweep."""
    return max(10, 2_000_000 // max(cells, 1))


def _with_param(optimizer_name: str, hyper: Mapping[str, object], name: str, value: object) -> dict[str, object]:
    """Hyper-parameters with one replaced and validated; beta1 / beta2 address the two halves of `betas`."""
    info = optimizer(optimizer_name)
    params = {p.name for p in info.params}
    if name in ("beta1", "beta2") and "betas" in params:
        betas = list(info.check(hyper)["betas"])
        betas[name == "beta2"] = value
        updated = dict(hyper) | {"betas": tuple(betas)}
    elif name in params and name != "lr":
        updated = dict(hyper) | {name: value}
    else:
        sweepable = sorted(params - {"lr", "betas"} | ({"beta1", "beta2"} if "betas" in params else set()))
        raise ValueError(f"{name}: not a hyper-parameter {optimizer_name} can sweep (known: {', '.join(sweepable)})")
    return info.check(updated)


@dataclass(frozen=True)
class Sweep2D:
    """Final loss, steps and status over learning rate (columns) × a second hyper-parameter (rows)."""

    optimizer: str
    hyper: dict[str, object]  # the base settings the grid varies
    lrs: np.ndarray  # (L,)
    param_name: str
    param_values: np.ndarray  # (P,)
    final_loss: np.ndarray  # (P, L); nan in rows a cancel skipped
    steps: np.ndarray  # (P, L)
    status: np.ndarray  # (P, L); kernel.CANCELLED in rows a cancel skipped
    cancelled: bool = False

    @property
    def steps_to_tolerance(self) -> np.ndarray:
        return _steps_to_tolerance(self.steps, self.status)

    @property
    def status_names(self) -> np.ndarray:
        return _names(self.status)

    def hyper_at(self, row: int, column: int) -> dict[str, object]:
        """Complete settings of one cell, to create that run (a click on the heatmap)."""
        value = self.param_values[row]
        value = bool(value) if self.param_values.dtype == bool else float(value)
        return _with_param(self.optimizer, self.hyper, self.param_name, value) | {"lr": float(self.lrs[column])}


def sweep_2d(objective: Objective, optimizer_name: str, start: Start, lrs: Sequence[float] | np.ndarray, param_name: str,
             param_values: Sequence[float] | np.ndarray, stop: StopRules, hyper: Mapping[str, object] | None = None,
             progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
             schedule_name: str = "constant", schedule_params: Mapping[str, object] | None = None,
             rows_per_call: int = 1, chunk_steps: int | None = None, like: RunSpec | None = None) -> Sweep2D:
    """Batched calls over rows of `param_name` values (momentum, beta1, rho, ...), vectorised over the rates;
    `rows_per_call` rows share one call (each start with its own rate and value), which is much faster
    for big grids, and each call advances `chunk_steps` steps at a time (all of them by default).

    Progress is in row-steps: `progress(done, rows * (max_steps + 1))`, after every chunk. `cancel()` is
    checked before every chunk; a cancelled sweep returns the cells that finished (the rest nan /
    CANCELLED). Every cell is the same run whatever the grouping and chunking; with `like`, each cell
    runs with that run's clipping and batches (see run_batch).
    """
    lrs = _rates(lrs)
    values = np.asarray(param_values)
    hyper = dict(hyper or {})
    settings = [_with_param(optimizer_name, hyper, param_name, v.item()) for v in values]  # every value checked first
    x0 = start_vector(objective, start)
    P, L, T = len(values), len(lrs), stop.max_steps + 1
    loss, steps = np.full((P, L), np.nan), np.zeros((P, L), dtype=np.int64)
    status = np.full((P, L), K.CANCELLED, dtype=np.int64)
    cancelled = False
    per_call = max(1, int(rows_per_call))
    told = 0

    def tell(done: int) -> None:  # (run_batch's last report and the row's end can be the same number)
        nonlocal told
        if progress is not None and done != told:
            told = done
            progress(done, P * T)

    for first in range(0, P, per_call):
        rows = slice(first, min(first + per_call, P))
        n = rows.stop - first
        columns = None if n == 1 else {param_name: np.repeat(values[rows].astype(np.float64), L)}
        report = None if progress is None else (lambda done, total, first=first, n=n: tell(first * T + n * T * done // total))
        out = run_batch(objective, optimizer_name, np.tile(x0, (n * L, 1)), stop, settings[first], np.tile(lrs, n),
                        schedule_name, schedule_params, hyper_columns=columns, chunk_steps=chunk_steps,
                        progress=report, cancel=cancel, like=like)
        cell_loss, cell_status = _mark_cancelled(out.loss, out.status)
        loss[rows], steps[rows], status[rows] = cell_loss.reshape(n, L), out.steps.reshape(n, L), cell_status.reshape(n, L)
        if (out.status == K.RUNNING).any():
            cancelled = True
            break
        tell(rows.stop * T)
    return Sweep2D(optimizer_name, hyper, lrs, param_name, values, loss, steps, status, cancelled)


# ---------------------------------------------------------------- basins of attraction


@dataclass(frozen=True)
class Basins:
    """Which minimum each start of a grid over the view reached."""

    axes: tuple[str, ...]  # the one or two variables the grid spans
    coords: tuple[np.ndarray, ...]  # cell centres along each axis
    labels: np.ndarray  # (ny, nx) or (nx,): index into minima, DIVERGED or UNRESOLVED
    minima: list[CriticalPoint]
    final: np.ndarray  # labels.shape + (d,)
    status: np.ndarray  # labels.shape, kernel status codes
    steps: np.ndarray  # labels.shape

    def counts(self) -> dict[int, int]:
        values, counts = np.unique(self.labels, return_counts=True)
        return dict(zip(map(int, values), map(int, counts)))


def _label(final: np.ndarray, status: np.ndarray, minima: np.ndarray, width: np.ndarray, tol: float) -> np.ndarray:
    """Nearest minimum (max-norm in view units) within tol, for runs that did not blow up."""
    labels = np.full(len(final), UNRESOLVED, dtype=np.int64)
    if len(minima):
        with np.errstate(invalid="ignore"):
            dist = np.max(np.abs(final[:, None, :] - minima[None, :, :]) / width, axis=2)
        nearest = np.argmin(np.where(np.isfinite(dist), dist, np.inf), axis=1)
        close = np.take_along_axis(dist, nearest[:, None], axis=1)[:, 0] <= tol
        labels[close] = nearest[close]
    labels[status == K.DIVERGED] = DIVERGED
    labels[status == K.ERROR] = UNRESOLVED
    return labels


def _discovered(objective: Objective, final: np.ndarray, status: np.ndarray, labels: np.ndarray, width: np.ndarray,
                tol: float) -> list[CriticalPoint]:
    """Minima the runs converged to that the list missed (often just outside the view)."""
    found: list[CriticalPoint] = []
    for x in final[(labels == UNRESOLVED) & (status == K.CONVERGED)]:
        if any(np.max(np.abs(x - p.coords) / width) <= tol for p in found):
            continue
        diag = stable_step(objective, x)
        if np.isfinite(diag.lambda_min) and diag.lambda_min > 1e-9 * max(1.0, abs(diag.lambda_max)):
            found.append(CriticalPoint(dict(zip(objective.variables, map(float, x))), float(objective.loss(*x)), "minimum",
                                       diag.eigenvalues))
    return found


def basins(objective: Objective, optimizer_name: str, view: Mapping[str, tuple[float, float]] | None, resolution: int | tuple[int, int],
           stop: StopRules, hyper: Mapping[str, object] | None = None, minima: Sequence[CriticalPoint] | None = None, *,
           axes: Sequence[str] | None = None, fixed: Mapping[str, float] | None = None, match_tol: float = 0.01,
           schedule_name: str = "constant", schedule_params: Mapping[str, object] | None = None,
           progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
           chunk_steps: int | None = None, like: RunSpec | None = None) -> Basins:
    """Run from the centre of every cell of a grid over the view (all at once) and label each start by
    the minimum it reached: within `match_tol` of the view's size, whether it met the tolerance or
    ran out of steps there. Without `minima`, they are `critical_points`' minima in the view, plus
    any other minimum the runs converged to.

    With more than two variables the grid spans `axes` (default the first two); the others start
    at `fixed` (default the middle of their range) and move freely. `progress`, `cancel` and
    `chunk_steps` go to `run_batch` (after a cancel, runs still going are labelled by where they stand),
    and so does `like` (a run whose clipping and batches every start shares).
    """
    lo, hi = view_box(objective, view)
    width = hi - lo
    names = tuple(axes or objective.variables[:2])
    if not 1 <= len(names) <= 2 or any(n not in objective.variables for n in names) or len(set(names)) != len(names):
        raise ValueError(f"axes must be one or two of {', '.join(objective.variables)}")
    counts = (resolution,) * len(names) if isinstance(resolution, int) else tuple(resolution)
    if len(counts) != len(names) or any(c < 1 for c in counts):
        raise ValueError("resolution must be a positive count per axis")
    index = [objective.variables.index(n) for n in names]
    coords = tuple(lo[i] + (np.arange(c) + 0.5) * width[i] / c for i, c in zip(index, counts))
    base = np.array([(fixed or {}).get(n, (lo[i] + hi[i]) / 2) for i, n in enumerate(objective.variables)], dtype=np.float64)
    grids = np.meshgrid(*coords[::-1], indexing="ij")[::-1]  # rows follow the second axis (y), columns the first (x)
    shape = grids[0].shape
    starts = np.tile(base, (grids[0].size, 1))
    for i, grid in zip(index, grids):
        starts[:, i] = grid.reshape(-1)
    out = run_batch(objective, optimizer_name, starts, stop, hyper, None, schedule_name, schedule_params,
                    chunk_steps=chunk_steps, progress=progress, cancel=cancel, like=like)
    known = list(minima) if minima is not None else [p for p in critical_points(objective, view) if p.kind == "minimum"]
    def centres() -> np.ndarray:
        return np.array([[p.point[n] for n in objective.variables] for p in known], dtype=np.float64).reshape(-1, objective.dimension)

    labels = _label(out.final, out.status, centres(), width, match_tol)
    if minima is None:
        extra = _discovered(objective, out.final, out.status, labels, width, match_tol)
        if extra:
            known += extra
            labels = _label(out.final, out.status, centres(), width, match_tol)
    d = objective.dimension
    return Basins(names, coords, labels.reshape(shape), known, out.final.reshape(shape + (d,)), out.status.reshape(shape),
                  out.steps.reshape(shape))


# ---------------------------------------------------------------- race


@dataclass(frozen=True)
class RaceEntry:
    label: str
    name: str  # optimizer
    hyper: dict[str, object]
    steps: int  # updates done (each costs one gradient evaluation; Newton also one Hessian)
    grad_evals: int  # points evaluated, the start and Newton's line-search trials included
    final_loss: float
    status: str  # kernel status name, or "time_limit"
    reason: str
    wall_time: float  # seconds spent advancing this run
    rank: int  # 1 = best; equal results share a rank
    run: RunProgress = field(repr=False, compare=False)  # the recorded trajectory, to draw the paths


def _race_key(steps: int, loss: float, status: str) -> tuple:
    """Reaching tolerance beats not reaching it, then fewer steps; then lower final loss; blow-ups last."""
    if status == "converged":
        return (0, steps, loss)
    if status in ("max_steps", "time_limit") and math.isfinite(loss):
        return (1, loss, 0)
    return (2, 0, 0.0)


def race(objective: Objective, optimizers: Sequence[tuple[str, Mapping[str, object]]], start: Start, budget_steps: int,
         stop: StopRules | None = None, *, time_budget: float | None = None, chunk: int = 2000,
         labels: Sequence[str] | None = None, cancel: Callable[[], bool] | None = None) -> list[RaceEntry]:
    """The same start and the same budget for every optimizer, ranked.

    Runs advance in turns of `chunk` steps (so machine noise hits them alike), each timed on its
    own; `time_budget` (seconds of its own time) also ends a run. Returns entries in rank order.
    `labels` names the entries (default: the optimizer's name); when `cancel()` turns true, the
    runs still going are cancelled and ranked as they stand.
    """
    if budget_steps < 1 or not optimizers:
        raise ValueError("a race needs at least one optimizer and a budget of at least one step")
    x0 = start_vector(objective, start)
    checked = [(name, optimizer(name).check(dict(hyper))) for name, hyper in optimizers]
    if labels is not None and len(labels) != len(checked):
        raise ValueError("one label per optimizer")
    labels = list(labels) if labels is not None else [
        name if sum(n == name for n, _ in checked) == 1 else f"{name} #{i + 1}" for i, (name, _) in enumerate(checked)]
    point = dict(zip(objective.variables, map(float, x0)))
    rules = replace(stop or StopRules(), max_steps=int(budget_steps))
    specs = tuple(RunSpec(label, name, dict(hyper), point) for label, (name, hyper) in zip(labels, checked))
    scenario = Scenario(objective.text, variables=objective.variables, runs=specs, stop=rules)
    ScenarioRunner(scenario, objective, max_steps=2).run_to_end()  # compile and warm every code path before timing
    runs = ScenarioRunner(scenario, objective).runs
    spent = [0.0] * len(runs)
    out_of_time = [False] * len(runs)
    while True:
        if cancel is not None and cancel():
            for r in runs:
                r.cancel()
        waiting = [i for i, r in enumerate(runs) if not r.done and not out_of_time[i]]
        if not waiting:
            break
        for i in waiting:
            began = time.perf_counter()
            runs[i].advance(chunk)
            spent[i] += time.perf_counter() - began
            out_of_time[i] = time_budget is not None and spent[i] >= time_budget and not runs[i].done
    rows = []
    for i, r in enumerate(runs):
        status = "time_limit" if out_of_time[i] else r.status
        reason = f"used its time budget ({time_budget:g} s) at step {r.steps}" if out_of_time[i] else r.reason
        loss = float(r.trajectory.loss[-1]) if len(r.trajectory) else math.nan
        rows.append((_race_key(r.steps, loss, status), i, status, reason, loss))
    rows.sort(key=lambda row: (row[0], row[1]))
    entries, rank = [], 0
    for position, (key, i, status, reason, loss) in enumerate(rows):
        if position == 0 or key != rows[position - 1][0]:
            rank = position + 1
        r = runs[i]
        evals = len(r.trajectory) + int(r.kernel.NOTE[0, TRIALS])  # Newton's line search evaluates trial points too
        entries.append(RaceEntry(labels[i], r.spec.optimizer, dict(checked[i][1]), r.steps, evals, loss, status,
                                 reason, spent[i], rank, r))
    return entries


# ---------------------------------------------------------------- random restarts


@dataclass(frozen=True)
class Restarts:
    starts: np.ndarray  # (n, d) seeded uniform draws inside the view
    result: BatchResult

    @property
    def final(self) -> np.ndarray:
        return self.result.final

    @property
    def loss(self) -> np.ndarray:
        return self.result.loss

    @property
    def steps(self) -> np.ndarray:
        return self.result.steps

    @property
    def status(self) -> np.ndarray:
        return self.result.status

    def best(self) -> int | None:
        """Index of the restart with the lowest final loss (diverged runs excluded)."""
        ok = np.flatnonzero((self.status != K.DIVERGED) & np.isfinite(self.loss))
        return int(ok[np.argmin(self.loss[ok])]) if len(ok) else None


def random_restarts(objective: Objective, optimizer_name: str, view: Mapping[str, tuple[float, float]] | None, n: int, seed: int,
                    stop: StopRules, hyper: Mapping[str, object] | None = None, schedule_name: str = "constant",
                    schedule_params: Mapping[str, object] | None = None, progress: Callable[[int, int], None] | None = None,
                    cancel: Callable[[], bool] | None = None, chunk_steps: int | None = None,
                    like: RunSpec | None = None) -> Restarts:
    """N starts drawn uniformly in the view from `seed` (the same seed, the same starts), run at once
    (each with `like`'s clipping and batches, when given)."""
    if n < 1:
        raise ValueError("need at least one restart")
    lo, hi = view_box(objective, view)
    starts = np.random.default_rng(seed).uniform(lo, hi, size=(n, objective.dimension))
    return Restarts(starts, run_batch(objective, optimizer_name, starts, stop, hyper, None, schedule_name, schedule_params,
                                      chunk_steps=chunk_steps, progress=progress, cancel=cancel, like=like))
