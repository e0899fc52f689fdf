"""Honest numbers in the engine (issue 17): user values never reach an integer cast that can overflow,
bias corrections and fused operations are torch's, and Newton's loss never rises.

Everything goes end to end where it can: scenario text through `scenario.loads` and
`ScenarioRunner(...).run_to_end()`, then the recorded columns against the formula, in Python numbers.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core import kernel as K
from gdstudio.core.batch import run_batch
from gdstudio.core.expression import parse_objective
from gdstudio.core.newton_notes import HALVINGS
from gdstudio.core.optimizers import OPTIMIZERS, optimizer
from gdstudio.core.plan import RunPlan
from gdstudio.core.runner import RunProgress, ScenarioRunner, stop_vector
from gdstudio.core.scenario import RunSpec, ScenarioError, StopRules, load, loads
from gdstudio.core.rules import learning_rate
from gdstudio.core.schedules import schedule

FIXTURES = Path(__file__).parent / "fixtures"
SCENARIOS = Path(__file__).parents[2] / "scenarios"
HUGE = [1e19, 1e300, 2**63, 2**64, 2**53 + 2, 10**30]
NO_STOP = {"max_steps": 30, "grad_tol": None, "loss_tol": None, "divergence": None}


def document(runs: list[dict], loss: str = "x^2", stop: dict | None = None, data: dict | None = None) -> str:
    return json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": loss, "runs": runs,
                       "stop": stop or NO_STOP, "data": data})


def run_text(text: str) -> list[RunProgress]:
    return ScenarioRunner(loads(text)).run_to_end()


def refused(text: str) -> str:
    with pytest.raises(ScenarioError) as error:
        loads(text)
    return str(error.value)


# --- schedules: integer-valued parameters of any accepted size ------------------------------------


@pytest.mark.parametrize("size", HUGE + [1, 3, 7])
def test_step_schedule_with_any_step_size_records_the_formulas_rate(size) -> None:
    """step_size 1e19 was cast to int64 in the kernel (overflow): the rate was α₀/γ from the first step."""
    run = {"optimizer": {"name": "gd", "lr": 0.1}, "start": {"x": 1.0}, "schedule": {"name": "step", "step_size": size, "gamma": 0.5}}
    (result,) = run_text(document([run]))
    k = np.arange(NO_STOP["max_steps"] + 1)  # row k holds the rate of update k + 1
    expected = [0.1 * 0.5 ** (int(j) // int(size)) for j in k]  # Python integers: exact
    np.testing.assert_array_equal(result.trajectory.lr, expected)
    assert result.trajectory.lr.max() == 0.1


@pytest.mark.parametrize("size", HUGE)
def test_cosine_and_warmup_with_huge_periods_record_the_formulas_rate(size) -> None:
    runs = [
        {"label": "cosine", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"x": 1.0},
         "schedule": {"name": "cosine", "T_max": size, "eta_min": 0.01}},
        {"label": "warmup", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"x": 1.0},
         "schedule": {"name": "warmup", "start_factor": 0.25, "end_factor": 1.0, "total_iters": size}},
    ]
    cosine, warmup = run_text(document(runs))
    T = float(size)
    k = range(NO_STOP["max_steps"] + 1)
    np.testing.assert_array_equal(cosine.trajectory.lr, [0.01 + (0.1 - 0.01) * (1.0 + math.cos(math.pi * j / T)) / 2.0 for j in k])
    np.testing.assert_array_equal(warmup.trajectory.lr, [0.1 * (0.25 + (1.0 - 0.25) * (min(j, T) / T)) for j in k])


def test_the_step_schedules_float_floor_is_the_integer_quotient_wherever_a_run_can_reach() -> None:
    """⌊k/s⌋ computed as floor(k / s) in doubles equals k // s for every k below 2⁵² (runs stop by 10⁹)."""
    sizes = [1, 2, 3, 7, 10, 99, 1000, 999_999_937, 10**9, 10**9 + 1, 2**31 - 1, 2**52, 2**53, 2**63, 2**64, 10**19, 10**300]
    for s in sizes:
        sched = schedule("step").flatten({"step_size": float(s), "gamma": 0.5})
        for m in (0, 1, 2, 3, 10**9 // s):
            for k in {m * s - 1, m * s, m * s + 1, 10**9, 10**9 + 1, 2**51 + 3}:
                if 0 <= k < 2**52:
                    assert learning_rate(1.0, sched, k + 1) == 0.5 ** (k // s), (s, k)


def test_integer_schedule_parameters_that_are_not_whole_or_not_numbers_are_refused_with_their_path() -> None:
    base = {"optimizer": {"name": "gd"}, "start": {"x": 1.0}}
    cases = {
        ("step", "step_size", 2.5): "runs[0].schedule.step_size: must be a whole number",
        ("cosine", "T_max", 0): "runs[0].schedule.T_max: must be >= 1",
        ("warmup", "total_iters", -3): "runs[0].schedule.total_iters: must be >= 1",
        ("step", "step_size", 10**400): "runs[0].schedule.step_size: must be a number",
    }
    for (name, key, value), message in cases.items():
        text = document([{**base, "schedule": {"name": name, key: value}}])
        assert message in refused(text), (name, key, value)


# --- counts: steps, seeds, batch sizes --------------------------------------------------------------


@pytest.mark.parametrize("value", [1e19, 2**63, 2**64, 1e300, 10**9 + 1, -1, 2.5])
def test_max_steps_beyond_the_limit_is_refused_with_its_path(value) -> None:
    text = document([{"optimizer": {"name": "gd"}, "start": {"x": 1.0}}], stop={**NO_STOP, "max_steps": value})
    assert "stop.max_steps: must be a whole number from 0 to 1,000,000,000" in refused(text)


def test_the_largest_step_limit_is_exact_in_the_kernels_float_comparison() -> None:
    stop = loads(document([{"optimizer": {"name": "gd"}, "start": {"x": 1.0}}], stop={**NO_STOP, "max_steps": 10**9})).stop
    vector = stop_vector(stop)
    assert vector[K.MAX_STEPS_AT] == 10**9 and int(vector[K.MAX_STEPS_AT]) == 10**9 < 2**53


@pytest.mark.parametrize("seed", [2**63, 2**64, 1e19, -1, 1.5])
def test_seeds_outside_64_bits_are_refused_with_their_path(seed) -> None:
    text = document([{"optimizer": {"name": "gd"}, "start": {"x": 1.0}, "seed": seed}])
    assert "runs[0].seed: must be a non-negative whole number" in refused(text)


NOISY_LINE = {"generate": {"kind": "noisy_line", "n": 50, "seed": 3, "slope": 1.5, "intercept": 2.0, "noise": 1.0,
                           "x_min": -3.0, "x_max": 3.0}}


def test_the_largest_seed_draws_batches_and_a_start_and_replays() -> None:
    run = {"optimizer": {"name": "sgd", "lr": 0.01}, "seed": 2**63 - 1, "batch_size": 7}
    text = document([run, {**run, "replacement": True, "label": "with replacement"}], loss="mean((w*x + b - y)^2)", data=NOISY_LINE)
    first, again = run_text(text), run_text(text)
    for a, b in zip(first, again):
        assert a.status == "max_steps" and np.isfinite(a.trajectory.rows).all()
        np.testing.assert_array_equal(a.trajectory.rows, b.trajectory.rows)


@pytest.mark.parametrize("size", [10**9, 2**63, 1e19, 0, 2.0])
def test_batch_sizes_that_are_not_row_counts_are_refused_with_their_path(size) -> None:
    text = document([{"optimizer": {"name": "gd"}, "batch_size": size}], loss="mean((w*x + b - y)^2)", data=NOISY_LINE)
    assert "runs[0].batch_size: must be a whole number of rows" in refused(text)


def test_no_hyper_parameter_of_an_optimizer_is_a_count() -> None:
    """Only schedule parameters are flagged integer (checked above); the rules read every h as a float."""
    assert not [p.name for info in OPTIMIZERS.values() for p in info.params if p.integer]


# --- bias corrections as torch computes them --------------------------------------------------------


def fma(a: float, b: float, c: float) -> float:
    """a·b + c rounded once (Fraction → float rounds correctly)."""
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def torch_adam(g: float, steps: int, lr: float, beta1: float, beta2: float, eps: float, power) -> list[float]:
    """torch 2.13's single-tensor Adam on one coordinate with a constant gradient, in Python floats:
    lerp and addcmul fused as torch's kernels fuse them, addcdiv as x + (v·t1)/t2, and a correctly
    rounded square root (where torch's MKL one may be an ulp off)."""
    x, m, v, path = 1.0, 0.0, 0.0, [1.0]
    for t in range(1, steps + 1):
        m = fma(1 - beta1, g - m, m)  # exp_avg.lerp_(grad, 1 - beta1), weight < 0.5
        v = fma((1 - beta2) * g, g, v * beta2)  # exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = lr / (1 - power(beta1, t))
        denom = math.sqrt(v) / (1 - power(beta2, t)) ** 0.5 + eps
        x = x + (-step_size * m) / denom
        path.append(x)
    return path


def repeated(beta: float, t: int) -> float:
    """β**t by squaring, as Numba raises a float to an int64 power."""
    result, base = 1.0, beta
    while t:
        if t & 1:
            result *= base
        base *= base
        t >>= 1
    return result


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.85, 0.995), (0.95, 0.9999)])
def test_adam_steps_as_torch_computes_them_with_float_powers(betas) -> None:
    """Gradient 7 everywhere (loss 7x): every update is torch's bit for bit; with integer powers for the
    bias corrections (the old way) some step of the 60 would differ."""
    beta1, beta2 = betas
    steps = 60
    stop = {**NO_STOP, "max_steps": steps}
    run = {"optimizer": {"name": "adam", "lr": 0.01, "betas": list(betas)}, "start": {"x": 1.0}}
    (result,) = run_text(document([run], loss="7*x", stop=stop))
    ours = result.trajectory.params[:, 0]
    np.testing.assert_array_equal(ours, torch_adam(7.0, steps, 0.01, beta1, beta2, 1e-8, lambda b, t: b ** float(t)))
    assert any(beta ** float(t) != repeated(beta, t) for beta in betas for t in range(4, steps))
    assert torch_adam(7.0, steps, 0.01, beta1, beta2, 1e-8, repeated) != list(ours)


