"""Size bombs and math conventions of the loss pipeline (issue 17).

Every input here finishes or is refused with one line naming what is too big. Work is bounded by
counts (derivatives taken, polynomial expansions tried, Hessian entries written) or, where a whole
command runs, by a generous hang limit on a subprocess: never by speed. The kinks follow PyTorch's
autograd, checked through `Objective.grad` and through the compiled run kernel (one gd step).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gdstudio.core import codegen, derivatives, stationary
from gdstudio.core.analysis import MAX_CRITICAL_VARIABLES, critical_points, stable_step
from gdstudio.core.codegen import compiled_kernel, kernel_source
from gdstudio.core.expression import (
    MAX_VARIABLES,
    ExpressionError,
    HessianUnavailable,
    parse_objective,
)
from gdstudio.core.parse import MAX_COMPARISONS
from gdstudio.core.runner import ScenarioRunner
from gdstudio.core.scenario import loads

HANG = 120.0  # seconds for a whole command in a subprocess: a hang limit on a loaded machine, not a speed
PEAK_MB = 800  # resident memory a refused or finished command stays under (imports alone take ~200 MB)

PRODUCT_100 = "*".join(f"a{i}" for i in range(100))  # 5,050 distinct Hessian entries of ~100 operations
SQUARES_240 = "+".join(f"a{i}^2" for i in range(240))  # a diagonal Hessian of 240 entries
SQUARES_60 = "+".join(f"a{i}^2" for i in range(60))
SUM_100 = "+".join(f"a{i}^2" for i in range(100))
MAX_PRODUCT = "*".join(f"max(a{i}, a{i + 1}^2)" for i in range(MAX_COMPARISONS))  # exactly the limit


@pytest.fixture
def derivatives_taken(monkeypatch):
    """How many first and second derivatives `derivatives` works out from now on (one that is zero
    because the expression does not involve the variable is no work, and is not counted)."""
    taken = [0]
    real = derivatives.almost_everywhere

    def counting(expr):
        taken[0] += 1
        return real(expr)

    monkeypatch.setattr(derivatives, "almost_everywhere", counting)
    return taken


def cli(args: list[str], tmp_path) -> tuple[int, str, str, float]:
    """Run `gdstudio ARGS` in a fresh process: exit code, stdout, stderr and peak memory (MB)."""
    peak = tmp_path / "peak.txt"
    code = textwrap.dedent(f"""
        import sys
        from gdstudio.cli import main
        try:
            code = main({args!r})
        finally:  # VmHWM: this process's own high-water mark (ru_maxrss keeps the parent's across exec)
            with open("/proc/self/status") as status:
                hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
            open({str(peak)!r}, "w").write(str(hwm / 1024))
        sys.exit(code)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG, cwd=tmp_path, check=False)
    return done.returncode, done.stdout, done.stderr, float(peak.read_text())


def scenario_file(tmp_path, loss: str, optimizer: str = "gd", variables: list[str] | None = None, start: float = 0.9,
                  **hyper) -> str:
    """A scenario of one run of 20 steps from start for every variable (variables: in the loss's natural order)."""
    names = variables or [f"a{i}" for i in range(loss.count("a"))]
    document = {"format": "gdstudio-scenario", "version": 1, "name": "size", "loss": loss, "stop": {"max_steps": 20},
                "runs": [{"label": optimizer, "optimizer": {"name": optimizer, **hyper}, "start": dict.fromkeys(names, start)}]}
    if variables is not None:
        document["variables"] = variables
    path = tmp_path / f"{optimizer}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def one_error_line(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err[:500]
    return err


# --- 1. dimension: bounded before any derivative ---------------------------------------------------

def test_more_variables_than_the_limit_are_refused_before_any_derivative(derivatives_taken) -> None:
    names = ["x", *(f"v{i}" for i in range(5000))]
    with pytest.raises(ExpressionError, match=rf"too many variables \(5,001, limit {MAX_VARIABLES}\)"):
        parse_objective("x^2", names)
    assert derivatives_taken[0] == 0


def test_a_loss_that_names_more_variables_than_the_limit_is_refused() -> None:
    text = "+".join(f"a{i}" for i in range(MAX_VARIABLES + 1))
    assert len(text) <= 2000
    with pytest.raises(ExpressionError, match="too many variables"):
        parse_objective(text)


