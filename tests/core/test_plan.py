"""The run plan: one run becomes kernel arrays in one place, so every tool's copy of a run is that run,
bit for bit, and a cancel means the same thing everywhere."""

import numpy as np
import pytest

from gdstudio.core.batch import run_batch
from gdstudio.core.data import generate
from gdstudio.core.expression import parse_objective
from gdstudio.core.plan import RunPlan, scenario_objective, scenario_plan, start_point
from gdstudio.core.runner import ScenarioRunner
from gdstudio.core.scenario import DataSpec, RunSpec, Scenario, StopRules
from gdstudio.core.sweeps import basins, lr_sweep, race, random_restarts, sweep_2d

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
STOP = StopRules(max_steps=300, grad_tol=None)


def data_scenario(run: RunSpec) -> Scenario:
    data = generate({"kind": "noisy_line", "n": 200, "seed": 3})
    return Scenario("mean((w*x + b - y)^2)", runs=(run,), stop=STOP, data=DataSpec({"generate": {}}, data))


def test_a_checked_plan_names_a_bad_setting_at_once() -> None:
    objective = parse_objective("x^2")
    with pytest.raises(ValueError, match="lr"):
        RunPlan(objective, RunSpec("r", "gd", {"lr": -1.0}))
    with pytest.raises(ValueError, match="gamma"):
        RunPlan(objective, RunSpec("r", "gd", schedule="step", schedule_params={"gamma": 2.0}))
    with pytest.raises(ValueError, match="unknown optimizer"):
        RunPlan(objective, RunSpec("r", "nope"))
    plan = RunPlan(objective, RunSpec("r", "adam", {"lr": 0.1}))
    assert plan.hyper["lr"] == 0.1 and plan.hyper["betas"] == (0.9, 0.999)  # completed with the defaults
    assert plan.with_value("beta2", 0.5)["betas"] == (0.9, 0.5) and plan.with_value("amsgrad", 1.0)["amsgrad"] is True
    with pytest.raises(ValueError, match="momentum: unknown hyper-parameter of adam"):
        plan.with_value("momentum", 0.5)
    assert plan.limited(7).stop.max_steps == 7 and plan.limited(7).run is plan.run


def test_every_override_is_checked_as_a_setting_of_the_run() -> None:
    """A per-start value is checked together with the run's other settings (Nesterov needs a momentum)."""
    plan = RunPlan(parse_objective("x^2"), RunSpec("r", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}), STOP)
    with pytest.raises(ValueError, match="nesterov"):
        run_batch(plan, np.ones((2, 1)), columns={"momentum": [0.5, 0.0]})
    with pytest.raises(ValueError, match="lr"):
        run_batch(plan, np.ones((2, 1)), lr=np.array([0.1, 0.0]))


@pytest.mark.parametrize("run", [
    RunSpec("sgd", "sgd", {"lr": 0.01, "momentum": 0.8}, schedule="step", schedule_params={"step_size": 7, "gamma": 0.5},
            clip_kind="norm", clip_value=0.5, batch_size=10, seed=11),
    RunSpec("adam", "adam", {"lr": 0.05}, clip_kind="value", clip_value=0.2, batch_size=3, replacement=True, seed=4,
            scale={"x": "standard"}),
])
def test_a_batch_copy_is_the_scenario_run_bit_for_bit(run: RunSpec) -> None:
    """Schedules, clipping, batches and their seed, scaled columns: a tool's copy of a run is that run."""
    scenario = data_scenario(run)
    (progress,) = ScenarioRunner(scenario).run_to_end()
    plan = scenario_plan(scenario, run, scenario_objective(scenario))
    start = start_point(run, scenario, plan.objective.variables)
    out = run_batch(plan, np.tile(start, (3, 1)), chunk_steps=37)
    for i in range(3):
        np.testing.assert_array_equal(out.final[i], progress.kernel.P[0])
    assert (out.steps == progress.steps).all() and (out.loss == progress.trajectory.loss[-1]).all()
    rates = lr_sweep(plan, start, [run.hyper["lr"], 2 * run.hyper["lr"]])
    np.testing.assert_array_equal(rates.final[0], progress.kernel.P[0])


def test_a_swept_setting_also_sets_the_state_it_starts_from() -> None:
    """Adagrad starts its sum at initial_accumulator_value: a sweep over it (rows grouped or not) gives
    the runs with those settings, not the base value's state under every row."""
    objective = parse_objective("x^2 + 3*y^2")
    plan = RunPlan(objective, RunSpec("a", "adagrad", {"lr": 0.1}), STOP)
    values, lrs = [0.0, 1.0, 10.0], [0.05, 0.2]
    grouped = sweep_2d(plan, [1.0, 1.0], lrs, "initial_accumulator_value", values, rows_per_call=3)
    alone = sweep_2d(plan, [1.0, 1.0], lrs, "initial_accumulator_value", values)
    np.testing.assert_array_equal(grouped.final_loss, alone.final_loss)
    for row, value in enumerate(values):
        for column, lr in enumerate(lrs):
            single = RunPlan(objective, RunSpec("a", "adagrad", {"lr": lr, "initial_accumulator_value": value}), STOP)
            assert run_batch(single, np.array([[1.0, 1.0]])).loss[0] == grouped.final_loss[row, column]
    assert len(set(grouped.final_loss[:, 0])) == 3


def test_a_cancel_means_cancelled_everywhere() -> None:
    """Batches, sweeps, basins, restarts, races and scenario runs: what a cancel cut short is "cancelled"
    (never left "running"), with no loss claimed where a batch run stopped."""
    objective = parse_objective(ROSENBROCK)
    plan = RunPlan(objective, RunSpec("gd", "gd", {"lr": 1e-4}), StopRules(max_steps=100_000, grad_tol=None))
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) % 3 == 0  # a couple of chunks, then stop

    box = {"x": (-2.0, 2.0), "y": (-1.0, 3.0)}
    results = [run_batch(plan, np.zeros((4, 2)), chunk_steps=100, cancel=cancel),
               lr_sweep(plan, [0.0, 0.0], [1e-4, 1e-3], chunk_steps=100, cancel=cancel).result,
               sweep_2d(RunPlan(objective, RunSpec("s", "sgd"), plan.stop), [0.0, 0.0], [1e-4], "momentum", [0.1, 0.5, 0.9],
                        chunk_steps=100, cancel=cancel).result,
               basins(plan, box, 4, minima=[], chunk_steps=100, cancel=cancel).result,
               random_restarts(plan, box, 5, chunk_steps=100, cancel=cancel).result]
    for result in results:
        assert result.cancelled and set(np.unique(result.status_names)) == {"cancelled"}
        assert np.isnan(result.loss).all()
    entries = race(objective, [plan.run], [0.0, 0.0], 10**6, cancel=lambda: True)
    assert [e.status for e in entries] == ["cancelled"]
    runner = ScenarioRunner(Scenario(ROSENBROCK, runs=(plan.run,), stop=plan.stop))
    runner.advance(10)
    runner.cancel()
    assert [r.status for r in runner.runs] == ["cancelled"]


def test_a_finished_batch_has_no_cancelled_runs() -> None:
    plan = RunPlan(parse_objective("x^2"), RunSpec("gd", "gd", {"lr": 0.4}), StopRules(max_steps=200))
    result = run_batch(plan, np.array([[1.0], [2.0]]), chunk_steps=7)
    assert not result.cancelled and set(result.status_names) == {"converged"} and np.isfinite(result.loss).all()