# --- Newton never climbs ----------------------------------------------------------------------------

HIMMELBLAU = "(x^2+y-11)^2+(x+y^2-7)^2"
NEWTON_CASES = {  # the issue's two cases and two of our own
    "himmelblau": (HIMMELBLAU, {"x": -0.2, "y": -0.9}),
    "saddle": ("x^2-y^2", {"x": 1.0, "y": 0.5}),
    "rosenbrock": ("(1 - x)^2 + 100*(y - x^2)^2", {"x": -1.2, "y": 1.0}),
    "pseudo_huber": ("sqrt(1 + (x - 3)^2) + sqrt(1 + (y + 2)^2)", {"x": 0.0, "y": 0.0}),
}


def newton_run(loss: str, start: dict, stop: dict | None = None, **hyper) -> RunProgress:
    (result,) = run_text(document([{"optimizer": {"name": "newton", **hyper}, "start": start}], loss=loss, stop=stop))
    return result


@pytest.mark.parametrize("name", NEWTON_CASES)
@pytest.mark.parametrize("stop", [None, NO_STOP, {"max_steps": 200}], ids=["no_stop", "no_stop30", "defaults"])
def test_newton_with_its_default_line_search_never_raises_the_loss(name: str, stop) -> None:
    loss, start = NEWTON_CASES[name]
    result = newton_run(loss, start, stop or {**NO_STOP, "max_steps": 100})
    losses = result.trajectory.loss
    assert result.status in ("converged", "max_steps", "diverged"), result.reason
    finite = losses[np.isfinite(losses)]
    assert np.all(np.diff(finite) <= 0), (name, np.diff(finite).max())


