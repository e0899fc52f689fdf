"""Critical points, stable step sizes and run diagnosis against answers known in closed form."""

import math
import time

import numpy as np
import pytest

from gdstudio.core.analysis import classify, critical_points, diagnose_run, stable_step, view_box
from gdstudio.core.expression import parse_objective
from gdstudio.core.runner import run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules

HANG = 30.0  # seconds: a hang limit that holds on a loaded machine, not a speed claim (benchmarks/ measure speed)

HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
HIMMELBLAU_MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
BOX5 = {"x": (-5, 5), "y": (-5, 5)}


def kinds(points):
    return sorted(p.kind for p in points)


def near(point, target, tol=1e-5):
    return np.allclose(point.coords, target, atol=tol)


# ---------------------------------------------------------------- critical points


@pytest.mark.parametrize("symbolic", [True, False])
def test_saddle_of_x2_minus_y2(symbolic):
    (p,) = critical_points(parse_objective("x^2 - y^2"), symbolic=symbolic)
    assert p.kind == "saddle" and p.point == {"x": 0.0, "y": 0.0} and p.loss == 0.0
    assert p.eigenvalues == pytest.approx((-2.0, 2.0))


@pytest.mark.parametrize("symbolic", [True, False])
def test_himmelblau_four_minima_one_maximum_four_saddles(symbolic):
    points = critical_points(parse_objective(HIMMELBLAU), BOX5, symbolic=symbolic)
    assert kinds(points) == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
    minima = [p for p in points if p.kind == "minimum"]
    for target in HIMMELBLAU_MINIMA:
        assert sum(near(p, target) for p in minima) == 1, target
        assert all(p.loss == pytest.approx(0.0, abs=1e-12) for p in minima)
    (top,) = [p for p in points if p.kind == "maximum"]
    assert near(top, (-0.270845, -0.923039)) and top.loss == pytest.approx(181.616522, abs=1e-5)
    assert all(p.exact == symbolic for p in points)
    assert [p.loss for p in points] == sorted(p.loss for p in points)


@pytest.mark.parametrize("symbolic", [True, False])
def test_rosenbrock_single_minimum(symbolic):
    (p,) = critical_points(parse_objective("(1 - x)^2 + 100*(y - x^2)^2"), {"x": (-2, 2), "y": (-1, 3)}, symbolic=symbolic)
    assert p.kind == "minimum" and near(p, (1, 1), 1e-9)


@pytest.mark.parametrize("symbolic", [True, False])
def test_one_variable(symbolic):
    (p,) = critical_points(parse_objective("x^2"), {"x": (-3, 3)}, symbolic=symbolic)
    assert (p.kind, p.point, p.eigenvalues) == ("minimum", {"x": 0.0}, (2.0,))
    double_well = critical_points(parse_objective("x^4 - 2*x^2"), symbolic=symbolic)
    assert [(p.kind, round(p.point["x"], 9)) for p in double_well] == [("minimum", -1.0), ("minimum", 1.0), ("maximum", 0.0)]


@pytest.mark.parametrize("symbolic", [True, False])
def test_monkey_saddle_and_flat_minimum_are_degenerate(symbolic):
    (p,) = critical_points(parse_objective("x^3 - 3*x*y^2"), symbolic=symbolic)
    assert p.kind == "degenerate" and p.point == {"x": 0.0, "y": 0.0}
    (q,) = critical_points(parse_objective("x^4 + y^2"), symbolic=symbolic)
    assert q.kind == "degenerate" and np.allclose(q.coords, 0, atol=1e-6)  # Newton only crawls (x ← 2x/3) to x⁴'s floor


@pytest.mark.parametrize("symbolic", [True, False])
def test_three_variables(symbolic):
    points = critical_points(parse_objective("x^2 + y^2 + z^2 + x*y*z"), symbolic=symbolic)
    assert kinds(points) == ["minimum"] + ["saddle"] * 4
    saddles = {tuple(np.round(p.coords, 9)) for p in points if p.kind == "saddle"}
    assert saddles == {(-2, -2, -2), (-2, 2, 2), (2, -2, 2), (2, 2, -2)}


def test_four_variables_non_polynomial_uses_newton():
    (p,) = critical_points(parse_objective("w1^2 + w2^2 + w3^2 + w4^2 - w1*w2 + sin(w3)"))
    assert p.kind == "minimum" and not p.exact
    assert p.point["w3"] == pytest.approx(-0.4501836112948736, abs=1e-9)  # 2w + cos(w) = 0
    assert p.eigenvalues == pytest.approx(sorted([1.0, 3.0, 2.0, 2 - math.sin(p.point["w3"])]))


