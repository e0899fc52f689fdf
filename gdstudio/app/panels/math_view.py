"""Typesetting off the GUI thread: one shared drawing thread asks the helper process for each picture (app/helper.py,
app/typeset.py), at the screen's pixel ratio and in the palette's text colour, and draws it itself should the helper
fail; whatever cannot be drawn stays text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from .. import engine, foreground
from ..background import helper_thread
from ..helper import Asking, HelperClosed, HelperFailed, loss_of
from ..typeset import document, draw_latex, lines

if TYPE_CHECKING:  # SymPy comes with the engine, after the window shows (app/engine.py); these run later
    from ...core.expression import Objective

__all__ = ["document", "draw_later", "draw_line", "drawing", "join_drawing", "objective_lines", "stop_drawing"]

_THREAD = threading.local()  # (the drawing thread's questions to the helper, stopped with it)


def _ask(name: str, *args: object) -> object:
    """(drawing thread) The helper's answer; HelperClosed once the drawing is stopped."""
    return getattr(_THREAD, "asking", Asking()).ask(name, *args)


def draw_line(latex: str, color: str, scale: float) -> bytes | None:
    """(drawing thread) PNG bytes of one line of LaTeX, drawn by the helper process (or here, should it fail)."""
    try:
        return _ask("draw", latex, color, scale)
    except HelperClosed:
        return None
    except HelperFailed:
        return draw_latex(latex, color, scale)


def objective_lines(objective: Objective, hessian: bool) -> Callable[[], list[str]]:
    """What `draw_later` makes a loss's lines with, in the drawing thread: the helper process derives them (or that
    thread, should the helper fail)."""

    def made() -> list[str]:
        try:
            return _ask("lines", *loss_of(objective), hessian)
        except HelperClosed:
            return []
        except HelperFailed:
            return lines(objective, hessian)

    return made


_DRAWER: tuple[ThreadPoolExecutor, Asking] | None = None  # the drawing thread, and its questions (stopped: after a line)
_STOPPED: list[ThreadPoolExecutor] = []  # stopped drawers whose thread may still finish a line: join_drawing()
_PENDING: set[Future] = set()  # drawings asked for and not done


def drawer() -> tuple[ThreadPoolExecutor, Asking]:
    """The drawing thread (started now if there is none: a panel that typesets calls it as it is built) and its
    questions to the helper."""
    global _DRAWER
    if _DRAWER is None:
        _DRAWER = (helper_thread("typeset"), Asking())
    return _DRAWER


def draw_later(latex: list[str] | Callable[[], list[str]], color: str, scale: float) -> Future:
    """(GUI thread) Lines of LaTeX (or a function that makes them, run there too) drawn in the shared drawing
    thread: a list of PNG bytes, or None when there are none or one cannot be drawn."""
    pool, asking = drawer()

    def drawn() -> list[bytes] | None:
        _THREAD.asking = asking
        engine.wait_for_paint()  # (matplotlib's import would slow the window's first paint)
        foreground.wait()
        found = []
        for line in latex() if callable(latex) else latex:
            foreground.wait()  # (line by line: a loss typed meanwhile has its landscape drawn first)
            if asking.stopped:
                return None
            found.append(draw_line(line, color, scale))
        return None if not found or any(p is None for p in found) else found

    job = pool.submit(drawn)
    _PENDING.add(job)
    job.add_done_callback(_PENDING.discard)
    return job


def drawing() -> bool:
    """Whether a drawing is under way or waits."""
    return bool(_PENDING)


def stop_drawing() -> None:
    """Stop the drawing thread (the studio calls it when it closes) without waiting for the line it draws: a long
    formula's line takes a few hundred milliseconds, and the window would hang that long. `join_drawing` waits for
    it; a later drawing starts a new thread."""
    global _DRAWER
    if _DRAWER is not None:
        pool, asking = _DRAWER
        asking.stop()
        pool.shutdown(wait=False, cancel_futures=True)
        _STOPPED.append(pool)
        _DRAWER = None


def join_drawing() -> None:
    """Wait for stopped drawing threads to end (after the window has gone)."""
    while _STOPPED:
        _STOPPED.pop().shutdown(wait=True)