def test_the_limit_itself_costs_one_derivative_per_variable(derivatives_taken) -> None:
    names = [f"v{i}" for i in range(MAX_VARIABLES)]
    objective = parse_objective("v0^2 + v1", names)
    assert derivatives_taken[0] == 2 and "second" not in objective._compiled  # ∂/∂v0, ∂/∂v1; no Hessian yet
    grad = objective.grad(*([3.0] * MAX_VARIABLES))
    assert grad[0] == 6.0 and grad[1] == 1.0 and not grad[2:].any()
    assert [(i, j) for i, j, _ in objective.hessian_entries()] == [(0, 0)]
    assert derivatives_taken[0] == 3  # of 32,896 entries, only ∂/∂v0 of 2·v0


def test_a_scenario_of_5001_variables_is_refused_in_one_line(tmp_path) -> None:
    path = scenario_file(tmp_path, "x^2", variables=["x", *(f"v{i}" for i in range(5000))], lr=0.1)
    code, out, err, peak = cli(["run", path], tmp_path)
    assert code == 2 and out == "" and "variables" in one_error_line(err)
    assert peak < PEAK_MB


# --- 2. the Hessian: only when used, built within a budget, sparse in the kernel -----------------

def test_the_hessian_is_derived_on_first_use_and_refused_within_its_budget(derivatives_taken) -> None:
    objective = parse_objective(PRODUCT_100)
    assert derivatives_taken[0] == 100 and "second" not in objective._compiled
    derivatives_taken[0] = 0
    with pytest.raises(HessianUnavailable, match="too large .100 variables, more than 60,000 operations.*first-order"):
        _ = objective.hessian
    assert derivatives_taken[0] < 1000  # stopped at the budget, not after all 5,050 distinct entries
    derivatives_taken[0] = 0
    for use in (lambda: objective.hessian, lambda: objective.hess(*([1.0] * 100)), objective.hessian_entries):
        with pytest.raises(HessianUnavailable):
            use()
    assert derivatives_taken[0] == 0  # the refusal is kept
    x = np.linspace(0.5, 1.5, 100)
    assert objective.grad(*x)[7] == pytest.approx(np.prod(np.delete(x, 7)), rel=1e-12)  # the gradient is fine
    diagnosis = stable_step(objective, x)  # the curvature tools stay quiet and say why
    assert math.isnan(diagnosis.lambda_max) and "too large" in diagnosis.unavailable


@pytest.mark.slow
def test_first_order_optimizers_run_a_loss_whose_hessian_is_refused(tmp_path) -> None:
    code, out, err, peak = cli(["run", scenario_file(tmp_path, PRODUCT_100, "gd", lr=0.01)], tmp_path)
    assert code == 0 and "gd (gd): max_steps after 20 steps" in out and err == "" and peak < PEAK_MB
    newton = scenario_file(tmp_path, PRODUCT_100, "newton")
    for args in (["run", newton], ["sweep", newton, "--lr", "0.1:1:3"]):
        code, out, err, peak = cli(args, tmp_path)
        assert code == 2 and "the exact 100 × 100 Hessian" in one_error_line(err) and peak < PEAK_MB


@pytest.mark.slow
def test_derive_prints_the_gradient_and_omits_a_refused_hessian(tmp_path) -> None:
    code, out, err, peak = cli(["derive", PRODUCT_100, "--at", ",".join(f"a{i}=1" for i in range(100))], tmp_path)
    result = json.loads(out)
    assert code == 0 and len(result["gradient"]) == 100 and result["hessian"] is None and result["at"]["hessian"] is None
    assert result["at"]["gradient"] == [1.0] * 100
    assert err.startswith("warning: hessian omitted: the exact Hessian of this loss is too large") and err.count("\n") == 1
    assert peak < PEAK_MB


def test_critical_points_of_too_many_variables_are_refused_in_one_line(tmp_path) -> None:
    code, out, err, peak = cli(["critical", SUM_100], tmp_path)
    assert code == 2 and out == "" and peak < PEAK_MB
    assert one_error_line(err) == (f"error: critical points are searched in at most {MAX_CRITICAL_VARIABLES} variables, and "
                                   "this loss has 100: each step of the search solves with the exact Hessian\n")


def test_a_bound_copy_shares_the_hessian_derived_once() -> None:
    x = np.linspace(-1, 1, 7)
    objective = parse_objective("mean((w*x + b - y)^2) + w^2*b^2", None, ("x", "y"), np.array([x, 2 * x + 1]))
    hessian = objective.hessian
    rebound = objective.bind(np.array([x, -x]))
    assert rebound.hessian is hessian and rebound._compiled is objective._compiled
    assert objective.variables == ("b", "w")  # at b = 1, w = 2:
    np.testing.assert_allclose(rebound.hess(1.0, 2.0), [[2 + 8, np.mean(2 * x) + 8], [np.mean(2 * x) + 8, np.mean(2 * x * x) + 2]])