def test_non_polynomial_landscape():
    points = critical_points(parse_objective("sin(x)*cos(y) + 0.1*(x^2 + y^2)"), BOX5)
    assert kinds(points) == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
    assert near(points[0], (-1.306440, 0.0)) and points[0].kind == "minimum"


def test_least_squares_over_a_data_set():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = 2 * x + 1 + 0.1 * rng.normal(size=300)
    objective = parse_objective("mean((w*x + b - y)^2)", columns=("x", "y"), data=np.array([x, y]))
    (p,) = critical_points(objective, {"w": (-5, 5), "b": (-5, 5)})
    slope, intercept = np.polyfit(x, y, 1)
    assert p.kind == "minimum" and p.point == pytest.approx({"w": slope, "b": intercept}, abs=1e-9)


def test_only_points_inside_the_view_and_none_where_the_gradient_never_vanishes():
    points = critical_points(parse_objective(HIMMELBLAU), {"x": (0, 5), "y": (0, 5)})
    assert [(p.kind, tuple(np.round(p.coords, 6))) for p in points] == [("minimum", (3.0, 2.0)), ("saddle", (3.385154, 0.073852)),
                                                                        ("saddle", (0.086678, 2.884255))]
    assert critical_points(parse_objective("x + y^2")) == []
    assert critical_points(parse_objective("sqrt(x^2 + y^2)")) == []  # the tip has no gradient at all
    assert critical_points(parse_objective("exp(x) + y^2"), symbolic=False) == []


def test_critical_points_of_the_interactive_examples_do_not_hang():
    cases = [(HIMMELBLAU, BOX5), ("x^2 - y^2", None), ("(1 - x)^2 + 100*(y - x^2)^2", None), ("x^2", None),
             ("x^3 - 3*x*y^2", None), ("sin(x)*cos(y) + 0.1*(x^2 + y^2)", BOX5)]
    for text, view in cases:
        objective = parse_objective(text).compile()
        critical_points(objective, view, symbolic=False)  # warm NumPy and SymPy once
        for symbolic in (True, False):
            begin = time.perf_counter()
            critical_points(objective, view, symbolic=symbolic)
            assert time.perf_counter() - begin < HANG, (text, symbolic)


def test_classify_and_view_box():
    assert classify(np.array([1.0, 2.0]), 1e-9) == "minimum"
    assert classify(np.array([-1.0, -2.0]), 1e-9) == "maximum"
    assert classify(np.array([-1.0, 0.0, 2.0]), 1e-9) == "saddle"
    assert classify(np.array([0.0, 2.0]), 1e-9) == "degenerate"
    lo, hi = view_box(parse_objective("x + y"), {"x": (0, 1)})
    assert lo.tolist() == [0, -3] and hi.tolist() == [1, 3]
    with pytest.raises(ValueError):
        view_box(parse_objective("x + y"), {"z": (0, 1)})
    with pytest.raises(ValueError):
        view_box(parse_objective("x + y"), {"x": (1, 0)})


# ---------------------------------------------------------------- stable step sizes


def test_stable_step_bounds():
    diag = stable_step(parse_objective("x^2 + 10*y^2"), {"x": 0.3, "y": -1})
    assert (diag.lambda_min, diag.lambda_max) == (2.0, 20.0)
    assert diag.gd_limit == pytest.approx(0.1)
    assert diag.momentum_limit(0.5) == pytest.approx(0.15)
    assert diag.momentum_limit(0.5, nesterov=True) == pytest.approx(0.075)
    assert diag.momentum_limit(0.5, dampening=0.5) == pytest.approx(0.3)
    assert diag.best_gd_lr == pytest.approx(2 / 22) and diag.condition_number == pytest.approx(10)
    assert diag.limit_for("adam", {}) is None
    assert diag.limit_for("newton", {}) is None  # its line search halves any step that would climb
    assert diag.limit_for("sgd", {"momentum": 0.5, "weight_decay": 10.0}) == (
        pytest.approx(0.1), "2(1+β)/λmax with β = 0.5, weight decay 10 added to λmax")
    assert stable_step(parse_objective("x^2"), [1.0]).gd_limit == 1.0  # the f(x) = x² edge: lr = 1
    assert stable_step(parse_objective("-x^2"), [1.0]).gd_limit == math.inf


