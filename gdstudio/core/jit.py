"""Numba settings shared by the compiled update rules, the fused multiply-add torch's kernels use, and the
decorator that lets the kernel's modules import without Numba.

Importing Numba takes ~0.3 s of the interpreter (with its lock). A first start's runs step in Python meanwhile
(interpreted.py: the very same functions), and its kernel is compiled in a child process, so the studio needs
Numba only once it loads the compiled kernel: `njit` here records a function, and its dispatcher is made, with
every other recorded one (`realize`), when a kernel is compiled or a recorded function is called from Python.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

JIT = dict(cache=True, nogil=True, error_model="numpy")
# Small helpers are inlined into their callers: a call passing Numba arrays costs more than they do.
INLINE = dict(JIT, inline="always")


class Later:
    """What Numba makes of a function (`make`), made at `realize`; its plain Python form is `py_func`, as a
    Numba dispatcher's is. Called from Python, it realizes and calls what Numba made, as a dispatcher would."""

    def __init__(self, py_func: Callable, make: Callable[[], object]) -> None:
        global _unmade
        self.py_func, self._make, self._made = py_func, make, None
        with _LOCK:
            _unmade = True

    def made(self) -> object:
        with _LOCK:  # (one dispatcher, whichever thread asks first)
            if self._made is None:
                self._made = self._make()
            return self._made

    def __call__(self, *args):
        realize()
        return self.made()(*args)


_unmade = False  # (a function recorded since the last `realize`)
_LOCK = threading.RLock()


def njit(**options) -> Callable[[Callable], Later]:
    """numba.njit(**options), applied at `realize`."""
    def record(function: Callable) -> Later:
        def make() -> object:
            import numba

            return numba.njit(**options)(function)
        return Later(function, make)
    return record


def realize() -> None:
    """Every recorded function made by Numba, and put in its place in the modules that hold it (so that compiled
    code calling it finds a dispatcher, and inlines it), once."""
    global _unmade
    with _LOCK:
        if not _unmade:
            return
        for module in list(sys.modules.values()):
            names = getattr(module, "__dict__", None)
            if not names or not getattr(module, "__name__", "").startswith("gdstudio.core"):
                continue
            for name, value in list(names.items()):
                if isinstance(value, Later):
                    names[name] = value.made()
        _unmade = False


def _fma_intrinsic() -> object:
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def fma(typingctx, a, b, c):
        signature = types.float64(types.float64, types.float64, types.float64)

        def codegen(context, builder, sig, args):
            return builder.fma(*args)

        return signature, codegen

    return fma


def _numba_prange() -> object:
    from numba import prange

    return prange


def _compiled_only(*_args) -> float:
    raise NotImplementedError("fma runs in compiled code only (interpreted.py computes it exactly: exact_fma)")


# a·b + c rounded once (llvm.fma). torch's CPU kernels compute `x.add(y, alpha=a)`, `addcmul` and `lerp` this way
# (compiled with contraction, or with explicit fmadd in their vector paths), so the update rules use it where torch
# does to get its numbers bit for bit.
fma = Later(_compiled_only, _fma_intrinsic)
prange = Later(range, _numba_prange)  # threads in compiled code (range in Python)