def test_a_diagonal_hessian_writes_only_its_diagonal() -> None:
    objective = parse_objective(SQUARES_60)
    source = kernel_source(objective, with_hessian=True)
    assert source.count("    hess[") == 60 + 1  # the diagonal, after zeroing the matrix once
    assert "hess[:, :] = 0.0" in source and "for _i" not in source  # nothing to mirror
    assert codegen.compile_cost(source) <= codegen.MAX_COMPILE_COST


@pytest.mark.slow
def test_newton_runs_up_to_its_dimension_and_is_refused_beyond(tmp_path, derivatives_taken) -> None:
    code, out, err, peak = cli(["run", scenario_file(tmp_path, SQUARES_60, "newton")], tmp_path)
    assert code == 0 and "newton (newton)" in out and err == "", out + err
    assert peak < PEAK_MB
    objective = parse_objective(SQUARES_240)
    taken = derivatives_taken[0]
    with pytest.raises(HessianUnavailable, match=f"newton solves with the exact 240 × 240 Hessian .* at most "
                                                 f"{codegen.MAX_NEWTON_VARIABLES} variables; use a first-order"):
        compiled_kernel(objective, with_hessian=True)
    assert derivatives_taken[0] == taken  # refused before the Hessian
    assert compiled_kernel(objective, with_hessian=False)  # gd and the others still run it


def test_a_sparse_hessian_is_zeroed_and_mirrored_exactly() -> None:
    """One Newton step on a quadratic lands on its minimum: every entry, written or not, is right."""
    scenario = loads(json.dumps({
        "format": "gdstudio-scenario", "version": 1, "name": "sparse", "loss": "a^2 + 2*b^2 + a*b + 3*c^2 + d^2 + 4*a",
        "runs": [{"label": "n", "optimizer": {"name": "newton", "lr": 1.0}, "start": {"a": 1, "b": -2, "c": 3, "d": 0.5}}],
        "stop": {"max_steps": 1, "grad_tol": None, "loss_tol": None}}))
    run = ScenarioRunner(scenario).run_to_end()[0]
    # ∇ = (2a + b + 4, 4b + a, 6c, 2d) = 0 at a = -16/7, b = 4/7
    np.testing.assert_allclose(run.trajectory.params[-1], [-16 / 7, 4 / 7, 0.0, 0.0], atol=1e-12)


def test_a_kernel_past_the_compile_budget_is_refused_per_path(monkeypatch) -> None:
    monkeypatch.setattr(codegen, "MAX_COMPILE_COST", 30)  # the gradient kernel below costs 20, with the Hessian 35
    objective = parse_objective("(x*y - 1)^2 + sin(x + y)^2 + x^2*y^2")
    with pytest.raises(HessianUnavailable, match="too large to compile for newton .* first-order"):
        kernel_source(objective, with_hessian=True)
    assert kernel_source(objective, with_hessian=False)  # the gradient alone fits
    with pytest.raises(ExpressionError, match="gradient of this loss is too large to compile"):
        kernel_source(parse_objective(" + ".join(f"sin(x{i})*cos(y{i})" for i in range(12))), with_hessian=False)


def test_a_refused_kernel_is_remembered(monkeypatch) -> None:
    objective = parse_objective(PRODUCT_100)
    with pytest.raises(HessianUnavailable):
        compiled_kernel(objective, with_hessian=True)
    monkeypatch.setattr(codegen, "kernel_source", lambda *args: pytest.fail("the refusal was worked out again"))
    with pytest.raises(HessianUnavailable):
        compiled_kernel(objective, with_hessian=True)


def test_critical_points_are_refused_beyond_their_dimension_before_any_hessian() -> None:
    objective = parse_objective(SUM_100)
    with pytest.raises(HessianUnavailable, match=f"at most {MAX_CRITICAL_VARIABLES} variables, and this loss has 100"):
        critical_points(objective)
    assert "second" not in objective._compiled