@pytest.mark.parametrize(("optimizer", "hyper"), [
    ("gd", {}), ("sgd", {"momentum": 0.5}), ("sgd", {"momentum": 0.5, "nesterov": True}),
    ("sgd", {"momentum": 0.5, "dampening": 0.5}), ("sgd", {"weight_decay": 4.0}), ("sgd", {"momentum": 0.5, "weight_decay": 4.0}),
    ("newton", {"line_search": False}), ("newton", {"damping": 2.0, "line_search": False}),
])
def test_bounds_separate_convergence_from_divergence(optimizer, hyper):
    """Just below the bound a quadratic converges, just above it diverges: the formulas are the true edges."""
    objective = parse_objective("x^2 + 10*y^2")
    limit, _ = stable_step(objective, [1, 1]).limit_for(optimizer, hyper)
    outcomes = []
    for lr in (0.99 * limit, 1.01 * limit):
        stop = StopRules(max_steps=20000, grad_tol=1e-8)
        (run,) = run_scenario(Scenario("x^2 + 10*y^2", runs=(RunSpec("r", optimizer, hyper | {"lr": lr}, {"x": 1, "y": 1}),), stop=stop))
        outcomes.append(run.status)
    assert outcomes == ["converged", "diverged"]


# ---------------------------------------------------------------- run diagnosis


def run(loss, optimizer, hyper, start, **stop):
    (result,) = run_scenario(Scenario(loss, runs=(RunSpec("r", optimizer, hyper, start),), stop=StopRules(**stop)))
    return result, diagnose_run(result.objective, result.trajectory, optimizer, hyper)


def test_x_squared_at_lr_1_oscillates_forever():
    result, messages = run("x^2", "gd", {"lr": 1.0}, {"x": 1.0}, max_steps=1000)
    assert result.status == "max_steps"
    assert np.all(np.abs(result.trajectory.params[:, 0]) == 1.0)  # |x| constant, sign flipping
    assert messages == ["lr 1 = 2/λmax = 1 near (1): on the edge of stability, steps bounce back and forth without shrinking",
                        "oscillating: successive steps flip sign in x"]


def test_x_squared_above_lr_1_diverges_and_says_why():
    result, messages = run("x^2", "gd", {"lr": 1.5}, {"x": 1.0}, max_steps=1000)
    assert result.status == "diverged"
    assert messages == ["lr 1.5 > 2/λmax = 1 near (1): steps overshoot", "oscillating: successive steps flip sign in x"]


def test_x_squared_below_lr_1_converges_quietly():
    result, messages = run("x^2", "gd", {"lr": 0.3}, {"x": 1.0}, max_steps=1000)
    assert result.status == "converged" and messages == []
    result, messages = run("x^2", "gd", {"lr": 0.9}, {"x": 1.0}, max_steps=1000)
    assert result.status == "converged"
    assert messages == ["damped oscillation: successive steps flip sign in x while shrinking (zig-zag towards the minimum)"]


def test_overshoot_message_names_the_point_and_the_momentum_bound():
    _, messages = run("(1 - x)^2 + 100*(y - x^2)^2", "gd", {"lr": 0.003}, {"x": 1.0, "y": 1.0}, max_steps=100)
    assert messages[0] == "lr 0.003 > 2/λmax = 0.002 near (1, 1): steps overshoot"  # λmax = 1001.6 at (1, 1)
    _, messages = run("x^2 + 10*y^2", "sgd", {"lr": 0.16, "momentum": 0.5}, {"x": 1.0, "y": 1.0}, max_steps=2000)
    assert messages[0] == "lr 0.16 > 2(1+β)/λmax = 0.15 near (1, 1) (β = 0.5): steps overshoot"
    _, messages = run("x^2 + 10*y^2", "adam", {"lr": 0.5}, {"x": 1.0, "y": 1.0}, max_steps=50)
    assert not any(m.startswith("lr ") for m in messages)  # no curvature bound for adaptive steps


def test_plateau_at_a_saddle():
    loss = "x^4/4 - x^2/2 + y^2"  # saddle at 0, minima at x = ±1
    result, messages = run(loss, "gd", {"lr": 0.01}, {"x": 1e-10, "y": 1e-7}, max_steps=3000, grad_tol=None)
    assert result.trajectory.params[-1, 0] == pytest.approx(1.0)  # escaped in the end
    (message,) = messages
    # tiny: below 1e-5 of the largest ‖∇‖, |x³ − x| = 0.385 at x = 1/√3; x grows 1.01-fold a step from 1e-10,
    # so ‖∇‖ ≈ x stays below 3.85e-6 while 1.01^k < 38,500: k ≤ 1061
    assert message.startswith("plateau: ‖∇‖ < 3.85e-6 for 1062 steps while far from any minimum (steps 0–1061 near")
    assert message.endswith(": the Hessian has a negative eigenvalue -1, a saddle or a ridge)")


def test_slow_flat_minimum_is_not_a_plateau():
    result, messages = run("x^4", "gd", {"lr": 0.01}, {"x": 0.001}, max_steps=3000, grad_tol=None)
    assert np.all(result.trajectory.grad_norm < 1e-6) and messages == []


