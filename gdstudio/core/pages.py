"""Fault fresh memory in, writable, from a helper thread, without changing a byte and without the memory-map lock.

The first write to a page of fresh memory is a page fault, which in a virtual machine costs from microseconds to
tens of milliseconds. The studio's run buffers take some 27 MB of fresh memory a second at twenty runs at full
speed, so a helper thread faults their next pages in before the GUI thread writes rows there (app/buffers.py).

It did that with madvise(MADV_POPULATE_WRITE), which holds the process's memory-map lock while it faults. Every
thread that maps memory meanwhile waits for the lock, and they do so holding the interpreter lock: CPython maps each
16 KB chunk of a thread's frame stack, and glibc grows a thread's heap with mprotect. The GUI thread then waited for
the interpreter lock: with twenty runs at full speed and nothing drawn, its p99 gap was 29-41 ms (now 9-10 ms).
A plain write fault takes only the lock of the memory area it is in (Linux 6.4 and later), so nobody else waits.
Each page is touched with an atomic compare-and-swap of the word's own value. The writer may fill the same page at
the same moment: the swap then either finds the writer's value and changes nothing, or writes back what it read.
"""

from __future__ import annotations

import mmap
from functools import lru_cache

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .jit import JIT

PAGE = mmap.PAGESIZE


@intrinsic
def _write_back(typingctx, address):
    """The 8-byte word at `address` swapped with itself (an atomic read-modify-write that LLVM keeps: an idempotent
    atomic add would become a load, which maps the shared zero page instead of a page of our own)."""

    def codegen(context, builder, signature, args):
        pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        value = builder.load_atomic(pointer, "monotonic", 8)
        builder.cmpxchg(pointer, value, value, "monotonic", "monotonic")
        return context.get_dummy_value()

    return types.void(types.intp), codegen


def _fault_in(first: int, stop: int, page: int) -> None:
    """Every page with a word in [first, stop) written to (`first` a multiple of 8), leaving its contents as they are."""
    at = first
    while at + 8 <= stop:
        _write_back(at)
        at += page - at % page


@lru_cache(maxsize=1)
def compiled_fault_in():
    """`_fault_in`, compiled (or loaded from Numba's cache) on first use, never at import."""
    return njit(types.void(types.intp, types.intp, types.intp), **JIT)(_fault_in)


def fault_in(array: np.ndarray, start: int, stop: int) -> None:
    """Fault bytes [start, stop) of a contiguous array in, writable; the interpreter lock is released meanwhile, and
    another thread may write the same bytes meanwhile."""
    address = array.ctypes.data
    first = address + start
    compiled_fault_in()(first + -first % 8, address + min(stop, array.nbytes), PAGE)
