"""Faulting memory in ahead of a writer (core/pages.py): every page asked for becomes resident, no byte changes."""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading

import numpy as np
import pytest

from gdstudio.core.pages import PAGE, fault_in

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="page residency is read with mincore")


def resident(array: np.ndarray) -> np.ndarray:
    """Whether each whole page of the array is in memory (mincore)."""
    libc = ctypes.CDLL(None, use_errno=True)
    address = array.ctypes.data
    first = address + -address % PAGE
    pages = (address + array.nbytes - first) // PAGE
    found = np.zeros(pages, np.uint8)
    assert libc.mincore(ctypes.c_void_p(first), ctypes.c_size_t(pages * PAGE), found.ctypes.data_as(ctypes.c_void_p)) == 0
    return found.astype(bool)


def fresh(pages: int) -> np.ndarray:
    """A float array over memory no one has touched: an anonymous mapping of its own (page-aligned)."""
    return np.frombuffer(mmap.mmap(-1, pages * PAGE), np.float64)


def test_the_pages_asked_for_become_resident_and_keep_what_they_hold():
    array = fresh(64)
    per_page = PAGE // 8
    array[::2 * per_page] = np.arange(32) + 0.5  # the first word of every other page: those pages are in memory
    assert resident(array).sum() == 32
    fault_in(array, 8 * PAGE + 24, 40 * PAGE)  # (a start that is not a page's: its page counts)
    found = resident(array)
    assert found[8:40].all()
    assert not found[41::2].any() and not found[1:8:2].any()  # nothing outside the range
    expected = np.zeros(len(array))
    expected[::2 * per_page] = np.arange(32) + 0.5
    assert np.array_equal(array, expected)


def test_a_writer_racing_the_faulting_thread_loses_nothing():
    """The GUI thread writes rows into pages the helper thread may be faulting in at that very moment."""
    array = fresh(512)
    rows = np.random.default_rng(0).random(len(array))
    done = threading.Event()

    def write() -> None:
        for start in range(0, len(array), 512):
            array[start: start + 512] = rows[start: start + 512]
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        fault_in(array, 0, array.nbytes)
    writer.join()
    assert np.array_equal(array, rows)