def test_newton_from_the_issues_himmelblau_start_descends_to_a_minimum() -> None:
    pure = newton_run(HIMMELBLAU, {"x": -0.2, "y": -0.9}, line_search=False)
    assert pure.trajectory.loss[1] == pytest.approx(2733.66, abs=0.01)  # what the issue saw: 181.5 → 2733.7
    result = newton_run(HIMMELBLAU, {"x": -0.2, "y": -0.9}, {"max_steps": 100})
    assert result.status == "converged" and result.trajectory.loss[-1] < 1e-20
    assert result.trajectory.loss[1] < 181.5
    assert "line search shortened" in result.reason and "lr/2^" in result.reason


def test_newton_on_the_saddle_still_goes_downhill_and_far() -> None:
    """x² − y² is unbounded below: the first repaired step to y = 21.3 lowers the loss (0.75 → −454.9), so
    Armijo takes it; the line search forbids climbing, not travelling."""
    result = newton_run("x^2-y^2", {"x": 1.0, "y": 0.5})
    assert result.trajectory.loss[1] < -450 and result.trajectory.params[1, 1] == pytest.approx(21.3333, rel=1e-4)


@pytest.mark.parametrize("case", json.loads((FIXTURES / "newton_pure_step.json").read_text())["cases"], ids=lambda c: c["name"])
def test_line_search_off_is_the_pure_step_of_before_to_the_bit(case: dict) -> None:
    result = newton_run(case["loss"], case["start"], NO_STOP | {"max_steps": 25}, **case["hyper"], line_search=False)
    assert result.status == case["status"]
    np.testing.assert_array_equal(result.trajectory.params, case["params"])
    np.testing.assert_array_equal(result.trajectory.loss, case["loss_values"])


