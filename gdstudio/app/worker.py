"""The optimizer runs here, off the GUI thread.

`RunWorker` is a QObject without parent moved to its own QThread. Its loop calls
`ScenarioRunner.advance` in chunks and emits each chunk's rows by signal; the
GUI thread never touches the runner. Pause, single steps, speed changes and
cancellation arrive through a lock-protected state checked between chunks (the
worker's own event loop is busy in the loop, so queued slots would not run).
`RunController` owns one worker/thread pair at a time: starting a run cancels
and joins the previous one, and `stop()` is what the window calls on close.
"""

from __future__ import annotations

import math
import threading
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.expression import Objective
from ..core.runner import ScenarioRunner
from ..core.scenario import Scenario

FRAME = 0.03  # seconds of work per chunk: about one redraw of the GUI
MAX_CHUNK = 1 << 20


class RunWorker(QObject):
    """Advances a ScenarioRunner chunk by chunk; the only owner of that runner."""

    # every signal carries the worker's token, so the controller can drop a cancelled worker's late news
    started = Signal(int, list)  # [(label, variables)] once the runner is compiled
    chunks = Signal(int, list)  # list[Chunk]
    finished = Signal(int, str)  # "", or an error message
    # insight (optimizer state panel): [(run index, copy of kernel.ST[0])] after each chunk
    kernel_state = Signal(int, list)

    def __init__(self, token: int, scenario: Scenario, objective: Objective | None, speed: float, paused: bool) -> None:
        super().__init__()
        self.token = token
        self._scenario, self._objective = scenario, objective
        self._cond = threading.Condition()
        self._speed = speed  # steps per second per run; math.inf = as fast as possible
        self._paused = paused
        self._pending_steps = 0
        self._cancelled = False

    # -- called from the GUI thread -------------------------------------------------
    def set_speed(self, speed: float) -> None:
        with self._cond:
            self._speed = speed
            self._cond.notify_all()

    def set_paused(self, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def step(self, n: int = 1) -> None:
        with self._cond:
            self._paused = True
            self._pending_steps += n
            self._cond.notify_all()

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    # -- runs in the worker thread --------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            runner = ScenarioRunner(self._scenario, self._objective)
            self.started.emit(self.token, [(r.label, runner.objective.variables) for r in runner.runs])
            self._loop(runner)
            self.finished.emit(self.token, "")
        except Exception as error:  # a run the engine refuses: report it, never crash the thread
            self.finished.emit(self.token, f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error))

    def _next_chunk(self, per_step: float) -> int:
        """How many steps to take now (0 = cancelled), waiting while paused or pacing."""
        with self._cond:
            while True:
                if self._cancelled:
                    return 0
                if self._pending_steps:
                    n, self._pending_steps = self._pending_steps, 0
                    return n
                if not self._paused:
                    break
                self._cond.wait()
            if math.isinf(self._speed):
                return int(min(MAX_CHUNK, max(1, FRAME / max(per_step, 1e-9))))
            return max(1, round(self._speed * FRAME))

    def _pace(self, n: int, began: float) -> None:
        with self._cond:
            if math.isinf(self._speed) or self._cancelled:
                return
            due = began + n / self._speed
            while not self._cancelled and not self._pending_steps and (left := due - time.perf_counter()) > 0:
                self._cond.wait(left)
                if math.isinf(self._speed):
                    return

    def _loop(self, runner: ScenarioRunner) -> None:
        per_step = 1e-6  # seconds per step per run, learned as we go
        while not runner.finished:
            n = self._next_chunk(per_step)
            if n == 0:
                runner.cancel()
                return
            began = time.perf_counter()
            done = runner.advance(n)
            spent = time.perf_counter() - began
            taken = max((len(c.rows) for c in done), default=0)
            if taken:
                per_step = 0.5 * per_step + 0.5 * spent / taken
            self.chunks.emit(self.token, done)
            # insight: a copy of each run's optimizer state buffers, so the GUI never reads the runner's arrays
            self.kernel_state.emit(self.token, [(r.index, r.kernel.ST[0].copy()) for r in runner.runs])
            self._pace(n, began)


class RunController(QObject):
    """One run at a time: start (cancelling the previous), pause, step, stop and join."""

    started = Signal(list)
    chunks = Signal(list)
    finished = Signal(str)
    kernel_state = Signal(list)  # insight: [(run index, state buffers copy)], see RunWorker.kernel_state

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._token = 0
        self.speed = 1000.0
        self.paused = False

    @property
    def active(self) -> bool:
        return self._worker is not None

    def start(self, scenario: Scenario, objective: Objective | None = None, paused: bool = False) -> None:
        self.stop()
        self.paused = paused
        self._token += 1
        worker = RunWorker(self._token, scenario, objective, self.speed, paused)
        thread = QThread()
        thread.setObjectName("gdstudio-run")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.started.connect(self._on_started)
        worker.chunks.connect(self._on_chunks)
        worker.kernel_state.connect(self._on_kernel_state)  # insight
        worker.finished.connect(self._on_finished)
        self._worker, self._thread = worker, thread
        thread.start()

    def _current(self, token: int) -> bool:
        return self._worker is not None and token == self._worker.token

    def _on_started(self, token: int, runs: list) -> None:
        if self._current(token):
            self.started.emit(runs)

    def _on_chunks(self, token: int, chunks: list) -> None:
        if self._current(token):  # a cancelled worker's late chunks are dropped
            self.chunks.emit(chunks)

    def _on_kernel_state(self, token: int, states: list) -> None:  # insight: relay the optimizer state copies
        if self._current(token):
            self.kernel_state.emit(states)

    def _on_finished(self, token: int, error: str) -> None:
        if not self._current(token):
            return
        self._join()
        self.finished.emit(error)

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if self._worker:
            self._worker.set_speed(speed)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        if self._worker:
            self._worker.set_paused(paused)

    def step(self, n: int = 1) -> None:
        self.paused = True
        if self._worker:
            self._worker.step(n)

    def stop(self) -> None:
        """Cancel the running worker and join its thread (safe to call at any time)."""
        if self._worker is not None:
            self._worker.cancel()
        self._join()

    def _join(self) -> None:
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()  # the loop has returned or will after cancel; exec() then ends at once
            thread.wait()
        # Python owns both objects; they are freed here, after the thread has ended
        del worker, thread
