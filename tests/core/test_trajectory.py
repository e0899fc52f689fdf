"""Trajectory storage: growth, exact recent window, bounded memory for very long runs."""

import numpy as np

from gdstudio.core.runner import ScenarioRunner
from gdstudio.core.scenario import RunSpec, Scenario, StopRules
from gdstudio.core.trajectory import PARAMS, Trajectory


def test_rows_grow_and_steps_count_from_zero() -> None:
    trajectory = Trajectory(("x",), capacity=2)
    for k in range(5):
        trajectory.extend(np.full((3, PARAMS + 1), float(k)))
    assert len(trajectory) == 15 and not trajectory.thinned
    np.testing.assert_array_equal(trajectory.steps, np.arange(15))
    np.testing.assert_array_equal(trajectory.params[:, 0], np.repeat(np.arange(5.0), 3))


def test_long_runs_thin_old_rows_but_keep_the_start_and_the_recent_window_exact() -> None:
    trajectory = Trajectory(("x",), limit=100, window=20)
    for k in range(50):
        trajectory.extend(np.arange(k * 7, k * 7 + 7, dtype=float)[:, None].repeat(PARAMS + 1, axis=1))
    assert trajectory.thinned and len(trajectory) <= 100 + 7
    assert trajectory.steps[0] == 0 and np.all(np.diff(trajectory.steps) > 0)
    np.testing.assert_array_equal(trajectory.steps[-20:], np.arange(330, 350))  # recent rows all kept
    np.testing.assert_array_equal(trajectory.loss, trajectory.steps)  # each kept row is its own step's row


def test_a_run_past_the_row_limit_keeps_exact_final_values() -> None:
    spec = RunSpec("gd", "gd", {"lr": 1e-3}, {"x": 1.0})
    scenario = Scenario("x^2", runs=(spec,), stop=StopRules(max_steps=5000, grad_tol=None))
    full = ScenarioRunner(scenario).run_to_end(chunk=300)[0]
    thinned_runner = ScenarioRunner(scenario)
    thinned = thinned_runner.runs[0]
    thinned.trajectory = Trajectory(("x",), limit=1000, window=200)
    thinned_runner.run_to_end(chunk=300)
    assert len(thinned.trajectory) < 1300 < len(full.trajectory)
    np.testing.assert_array_equal(thinned.trajectory.rows, full.trajectory.rows[thinned.trajectory.steps])
    assert thinned.trajectory.final() == full.trajectory.final() and thinned.steps == full.steps == 5000


def test_which_rows_survive_thinning_does_not_depend_on_chunking() -> None:
    kept = []
    for chunk in (1, 7, 300, 5001):
        runner = ScenarioRunner(Scenario("x^2", runs=(RunSpec("gd", "gd", {"lr": 1e-3}, {"x": 1.0}),),
                                         stop=StopRules(max_steps=5000, grad_tol=None)))
        runner.runs[0].trajectory = Trajectory(("x",), limit=1000, window=200)
        runner.run_to_end(chunk=chunk)
        kept.append(runner.runs[0].trajectory.rows.copy())
    assert all(np.array_equal(kept[0], other) for other in kept[1:])
