"""Cycles are collected on the GUI thread, young ones often (short pauses), the oldest at most every 30 s."""

from __future__ import annotations

import gc
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
