"""Optimizers and schedules against torch.optim itself: every step of every recorded torch 2.13 run
(tests/core/fixtures/torch_reference.json, float64, 100 steps) must be reproduced bit for bit, except
where torch's own square root (MKL's, one ulp off now and then) parts from the correctly rounded one;
plus plain gradient descent and damped Newton checked against the math by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core.optimizers import OPTIMIZERS, optimizer
from gdstudio.core.rules import apply_step
from gdstudio.core.runner import run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules
from gdstudio.core.schedules import SCHEDULES

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "torch_reference.json").read_text())
LOSSES = {  # the fixture's losses, in our syntax
    "rosenbrock": "(1 - x)^2 + 100*(y - x^2)^2",
    "neg_rosenbrock": "-((1 - x)^2 + 100*(y - x^2)^2)",
    "quadratic": "0.5*x^2 + 5*y^2",
}
NO_STOP = dict(grad_tol=None, loss_tol=None, divergence=None)


def run_one(loss: str, name: str, hyper: dict, start, steps: int, **run) -> object:
    spec = RunSpec("run", optimizer=name, hyper=hyper, start=dict(zip(("x", "y"), map(float, start))), **run)
    scenario = Scenario(loss=loss, runs=(spec,), stop=StopRules(max_steps=steps, **NO_STOP))
    (result,) = run_scenario(scenario)
    return result


def case_id(case: dict) -> str:
    params = ",".join(f"{k}={v}" for k, v in case["params"].items())
    return f"{case['optimizer']}[{params}]-{case['loss']}"


def test_fixture_is_the_torch_reference_we_expect() -> None:
    assert REFERENCE["torch_version"].startswith("2.13")
    assert len(REFERENCE["cases"]) >= 60
    assert {c["optimizer"] for c in REFERENCE["cases"]} == set(REFERENCE["defaults"])


def exact_sqrt_trajectory(case: dict) -> np.ndarray:
    """torch's trajectory with a correctly rounded square root (the same as torch's own where that never mattered)."""
    return np.array(case.get("trajectory_ieee_sqrt", case["trajectory"]))


def sqrt_parts(case: dict) -> int:
    """The first step at which torch's MKL square root changed torch's own trajectory (past the end if never)."""
    ours, torchs = exact_sqrt_trajectory(case), np.array(case["trajectory"])
    differs = np.flatnonzero((ours != torchs).any(axis=1))
    return int(differs[0]) if len(differs) else len(torchs)


def replay(case: dict, grads: list) -> np.ndarray:
    """Our update rule, fed the gradients torch stepped with."""
    info = optimizer(case["optimizer"])
    values = info.check({k: tuple(v) if isinstance(v, list) else v for k, v in case["params"].items()})
    h, p = info.flatten(values), np.array(case["start"], dtype=np.float64)
    state, hess, note = info.state_array(values, 1, 2)[0], np.zeros((2, 2)), np.zeros(8)
    path = [p.copy()]
    for t, g in enumerate(grads, start=1):
        apply_step(info.code, p, np.array(g), state, h, t, float(h[0]), hess, note)
        path.append(p.copy())
    return np.array(path)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[case_id(c) for c in REFERENCE["cases"]])
def test_every_step_matches_torch_bit_for_bit(case: dict) -> None:
    expected = exact_sqrt_trajectory(case)
    steps = len(expected) - 1
    result = run_one(LOSSES[case["loss"]], case["optimizer"], case["params"], case["start"], steps)
    assert result.status == "max_steps", result.reason
    assert result.steps == steps == 100
    params = result.trajectory.params
    np.testing.assert_array_equal(params, expected)  # our gradients of these losses are autograd's, to the bit
    parts = sqrt_parts(case)
    np.testing.assert_array_equal(params[:parts], np.array(case["trajectory"])[:parts])
    np.testing.assert_allclose(params, case["trajectory"], rtol=1e-13, atol=0)


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=[case_id(c) for c in REFERENCE["cases"]])
def test_given_torchs_gradients_every_update_is_torchs(case: dict) -> None:
    """The update rules alone, whatever our gradients: bias corrections as pow(β, float(t)), fused
    multiply-adds where torch's kernels fuse, its order of operations."""
    np.testing.assert_array_equal(replay(case, case.get("grads_ieee_sqrt", case["grads"])), exact_sqrt_trajectory(case))
    parts = sqrt_parts(case)
    np.testing.assert_array_equal(replay(case, case["grads"])[:parts], np.array(case["trajectory"])[:parts])


