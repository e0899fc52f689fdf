"""Cycles are collected on the GUI thread, young ones often (short pauses), the oldest at most every 30 s."""

from __future__ import annotations

import gc
import threading
import time
import weakref

from gdstudio.app import collector


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_young_cycles_are_collected_on_the_gui_thread_and_full_collections_are_rare(qtbot, monkeypatch):
    assert not gc.isenabled() and collector._collector is not None
    monkeypatch.setattr(collector._collector, "_full", time.monotonic())  # (a full collection just now)
    full = []
    collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda generation=2: (full.append(generation == 2), collect(generation))[1])
    gone = weakref.ref(Node())
    garbage = [Node() for _ in range(3 * gc.get_threshold()[0])]
    del garbage
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
    for _ in range(30):  # (enough collections of the young that the oldest generation's count passes its threshold)
        garbage = [Node() for _ in range(2 * gc.get_threshold()[0])]
        del garbage
        before = len(full)
        qtbot.waitUntil(lambda: len(full) > before, timeout=5000)
    assert not any(full)


def test_what_the_engines_import_made_is_frozen_at_once(monkeypatch):
    """The ~100,000 objects of SymPy's import met the GUI thread's next young collection (20-28 ms, in the launch)."""
    from gdstudio.app import engine

    made: list[list[int]] = []
    monkeypatch.setattr(engine, "lower_this_thread", lambda: None)  # (this test's thread keeps its priority)
    monkeypatch.setattr(engine, "load", lambda: made.extend([i] for i in range(5000)))  # (as an import would)
    monkeypatch.setattr(engine, "load_kernel", lambda: made.extend([i] for i in range(5000)))
    before = gc.get_freeze_count()
    engine.EngineLoader()._load()
    assert gc.get_freeze_count() >= before + 10_000


def test_nothing_is_collected_while_a_helper_thread_imports_the_engine(qtbot):
    """What an import makes is the modules' own and lives on: collected half-made, SymPy's met the GUI thread's young
    collection in the launch (20-30 ms); it is frozen once made (above)."""
    with collector.importing():
        gone = weakref.ref(Node())
        garbage = [Node() for _ in range(3 * gc.get_threshold()[0])]
        del garbage
        collector._collector.check()
        assert gone() is not None
    collector._collector.check()
    assert gone() is None


def test_a_first_starts_compile_in_a_child_does_not_hold_collections_off(monkeypatch):
    """Runs step in Python for the ten seconds of the child's compile: their cycles are collected meanwhile, and only
    the kernel's loading after it (Numba's import) holds collections off."""
    import gdstudio.core
    from gdstudio.app import engine
    from gdstudio.core import kernel, trace

    seen: dict[str, bool] = {}

    class Child:
        def wait(self) -> None:
            seen["compiling"] = bool(collector._importing)

    monkeypatch.setattr(gdstudio.core, "kernel_cached", lambda: False)
    monkeypatch.setattr(engine, "_stopped", threading.Event())  # (not the one an earlier test's closed window set)
    monkeypatch.setattr(engine, "_compile_in_a_child", lambda code: Child())
    monkeypatch.setattr(kernel, "compiled_advance", lambda: seen.setdefault("loading", bool(collector._importing)))
    monkeypatch.setattr(trace, "compiled_tracer", lambda: None)
    engine._Part(engine._kernel).load()  # (as the engine loads it)
    assert seen == {"compiling": False, "loading": True}
