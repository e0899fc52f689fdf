"""The helper process (app/helper.py): kernels and formulas are made there, from the loss's text alone; when it dies,
the work is done here; when the studio closes, nothing waits for it."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from gdstudio.app import kernels
from gdstudio.app.helper import HELPER, Helper, HelperClosed, HelperFailed, answer, loss_of
from gdstudio.app.panels import math_view
from gdstudio.core import codegen
from gdstudio.core.errors import ExpressionError, HessianUnavailable
from gdstudio.core.expression import parse_objective

from .helpers import HANG


@pytest.fixture
def unanswered(monkeypatch):
    """HELPER's questions never answered: (the futures asked, an event set at each question)."""
    asked: list[Future] = []
    waiting = threading.Event()

    def call(*_args) -> Future:
        asked.append(Future())
        waiting.set()
        return asked[-1]

    monkeypatch.setattr(HELPER, "call", call)
    return asked, waiting


@pytest.fixture
def helper():
    made = Helper()
    yield made
    made.close()


def warmed(text: str, hessian: bool = False):
    """The objective, once a KernelWarmer has had its kernel made (and the warmer is shut down)."""
    objective = parse_objective(text)
    warmer = kernels.KernelWarmer()
    try:
        warmer.warm(objective, hessian).result(HANG)
    finally:
        warmer.shutdown()
    return objective


def test_the_helper_compiles_the_kernel_which_is_then_loaded_from_the_cache():
    objective = warmed(f"(x - {threading.get_native_id()})^2 + sinh(y/7)^2 + x*y/1000")  # (new to the cache)
    assert codegen.compiled_ready(objective, False)
    assert sum(codegen.compiled_kernel(objective, False).stats.cache_hits.values()) == 1  # (loaded here, not compiled)


def test_a_refusal_made_in_the_helper_is_kept_on_the_objective():
    objective = warmed(" + ".join(f"a{i}^2" for i in range(70)), hessian=True)  # (Newton takes at most 64 variables)
    with pytest.raises(HessianUnavailable, match="at most 64 variables"):
        codegen.compiled_kernel(objective, True)


def test_formulas_are_derived_and_drawn_by_the_helper():
    objective = parse_objective("mean((w*x - y)^2)", columns=("x", "y"))
    lines = HELPER.call("lines", *loss_of(objective), True).result(HANG)
    assert lines[0].startswith("f(w) = ") and any(r"\frac{\partial f}{\partial w}" in line for line in lines)
    picture = math_view.draw_line(lines[0], "#000000", 1.0)
    assert picture is not None and picture.startswith(b"\x89PNG")


def test_a_helper_that_dies_is_started_again_and_what_waited_for_it_is_told(helper):
    busy = helper.call("kernel", " * ".join(f"sin(a{i} + {i})" for i in range(12)), None, (), False)  # (seconds)
    helper._process.kill()
    with pytest.raises(HelperFailed):
        busy.result(HANG)
    assert helper.call("draw", "x^{4}", "#000000", 1.0).result(HANG).startswith(b"\x89PNG")


def test_the_helper_runs_only_its_own_work(helper):
    with pytest.raises(HelperFailed, match="KeyError"):
        helper.call("exec", "import os").result(HANG)
    with pytest.raises(ExpressionError, match="column"):  # (refused, as data: said by `answer` as here)
        answer(helper.call("lines", "__import__('os')", ("x",), (), False), HANG)


def test_closing_stops_the_helper_and_what_waits_for_it_at_once(helper):
    busy = helper.call("kernel", " * ".join(f"sin(a{i} + {i})" for i in range(12)), None, (), False)  # (seconds)
    closing = threading.Thread(target=helper.close)
    closing.start()
    closing.join(HANG / 4)
    assert not closing.is_alive()
    with pytest.raises(HelperClosed):
        busy.result(0)


def test_a_closing_studio_stops_waiting_for_the_helpers_compile(unanswered):
    asked, waiting = unanswered
    warmer = kernels.KernelWarmer()
    job = warmer.warm(parse_objective(f"x^2 + {threading.get_native_id() + 1}"), False)
    assert waiting.wait(HANG)
    warmer.shutdown()  # (returns: the wait is abandoned)
    assert job.done() and isinstance(asked[0].exception(0), HelperClosed)


