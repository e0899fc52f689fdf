"""The studio's helper threads yield the processor to the GUI thread.

On two cores, a run at full speed, a sweep's threaded kernel or a field's evaluation keep one or both busy, and the
GUI thread waited its turn behind them: gaps of 100-200 ms in the event loop while nothing of its own was slow.
A helper thread lowers its own scheduling priority once, as it starts (Linux: a thread's nice value, which the
threads it starts inherit, Numba's parallel workers among them). Nothing is slower when the GUI thread is idle,
and what the GUI thread asks for still runs at once: it only goes first when both want the processor.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

NICE = 10  # CFS gives a thread of nice 0 about ten times the processor of one at nice 10 when both want it


def lower_this_thread() -> None:
    """Lower the calling thread's priority to NICE (a no-op where threads have no nice value of their own: only Linux
    takes a thread id for PRIO_PROCESS; elsewhere that id could name another process)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread) < NICE:
            os.setpriority(os.PRIO_PROCESS, thread, NICE)
    except OSError:  # (a sandbox that forbids it: the thread keeps its priority)
        pass


def helper_thread(name: str) -> ThreadPoolExecutor:
    """A one-thread executor of lowered priority, its thread started now, while the studio is built: a thread started
    later, by a first `submit` on the GUI thread, made it wait for the new thread to run (`Thread.start`), 8-13 ms
    while other threads kept both cores busy (a first file opened while a landscape was computed)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"gdstudio-{name}", initializer=lower_this_thread)
    pool.submit(int)
    return pool
