"""The optimizer runs here, off the GUI thread.

`RunWorker` is a QObject without parent moved to its own QThread. Its loop calls
`ScenarioRunner.advance` in chunks sized by time (about `CHUNK_SECONDS` of
kernel work each, which releases the GIL while it steps) and hands each chunk's
rows to the GUI thread through a lock-protected outbox. Only the first chunk
put into an empty outbox sends a (queued) signal, so however fast the worker
goes the GUI gets at most one notification per event-loop pass and takes
every chunk made meanwhile at once. Pause, single steps, speed changes and cancellation arrive
through a lock-protected state checked between chunks (the worker's own event
loop is busy in the loop, so queued slots would not run). Until the compiled code
is ready (a first start compiles the kernel for ten seconds), chunks step in
Python, bit for bit the same (core/interpreted.py); the compiling happens in the
warmer's thread, so a Reset never waits for it.

`RunController` owns one worker/thread pair at a time: starting a run cancels
and joins the previous one, and `stop()` is what the window calls on close.
"""

from __future__ import annotations

import math
import threading
import time
from concurrent import futures
from concurrent.futures import Future
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..core.scenario import Scenario
from ..core.trajectory import PARAMS
from . import engine
from .background import lower_this_thread
from .objectives import OBJECTIVES

if TYPE_CHECKING:
    from ..core.expression import Objective
    from .kernels import KernelWarmer
    from ..core.runner import Chunk, ScenarioRunner

CHUNK_SECONDS = 0.02  # kernel time per chunk at most (at full speed, about this)
FRAME = 0.03  # seconds between chunks when paced (a finite steps-per-second speed)
MAX_CHUNK = 1 << 20
# Rows handed to the GUI thread and not yet taken: past this the worker waits for it. The GUI copies every row
# (an export equals `gdstudio run --out`), so at full speed twenty runs making millions of rows a second kept
# it copying and painting for seconds on end; now a delivery is at most about this many rows (a few ms of work).
MAX_BACKLOG_ROWS = 20_000
# Deliveries to the GUI thread are at least this far apart: rows a faster worker makes meanwhile wait in the outbox
# (and hold it back, MAX_BACKLOG_ROWS), so at full speed the GUI thread copies rows about once a frame, not as often
# as it can: it stays free for input and painting instead of spending every free moment taking rows.
DELIVERY_SPACING_S = 0.03


class _Scratch:
    """Stands in for a RunProgress's Trajectory inside the worker: the kernel writes each chunk
    into one reused array (the runner copies the rows out), and nothing is kept. The GUI thread
    keeps the history (buffers.RunBuffer), so the worker neither stores every step twice nor
    spends time thinning a second copy of a long run."""

    def __init__(self, columns: int) -> None:
        self._rows = np.empty((1024, columns))

    def reserve(self, n: int) -> np.ndarray:
        if n > len(self._rows):
            self._rows = np.empty((max(n, 2 * len(self._rows)), self._rows.shape[1]))
        return self._rows[:n]

    def commit(self, n: int) -> None:
        pass