def test_work_abandoned_before_it_began_is_dropped(helper):
    """A closed studio (or test) leaves no compile queued behind it for the next one to wait for."""
    new = threading.get_native_id() * 1000 + id(helper) % 1000  # (losses no earlier test has compiled)
    first = helper.call("kernel", " * ".join(f"sin(a{i} + {new})" for i in range(8)), None, (), False)
    dropped_loss = f"(x - {new})^4 + y^2"
    dropped = helper.call("kernel", dropped_loss, None, (), False)
    helper.abandon(dropped)
    after = helper.call("kernel", f"x^2 + {new}", None, (), False)  # (the same lane: answered after the other two)
    assert after.result(HANG) and first.result(HANG)
    with pytest.raises(HelperClosed):
        dropped.result(0)
    source = codegen.kernel_source(parse_objective(dropped_loss), False)
    name, _ = codegen._named(source)
    assert not (Path(os.environ["NUMBA_CACHE_DIR"]) / "objectives" / f"{name}.py").exists()  # (never compiled)


class _Task:
    cancelled = False


def test_critical_points_found_by_the_helper_are_those_found_here():
    from gdstudio.app.insight.critical_points import find
    from gdstudio.core.analysis import critical_points

    rows = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 2.9, 5.1, 7.0]])
    for objective, view in ((parse_objective("(x^2 + y - 11)^2 + (x + y^2 - 7)^2"), {"x": (-5, 5), "y": (-5, 5)}),
                            (parse_objective("mean((w*x + b - y)^2)", columns=("x", "y"), data=rows),
                             {"w": (-4, 4), "b": (-4, 4)})):
        found = find(objective, view, _Task())
        assert found == critical_points(objective, view) and found


class _Counted:
    """A helper process's pipe, counting the bytes written to it (this helper's only: others may be asked meanwhile)."""

    def __init__(self, stream) -> None:
        self.stream, self.written = stream, 0

    def write(self, data) -> int:
        self.written += memoryview(data).nbytes
        return self.stream.write(data)

    def __getattr__(self, name: str):
        return getattr(self.stream, name)


def counted(helper: Helper) -> _Counted:
    """Start the helper (again, if it died) and count what is sent to it from now on."""
    helper.start()
    pipe = helper._process.stdin = _Counted(helper._process.stdin)
    return pipe


def test_a_losss_rows_go_to_the_helper_once_not_with_every_search(helper):
    """A million rows went over (16 MB) at each search, again each time the view moved; now once per helper."""
    import io
    import pickle

    from gdstudio.app import helper as helper_module
    from gdstudio.core.analysis import critical_points

    x = np.linspace(0.0, 3.0, 100_000)
    rows = np.array([x, 2 * x + 1 + np.sin(7 * x)])  # (1.6 MB)
    objective = parse_objective("mean((w*x + b - y)^2)", columns=("x", "y"), data=rows)
    views = ({"w": (-4.0, 4.0), "b": (-4.0, 4.0)}, {"w": (0.0, 4.0), "b": (-1.0, 4.0)}, {"w": (1.0, 3.0), "b": (0.0, 2.0)})
    pipe = counted(helper)
    for view in views:
        assert answer(helper.call("critical", *loss_of(objective), rows, view), HANG) == critical_points(objective, view)
    assert rows.nbytes < pipe.written < 1.1 * rows.nbytes  # (the rows once, then three questions naming them)
    helper._process.kill()
    helper._process.wait()
    pipe = counted(helper)
    assert answer(helper.call("critical", *loss_of(objective), rows, views[1]), HANG) == critical_points(objective, views[1])
    assert pipe.written > rows.nbytes  # (the helper started again keeps nothing: sent again)
    # the helper keeps the latest KEPT arrays; a question naming an older one is refused, never answered wrongly
    stream, answers = io.BytesIO(), io.BytesIO()
    for number in range(helper_module.KEPT + 1):
        pickle.dump((number, helper_module._KEEP, (rows + number,)), stream)
    question = (*loss_of(objective), None, views[2])
    for ident, number in ((10, 0), (11, helper_module.KEPT)):
        pickle.dump((ident, "critical", (*question[:3], helper_module._Kept(number), question[4])), stream)
    stream.seek(0)
    helper_module.serve(stream, answers)
    answers.seek(0)
    replies = {ident: (ok, value) for ident, ok, value in (pickle.load(answers), pickle.load(answers))}
    assert not replies[10][0] and "no longer kept" in replies[10][1]
    shifted = objective.bind(rows + helper_module.KEPT)
    assert replies[11] == (True, critical_points(shifted, views[2]))