def test_a_full_newton_step_on_a_quadratic_passes_the_line_search_untouched() -> None:
    loss = "(x - 1)^2 + 3*(x - 1)*(y - 2) + 10*(y - 2)^2"
    for lr in (1.0, 0.5, 1.5):
        on = newton_run(loss, {"x": -2.0, "y": 3.5}, {"max_steps": 200}, lr=lr)
        off = newton_run(loss, {"x": -2.0, "y": 3.5}, {"max_steps": 200}, lr=lr, line_search=False)
        np.testing.assert_array_equal(on.trajectory.params, off.trajectory.params)
        assert "line search" not in on.reason


def test_lesson_11_shows_the_pure_leap_and_the_searched_walk() -> None:
    runs = {r.label: r for r in ScenarioRunner(load(SCENARIOS / "11_newton_rosenbrock.json")).run_to_end()}
    pure, searched = runs["Newton"], runs["Newton + line search"]
    assert pure.trajectory.params[:, 1].min() < -2.5 and np.diff(pure.trajectory.loss).max() > 1000
    assert searched.status == "converged" and searched.steps == 21  # as in Nocedal & Wright's table
    assert np.all(np.diff(searched.trajectory.loss) <= 0) and searched.trajectory.params[:, 1].min() > -0.1
    assert np.abs(searched.trajectory.params[-1] - 1).max() < 1e-9


def test_where_no_step_can_lower_the_loss_newton_stops_and_says_why() -> None:
    """(x² + y²)/2 (H = I) lands exactly on (0, 0) in one step; with the tolerances off, the next has d = 0."""
    result = newton_run("(x^2 + y^2)/2", {"x": 3.0, "y": -4.0}, NO_STOP)
    assert result.status == "converged" and result.steps == 1
    assert result.reason.startswith("converged at step 1: no step along the Newton direction lowers the loss")
    assert f"at most {HALVINGS} times" in result.reason and "‖∇‖ = 0" in result.reason
    off = newton_run("(x^2 + y^2)/2", {"x": 3.0, "y": -4.0}, NO_STOP, line_search=False)
    assert off.status == "max_steps"  # the pure step keeps stepping by zero


def test_a_hessian_that_is_not_finite_is_an_error_not_a_nan_step() -> None:
    """|x|^1.5 at x = 0: gradient 0, second derivative undefined (NaN): no τ makes H + τI a matrix to solve."""
    result = newton_run("abs(x)^1.5 + y^2", {"x": 0.0, "y": 1.0}, NO_STOP)
    assert result.status == "error" and result.steps == 0
    assert result.reason == "error at step 0: the Hessian is undefined at (x=0, y=1), so Newton has no direction"
    pure = newton_run("abs(x)^1.5 + y^2", {"x": 0.0, "y": 1.0}, NO_STOP, line_search=False)
    assert pure.status == "diverged" and np.isnan(pure.trajectory.params[-1]).all()  # as before: a NaN step