def test_only_torchs_square_root_keeps_a_case_from_being_torchs_to_the_bit() -> None:
    parted = [case_id(c) for c in REFERENCE["cases"] if sqrt_parts(c) <= 100]
    assert parted == ["adadelta[eps=0.001]-rosenbrock"]  # from step 8 (MKL's sqrt, this machine's torch)
    rootless = [c for c in REFERENCE["cases"] if c["optimizer"] in ("sgd", "adamax")]  # rules without a square root
    assert len(rootless) == 14 and not any("trajectory_ieee_sqrt" in c for c in rootless)


@pytest.mark.parametrize("name", sorted(REFERENCE["defaults"]))
def test_defaults_are_torch_defaults(name: str) -> None:
    ours = optimizer(name).defaults()
    for key, value in REFERENCE["defaults"][name].items():
        assert key in ours, f"{name} lacks torch's hyper-parameter {key}"
        mine = list(ours[key]) if isinstance(ours[key], tuple) else ours[key]
        assert mine == value and type(mine) is type(value), (name, key, mine, value)


def test_registry_has_every_optimizer_the_issue_names() -> None:
    assert set(OPTIMIZERS) == {"gd", "sgd", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam", "adamax", "radam",
                               "newton"}
    assert list(optimizer("sgd").defaults()) == ["lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize"]
    assert optimizer("adamw").defaults()["weight_decay"] == 0.01
    assert optimizer("newton").defaults() == {"lr": 1.0, "damping": 0.0, "line_search": True}
    assert set(optimizer("gd").defaults()) == {"lr"}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_check_completes_with_defaults_and_refuses_unknown_or_bad_values(name: str) -> None:
    info = optimizer(name)
    assert info.check({}) == info.defaults()
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        info.check({"learning_rate": 0.1})
    for bad in (0, -1.0, float("nan"), float("inf"), "fast", True, None):
        with pytest.raises(ValueError, match="^lr: "):
            info.check({"lr": bad})


@pytest.mark.parametrize("name", ["unknown", "SGD", "", None, 3])
def test_unknown_optimizer_is_a_clear_error(name) -> None:
    with pytest.raises(ValueError, match="unknown optimizer"):
        optimizer(name)


# --- schedules vs torch.optim.lr_scheduler --------------------------------------------------------

SCHEDULER_NAMES = {"StepLR": "step", "ExponentialLR": "exponential", "CosineAnnealingLR": "cosine", "LinearLR": "warmup"}


@pytest.mark.parametrize("case", REFERENCE["schedules"], ids=[c["scheduler"] for c in REFERENCE["schedules"]])
def test_schedules_record_torch_learning_rates(case: dict) -> None:
    lrs = case["lrs"]
    result = run_one("x^2 + y^2", "sgd", {"lr": case["base_lr"]}, (1.0, 1.0), len(lrs) + 3,
                     schedule=SCHEDULER_NAMES[case["scheduler"]], schedule_params=case["kwargs"])
    # row k holds the rate of update k + 1, so rows 0..24 are torch's lrs before each of its 25 steps
    # torch's schedulers update the rate recursively (lr·γ each step), ours are the closed forms: ulps apart
    np.testing.assert_allclose(result.trajectory.lr[: len(lrs)], lrs, rtol=1e-14, atol=0)


