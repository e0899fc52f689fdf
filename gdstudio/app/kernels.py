"""Run kernels compiled ahead of Run: a new loss's Numba kernel (0.1–2 s of compiling) is built in the
background as soon as the loss is shown, so that pressing Run draws its first steps at once. A loss compiled once is
in Numba's cache for good (core/codegen.py): shown again, even after a restart, it loads in milliseconds."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..core.errors import ExpressionError
from . import engine
from .background import helper_thread
from .helper import Asking, HelperClosed, HelperFailed, loss_of

if TYPE_CHECKING:
    from ..core.expression import Objective


class KernelWarmer:
    """One background thread that has the kernels compiled for the losses shown, newest last: by the helper process
    (app/helper.py), into Numba's cache, then loaded from there; here, should the helper fail."""

    def __init__(self) -> None:
        self._pool = helper_thread("kernels")
        self._ahead: Future | None = None
        self._last: Future | None = None
        self._asking = Asking()  # (stopped at the close: the compile under way is no longer waited for)

    def warm(self, objective: Objective, hessian: bool) -> Future:
        """Compile what a run needs (it waits for the future)."""
        self._last = self._pool.submit(self._compile, objective, hessian)
        return self._last

    @property
    def busy(self) -> bool:
        """A compile is under way or waits (one thread: the last asked for ends last)."""
        return self._last is not None and not self._last.done()

    def ahead(self, objective: Objective, hessian: bool) -> None:
        """Compile the loss shown before Run is pressed, in place of the one shown before it if that has not started:
        thirteen lessons opened one after another queued thirteen compiles (a second each), and the studio shared the
        interpreter with them for a quarter of a minute. A Run asks for its own (warm)."""
        if self._ahead is not None:
            self._ahead.cancel()
        self._ahead = self.warm(objective, hessian)

    def shutdown(self) -> None:
        """Drop what has not started and stop waiting for the helper's compile under way."""
        self._asking.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _compile(self, objective: Objective, hessian: bool) -> None:
        try:
            engine.load_kernel()  # (waits for the engine's first compile of it, if it is under way)
        except engine.EngineClosed:
            return
        from ..core.codegen import adopt_kernel, compiled_kernel, compiled_ready

        if compiled_ready(objective, hessian) or self._asking.stopped:
            return
        made: str | ExpressionError | None = None  # (None: the helper failed, compiled here)
        try:
            made = self._asking.ask("kernel", *loss_of(objective), hessian)
        except HelperClosed:
            return
        except HelperFailed:
            pass
        except ExpressionError as error:  # (refused there: kept on the objective, as a compile here keeps it)
            made = error
        try:
            adopt_kernel(objective, hessian, made) if made is not None else compiled_kernel(objective, hessian)
        except ExpressionError:  # kept on the objective: Run reports it
            pass
