"""The runner: how runs end (status and reason), what they record, and that the numbers never depend on
how the run was chunked, on replaying it, or on anything but the scenario (seeded starts included)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdstudio.core.expression import parse_objective
from gdstudio.core.runner import ScenarioRunner, run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules
from gdstudio.core.trajectory import PARAMS, Trajectory

NO_STOP = dict(grad_tol=None, loss_tol=None, divergence=None)
ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"


def one(loss: str, name: str = "gd", hyper=None, start=None, stop: StopRules | None = None, **run):
    spec = RunSpec("run", optimizer=name, hyper=hyper or {}, start=start if start is not None else {"x": 1.0, "y": 1.0},
                   **run)
    (result,) = run_scenario(Scenario(loss=loss, runs=(spec,), stop=stop or StopRules(max_steps=100, **NO_STOP)))
    return result


# --- how runs end ---------------------------------------------------------------------------------


def test_converged_by_gradient_tolerance_at_the_step_the_math_predicts() -> None:
    # gd with lr 1/4 on x^2 + y^2 halves the point each step: |∇| = 2√2 / 2^k ≤ 1e-6 first at k = 22
    result = one("x^2 + y^2", "gd", {"lr": 0.25}, stop=StopRules(max_steps=1000, grad_tol=1e-6, loss_tol=None, divergence=None))
    assert result.status == "converged"
    assert result.steps == 22
    assert result.reason.startswith("converged at step 22")
    assert len(result.trajectory) == 23
    assert result.trajectory.grad_norm[-1] == pytest.approx(2 * math.sqrt(2) / 2**22, rel=1e-14)
    assert result.trajectory.grad_norm[-2] > 1e-6


def test_converged_by_loss_change_tolerance() -> None:
    # same run: the loss 2/4^k changes by 6/4^k from step k-1 to k; that is ≤ 1e-6 first at k = 12
    result = one("x^2 + y^2", "gd", {"lr": 0.25}, stop=StopRules(max_steps=1000, grad_tol=None, loss_tol=1e-6, divergence=None))
    assert result.status == "converged"
    assert result.steps == 12
    assert result.reason.startswith("converged at step 12: loss changed by")


def test_max_steps() -> None:
    result = one("x^2 + y^2", "gd", {"lr": 0.01}, stop=StopRules(max_steps=7, **NO_STOP))
    assert result.status == "max_steps"
    assert result.steps == 7
    assert result.reason == "reached the step limit (7 steps)"
    assert len(result.trajectory) == 8


def test_zero_max_steps_records_only_the_start() -> None:
    result = one("x^2 + y^2", "gd", {}, start={"x": 0.5, "y": -0.5}, stop=StopRules(max_steps=0, **NO_STOP))
    assert result.status == "max_steps" and result.steps == 0
    np.testing.assert_array_equal(result.trajectory.params, [[0.5, -0.5]])


def test_diverged_above_the_threshold_names_step_and_threshold() -> None:
    # gd with lr 1.5 on x^2 maps x to -2x: the loss is 4^k, above 1e12 first at k = 20
    result = one("x^2", "gd", {"lr": 1.5}, start={"x": 1.0}, stop=StopRules(max_steps=1000, grad_tol=None, divergence=1e12))
    assert result.status == "diverged"
    assert result.steps == 20
    assert result.reason.startswith("diverged at step 20")
    assert "exceeded 1e+12" in result.reason
    assert result.trajectory.loss[-1] == 4.0**20


def test_diverged_to_infinity() -> None:
    # without a threshold the same run goes on until 4^k overflows: 4^512 = 2^1024 = inf
    # (at step 511, x = -2^511, the loss 2^1022 and the gradient -2^512 are finite floats)
    result = one("x^2", "gd", {"lr": 1.5}, start={"x": 1.0}, stop=StopRules(max_steps=10_000, **NO_STOP))
    assert result.status == "diverged"
    assert result.steps == 512
    assert result.reason == "diverged at step 512: loss became inf"
    assert math.isinf(result.trajectory.loss[-1])


def test_loss_becoming_nan_is_reported_with_its_step() -> None:
    # sqrt(x) + x^2 by gd with lr 1 from x = 1: x1 = 1 - (1/2 + 2) = -1.5, where sqrt is nan
    result = one("sqrt(x) + x^2", "gd", {"lr": 1.0}, start={"x": 1.0}, stop=StopRules(max_steps=10, **NO_STOP))
    assert result.status == "diverged"
    assert result.reason == ("diverged at step 1: loss became nan at (x=-1.5), where it is undefined (a log or root of a "
                             "negative number, 0/0 or ∞ − ∞)")


def test_undefined_gradient_at_the_start_is_an_error_at_step_0() -> None:
    result = one("sqrt(x^2 + y^2)", "gd", {"lr": 0.1}, start={"x": 0.0, "y": 0.0})
    assert result.status == "error"
    assert result.steps == 0
    assert "step 0" in result.reason and "undefined" in result.reason
    assert "x=0" in result.reason and "y=0" in result.reason
    assert len(result.trajectory) == 1


def test_undefined_gradient_later_is_an_error_at_that_step() -> None:
    # the cone's gradient at (1, 0) is (1, 0): gd with lr 1 lands exactly on the tip at step 1
    result = one("sqrt(x^2 + y^2)", "gd", {"lr": 1.0}, start={"x": 1.0, "y": 0.0})
    assert result.status == "error"
    assert result.steps == 1
    assert result.reason.startswith("error at step 1")


def test_kinks_do_not_stop_a_run() -> None:
    # abs has a subgradient at 0, so landing exactly on the kink is no error
    result = one("abs(x) + y^2", "gd", {"lr": 0.5}, start={"x": 1.0, "y": 0.0}, stop=StopRules(max_steps=5, **NO_STOP))
    assert result.status == "max_steps"
    assert result.trajectory.params[1, 0] == 0.5 and result.trajectory.params[2, 0] == 0.0


def test_cancel_between_chunks() -> None:
    spec = RunSpec("a", optimizer="adam", hyper={"lr": 0.01}, start={"x": -1.5, "y": 2.0})
    runner = ScenarioRunner(Scenario(loss=ROSENBROCK, runs=(spec, spec)))
    runner.advance(5)
    runner.cancel()
    assert runner.finished
    for run in runner.runs:
        assert run.status == "cancelled"
        assert run.reason == "stopped by the user at step 5"
        assert len(run.trajectory) == 5  # rows for steps 0..4; step 5's point was not evaluated yet
    assert runner.advance(10) == []
    assert all(len(run.trajectory) == 5 for run in runner.runs)


def test_cancelling_a_finished_run_keeps_its_outcome() -> None:
    spec = RunSpec("a", optimizer="gd", hyper={"lr": 0.25}, start={"x": 1.0, "y": 1.0})
    runner = ScenarioRunner(Scenario(loss="x^2 + y^2", runs=(spec,), stop=StopRules(max_steps=3, **NO_STOP)))
    runner.run_to_end()
    runner.cancel()
    assert runner.runs[0].status == "max_steps"
    assert runner.runs[0].reason == "reached the step limit (3 steps)"


# --- what is recorded -----------------------------------------------------------------------------


def test_recorded_rows_agree_with_the_objective_at_the_recorded_points() -> None:
    result = one(ROSENBROCK, "adam", {"lr": 0.05}, start={"x": -1.5, "y": 2.0}, stop=StopRules(max_steps=60, **NO_STOP))
    traj = result.trajectory
    assert len(traj) == result.steps + 1 == 61
    np.testing.assert_array_equal(traj.steps, np.arange(61))
    np.testing.assert_array_equal(traj.params[0], [-1.5, 2.0])
    objective = parse_objective(ROSENBROCK)
    X, Y = traj.params.T
    np.testing.assert_allclose(traj.loss, objective.loss(X, Y), rtol=1e-12)
    np.testing.assert_allclose(traj.grad_norm, np.linalg.norm(objective.grad(X, Y), axis=0), rtol=1e-12)
    assert traj.final() == {"x": traj.params[-1, 0], "y": traj.params[-1, 1]}


def test_lr_column_follows_the_schedule() -> None:
    result = one("x^2 + y^2", "sgd", {"lr": 0.2}, schedule="exponential", schedule_params={"gamma": 0.9},
                 stop=StopRules(max_steps=30, **NO_STOP))
    np.testing.assert_allclose(result.trajectory.lr, 0.2 * 0.9 ** np.arange(31), rtol=1e-14)
    result = one("x^2 + y^2", "sgd", {"lr": 0.2}, schedule="cosine", schedule_params={"T_max": 10, "eta_min": 0.02},
                 stop=StopRules(max_steps=10, **NO_STOP))
    k = np.arange(11)
    np.testing.assert_allclose(result.trajectory.lr, 0.02 + 0.18 * (1 + np.cos(np.pi * k / 10)) / 2, rtol=1e-14, atol=1e-17)
    result = one("x^2 + y^2", "sgd", {"lr": 0.2}, schedule="warmup",
                 schedule_params={"start_factor": 0.25, "end_factor": 1.0, "total_iters": 4},
                 stop=StopRules(max_steps=6, **NO_STOP))
    np.testing.assert_allclose(result.trajectory.lr, [0.05, 0.0875, 0.125, 0.1625, 0.2, 0.2, 0.2], rtol=1e-14)


def test_start_values_are_used_in_the_variables_order() -> None:
    result = one("x + 2y", "gd", {"lr": 0.5}, start={"y": 3.0, "x": -1.0}, stop=StopRules(max_steps=1, **NO_STOP))
    np.testing.assert_array_equal(result.trajectory.params, [[-1.0, 3.0], [-1.5, 2.0]])


def test_max_steps_override() -> None:
    spec = RunSpec("a", optimizer="gd", hyper={"lr": 0.01}, start={"x": 1.0, "y": 1.0})
    scenario = Scenario(loss="x^2 + y^2", runs=(spec,), stop=StopRules(max_steps=1000, **NO_STOP))
    (result,) = run_scenario(scenario, max_steps=4)
    assert result.steps == 4 and result.reason == "reached the step limit (4 steps)"


def test_runs_are_independent_and_keep_their_order_and_labels() -> None:
    specs = (
        RunSpec("fast", optimizer="gd", hyper={"lr": 0.25}, start={"x": 1.0, "y": 1.0}),
        RunSpec("diverges", optimizer="gd", hyper={"lr": 1.5}, start={"x": 1.0, "y": 1.0}),
        RunSpec("slow", optimizer="gd", hyper={"lr": 0.001}, start={"x": 1.0, "y": 1.0}),
    )
    scenario = Scenario(loss="x^2 + y^2", runs=specs, stop=StopRules(max_steps=50, grad_tol=1e-6, loss_tol=None, divergence=1e6))
    results = run_scenario(scenario)
    assert [r.label for r in results] == ["fast", "diverges", "slow"]
    assert [r.status for r in results] == ["converged", "diverged", "max_steps"]
    alone = one("x^2 + y^2", "gd", {"lr": 0.25}, stop=StopRules(max_steps=50, grad_tol=1e-6, loss_tol=None, divergence=1e6))
    np.testing.assert_array_equal(results[0].trajectory.rows, alone.trajectory.rows)


def test_a_scenario_without_runs_runs_nothing() -> None:
    assert run_scenario(Scenario(loss="x^2")) == []


# --- reproducibility ------------------------------------------------------------------------------


def many_runs() -> Scenario:
    return Scenario(
        loss=ROSENBROCK,
        view={"x": (-2.0, 2.0), "y": (-1.0, 3.0)},
        runs=(
            RunSpec("adam", optimizer="adam", hyper={"lr": 0.02}, start={"x": -1.5, "y": 2.0}),
            RunSpec("momentum", optimizer="sgd", hyper={"lr": 5e-4, "momentum": 0.9, "nesterov": True}, start={"x": -1.5, "y": 2.0}),
            RunSpec("newton", optimizer="newton", hyper={"damping": 0.1}, start={"x": 0.5, "y": -0.5}),
            RunSpec("random", optimizer="rmsprop", hyper={"lr": 0.01}, seed=1234),
            RunSpec("clipped", optimizer="nadam", hyper={"lr": 0.05}, clip_kind="norm", clip_value=2.0, seed=7,
                    schedule="cosine", schedule_params={"T_max": 300}),
        ),
        stop=StopRules(max_steps=1500, grad_tol=1e-10, loss_tol=None, divergence=1e12),
    )


def test_replaying_a_scenario_is_bit_identical() -> None:
    first, second = run_scenario(many_runs()), run_scenario(many_runs())
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.trajectory.rows, b.trajectory.rows)
        assert (a.status, a.reason, a.steps) == (b.status, b.reason, b.steps)


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_chunk_size_never_changes_a_trajectory(chunk: int) -> None:
    reference = ScenarioRunner(many_runs()).run_to_end()
    runner = ScenarioRunner(many_runs())
    seen: dict[int, list[np.ndarray]] = {i: [] for i in range(len(runner.runs))}
    while not runner.finished:
        for part in runner.advance(chunk):
            assert part.first_step == sum(len(rows) for rows in seen[part.run])
            assert len(part.rows) <= chunk
            seen[part.run].append(part.rows)
    for i, (ref, run) in enumerate(zip(reference, runner.runs, strict=True)):
        assert np.array_equal(ref.trajectory.rows, run.trajectory.rows), ref.label
        assert np.array_equal(np.concatenate(seen[i]), ref.trajectory.rows)
        assert (ref.status, ref.reason) == (run.status, run.reason)


def test_last_chunk_carries_the_outcome() -> None:
    spec = RunSpec("a", optimizer="gd", hyper={"lr": 0.1}, start={"x": 1.0, "y": 1.0})
    runner = ScenarioRunner(Scenario(loss="x^2 + y^2", runs=(spec,), stop=StopRules(max_steps=10, **NO_STOP)))
    (first,) = runner.advance(4)
    assert first.status == "running" and first.reason == "" and len(first.rows) == 4
    (last,) = runner.advance(100)
    assert last.status == "max_steps" and last.reason == "reached the step limit (10 steps)"
    assert last.first_step == 4 and len(last.rows) == 7


def test_seeded_random_start_is_inside_the_view_and_reproducible() -> None:
    view = {"x": (-2.0, 2.0), "y": (10.0, 10.5)}

    def start(seed: int, start=None) -> np.ndarray:
        spec = RunSpec("r", optimizer="gd", hyper={"lr": 0.01}, start=start or {}, seed=seed)
        scenario = Scenario(loss="x^2 + y^2", view=view, runs=(spec,), stop=StopRules(max_steps=0, **NO_STOP))
        return run_scenario(scenario)[0].trajectory.params[0]

    points = np.array([start(seed) for seed in range(40)])
    assert np.all((points[:, 0] >= -2.0) & (points[:, 0] <= 2.0))
    assert np.all((points[:, 1] >= 10.0) & (points[:, 1] <= 10.5))
    assert len({tuple(p) for p in points}) == 40  # different seeds, different starts
    assert points[:, 0].std() > 0.5  # spread over the view, not stuck in a corner
    np.testing.assert_array_equal(start(3), start(3))
    # a start that fixes x leaves y where the same seed puts it
    fixed = start(3, {"x": 0.25})
    assert fixed[0] == 0.25 and fixed[1] == start(3)[1]


def test_variables_without_a_view_start_in_the_default_range() -> None:
    spec = RunSpec("r", optimizer="gd", seed=11)
    (result,) = run_scenario(Scenario(loss="x^2 + y^2", runs=(spec,), stop=StopRules(max_steps=0, **NO_STOP)))
    assert np.all(np.abs(result.trajectory.params[0]) <= 3.0)


# --- the trajectory store -------------------------------------------------------------------------


def test_trajectory_grows_past_its_capacity() -> None:
    traj = Trajectory(("x", "y"), capacity=2)
    rows = np.arange((PARAMS + 2) * 10, dtype=float).reshape(10, PARAMS + 2)
    traj.extend(rows[:3])
    traj.extend(rows[3:])
    np.testing.assert_array_equal(traj.rows, rows)
    np.testing.assert_array_equal(traj.params, rows[:, PARAMS:])
    np.testing.assert_array_equal(traj.steps, np.arange(10))
    assert traj.final() == {"x": rows[-1, -2], "y": rows[-1, -1]}


def test_very_long_trajectories_are_thinned_but_keep_the_start_and_the_recent_rows() -> None:
    traj = Trajectory(("x",), capacity=8, limit=100, window=30)
    for begin in range(0, 1000, 10):
        traj.extend(np.array([[k] + [0.0] * (PARAMS - 1) + [float(k)] for k in range(begin, begin + 10)]))
    assert len(traj) <= 100 and traj.thinned
    steps = traj.steps
    assert steps[0] == 0 and steps[-1] == 999
    assert np.all(np.diff(steps) > 0)
    np.testing.assert_array_equal(steps[-30:], np.arange(970, 1000))
    np.testing.assert_array_equal(traj.loss, steps)  # rows stay with their step numbers
    assert traj.final() == {"x": 999.0}


# --- engine bugs found by these tests (fixed; kept as regression tests) ---------


def test_a_huge_but_finite_gradient_is_not_an_undefined_one() -> None:
    # x*1e200 + y^2: ∇ = (1e200, 2y). gd with lr 0.01 moves x by -1e198, and the loss (about -1e398) is -inf at step 1
    result = one("x*10^200 + y^2", "gd", {"lr": 0.01}, start={"x": -0.7, "y": 0.3}, stop=StopRules(max_steps=10, **NO_STOP))
    assert result.trajectory.grad_norm[0] == pytest.approx(1e200, rel=1e-15)
    assert result.status == "diverged"
    assert result.reason == "diverged at step 1: loss became -inf"


def test_a_derivative_with_a_number_beyond_float_range_still_runs() -> None:
    # d/dy atan2(y, 1e-300) = 1e-300 / (y^2 + 1e-600) = 1e300 / (1e600 y^2 + 1): 1e-300 at y = 1
    result = one("atan2(y, 1e-300) + x^2", "gd", {"lr": 0.25}, start={"x": 1.0, "y": 1.0}, stop=StopRules(max_steps=3, **NO_STOP))
    assert result.status == "max_steps"
    np.testing.assert_array_equal(result.trajectory.params[:, 0], [1.0, 0.5, 0.25, 0.125])
    assert np.all(result.trajectory.params[:, 1] == 1.0)


def test_thinning_of_long_runs_does_not_depend_on_chunking(monkeypatch) -> None:
    import gdstudio.core.runner as runner_module

    # the real limit is 2,000,000 rows; a small one shows the same thing quickly
    monkeypatch.setattr(runner_module, "row_limit", lambda runs: 1000)
    spec = RunSpec("a", optimizer="gd", hyper={"lr": 1e-4}, start={"x": 1.0, "y": 1.0})
    scenario = Scenario(loss="x^2 + y^2", runs=(spec,), stop=StopRules(max_steps=5000, **NO_STOP))
    kept = []
    for chunk in (7, 1000, 100_000):
        runner = ScenarioRunner(scenario)
        while not runner.finished:
            runner.advance(chunk)
        kept.append(runner.runs[0].trajectory.steps.copy())
    assert all(len(steps) <= 1000 for steps in kept)
    assert all(np.array_equal(kept[0], steps) for steps in kept)


def test_many_runs_share_a_row_budget() -> None:
    """Twenty ten-million-step runs kept two million rows each: 2 GB. They share ROW_BUDGET instead."""
    from gdstudio.core.trajectory import ROW_BUDGET, ROW_LIMIT, row_limit

    assert row_limit(1) == row_limit(4) == ROW_LIMIT and row_limit(20) == ROW_BUDGET // 20 and row_limit(10_000) == 20_000
    scenario = Scenario(loss="x^2", runs=tuple(RunSpec(f"r{i}", "gd", {"lr": 1e-9}, {"x": 1.0}) for i in range(20)))
    assert {run.trajectory.limit for run in ScenarioRunner(scenario).runs} == {ROW_BUDGET // 20}
