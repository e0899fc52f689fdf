"""The studio's losses are derived by its helper process once it is up (app/objectives.py `_in_helper`): the studio
only rebuilds what the helper sends, and derives a loss itself before the helper is ready or should it fail."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest

from gdstudio.app import objectives, typeset
from gdstudio.app.helper import HELPER, Helper, HelperFailed, answer
from gdstudio.app.objectives import Objectives
from gdstudio.core import derivatives, numpy_code
from gdstudio.core.errors import ExpressionError
from gdstudio.core.expression import parse_objective

from .helpers import HANG


def ready(helper: Helper) -> Helper:
    helper.start()
    deadline = time.monotonic() + HANG
    while not helper.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    assert helper.ready, "the helper did not say it was ready"
    return helper


@pytest.fixture
def helper():
    made = Helper()
    yield made
    made.close()


def nothing_derived_here(monkeypatch) -> None:
    def refused(*_args, **_kwargs):
        raise AssertionError("derived in the studio's process")

    for module, name in ((derivatives, "gradient"), (derivatives, "hessian"), (numpy_code, "source"),
                         (typeset, "_text_form")):
        monkeypatch.setattr(module, name, refused)


def test_a_helper_is_ready_once_it_has_started_and_not_before(helper):
    assert not helper.ready
    assert ready(helper).ready
    helper._process.kill()
    helper._process.wait()
    assert not helper.ready


def test_the_helper_derives_the_loss_its_formulas_and_functions_for_the_studio(helper, monkeypatch):
    text = f"(1 - x)^2 + {threading.get_native_id() % 97 + 3}*(y - x^2)^2"
    local = parse_objective(text)
    points = [np.linspace(-2, 2, 9), np.linspace(-1, 3, 9)]
    expected = (local.loss(*points), local.grad(*points), local.hess(*points), typeset.text_form(local))
    made = answer(ready(helper).call("derive", text, None, ()), HANG)
    nothing_derived_here(monkeypatch)
    objective = made.objective()
    for got, wanted in zip((objective.loss(*points), objective.grad(*points), objective.hess(*points)), expected):
        assert np.array_equal(got, wanted)
    assert typeset.text_form(objective) == expected[3]


def test_a_loss_the_helper_refuses_is_refused_with_its_column(helper):
    with pytest.raises(ExpressionError) as refused:
        answer(ready(helper).call("derive", "x^2 + foo(y)", None, ()), HANG)
    assert (refused.value.column, refused.value.message) == (7, "unknown function 'foo' (to multiply, write foo*(...))")


def test_the_studios_objectives_come_from_the_helper_once_it_is_ready(monkeypatch):
    ready(HELPER)
    text = f"mean((w*x + b - y)^2) + {threading.get_native_id() % 89 + 2}*b^2"  # (new to the studio's cache)
    rows = np.random.default_rng(0).normal(size=(2, 200))
    nothing_derived_here(monkeypatch)
    objective = objectives.OBJECTIVES.get(text, None, ("x", "y"), rows)
    assert objective.data is rows and objective.variables == ("b", "w")
    assert np.isfinite(objective.loss(np.array([0.5]), np.array([-1.0]))).all()
    assert "∇f" in typeset.text_form(objective)


def test_before_the_helper_is_ready_or_when_it_fails_the_studio_derives_the_loss(monkeypatch):
    monkeypatch.setattr(Helper, "ready", property(lambda _self: False))
    assert objectives._in_helper("x^2 + y", None, ()) is None
    monkeypatch.setattr(Helper, "ready", property(lambda _self: True))

    def unavailable(*_args) -> Future:
        failed: Future = Future()
        failed.set_exception(HelperFailed("the helper process is not available (test)"))
        return failed

    monkeypatch.setattr(HELPER, "call", unavailable)
    assert objectives._in_helper("x^2 + y", None, ()) is None
    cache = Objectives(elsewhere=objectives._in_helper)
    assert cache.get("x^2 + 3*y").variables == ("x", "y")  # (derived here)
