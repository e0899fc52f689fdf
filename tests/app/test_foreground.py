"""What the person waits for goes first (issue 15): a new loss's field and critical points before its typesetting
and its kernel's compile, and the landscape repainted once, with its field."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThreadPool

from gdstudio.app import foreground
from gdstudio.app.insight.tasks import TaskRunner
from gdstudio.app.objectives import OBJECTIVES
from gdstudio.app.panels.math_view import draw_later
from gdstudio.app.session import Problem


def test_typesetting_waits_for_foreground_work(qtbot, monkeypatch):
    monkeypatch.setattr(foreground, "MAX_WAIT_S", 60.0)  # (this test's own pace never decides)
    foreground.begin()
    try:
        job = draw_later(["x^2"], "#000000", 1.0)
        started = threading.Event()
        QThreadPool.globalInstance().start(lambda: (foreground.wait(), started.set()))  # (waits behind the same count)
        assert not job.done() and not started.is_set()
    finally:
        foreground.end()
    qtbot.waitUntil(job.done, timeout=30000)
    assert job.result() is not None and len(job.result()) == 1
    qtbot.waitUntil(started.is_set)


def test_foreground_tasks_count_until_they_have_run_and_cancelled_ones_never_run(qtbot):
    runner = TaskRunner()
    runner.pool.setMaxThreadCount(1)
    release, ran = threading.Event(), []
    runner.start("first", lambda task: release.wait(30), lambda _r: None, first=True)
    runner.start("later", lambda task: ran.append("later"), lambda _r: None)
    assert foreground.busy()
    runner.cancel("later")  # (overtaken before its turn: its work is not done at all)
    release.set()
    qtbot.waitUntil(lambda: not foreground.busy(), timeout=30000)
    runner.shutdown()
    assert ran == []


def test_a_new_loss_is_painted_once_with_its_field(qtbot, window):
    """The plot keeps its old picture until the new field arrives, instead of painting the old field in the new
    range first (a repaint that took the GUI thread from the field's own)."""
    landscape = window.landscape
    objective = OBJECTIVES.get("(x^2 + y - 11)^2 + (x + y^2 - 7)^2", None, (), None)
    landscape.set_problem(Problem(objective, window.document.scenario))
    assert not landscape.plot.updatesEnabled() and landscape.computing
    qtbot.waitUntil(lambda: not landscape.computing, timeout=30000)
    assert landscape.plot.updatesEnabled() and landscape.field is not None and landscape.objective is objective


def test_the_kernel_of_the_last_loss_shown_compiles_after_its_foreground_work(qtbot, window, monkeypatch):
    session = window.session
    warmed, polls = [], []
    monkeypatch.setattr(session.kernels, "ahead", lambda objective, hessian: warmed.append(objective))
    session._warm.timeout.connect(lambda: polls.append(1))
    typed = [OBJECTIVES.get(text, None, (), None) for text in ("x^2 + y^2", "x^2 + 3*y^2")]
    foreground.begin()
    try:
        for objective in typed:
            session.set_objective(objective)
        qtbot.waitUntil(lambda: len(polls) >= 3)
        assert warmed == []
    finally:
        foreground.end()
    qtbot.waitUntil(lambda: bool(warmed), timeout=30000)
    assert warmed == [typed[-1]]


def test_opening_a_file_and_checking_a_loss_are_foreground_work(qtbot, window, monkeypatch):
    import gdstudio.app.panels.loss_editor as loss_editor
    from gdstudio.app.presets import example_files

    held = threading.Event()  # (the file's reading and the loss's check wait for it: each is under way when looked at)
    read, check = window.files._read, loss_editor.check
    monkeypatch.setattr(window.files, "_read", lambda *args: (held.wait(30), read(*args))[1])
    monkeypatch.setattr(loss_editor, "check", lambda *args: (held.wait(30), check(*args))[1])
    window.files.open_path(str(example_files()[1][1]), ask=False)
    assert foreground.busy()
    held.set()
    qtbot.waitUntil(lambda: not window.files.opening, timeout=30000)
    # (and the editor has taken the file's loss: a check done but not yet taken holds the next text back, uncounted)
    qtbot.waitUntil(lambda: not window.editor.busy, timeout=30000)
    held.clear()
    window.editor.set_text("x^2 + 5*y^2")
    assert foreground.busy()
    held.set()
    qtbot.waitUntil(foreground.quiet, timeout=30000)
    assert window.landscape.objective.text == "x^2 + 5*y^2" and not window.landscape.computing
