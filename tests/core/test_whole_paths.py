"""Whole paths for live drags: the engine's own run, bit for bit, and only what changed recomputed."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from gdstudio.core import scenario as sc
from gdstudio.core.fileio import default_scenario_text
from gdstudio.core.runner import ScenarioRunner, scenario_objective
from gdstudio.core.whole_paths import WholePaths


def rosenbrock(max_steps: int = 10_000):
    s = sc.loads(default_scenario_text(), "default")
    return replace(s, stop=replace(s.stop, max_steps=max_steps))


def same_as_headless(scenario, objective, paths) -> None:
    headless = ScenarioRunner(scenario, objective).run_to_end()
    assert len(paths) == len(headless)
    for path, run in zip(paths, headless):
        assert np.array_equal(path.trajectory.rows, run.trajectory.rows, equal_nan=True)
        assert np.array_equal(path.trajectory.steps, run.trajectory.steps)
        assert (path.status, path.reason, path.steps) == (run.status, run.reason, run.steps)
        assert not path.cut


def test_paths_are_the_headless_runs_bit_for_bit():
    scenario = rosenbrock()
    objective = scenario_objective(scenario)
    paths = WholePaths().compute(scenario, objective)
    same_as_headless(scenario, objective, paths)


def test_a_moved_start_recomputes_that_run_only_and_matches():
    scenario = rosenbrock()
    objective = scenario_objective(scenario)
    live = WholePaths()
    first = live.compute(scenario, objective)
    runs = list(scenario.runs)
    runs[1] = replace(runs[1], start={"x": 0.3, "y": -0.5})
    moved = replace(scenario, runs=tuple(runs))
    second = live.compute(moved, objective)
    assert second[0].trajectory is first[0].trajectory  # unchanged: kept
    assert second[1].trajectory is not first[1].trajectory
    same_as_headless(moved, objective, second)


def test_seeds_batches_and_schedules_match_a_run():
    text = """{"format": "gdstudio-scenario", "version": 1, "name": "data",
      "loss": "mean((w*x + b - y)^2)",
      "data": {"generate": {"kind": "noisy_line", "n": 500, "seed": 3, "slope": 2, "intercept": 1, "noise": 1}},
      "view": {"w": [-1, 5], "b": [-3, 5]},
      "runs": [{"label": "sgd", "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.5}, "batch_size": 8, "seed": 4,
                "schedule": {"name": "step", "step_size": 50, "gamma": 0.5}},
               {"label": "random start", "optimizer": {"name": "adam", "lr": 0.05}, "batch_size": 1, "replacement": true,
                "seed": 9, "scale": {"x": "standard"}}],
      "stop": {"max_steps": 3000}}"""
    scenario = sc.loads(text, "data")
    objective = scenario_objective(scenario)
    same_as_headless(scenario, objective, WholePaths().compute(scenario, objective))


def test_a_deadline_cuts_a_run_over_data_to_a_prefix_and_never_a_preset():
    text = """{"format": "gdstudio-scenario", "version": 1, "name": "data", "loss": "mean((w*x + b - y)^2)",
      "data": {"generate": {"kind": "noisy_line", "n": 200000, "seed": 1, "slope": 2, "intercept": 1, "noise": 1}},
      "view": {"w": [-1, 5], "b": [-3, 5]}, "stop": {"max_steps": 100000, "grad_tol": null, "loss_tol": null},
      "runs": [{"label": "sgd", "optimizer": {"name": "sgd", "lr": 0.01}, "batch_size": 16, "start": {"w": 0, "b": 0}}]}"""
    scenario = sc.loads(text, "data")
    objective = scenario_objective(scenario)
    live = WholePaths()
    cut = live.compute(scenario, objective, deadline=time.perf_counter() + 0.005)
    assert all(p.cut and 0 < p.steps < 100_000 for p in cut)
    rows = cut[0].trajectory.rows
    full = ScenarioRunner(scenario, objective, max_steps=cut[0].steps + 5).run_to_end()
    assert np.array_equal(rows, full[0].trajectory.rows[: len(rows)])  # a prefix of the whole path
    preset = rosenbrock()
    paths = WholePaths().compute(preset, scenario_objective(preset), deadline=time.perf_counter())  # (already past)
    assert not any(p.cut for p in paths)


def test_a_stale_request_is_abandoned():
    scenario = rosenbrock()
    assert WholePaths().compute(scenario, scenario_objective(scenario), stale=lambda: True) is None