def test_plateau_far_above_a_known_minimum():
    objective = parse_objective("1 - exp(-(x^2))")
    spec = RunSpec("r", "gd", {"lr": 0.1}, {"x": 6.0})  # ‖∇‖ ≈ 3e-15: stuck on the flat shoulder
    (result,) = run_scenario(Scenario(objective.text, runs=(spec,), stop=StopRules(max_steps=600, grad_tol=None)))
    assert diagnose_run(objective, result.trajectory, "gd", {"lr": 0.1}) == []  # nothing better seen on the run
    (message,) = diagnose_run(objective, result.trajectory, "gd", {"lr": 0.1}, best_loss=0.0)
    assert message == "plateau: ‖∇‖ < 1e-6 for 601 steps while far from any minimum (steps 0–600 near (6): loss 1 there, 0 is reachable)"


def test_run_stopped_at_a_saddle():
    result, messages = run("x^2 - y^2", "gd", {"lr": 0.1}, {"x": 1.0, "y": 0.0}, max_steps=1000)
    assert result.status == "converged"
    (message,) = messages
    assert message.startswith("stopped where ‖∇‖ < 2e-5 but not at a minimum (near (")  # 1e-5 of ‖∇‖ = 2 at the start
    assert message.endswith(", 0): the Hessian has a negative eigenvalue -2, a saddle or a ridge)")


def test_diagnosis_of_an_empty_trajectory():
    class Empty:
        params = np.empty((0, 1))
        loss = grad_norm = lr = np.empty(0)

    assert diagnose_run(parse_objective("x^2"), Empty(), "gd", {}) == []


def test_plateau_length_counts_steps_not_rows_in_a_thinned_trajectory():
    from types import SimpleNamespace

    steps = np.concatenate([np.arange(0, 800, 2), np.arange(800, 1000)])  # older half thinned to every other step
    rows = len(steps)
    trajectory = SimpleNamespace(steps=steps, params=np.zeros((rows, 2)), loss=np.zeros(rows), grad_norm=np.zeros(rows),
                                 lr=np.full(rows, 0.1))
    (message,) = diagnose_run(parse_objective("x^2 - y^2"), trajectory, "gd", {"lr": 0.1})
    assert message.startswith("plateau: ‖∇‖ < 1e-6 for 1000 steps while far from any minimum (steps 0–999 near (0, 0)")


def test_plateau_is_relative_to_the_runs_largest_gradient():
    """Lesson 9's GD on the ridge of a monkey saddle: ‖∇‖ ≈ 3x² shrinks like 1/k² but never below 1e-6;
    it has fallen 100,000-fold from the start's 3.97, and the Hessian there has eigenvalues ±6x."""
    loss = "x^3 - 3*x*y^2 + (x^2 + y^2)^2"
    result, messages = run(loss, "gd", {"lr": 0.05}, {"x": 0.8, "y": 0.0}, max_steps=3000, grad_tol=1e-8)
    assert result.status == "max_steps" and result.trajectory.grad_norm[-1] > 1e-6
    (message,) = messages
    assert message.startswith("plateau: ‖∇‖ < 3.97e-5 for ") and "a saddle or a ridge" in message


def test_stopped_in_a_local_minimum_when_a_better_one_is_known():
    loss = "x^4 - 4*x^2 + x"  # minima near x = −1.47 (loss −5.44) and x = 1.35 (loss −2.62)
    result, messages = run(loss, "gd", {"lr": 0.01}, {"x": 2.0}, max_steps=5000)
    assert result.status == "converged" and messages == []  # nothing better seen on the run
    (message,) = diagnose_run(parse_objective(loss), result.trajectory, "gd", {"lr": 0.01}, best_loss=-5.44)
    assert message.startswith("stopped in a local minimum (near (1.35): loss -2.62 there, -5.44 is reachable")


def test_against_bound_says_how_lr_stands_against_two_over_lambda_max():
    """x²: λ = 2 everywhere, so plain GD's bound is 1; the studio's verdict and the diagnosis both ask this."""
    from gdstudio.core.analysis import against_bound

    diag = stable_step(parse_objective("x^2"), [0.3])
    assert [against_bound(diag, lr, "gd", {})[0] for lr in (0.5, 1.0, 1.0 + 1e-12, 1.5)] == ["<", "=", "=", ">"]
    relation, bound, formula = against_bound(diag, 0.5, "gd", {})
    assert bound == 1.0 and "2/λmax" in formula
    assert against_bound(diag, 0.5, "adam", {}) is None  # it adapts its step: no fixed bound