def test_critical_points_use_fewer_starts_where_each_step_costs_more() -> None:
    small = parse_objective("(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    large = parse_objective("*".join(f"a{i}" for i in range(20)))
    assert stationary._start_count(small, 80) == 900  # the usual grid
    count = stationary._start_count(large, 80)
    cost = derivatives.size(large.exprs("grad")) + derivatives.size(large.exprs("hess")) + 20**3 // 3
    assert 64 <= count < 2048 and count * 80 * cost <= stationary.CRITICAL_WORK


# --- 3. comparisons: the documented limit is cheap on every path ------------------------------------

def test_one_comparison_past_the_limit_is_refused() -> None:
    with pytest.raises(ExpressionError, match=f"too many comparisons.*past {MAX_COMPARISONS}"):
        parse_objective(MAX_PRODUCT + f"*max(a{MAX_COMPARISONS}, 1)")


@pytest.mark.parametrize("optimizer", ["gd", "newton"])
@pytest.mark.slow
def test_a_loss_with_as_many_comparisons_as_allowed_runs(tmp_path, optimizer) -> None:
    code, out, err, peak = cli(["run", scenario_file(tmp_path, MAX_PRODUCT, optimizer, lr=0.01)], tmp_path)
    assert code == 0 and "after 20 steps" in out, out + err
    assert peak < PEAK_MB


def test_critical_points_of_as_many_comparisons_as_allowed_finish(tmp_path) -> None:
    code, out, _, peak = cli(["critical", MAX_PRODUCT], tmp_path)
    assert code == 0 and json.loads(out)["variables"] == [f"a{i}" for i in range(MAX_COMPARISONS + 1)]
    assert peak < PEAK_MB


def test_comparisons_are_plain_functions_that_print_as_typed() -> None:
    objective = parse_objective("max(x, y^2) + min(x, y, 1) + relu(x - y)")
    assert str(objective.expr) == "max(x, y**2) + min(min(x, y), 1) + relu(x - y)"
    source = kernel_source(objective, True)
    assert "return max(_v0, _c0) + min(_c1, 1) + max(_c2, 0.0)" in source and "Max" not in source


# --- 4. a polynomial too large to expand is summed row by row ---------------------------------------

def test_a_high_power_of_a_residual_is_not_expanded(monkeypatch) -> None:
    import sympy as sp

    polys = [0]
    real = sp.Poly

    def counting(*args, **kwargs):
        polys[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(sp, "Poly", counting)
    x = np.linspace(0, 1, 50)
    y = 2 * x + 1
    objective = parse_objective("mean((w*x + b - y)^1000)", None, ("x", "y"), np.array([x, y]))
    assert objective.loss(0.5, 0.5) == pytest.approx(np.mean((0.5 * x + 0.5 - y) ** 1000), rel=1e-12)
    assert polys[0] == 0  # (w*x + b - y)^1000 has 501,501 terms: never handed to sp.Poly
    least_squares = parse_objective("mean((w*x + b - y)^2)", None, ("x", "y"), np.array([x, y]))
    assert least_squares.loss(0.5, 0.5) == pytest.approx(np.mean((0.5 * x + 0.5 - y) ** 2), rel=1e-12)
    assert polys[0] == 1  # a small polynomial is still aggregated once


# --- 5. numbers: the whole float range -------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("1e308", 1e308), ("1.7976931348623157e308", sys.float_info.max),
                                         ("-1.5e308", -1.5e308), ("1e-308", 1e-308), ("0e99999", 0.0),
                                         ("0.000e-400", 0.0), ("2.5e+307", 2.5e307)])
def test_every_number_in_the_float_range_is_accepted(text, value) -> None:
    objective = parse_objective(f"{text}*x + x^2")
    assert objective.grad(0.0)[0] == value
    assert float(objective.loss(1.0)) == (math.inf if value + 1 == math.inf else value + 1.0)


@pytest.mark.parametrize("text", ["1.8e308", "1e309", "1e99999999", "1e-309", "1e-400", "4.9e-324"])
def test_numbers_beyond_the_float_range_are_refused_as_such(text) -> None:
    with pytest.raises(ExpressionError, match=rf"number '{text}' is out of the range of floating-point numbers "
                                              r"\(1e-308 ≤ \|value\| ≤ 1.797e308\) at column 1"):
        parse_objective(f"{text}*x")


# --- 6. kinks: PyTorch's conventions, through grad and through the run kernel -----------------------

