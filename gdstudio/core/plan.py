"""One run made ready for the kernel: the single place where a run becomes arrays.

A `RunPlan` is one run (a RunSpec: optimizer, hyper-parameters, schedule, clipping, batches, seed) over
one objective under stop rules, checked once. It lays out `kernel.KernelRuns` for any number of copies
of that run, which may differ in their start and, per copy, in the learning rate or another
hyper-parameter. A scenario's runs (runner.py), many starts at once (batch.py) and every tool built on
them (sweeps, basins, restarts, race) go through it, so a sweep's cell or a basin's start is, bit for
bit, the run it stands for with only the overrides changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property

import numpy as np

from . import kernel as K
from .codegen import compiled_kernel
from .expression import Objective, parse_objective
from .optimizers import OptimizerInfo, optimizer
from .scenario import RunSpec, Scenario, StopRules
from .scenario_model import run_objective, start_point  # noqa: F401  (kept importable from here)
from .schedules import schedule

Start = Mapping[str, float] | Sequence[float] | np.ndarray
_CLIP_KINDS = {None: K.CLIP_NONE, "norm": K.CLIP_NORM, "value": K.CLIP_VALUE}


class RunPlan:
    """A run, its objective and its stop rules, checked (ValueError naming the setting) and ready to
    become kernel arrays. `objective` is the loss as this run sees it (see run_objective)."""

    def __init__(self, objective: Objective, run: RunSpec, stop: StopRules = StopRules()) -> None:
        self.objective, self.run, self.stop = objective, run, stop
        self.optimizer: OptimizerInfo = optimizer(run.optimizer)
        self.hyper: dict[str, object] = self.optimizer.check(run.hyper)  # complete, with the defaults
        sched = schedule(run.schedule)
        self._schedule = sched.flatten(sched.check(run.schedule_params))
        self.stop_vector = stop_vector(stop)

    def limited(self, max_steps: int) -> RunPlan:
        """The same run with another step limit."""
        return RunPlan(self.objective, self.run, replace(self.stop, max_steps=max_steps))

    @property
    def rule(self) -> int:
        """The optimizer's code, which the kernel switches on."""
        return self.optimizer.code

    @cached_property
    def fg(self) -> Callable:
        """The objective's compiled loss and gradient (and Hessian when the optimizer needs one)."""
        return compiled_kernel(self.objective, self.optimizer.needs_hessian)

    def with_value(self, name: str, value: object, base: Mapping[str, object] | None = None) -> dict[str, object]:
        """The run's hyper-parameters (or `base`) with one replaced and checked; "beta1" / "beta2" address
        the halves of betas. Raises ValueError naming the parameter."""
        info, hyper = self.optimizer, dict(self.hyper if base is None else base)
        kinds = {p.name: p.kind for p in info.params}
        if name in ("beta1", "beta2") and "betas" in kinds:
            betas = list(hyper["betas"])
            betas[name == "beta2"] = float(value)
            hyper["betas"] = tuple(betas)
        elif name in kinds and kinds[name] != "pair":
            hyper[name] = bool(value) if kinds[name] == "bool" else float(value)
        else:
            raise ValueError(f"{name}: unknown hyper-parameter of {info.name} (known: {', '.join(kinds)})")
        return info.check(hyper)

    def settings(self, count: int, lr: np.ndarray | None = None,
                 columns: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(H, ST): the hyper-parameter rows and fresh optimizer state of `count` copies of the run.
        `lr` (count,) overrides the rate per copy, `columns` any other hyper-parameter (name -> (count,));
        every distinct value is checked as a setting of this run."""
        info, d = self.optimizer, self.objective.dimension
        H = np.tile(info.flatten(self.hyper), (count, 1))
        state = info.state_array(self.hyper, count, d)
        overrides = {name: np.asarray(values, dtype=np.float64).reshape(count) for name, values in (columns or {}).items()}
        rates = {} if lr is None else {"lr": np.asarray(lr, dtype=np.float64).reshape(count)}
        for name, values in (overrides | rates).items():
            for value in np.unique(values):
                self.with_value(name, value.item())
            H[:, info.column(name)] = values.reshape(count, -1)
        if info.initial_state and overrides:  # the state it starts from may depend on the settings (Adagrad's)
            table = np.stack(list(overrides.values()), axis=1)
            for row in np.unique(table, axis=0):
                hyper = self.hyper
                for name, value in zip(overrides, row):
                    hyper = self.with_value(name, value.item(), hyper)
                state[(table == row).all(axis=1)] = info.state_array(hyper, 1, d)
        return H, state

    def kernel_runs(self, starts: np.ndarray, settings: tuple[np.ndarray, np.ndarray] | None = None) -> K.KernelRuns:
        """The kernel's arrays for one copy of the run per row of `starts` (S, d), with `settings` from
        `settings()` (the run's own when None)."""
        S = len(starts)
        H, state = settings if settings is not None else self.settings(S)
        run = self.run
        clip = np.tile([[_CLIP_KINDS[run.clip_kind], run.clip_value or 0.0]], (S, 1)).astype(np.float64)
        return K.KernelRuns(starts, state, H, np.tile(self._schedule, (S, 1)), clip=clip, stop=self.stop_vector,
                            data=self.objective.data, batch=np.full(S, run.batch_size or 0), replace=np.full(S, run.replacement),
                            seeds=np.full(S, run.seed, dtype=np.uint64))


def stop_vector(stop: StopRules, max_steps: int | None = None) -> np.ndarray:
    """The kernel's STOP vector (see kernel.MAX_STEPS_AT ...)."""
    return np.array([
        stop.max_steps if max_steps is None else max_steps,
        -1.0 if stop.grad_tol is None else stop.grad_tol,
        -1.0 if stop.loss_tol is None else stop.loss_tol,
        np.inf if stop.divergence is None else stop.divergence,
    ], dtype=np.float64)


# ---------------------------------------------------------------- a scenario's runs as plans


def scenario_objective(scenario: Scenario) -> Objective:
    """The scenario's loss, bound to its data set (unscaled) when it has one."""
    data = scenario.data.dataset if scenario.data else None
    return parse_objective(scenario.loss, scenario.variables, data.columns if data else (), data.values if data else None)


def scenario_plan(scenario: Scenario, spec: RunSpec, objective: Objective, stop: StopRules | None = None) -> RunPlan:
    """A scenario's run as a plan: over the loss as that run sees it, under the scenario's stop rules (or `stop`)."""
    return RunPlan(run_objective(objective, scenario, spec), spec, scenario.stop if stop is None else stop)


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