class RunWorker(QObject):
    """Advances a ScenarioRunner chunk by chunk; the only owner of that runner."""

    # every signal carries the worker's token, so the controller can drop a cancelled worker's late news
    started = Signal(int, list)  # [(label, variables)] once the runner is compiled
    ready = Signal(int)  # the outbox went from empty to not empty: call take()
    finished = Signal(int, str)  # "", or an error message
    # insight (optimizer state panel): [(run index, copy of kernel.ST[0])] as of the latest chunk; it travels
    # with the chunks (take_states) so the GUI never reads the runner's arrays

    def __init__(self, token: int, scenario: Scenario, objective: Objective | None, speed: float, paused: bool,
                 warmer: KernelWarmer | None = None) -> None:
        super().__init__()
        self.token = token
        self._scenario, self._objective = scenario, objective
        self._warmer = warmer  # compiles what the runs need in its own thread (without one, this thread compiles it)
        self._compiles: dict[tuple[int, bool], Future] = {}
        self._cond = threading.Condition()
        self._speed = speed  # steps per second per run; math.inf = as fast as possible
        self._paused = paused
        self.held = False  # waiting, paused, for a step or a resume: it makes nothing until told
        self._pending_steps = 0
        self._backlog = 0  # rows posted and not yet taken (under _cond)
        self._cancelled = False
        self._outbox: list[Chunk] = []
        self._states: list | None = None
        self._outbox_lock = threading.Lock()

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

    def take(self) -> tuple[list[Chunk], list | None]:
        """Everything produced since the last call (in order; not concatenated, which would copy every
        row once more into fresh memory) and the latest optimizer states."""
        with self._outbox_lock:
            chunks, self._outbox = self._outbox, []
            states, self._states = self._states, None
        with self._cond:
            self._backlog = 0
            self._cond.notify_all()
        return chunks, states

    # -- runs in the worker thread --------------------------------------------------
    @Slot()
    def run(self) -> None:
        lower_this_thread()
        try:
            engine.load_runner()
            from ..core.runner import ScenarioRunner

            runner = ScenarioRunner(self._scenario, self._objective or self._shared_objective())
            for progress in runner.runs:
                progress.trajectory = _Scratch(PARAMS + progress.objective.dimension)
            self.started.emit(self.token, [(r.label, runner.objective.variables) for r in runner.runs])
            self._loop(runner)
            self.finished.emit(self.token, "")
        except Exception as error:  # a run the engine refuses: report it, never crash the thread
            self.finished.emit(self.token, f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error))

    def _shared_objective(self) -> Objective:
        """The scenario's loss as the editor derives it at the same moment (a Run pressed before the loss was shown):
        derived once, not twice at once."""
        scenario, data = self._scenario, self._scenario.data
        return OBJECTIVES.get(scenario.loss, scenario.variables, data.dataset.columns if data else (),
                              data.dataset.values if data else None)

    def _post(self, chunks: list[Chunk], states: list) -> None:
        with self._outbox_lock:
            notify = not self._outbox and self._states is None
            self._outbox.extend(chunks)
            self._states = states
        if notify:
            self.ready.emit(self.token)
        with self._cond:  # (backpressure: see MAX_BACKLOG_ROWS)
            self._backlog += sum(len(chunk.rows) for chunk in chunks)
            while self._backlog > MAX_BACKLOG_ROWS and not self._cancelled:
                self._cond.wait()

    def _next_chunk(self, per_step: float, running: int = 1) -> int:
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
                self.held = True
                self._cond.wait()
                self.held = False
            fit = CHUNK_SECONDS / max(per_step, 1e-10)  # steps in a chunk's time
            if math.isinf(self._speed):  # (steps of every running run: rows, at most a backlog's worth)
                return int(min(MAX_CHUNK, MAX_BACKLOG_ROWS // max(running, 1), max(1, fit)))
            # a frame's worth of steps, but no more than a chunk's time: a Reset or a Pause waits for the chunk under
            # way, and at 1000 steps a second over a million rows a frame's 30 steps held a Reset for up to 0.6 s
            return max(1, min(round(self._speed * FRAME), int(fit)))

    def _pace(self, n: int, began: float) -> None:
        with self._cond:
            if math.isinf(self._speed) or self._cancelled:
                return
            due = began + n / self._speed
            while not self._cancelled and not self._pending_steps and (left := due - time.perf_counter()) > 0:
                self._cond.wait(left)
                if math.isinf(self._speed):
                    return

    def _interpret(self, runner: ScenarioRunner) -> bool | None:
        """Whether this chunk steps in Python (bit for bit the compiled kernel): while the compiled kernel (EngineLoader)
        or a run's compiled loss (the warmer) is being made, so a first start draws its first steps at once, not ten
        seconds later. Where Python cannot step a run, wait for them here; None: cancelled meanwhile."""
        runs = [run for run in runner.runs if not run.done]
        pending = self._compiling(runs)
        if not pending:
            return False
        if all(run.python_fg is not None for run in runs):
            return True
        while pending:  # (a Reset or a new Run ends the wait at once: the compile goes on in the warmer's thread)
            with self._cond:
                if self._cancelled:
                    return None
            pending = list(futures.wait(pending, timeout=0.05).not_done)
        return False

    def _compiling(self, runs: list) -> list[Future]:
        """What the runs still need compiled, asked for once (in the warmer's thread) and not done yet."""
        pending = []
        for run in runs:
            if run.compiled:
                continue
            hessian = run.plan.optimizer.needs_hessian
            if self._warmer is None:
                engine.load_kernel()
                run.fg  # noqa: B018  (compiled here and now)
                continue
            key = (id(run.objective), hessian)
            if key not in self._compiles:
                self._compiles[key] = self._warmer.warm(run.objective, hessian)
            if not self._compiles[key].done():
                pending.append(self._compiles[key])
        return pending

    def _loop(self, runner: ScenarioRunner) -> None:
        # seconds per step (of every unfinished run together), learned as we go: from one whole chunk, so the first
        # chunk is one step (a step over a million rows takes milliseconds: a guess of 1 µs made the first chunk
        # 30 s long, and a Reset, which waits for the chunk under way, froze the studio that long)
        per_step = CHUNK_SECONDS
        while not runner.finished:
            n = self._next_chunk(per_step, sum(not run.done for run in runner.runs))
            if n == 0:
                runner.cancel()
                return
            interpret = self._interpret(runner)
            if interpret is None:
                runner.cancel()
                return
            began = time.perf_counter()
            done = runner.advance(n, interpret)
            spent = time.perf_counter() - began
            taken = max((len(c.rows) for c in done), default=0)
            if taken:  # rows are at most n: a chunk never grows more than 4x from one to the next
                per_step = max(0.5 * per_step + 0.5 * spent / taken, per_step / 4)
            self._post(done, [(r.index, r.kernel.ST[0].copy()) for r in runner.runs])
            self._pace(n, began)


class RunController(QObject):
    """One run at a time: start (cancelling the previous), pause, step, stop and join."""

    started = Signal(list)
    chunks = Signal(list)
    finished = Signal(str)
    kernel_state = Signal(list)  # insight: [(run index, state buffers copy)], see RunWorker.take

    def __init__(self, parent: QObject | None = None, warmer: KernelWarmer | None = None) -> None:
        super().__init__(parent)
        self._warmer = warmer
        self._thread: QThread | None = None
        self._worker: RunWorker | None = None
        self._token = 0
        self.speed = 1000.0
        self.paused = False
        self._delivered = 0.0  # (time.monotonic() of the latest delivery: see DELIVERY_SPACING_S)
        self._started = 0  # token of the latest worker whose start the GUI thread has handled (its buffers exist)
        self._due = QTimer(self, singleShot=True, timerType=Qt.TimerType.PreciseTimer)
        self._due.timeout.connect(self._deliver)

    @property
    def active(self) -> bool:
        return self._worker is not None

    def held(self) -> bool:
        """The runs are paused and the worker waits: nothing more comes until a step or a resume."""
        return self._worker is not None and self._worker.held

    def start(self, scenario: Scenario, objective: Objective | None = None, paused: bool = False) -> None:
        self.stop()
        self.paused = paused
        self._token += 1
        worker = RunWorker(self._token, scenario, objective, self.speed, paused, self._warmer)
        thread = QThread()
        thread.setObjectName("gdstudio-run")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.started.connect(self._on_started)
        worker.ready.connect(self._on_ready)
        worker.finished.connect(self._on_finished)
        self._worker, self._thread = worker, thread
        thread.start()

    def _current(self, token: int) -> bool:
        return self._worker is not None and token == self._worker.token

    def _on_started(self, token: int, runs: list) -> None:
        if self._current(token):
            self._started = token
            self.started.emit(runs)
            # the first rows a frame after the views made the runs' items, not in the same pass of the event loop:
            # with twenty runs the two together (and the window's new layout) were one gap of up to 270 ms
            self._delivered = time.monotonic()

    def _on_ready(self, token: int) -> None:
        if not self._current(token):  # a cancelled worker's late chunks are dropped
            return
        wait = self._delivered + DELIVERY_SPACING_S - time.monotonic()
        if not self._due.isActive():  # (a timer even when due now: what was posted before, a paint, a new layout,
            self._due.start(max(0, math.ceil(wait * 1000)))  # is handled and the loop turns before rows are taken)

    def _deliver(self) -> None:
        self._due.stop()
        if self._worker is None or self._worker.token != self._started:  # (rows before their runs' start: a timer
            return  # due for a cancelled worker fired after the next one had made rows, but before its start was handled)
        self._delivered = time.monotonic()
        chunks, states = self._worker.take()
        if chunks:
            self.chunks.emit(chunks)
        if states is not None:
            self.kernel_state.emit(states)

    def _on_finished(self, token: int, error: str) -> None:
        if not self._current(token):
            return
        self._deliver()  # whatever is still in the outbox comes before the end
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
        self._due.stop()  # (its delivery was the joined worker's)
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is not None:
            thread.quit()  # the loop has returned or will after cancel; exec() then ends at once
            thread.wait()
        # Python owns both objects; they are freed here, after the thread has ended
        del worker, thread
