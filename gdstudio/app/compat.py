"""Work around a reference-count bug of PySide6 6.12 on CPython < 3.12.

There, every call of a Qt method returning void drops one reference to `None`
and every signal emit drops one to `True`/`False` (the bindings assume the
immortal singletons of Python 3.12+). A studio that repaints live makes
thousands of such calls per second, and CPython aborts with "Fatal Python
error: none_dealloc" within seconds. We detect the leak by probing a void call
and, only if it leaks, give the three singletons an enormous reference count so
they behave as immortal, as they are in Python 3.12 and later.
The proper fix is outside this package: PySide6 != 6.12.0 on Python 3.11, or Python ≥ 3.12.
"""

from __future__ import annotations

import ctypes
import sys

BOOST = 1 << 40  # decades of leaking at millions of calls per second


def _leaks() -> bool:
    from PySide6.QtCore import QObject, QPointF, Signal

    class _Probe(QObject):
        ping = Signal()

    point, probe = QPointF(), _Probe()
    before = sys.getrefcount(None), sys.getrefcount(True) + sys.getrefcount(False)
    for _ in range(64):
        point.setX(1.0)  # returns void
        probe.ping.emit()  # returns a bool
    after = sys.getrefcount(None), sys.getrefcount(True) + sys.getrefcount(False)
    return after[0] < before[0] - 32 or after[1] < before[1] - 32


def protect_singletons() -> bool:
    """Make None/True/False effectively immortal if (and only if) the installed PySide6 leaks them."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "gettotalrefcount"):
        return False
    if not _leaks():
        return False
    for obj in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of every object
        before = sys.getrefcount(obj)
        count.value += BOOST
        if sys.getrefcount(obj) != before + BOOST:  # not the layout we expected: undo and give up
            count.value -= BOOST
            return False
    return True


PROTECTED = protect_singletons()
