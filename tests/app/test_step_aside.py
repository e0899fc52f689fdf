"""A helper thread's long Python work (the engine's imports) waits while the GUI thread is in a turn: sharing the
interpreter lock, each turn took about twice its time in the launch."""

from __future__ import annotations

import sys
import threading

import pytest

from gdstudio.app import step_aside


class Clocks:
    """The GUI thread's processor time and the wall clock, by hand: the GUI thread works for `busy` naps (all of
    each nap's time), then sleeps."""

    def __init__(self, busy: int) -> None:
        self.wall = self.cpu = 100.0
        self.busy, self.naps = busy, 0

    def sleep(self, seconds: float) -> None:
        self.naps += 1
        self.wall += seconds
        if self.naps <= self.busy:
            self.cpu += seconds

    def work(self, seconds: float) -> None:  # (the GUI thread works while the helper looks away)
        self.wall += seconds
        self.cpu += seconds


@pytest.fixture
def clocks(monkeypatch):
    def make(busy: int) -> Clocks:
        clocks = Clocks(busy)
        monkeypatch.setattr(step_aside, "_gui_cpu", lambda: clocks.cpu)
        monkeypatch.setattr(step_aside, "_wall", lambda: clocks.wall)
        monkeypatch.setattr(step_aside, "_nap", clocks.sleep)
        return clocks
    return make


def in_a_helper_thread(function) -> None:
    done = threading.Thread(target=function)
    done.start()
    done.join()


def test_a_helper_waits_while_the_gui_thread_works_and_goes_on_once_it_rests(clocks):
    clock = clocks(busy=7)

    def helper() -> None:
        step_aside.step_aside()  # (a first look)
        clock.work(0.0005)  # (the GUI thread in a turn since)
        step_aside.step_aside()

    in_a_helper_thread(helper)
    assert clock.naps == 8  # (seven naps while it worked, and the one that saw it rest)


def test_a_helper_goes_on_at_once_while_the_gui_thread_rests(clocks):
    clock = clocks(busy=0)

    def helper() -> None:
        step_aside.step_aside()
        clock.wall += 0.0005  # (the GUI thread idle meanwhile)
        step_aside.step_aside()

    in_a_helper_thread(helper)
    assert clock.naps == 0


def test_a_helper_waits_at_most_max_wait(clocks):
    clock = clocks(busy=10**6)

    def helper() -> None:
        step_aside.step_aside()
        clock.work(0.0005)
        step_aside.step_aside()

    in_a_helper_thread(helper)
    assert clock.naps == round(step_aside.MAX_WAIT_S / step_aside.NAP_S)


def test_the_gui_thread_never_steps_aside(clocks):
    clock = clocks(busy=10**6)
    step_aside.step_aside()
    clock.work(0.0005)
    step_aside.step_aside()
    assert clock.naps == 0


def test_a_helper_steps_aside_at_each_module_it_imports_within(monkeypatch, tmp_path):
    looked: list[str] = []
    monkeypatch.setattr(step_aside, "step_aside", lambda: looked.append(threading.current_thread().name))
    (tmp_path / "gdstudio_step_aside_probe.py").write_text("import gdstudio_step_aside_probe_b\n")
    (tmp_path / "gdstudio_step_aside_probe_b.py").write_text("")
    (tmp_path / "gdstudio_step_aside_probe_c.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    def helper() -> None:
        with step_aside.stepping_aside():
            import gdstudio_step_aside_probe  # noqa: F401
        import gdstudio_step_aside_probe_c  # noqa: F401  (after it: no look)

    thread = threading.Thread(target=helper, name="importer")
    thread.start()
    thread.join()
    assert looked == ["importer", "importer"] and not step_aside.importing()
    for name in ("gdstudio_step_aside_probe", "gdstudio_step_aside_probe_b", "gdstudio_step_aside_probe_c"):
        sys.modules.pop(name, None)