def test_a_refusal_to_search_comes_back_as_the_same_error():
    from gdstudio.app.insight.critical_points import find
    from gdstudio.core.analysis import MAX_CRITICAL_VARIABLES

    n = MAX_CRITICAL_VARIABLES + 1
    objective = parse_objective(" + ".join(f"a{i}^2" for i in range(n)))
    with pytest.raises(HessianUnavailable, match=f"this loss has {n}"):
        find(objective, {f"a{i}": (-1.0, 1.0) for i in range(n)}, _Task())


def test_a_long_search_of_the_loss_before_does_not_hold_up_the_new_losss(helper):
    """A search abandoned once begun runs on (seconds, for some): the next loss's is found beside it."""
    n = 12
    slow = " + ".join(f"sin(a{i}*a{(i + 1) % n}) + a{i}^2/10" for i in range(n))
    before = helper.call("critical", slow, None, (), None, {f"a{i}": (-3.0, 3.0) for i in range(n)})
    quick = helper.call("critical", "x^2 + 3*y^2", None, (), None, {"x": (-3.0, 3.0), "y": (-3.0, 3.0)})
    assert len(answer(quick, HANG)) == 1 and not before.done()


def test_what_a_dead_helper_was_asked_fails_even_when_a_new_one_has_started(helper):
    busy = helper.call("kernel", " * ".join(f"sin(a{i} + 1)" for i in range(12)), None, (), False)  # (seconds)
    old = helper._process
    old.kill()
    old.wait()  # (dead, and its reader may not have seen it yet)
    after = helper.call("draw", "x^{5}", "#000000", 1.0)  # (starts a new helper)
    with pytest.raises(HelperFailed):
        busy.result(HANG)
    assert after.result(HANG).startswith(b"\x89PNG") and helper._process is not old


def test_without_a_helper_the_kernel_is_compiled_here(monkeypatch):
    def unavailable(*_args) -> Future:
        failed: Future = Future()
        failed.set_exception(HelperFailed("the helper process is not available (test)"))
        return failed

    monkeypatch.setattr(HELPER, "call", unavailable)
    objective = warmed(f"(x + {threading.get_native_id() + 7})^2 + cosh(y)")
    assert codegen.compiled_ready(objective, False)
    assert sum(codegen.compiled_kernel(objective, False).stats.cache_misses.values()) == 1  # (compiled here)


def test_questions_stopped_are_abandoned_and_none_is_asked_after(unanswered):
    from gdstudio.app.helper import Asking

    asked, waiting = unanswered
    asking, raised = Asking(), []

    def ask() -> None:
        try:
            asking.ask("draw", "x", "#000000", 1.0)
        except HelperClosed as error:
            raised.append(error)

    thread = threading.Thread(target=ask)
    thread.start()
    assert waiting.wait(HANG)
    asking.stop()
    thread.join(HANG)
    assert not thread.is_alive() and len(raised) == 1
    with pytest.raises(HelperClosed):
        asking.ask("draw", "y", "#000000", 1.0)
    assert len(asked) == 1  # (nothing asked once stopped)


def test_the_helper_process_imports_no_qt():
    """It derives losses with the studio's own cache (app/objectives.py), which must stay free of Qt and the engine."""
    import subprocess
    import sys

    code = "import sys; from gdstudio.app.helper import serve_here; print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'gdstudio.app.engine'))))"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG, check=True)
    assert found.stdout.strip() == "[]"