MINI_BATCH_LOSS = "mean(sqrt(1 + (w*x + b - y)^2))"  # pseudo-Huber: the pure Newton step overshoots far from the fit


def batch_rises(text: str) -> tuple[np.ndarray, RunProgress]:
    """Step by step: each step's loss on its own batch after it, relative to before it (1 + rise)."""
    progress = ScenarioRunner(loads(text)).runs[0]
    objective, ratios = progress.objective, []
    while True:
        before = progress.kernel.P[0].copy()
        progress.advance(1)  # records the point, draws the batch, steps on it
        if progress.done:
            return np.array(ratios), progress
        batch = objective.bind(objective.data[:, progress.kernel.ROWS[0]])
        ratios.append(float(batch.loss(*progress.kernel.P[0])) / float(batch.loss(*before)))


def test_with_mini_batches_each_step_lowers_the_loss_on_its_own_rows_and_replays() -> None:
    data = {"generate": {**NOISY_LINE["generate"], "n": 48}}  # 6 batches of 8 an epoch, none short
    run = {"optimizer": {"name": "newton"}, "start": {"w": -4.0, "b": 6.0}, "batch_size": 8, "seed": 5}
    text = document([run], loss=MINI_BATCH_LOSS, stop={**NO_STOP, "max_steps": 40}, data=data)
    ratios, progress = batch_rises(text)
    assert len(ratios) == 40 and ratios.max() <= 1 + 1e-12
    again = ScenarioRunner(loads(text)).run_to_end()[0]
    np.testing.assert_array_equal(progress.trajectory.rows, again.trajectory.rows)
    pure, _ = batch_rises(text.replace('"name": "newton"', '"name": "newton", "line_search": false'))
    assert pure.max() > 2  # the pure step overshoots: some batch's loss more than doubles


def test_a_batch_where_no_step_lowers_the_loss_is_skipped_and_counted() -> None:
    """mean((w − y)²/2) with y ≡ 2: one step lands on w = 2 exactly, where every batch's gradient is 0."""
    data = {"columns": {"y": [2.0] * 20}}
    run = {"optimizer": {"name": "newton"}, "start": {"w": 0.0}, "batch_size": 5}
    (result,) = run_text(document([run], loss="mean((w - y)^2/2)", stop={**NO_STOP, "max_steps": 12}, data=data))
    assert result.status == "max_steps" and result.trajectory.params[-1, 0] == 2.0
    assert "on 11 batches no step along the Newton direction lowered the batch loss, so Newton stayed put" in result.reason


def test_old_scenarios_without_line_search_get_it_by_default_and_keep_loading() -> None:
    scenario = loads(document([{"optimizer": {"name": "newton", "lr": 1.0, "damping": 0.0}, "start": {"x": 1.0}}]))
    assert scenario.runs[0].hyper == {"lr": 1.0, "damping": 0.0}
    assert optimizer("newton").check(scenario.runs[0].hyper)["line_search"] is True
    message = refused(document([{"optimizer": {"name": "newton", "line_search": "yes"}, "start": {"x": 1.0}}]))
    assert "runs[0].optimizer.line_search: must be true or false" in message


def test_many_newton_runs_at_once_search_too() -> None:
    """run_batch (restarts, basins, sweeps) goes through the same kernel: from a grid over Himmelblau's
    square every start descends to one of its four minima, none ending above where it began."""
    objective = parse_objective(HIMMELBLAU)
    axis = np.linspace(-4.5, 4.5, 7)
    starts = np.array([(x, y) for x in axis for y in axis])
    result = run_batch(RunPlan(objective, RunSpec("newton", "newton"), StopRules(max_steps=200)), starts)
    assert np.all(result.status == K.CONVERGED)
    assert np.all(result.loss <= objective.loss(*starts.T)) and np.all(result.loss < 1e-12)
    pure = run_batch(RunPlan(objective, RunSpec("pure", "newton", {"line_search": False}), StopRules(max_steps=200)), starts)
    assert not np.array_equal(pure.final, result.final)
