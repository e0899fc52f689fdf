"""Background work for the insight tools: core computations run on a private QThreadPool,
never on the GUI thread; results, progress and errors come back by queued signals.

Each `Task` carries a cancel flag the computation polls (`task.cancelled`), a token so a
superseded task's late result is dropped, and `TaskRunner.shutdown()` cancels everything and
joins the pool (the window calls it on close).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from .. import engine, foreground
from ..background import lower_this_thread

# Many-start kernels run on Numba's threads; not every threading layer takes calls from two threads at
# once (workqueue aborts), so tasks that run batches take turns.
BATCH_LOCK = threading.Lock()


def _leave_a_core() -> None:
    """Batches in this (pool) thread use every core but one, so the GUI thread still gets to paint
    (Numba's thread count is per calling thread)."""
    try:
        import numba

        numba.set_num_threads(max(1, numba.config.NUMBA_NUM_THREADS - 1))
    except (ImportError, ValueError):
        pass


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)
    progress = Signal(int, int)


class Task(QRunnable):
    """One computation `work(task)`; it may call `task.report(done, total)` and poll `task.cancelled`."""

    def __init__(self, name: str, work: Callable[[Task], Any], exclusive: bool = False, first: bool = False) -> None:
        super().__init__()
        self.exclusive = exclusive
        self.first = first  # foreground work (foreground.py): counted from now until it has run
        self.setAutoDelete(False)  # Python keeps it; the pool must not delete it under us
        self.name = name
        self.work = work
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.finished = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def report(self, done: int, total: int) -> None:
        if not self.cancelled:
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:  # in a pool thread
        lower_this_thread()
        try:
            if self.cancelled:  # (overtaken before its turn: a loss typed on, a view moved)
                return
            if self.exclusive:  # (a batch: the compiled kernels, from their first compile if it is under way)
                engine.load_batches()
                _leave_a_core()
                with BATCH_LOCK:
                    result = None if self.cancelled else self.work(self)
            else:
                result = self.work(self)
            if not self.cancelled:
                self.signals.done.emit(result)
        except Exception as error:  # the GUI shows it; the thread never dies
            if not self.cancelled:
                text = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
                self.signals.failed.emit(text or traceback.format_exc(limit=1))
        finally:
            if self.first:
                foreground.end()
            self.finished.set()


class TaskRunner(QObject):
    """At most one task per name: starting one cancels the previous of the same name.

    `run_tool` is what every insight tool's computation goes through (as Orange's ConcurrentWidgetMixin):
    an entry in the task bar that moves with the progress, the result to `done`, a failure said in one
    status line, and the entry gone however the task ends, cancelled included."""

    def __init__(self, parent: QObject | None = None, status: Callable[[str], None] = lambda _text: None,
                 busy: Callable[..., None] = lambda *_args: None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.tasks: dict[str, Task] = {}
        self._all: list[Task] = []
        self._status, self._busy = status, busy  # (the status line; the task bar's set(name, label, done, total))

    def run_tool(self, name: str, label: str, work: Callable[[Task], Any], done: Callable[[Any], None],
                 failed: Callable[[str], None] | None = None, exclusive: bool = True) -> Task:
        """A tool's computation, shown in the task bar as `label` until it ends; `failed` runs after the
        failure is said ("<name>: <error>")."""

        def finished(result: Any) -> None:
            self._busy(name, None)
            done(result)

        def refused(error: str) -> None:
            self._busy(name, None)
            self._status(f"{name}: {error}")
            if failed is not None:
                failed(error)

        self._busy(name, label)
        return self.start(name, work, finished, refused, lambda a, b: self._busy(name, label, a, b), exclusive=exclusive)

    def start(self, name: str, work: Callable[[Task], Any], done: Callable[[Any], None],
              failed: Callable[[str], None] | None = None, progress: Callable[[int, int], None] | None = None,
              exclusive: bool = False, first: bool = False) -> Task:
        """Run `work(task)` on the pool; `exclusive` tasks (many-start batches) run one at a time; while `first`
        ones wait or run, typesetting and kernel compiles wait (foreground.py)."""
        self.cancel(name)
        task = Task(name, work, exclusive, first)
        task.signals.done.connect(lambda result, t=task: self._finish(t, done, result))
        task.signals.failed.connect(lambda text, t=task: self._finish(t, failed, text))
        if progress is not None:
            task.signals.progress.connect(lambda a, b, t=task: self._current(t) and progress(a, b))
        self.tasks[name] = task
        self._all = [t for t in self._all if not t.finished.is_set()] + [task]
        if first:
            foreground.begin()
        self.pool.start(task)
        return task

    def _current(self, task: Task) -> bool:
        return self.tasks.get(task.name) is task and not task.cancelled

    def _finish(self, task: Task, slot: Callable | None, value: Any) -> None:
        if not self._current(task):
            return
        del self.tasks[task.name]
        if slot is not None:
            slot(value)

    def busy(self, name: str) -> bool:
        return name in self.tasks

    def cancel(self, name: str) -> None:
        task = self.tasks.pop(name, None)
        if task is not None:
            task.cancel()
            self._busy(name, None)

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Cancel every task and join the pool's threads (idempotent)."""
        for name in list(self.tasks):
            self.cancel(name)
        for task in self._all:
            task.cancel()
        self.pool.waitForDone()
        self._all = []