def test_scheduled_rate_is_the_rate_actually_used() -> None:
    """gd on x^2/2 (gradient x): x_{k+1} = x_k (1 - lr_k), with lr_k the recorded rate of row k."""
    result = run_one("x^2/2 + 0*y", "gd", {"lr": 0.1}, (1.0, 0.0), 12, schedule="step",
                     schedule_params={"step_size": 3, "gamma": 0.5})
    x, lr = result.trajectory.params[:, 0], result.trajectory.lr
    np.testing.assert_allclose(x[1:], x[:-1] * (1 - lr[:-1]), rtol=1e-15)
    np.testing.assert_allclose(lr[:7], [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rtol=1e-15)


def test_constant_and_inverse_time_schedules_by_hand() -> None:
    constant = run_one("x^2 + y^2", "sgd", {"lr": 0.01}, (1.0, 1.0), 10)
    np.testing.assert_array_equal(constant.trajectory.lr, np.full(11, 0.01))
    inverse = run_one("x^2 + y^2", "sgd", {"lr": 0.1}, (1.0, 1.0), 10, schedule="inverse_time",
                      schedule_params={"decay": 0.5})
    k = np.arange(11)
    np.testing.assert_allclose(inverse.trajectory.lr, 0.1 / (1 + 0.5 * k), rtol=1e-15)


def test_schedule_registry() -> None:
    assert set(SCHEDULES) == {"constant", "step", "exponential", "inverse_time", "cosine", "warmup"}


# --- gradient clipping vs torch.nn.utils --------------------------------------------------------


@pytest.mark.parametrize("case", REFERENCE["clipping"], ids=[c["kind"] for c in REFERENCE["clipping"]])
def test_clipping_matches_torch(case: dict) -> None:
    expected = np.array(case["trajectory"])
    result = run_one(LOSSES["rosenbrock"], "sgd", {"lr": 0.01}, expected[0], len(expected) - 1,
                     clip_kind=case["kind"], clip_value=case["value"])
    np.testing.assert_array_equal(result.trajectory.params, expected)


def test_clipping_does_not_change_the_recorded_gradient_norm() -> None:
    clipped = run_one(LOSSES["rosenbrock"], "sgd", {"lr": 0.01}, (-1.5, 2.0), 1, clip_kind="norm", clip_value=1.0)
    x, y = -1.5, 2.0
    gx, gy = -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)
    assert clipped.trajectory.grad_norm[0] == pytest.approx(np.hypot(gx, gy), rel=1e-14)
    # the step itself used a gradient of norm ~1: |Δθ| = lr · 1/(1 + 1e-6 / |g|) ≈ 0.01
    assert np.linalg.norm(clipped.trajectory.params[1] - clipped.trajectory.params[0]) == pytest.approx(0.01, rel=1e-5)


# --- gd and newton by hand ------------------------------------------------------------------------


def test_gd_is_the_textbook_update() -> None:
    result = run_one("3x^2 + x*y + 2y^2 - x", "gd", {"lr": 0.05}, (2.0, -1.0), 25)
    x, y = 2.0, -1.0
    expected = [(x, y)]
    for _ in range(25):
        gx, gy = 6 * x + y - 1, x + 4 * y
        x, y = x - 0.05 * gx, y - 0.05 * gy
        expected.append((x, y))
    np.testing.assert_allclose(result.trajectory.params, expected, rtol=1e-14, atol=1e-15)


def test_gd_default_learning_rate_is_used_when_none_is_given() -> None:
    result = run_one("x^2 + y^2", "gd", {}, (1.0, 2.0), 1)
    np.testing.assert_allclose(result.trajectory.params[1], [1.0 - 0.01 * 2, 2.0 - 0.01 * 4], rtol=1e-15)


