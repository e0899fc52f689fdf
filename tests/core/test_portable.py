"""An objective handed from the process that derived it to one that did not (core/expression.py `Portable`): pickled,
rebuilt without deriving or generating anything, and computing the very same numbers."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gdstudio.core import derivatives, expression, numpy_code
from gdstudio.core.errors import ExpressionError, HessianUnavailable
from gdstudio.core.expression import parse_objective

rng = np.random.default_rng(3)
ROWS = rng.normal(size=(2, 500))


def carried(objective: expression.Objective, monkeypatch, data=None) -> expression.Objective:
    """The objective as another process rebuilds it: nothing may be derived or generated on the way."""
    blob = pickle.dumps(objective.compile().portable())

    def refused(*_args, **_kwargs):
        raise AssertionError("derived or generated again")

    for module, name in ((derivatives, "gradient"), (derivatives, "hessian"), (derivatives, "data_hessian"),
                         (numpy_code, "source"), (expression, "parse_objective")):
        monkeypatch.setattr(module, name, refused)
    return pickle.loads(blob).objective(data)


@pytest.mark.parametrize("text", ["(1 - x)^2 + 100*(y - x^2)^2", "1 - exp(-(x^2 + y^2))", "(sigmoid(3*w + b) - 0.9)^2",
                                  "abs(x) + max(x, y)^2 + relu(y - 1)"])
def test_a_carried_loss_computes_the_same_numbers(text, monkeypatch):
    here = parse_objective(text)
    points = [rng.normal(size=(7, 5)) for _ in here.variables]
    expected = {which: getattr(here, which)(*points) for which in ("loss", "grad", "hess")}
    there = carried(parse_objective(text), monkeypatch)
    assert there.variables == here.variables and there.expr == here.expr and there.gradient == here.gradient
    for which, values in expected.items():
        assert np.array_equal(getattr(there, which)(*points), values, equal_nan=True), which
    assert there.hessian == here.hessian


@pytest.mark.parametrize("text", ["mean((w*x + b - y)^2)", "mean(log(1 + exp(-y*(w*x + b))))"])
def test_a_carried_data_loss_is_bound_to_the_rows_it_is_given(text, monkeypatch):
    """Moment sums (a polynomial per-row loss) and sums over rows alike: their plans and sources come with it."""
    here = parse_objective(text, columns=("x", "y"), data=ROWS)
    points = [rng.normal(size=(4, 3)) for _ in here.variables]
    expected = {which: getattr(here, which)(*points) for which in ("loss", "grad", "hess")}
    there = carried(parse_objective(text, columns=("x", "y")), monkeypatch, ROWS)
    assert there.data is ROWS and there.rows_per_point() == here.rows_per_point()
    for which, values in expected.items():
        assert np.array_equal(getattr(there, which)(*points), values), which
    assert there.warnings == here.warnings


def test_a_refused_hessian_is_carried_as_refused(monkeypatch):
    """(a Hessian too large to derive: the gradient still works, and the refusal comes again at once)"""
    text = "exp(" + " + ".join(f"a{i}*a{i + 1}" for i in range(60)) + ") / 1e30"
    here = parse_objective(text)
    with pytest.raises(HessianUnavailable) as refused_here:
        here.hessian
    expected = here.grad(*np.ones(61))
    there = carried(parse_objective(text), monkeypatch)
    with pytest.raises(HessianUnavailable) as refused_there:
        there.hessian
    assert refused_there.value.message == refused_here.value.message
    assert np.array_equal(there.grad(*np.ones(61)), expected)


def test_a_refusal_pickles_with_its_column():
    error = pickle.loads(pickle.dumps(ExpressionError("unknown function 'foo'", 7)))
    assert (type(error), error.message, error.column, str(error)) == (ExpressionError, "unknown function 'foo'", 7,
                                                                      "unknown function 'foo' at column 7")


def test_a_function_made_from_its_pickled_source_computes_its_expressions():
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    made = numpy_code.source([x, y], [sp.atan2(y, x) * sp.exp(-x**2), sp.Max(x, y) + sp.Integer(2)**70 * x])
    again = numpy_code.function(pickle.loads(pickle.dumps(made)))
    a, b = rng.normal(size=(2, 9))
    assert ("numpy", "arctan2") in made.imports
    assert np.array_equal(again(a, b), [np.arctan2(b, a) * np.exp(-a**2), np.maximum(a, b) + 2.0**70 * a])