KINKS = [
    # (loss, the kink point, the gradient torch's autograd gives there)
    ("relu(x)", {"x": 0.0}, [0.0]),  # threshold_backward: 0 where the output is not > 0
    ("relu(-x)", {"x": 0.0}, [0.0]),
    ("abs(x)", {"x": 0.0}, [0.0]),  # grad * sgn(x)
    ("sign(x) + 3*x", {"x": 0.0}, [3.0]),  # sign' = zeros_like
    ("sign(x) + 3*x", {"x": 0.5}, [3.0]),
    ("max(x, y)", {"x": 1.0, "y": 1.0}, [0.5, 0.5]),  # torch.maximum at a tie: half each
    ("min(x, y)", {"x": 1.0, "y": 1.0}, [0.5, 0.5]),
    ("max(x, 0)", {"x": 0.0}, [0.5]),  # torch.maximum(x, zeros): a tie, unlike relu
    ("max(x, y, z)", {"x": 2.0, "y": 2.0, "z": 2.0}, [0.25, 0.25, 0.5]),  # maximum(maximum(x, y), z)
    ("min(max(x, -1), 1)", {"x": 1.0}, [0.5]),  # a clamp written with min/max (torch.clamp gives 1)
    ("relu(x)^2 + abs(y)*y", {"x": 0.0, "y": 0.0}, [0.0, 0.0]),
]


@pytest.mark.parametrize("text, point, expected", KINKS, ids=[k[0] + " " + str(list(k[1].values())) for k in KINKS])
def test_kinks_follow_torch_through_grad_and_the_run_kernel(text, point, expected) -> None:
    objective = parse_objective(text)
    assert list(objective.grad(*point.values())) == expected
    scenario = loads(json.dumps({
        "format": "gdstudio-scenario", "version": 1, "name": "kink", "loss": text,
        "runs": [{"label": "one step", "optimizer": {"name": "gd", "lr": 1.0}, "start": point}],
        "stop": {"max_steps": 1, "grad_tol": None, "loss_tol": None, "divergence": None}}))
    params = ScenarioRunner(scenario).run_to_end()[0].trajectory.params
    assert list(params[0] - params[1]) == expected  # x ← x − 1·g


def test_second_derivatives_at_a_kink_are_zero() -> None:
    objective = parse_objective("relu(x)^2 + abs(y) + max(x, y)")
    np.testing.assert_array_equal(objective.hess(0.0, 0.0), [[0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(objective.hess(1.0, -1.0), [[2.0, 0.0], [0.0, 0.0]])


# --- 7. a mean over no data column is warned about -------------------------------------------------

XY = np.array([np.linspace(0, 1, 5), np.linspace(1, 3, 5)])


@pytest.mark.parametrize("text, warning", [
    ("mean((w*xx + b - y)^2)", "'xx' in mean(...) is a parameter, not a data column: did you mean 'x'? (the data has columns x, y)"),
    ("mean((w*X + b - y)^2)", "'X' in mean(...) is a parameter, not a data column: did you mean 'x'?"),
    ("sum(w^2) + mean((w*x - y)^2)", "sum(...) at column 1 uses no data column, so it is the same for every row (the data has columns x, y)"),
])
def test_a_mean_that_misses_the_data_is_warned_about(text, warning) -> None:
    objective = parse_objective(text, None, ("x", "y"), XY)
    assert any(w.startswith(warning) for w in objective.warnings), objective.warnings
    assert objective.bind(XY).warnings == objective.warnings


@pytest.mark.parametrize("text", ["mean((w*x + b - y)^2)", "mean((w1*x + w2*x^2 - y)^2)", "x1 + mean(x)"])
def test_a_loss_that_uses_its_columns_has_no_warning(text) -> None:
    objective = parse_objective(text, None, ("x", "y"), XY)
    assert objective.warnings == ()
    assert parse_objective("x^2").warnings == ()


# --- 8. one naming rule for variables and data columns ---------------------------------------------

@pytest.mark.parametrize("name, meaning", [("e", "the constant e"), ("pi", "the constant pi"), ("sin", "the function sin()"),
                                           ("mean", "the function mean()"), ("lambda", "a reserved word"),
                                           ("None", "a reserved word")])
def test_a_variable_or_column_may_not_take_a_name_the_loss_gives_a_meaning(name, meaning) -> None:
    message = f"in a loss, {name} is {meaning}: choose another name"
    with pytest.raises(ExpressionError) as caught:
        parse_objective("x^2", ["x", name])
    assert caught.value.message == message
    with pytest.raises(ExpressionError) as caught:
        parse_objective("mean(x)", None, ("x", name), np.ones((2, 3)))
    assert caught.value.message == message


def test_other_variable_names_are_refused_in_a_short_line() -> None:
    for bad in ["x" * 100_000, "_x", 3, "x y"]:
        with pytest.raises(ExpressionError) as caught:
            parse_objective("x^2", ["x", bad])
        assert caught.value.message == ("a variable or data column name is not a valid name "
                                        "(a name is a letter, then up to 63 letters, digits or _)")
    with pytest.raises(ExpressionError, match="variable x is listed twice"):
        parse_objective("x^2", ["x", "y", "x"])
