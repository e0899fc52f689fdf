"""Whole paths computed off the GUI thread, the latest request winning.

A drag asks for new paths at every mouse move, faster than they can be drawn. The worker keeps one
pending request (a newer one replaces it: positions the mouse passed over are never computed) and one
answer (a newer one replaces it: a frame the GUI had no time for is skipped, never queued); work on a
request that has been overtaken stops between chunks (a drag's frame, short by its deadline, is finished:
stopping it for the next would leave nothing to draw while the mouse moves). `ready` fires only when the answer slot goes
from empty to full, so the GUI hears of at most one frame per event-loop pass.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from .background import lower_this_thread

if TYPE_CHECKING:  # (SymPy and Numba load when a path is first computed, not when the studio opens)
    from ..core.expression import Objective
    from ..core.scenario import Scenario

FRAME_SECONDS = 0.02  # compute time a dragging frame may take before its runs are cut short (~30 frames/s)


@dataclass(frozen=True)
class LiveRequest:
    scenario: Scenario
    objective: Objective
    dragging: bool  # a frame of a drag: runs may be cut at FRAME_SECONDS
    token: int


@dataclass(frozen=True)
class LiveAnswer:
    request: LiveRequest
    paths: list = field(default_factory=list)  # [core.whole_paths.WholePath]
    error: str = ""
    seconds: float = 0.0


class LiveWorker(QObject):
    """One Python thread (started on the first request) answering the latest request."""

    ready = Signal()  # an answer waits: take() it on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending: LiveRequest | None = None
        self._answer: LiveAnswer | None = None
        self._computing = False
        self._generation = 0  # bumped by cancel: what is being computed is dropped
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- the GUI thread -----------------------------------------------------------------
    def request(self, request: LiveRequest) -> None:
        with self._cond:
            if self._closed:
                return
            self._pending = request
            self._cond.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gdstudio-live", daemon=True)
                self._thread.start()

    def take(self) -> LiveAnswer | None:
        with self._cond:
            answer, self._answer = self._answer, None
        return answer

    @property
    def busy(self) -> bool:
        """A request is pending or being computed."""
        with self._cond:
            return self._pending is not None or self._computing

    def cancel(self) -> None:
        """Forget the pending request, the answer waiting and what is being computed."""
        with self._cond:
            self._pending, self._answer = None, None
            self._generation += 1

    def shutdown(self) -> None:
        """Stop and join the thread (idempotent)."""
        with self._cond:
            self._closed, self._pending = True, None
            self._generation += 1
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    # -- the worker thread --------------------------------------------------------------
    def _loop(self) -> None:
        from . import engine

        lower_this_thread()
        try:
            engine.load_kernel()  # (one thread at a time imports the engine: see engine.py)
        except engine.EngineClosed:
            return
        from ..core.whole_paths import WholePaths

        paths = WholePaths()  # (its cache belongs to this thread alone)
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                request, self._pending, self._computing = self._pending, None, True
                generation = self._generation

            def stale() -> bool:  # a drag's frame is short (a deadline): it ends, or no frame would ever be drawn
                return self._generation != generation or (self._pending is not None and not request.dragging)

            began = time.perf_counter()
            deadline = began + FRAME_SECONDS if request.dragging else None
            try:
                found = paths.compute(request.scenario, request.objective, deadline, stale)
                answer = None if found is None else LiveAnswer(request, found, seconds=time.perf_counter() - began)
            except Exception as error:  # a run the engine refuses: said on the status line, never a dead thread
                answer = LiveAnswer(request, error=str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}")
            with self._cond:
                self._computing = False
                if answer is None or self._generation != generation:
                    continue
                notify = self._answer is None
                self._answer = answer
            if notify:
                self.ready.emit()