def test_newton_reaches_the_minimum_of_a_positive_definite_quadratic_in_one_step() -> None:
    # 3x^2 + 2xy + y^2 - 4x + 2y + 7: ∇ = (6x + 2y - 4, 2x + 2y + 2) = 0 at (1.5, -2.5), loss 1.5 there
    result = run_one("3x^2 + 2x*y + y^2 - 4x + 2y + 7", "newton", {"lr": 1.0}, (5.0, -3.0), 1)
    np.testing.assert_allclose(result.trajectory.params[1], [1.5, -2.5], rtol=0, atol=1e-12)
    assert result.trajectory.loss[1] == pytest.approx(1.5, abs=1e-12)
    assert result.trajectory.grad_norm[1] < 1e-12
    assert "not positive definite" not in result.reason


def test_newton_in_three_dimensions() -> None:
    A = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 2.0]])
    b = np.array([1.0, -2.0, 0.5])
    loss = "0.5*(4a^2 + 3b^2 + 2c^2 + 2a*b + a*c - 2b*c) - (a - 2b + 0.5c)"
    spec = RunSpec("n", optimizer="newton", hyper={}, start={"a": 3.0, "b": 3.0, "c": -3.0})
    (result,) = run_scenario(Scenario(loss=loss, runs=(spec,), stop=StopRules(max_steps=1, **NO_STOP)))
    np.testing.assert_allclose(result.trajectory.params[1], np.linalg.solve(A, b), atol=1e-12)


def test_damped_newton_solves_the_shifted_system() -> None:
    H = np.array([[6.0, 2.0], [2.0, 2.0]])
    start = np.array([5.0, -3.0])
    g = H @ start + np.array([-4.0, 2.0])
    for damping, lr in [(0.5, 1.0), (2.0, 0.5)]:
        result = run_one("3x^2 + 2x*y + y^2 - 4x + 2y + 7", "newton", {"lr": lr, "damping": damping}, start, 1)
        expected = start - lr * np.linalg.solve(H + damping * np.eye(2), g)
        np.testing.assert_allclose(result.trajectory.params[1], expected, rtol=1e-13)


def test_newton_on_a_saddle_repairs_the_hessian_says_so_and_still_descends() -> None:
    result = run_one("x^2 - y^2", "newton", {}, (1.0, 0.5), 3)
    loss = result.trajectory.loss
    assert loss[1] < loss[0]
    assert np.all(np.diff(loss) < 0)
    assert "not positive definite" in result.reason and "τ" in result.reason
    assert "first at step 0" in result.reason
    # plain Newton would jump straight to the saddle point (0, 0)
    assert not np.allclose(result.trajectory.params[1], [0.0, 0.0])


def test_newton_at_a_maximum_moves_downhill() -> None:
    result = run_one("-(x^2 + 2y^2)", "newton", {}, (0.5, -0.25), 2)
    assert result.trajectory.loss[1] < result.trajectory.loss[0]
    assert "not positive definite" in result.reason


def test_newton_with_a_singular_hessian_stays_finite_and_does_not_climb() -> None:
    result = run_one("x^4 + y^2", "newton", {}, (0.0, 1.0), 3)  # Hessian diag(0, 2) at the start
    assert np.all(np.isfinite(result.trajectory.params))
    assert np.all(np.diff(result.trajectory.loss) <= 0)
    assert result.trajectory.loss[-1] < 1e-6


def test_the_registry_names_the_compiled_rules_in_the_kernels_order() -> None:
    """The registry stays free of Numba (the studio lists optimizers before the engine loads), so it names its
    rules; the kernel dispatches on their position in rules.STEP_RULES."""
    from gdstudio.core.optimizers import OPTIMIZERS, STEP_RULE_NAMES
    from gdstudio.core.rules import NEWTON, STEP_RULES

    assert tuple(rule.py_func.__name__ for rule in STEP_RULES) == STEP_RULE_NAMES
    assert {info.code for info in OPTIMIZERS.values()} == set(range(len(STEP_RULES)))
    assert OPTIMIZERS["newton"].code == NEWTON
