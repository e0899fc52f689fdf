"""The studio's helper threads yield the processor to the GUI thread (background.py) and leave it the interpreter."""

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gdstudio.app.background import NICE, _gui_time, give_way, imports_give_way, lower_this_thread

from .helpers import HANG, run_unending

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")


def nice_of(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def threads_named(name: str) -> list[int]:
    found = []
    for task in Path("/proc/self/task").iterdir():
        try:
            if (task / "comm").read_text().strip() == name:
                found.append(int(task.name))
        except OSError:  # (a thread that ended meanwhile)
            pass
    return found


@linux
def test_a_helper_thread_lowers_its_own_priority_and_no_other():
    before = nice_of(threading.get_native_id())
    with ThreadPoolExecutor(max_workers=1, initializer=lower_this_thread) as pool:
        assert pool.submit(lambda: nice_of(threading.get_native_id())).result() == max(NICE, before)
    assert nice_of(threading.get_native_id()) == before


@linux
def test_runs_step_in_a_thread_that_gives_way_to_the_gui_thread(qtbot, window):
    run_unending(window)
    qtbot.waitUntil(lambda: bool(threads_named("gdstudio-run")), timeout=10000)
    qtbot.waitUntil(lambda: all(nice_of(t) >= NICE for t in threads_named("gdstudio-run")), timeout=10000)
    window.menus.reset.trigger()
    assert nice_of(threading.get_native_id()) < NICE  # (the GUI thread keeps its own)


def test_only_the_latest_loss_shown_is_compiled_ahead(monkeypatch):
    """Thirteen lessons opened one after another queued thirteen compiles, which held the interpreter for seconds;
    a compile a run waits for is never dropped."""
    from gdstudio.app import kernels

    started, release, compiled = threading.Event(), threading.Event(), []

    def compile_(objective, hessian):
        started.set()
        release.wait(10)
        compiled.append(objective)

    monkeypatch.setattr(kernels.KernelWarmer, "_compile", lambda _self, objective, hessian: compile_(objective, hessian))
    warmer = kernels.KernelWarmer()
    try:
        first = warmer.warm("needed by a run", False)
        started.wait(10)  # (the thread is busy with it: what follows waits its turn)
        for shown in ("lesson 1", "lesson 2", "lesson 3"):
            warmer.ahead(shown, False)
        release.set()
        first.result(10)
    finally:
        warmer.shutdown()
    assert compiled == ["needed by a run", "lesson 3"]


def test_a_formula_replaced_before_it_is_typeset_is_not_typeset(qtbot, monkeypatch):
    from concurrent.futures import Future

    from gdstudio.app.panels import formulas

    made: list[Future] = []
    monkeypatch.setattr(formulas, "draw_later", lambda *_args: made.append(Future()) or made[-1])
    lines = formulas.TypesetLines("lines")
    qtbot.addWidget(lines)
    for text in ("a", "b", "c"):
        lines.show_lines([text], text)
    assert [job.cancelled() for job in made] == [True, True, False]  # (the shared thread never starts the first two)


def test_closing_does_not_wait_for_the_line_being_typeset(monkeypatch):
    """A long formula's line takes a few hundred milliseconds to typeset: the window closes at once, the lines after
    it are not drawn, and the thread is joined once the window has gone (main.launch: join_drawing)."""
    from gdstudio.app import engine
    from gdstudio.app.panels import math_view

    drawing, release, drawn = threading.Event(), threading.Event(), []

    def slow_line(latex: str, _color: str, _scale: float) -> bytes:
        drawing.set()
        release.wait(HANG)
        drawn.append(latex)
        return b""

    monkeypatch.setattr(math_view, "draw_line", slow_line)
    monkeypatch.setattr(engine, "wait_for_paint", lambda: None)
    job = math_view.draw_later(["first", "second", "third"], "black", 1.0)
    assert drawing.wait(HANG)
    stopping = threading.Thread(target=math_view.stop_drawing)
    stopping.start()
    stopping.join(HANG / 4)
    returned = not stopping.is_alive()
    release.set()  # (either way, so a failure ends)
    math_view.join_drawing()
    assert returned, "stop_drawing waited for the line being typeset"
    assert job.result(0) is None and drawn == ["first"]
    assert not [t for t in threading.enumerate() if t.name.startswith("gdstudio-typeset")]


def test_the_studios_helper_threads_are_running_before_any_work_is_asked_of_them(monkeypatch):
    """A first submit on the GUI thread started the pool's thread and waited for it to run: 8-13 ms while other
    threads kept the cores busy (a first file opened as a landscape was computed)."""
    from gdstudio.app import background

    started: list[str] = []
    monkeypatch.setattr(threading.Thread, "start", lambda self, start=threading.Thread.start: (
        started.append(self.name), start(self))[1])
    pool = background.helper_thread("probe")
    try:
        assert [name for name in started if name.startswith("gdstudio-probe")] == ["gdstudio-probe_0"]
        started.clear()
        assert pool.submit(lambda: threading.current_thread().name).result(HANG) == "gdstudio-probe_0"
        assert started == []  # (no thread started by the work itself)
    finally:
        pool.shutdown()


def test_a_window_starts_its_helper_threads_as_it_is_built(qtbot):
    from gdstudio.app.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    try:
        names = {t.name.rsplit("_", 1)[0] for t in threading.enumerate()}
        assert {"gdstudio-derive", "gdstudio-open", "gdstudio-kernels", "gdstudio-landscape", "gdstudio-settings",
                "gdstudio-typeset"} <= names
    finally:
        window.shutdown()


needs_thread_clocks = pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no thread CPU clocks here")


@needs_thread_clocks
def test_a_helper_gives_way_while_the_gui_thread_is_busy_and_goes_on_once_it_is_not(monkeypatch):
    """Each turn of the GUI thread calls Python dozens of times and waited for the interpreter lock behind helpers at
    each: between their steps they pause while it works (background.give_way)."""
    from gdstudio.app import background

    monkeypatch.setattr(background, "BUSY", 0.05)  # (a loaded machine gives the working GUI thread less of a core)
    monkeypatch.setattr(background, "PAUSE_S", 0.02)
    order: list[str] = []
    looked, calling = threading.Event(), threading.Event()

    def helper() -> None:
        give_way()  # (its first look: nothing to compare with yet)
        looked.set()
        start = _gui_time()
        while _gui_time() - start < 0.005:  # (until the GUI thread has worked a while since that look)
            time.sleep(0.001)
        calling.set()
        give_way(limit=HANG)
        order.append("helper went on")

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(helper)
        assert looked.wait(HANG)
        end = time.thread_time() + HANG
        while not calling.is_set() and time.thread_time() < end:
            pass  # (the GUI thread at work)
        begun = time.thread_time()
        while time.thread_time() - begun < 0.03:  # (and for a while after the helper has asked)
            pass
        order.append("GUI thread idle")
        done.result(HANG)
    assert order == ["GUI thread idle", "helper went on"]


def test_the_gui_thread_never_gives_way_to_itself():
    give_way(limit=HANG)
    give_way(limit=HANG)  # (a second look, after the first one's work: it returns at once all the same)


def test_imports_in_a_helper_give_way_between_modules_but_not_to_paints(tmp_path, monkeypatch):
    """The engine's thousand modules give way one at a time; not to a paint on its way, as the GUI thread may itself be
    waiting for a module the import holds."""
    from gdstudio.app import background

    seen: list[dict] = []
    here = threading.current_thread()  # (a studio left loading by another test imports in threads of its own)
    monkeypatch.setattr(background, "give_way", lambda **options: threading.current_thread() is here and seen.append(options))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("outside_the_engine", "inside_the_engine"):
        (tmp_path / f"{name}.py").write_text("VALUE = 1\n")
    import outside_the_engine  # noqa: F401

    assert seen == []
    with imports_give_way():
        import inside_the_engine  # noqa: F401
    assert seen == [{"paints": False}]
