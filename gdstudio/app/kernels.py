"""Run kernels compiled ahead of Run: a new loss's Numba kernel (0.1–2 s of compiling) is built in the
background as soon as the loss is shown, so that pressing Run draws its first steps at once."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from ..core.errors import ExpressionError
from . import engine
from .background import lower_this_thread

if TYPE_CHECKING:
    from ..core.expression import Objective


def _compile(objective: Objective, hessian: bool) -> None:
    try:
        engine.load_kernel()  # (waits for the engine's first compile of it, if it is under way)
    except engine.EngineClosed:
        return
    from ..core.codegen import compiled_kernel

    try:
        compiled_kernel(objective, hessian)
    except ExpressionError:  # kept on the objective: Run reports it
        pass


class KernelWarmer:
    """One background thread that compiles kernels for the losses shown, newest last."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-kernels",
                                        initializer=lower_this_thread)
        self._ahead: Future | None = None
        self._last: Future | None = None

    def warm(self, objective: Objective, hessian: bool) -> Future:
        """Compile what a run needs (it waits for the future)."""
        self._last = self._pool.submit(_compile, objective, hessian)
        return self._last

    @property
    def busy(self) -> bool:
        """A compile is under way or waits (one thread: the last asked for ends last)."""
        return self._last is not None and not self._last.done()

    def ahead(self, objective: Objective, hessian: bool) -> None:
        """Compile the loss shown before Run is pressed, in place of the one shown before it if that has not started:
        thirteen lessons opened one after another queued thirteen compiles (a second each, most of it holding the
        interpreter), and the studio shared it with them for a quarter of a minute. A Run asks for its own (warm)."""
        if self._ahead is not None:
            self._ahead.cancel()
        self._ahead = self.warm(objective, hessian)

    def shutdown(self) -> None:
        """Drop what has not started and wait for the compile under way (at most a few seconds)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
