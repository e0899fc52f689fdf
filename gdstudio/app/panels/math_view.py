"""f, ∇f and H as textbook mathematics: SymPy's LaTeX, drawn by matplotlib's mathtext.

mathtext draws a LaTeX subset without a TeX installation (matplotlib is a well-kept, widely installed
library; a TeX system is neither). It has no matrices and no line breaking, so the gradient and the
Hessian are written one entry per line (∂f/∂x = …), and a long entry scrolls sideways instead of being
cut. Drawing runs in one shared thread (mathtext is not thread-safe) at the screen's pixel ratio and in
the palette's text colour; whatever it cannot draw stays text.
"""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from ...core.errors import HessianUnavailable
from .. import engine, foreground
from ..background import lower_this_thread

if TYPE_CHECKING:  # SymPy comes with the engine, after the window shows (app/engine.py); these run later
    from ...core.expression import Objective

MAX_LATEX = 4000  # characters of one equation beyond which it stays text (an image that wide reads as badly)
MAX_ENTRIES = 16 * 17 // 2  # Hessian entries drawn (the upper triangle of 16 variables)
_DRAWING = threading.Lock()


def _symbol(name: str) -> str:
    import sympy as sp

    return sp.latex(sp.Symbol(name))


def equations(objective: Objective, hessian: bool = True) -> list[tuple[str, str]]:
    """(left side, right side) in LaTeX: f, each ∂f/∂v and each ∂²f/∂u∂v of the upper triangle."""
    import sympy as sp

    names = [_symbol(v) for v in objective.variables]
    rows = [(f"f({', '.join(names)})", sp.latex(objective.expr))]
    rows += [(rf"\frac{{\partial f}}{{\partial {n}}}", sp.latex(g)) for n, g in zip(names, objective.gradient)]
    if hessian:
        try:
            matrix = objective.hessian
        except HessianUnavailable:
            return rows
        pairs = [(i, j) for i in range(len(names)) for j in range(i, len(names))][:MAX_ENTRIES]
        for i, j in pairs:
            below = rf"\partial {names[i]}^{{2}}" if i == j else rf"\partial {names[i]} \partial {names[j]}"
            rows.append((rf"\frac{{\partial^{{2}} f}}{{{below}}}", sp.latex(matrix[i][j])))
    return rows


def document(objective: Objective, hessian: bool = True) -> str:
    """The loss, its gradient and (when wanted and derived) its Hessian as one LaTeX block, for Copy as LaTeX."""
    import sympy as sp

    names = ", ".join(_symbol(v) for v in objective.variables)
    lines = [f"f({names}) = {sp.latex(objective.expr)}", rf"\nabla f = {sp.latex(sp.Matrix(objective.gradient))}"]
    try:
        if hessian:
            lines.append(f"H = {sp.latex(sp.Matrix(objective.hessian))}")
    except HessianUnavailable:
        pass
    return "\\begin{aligned}\n" + " \\\\\n".join(line.replace(" = ", " &= ", 1) for line in lines) + "\n\\end{aligned}\n"


@functools.lru_cache(maxsize=256)
def draw_latex(latex: str, color: str, scale: float) -> bytes | None:
    """PNG bytes of one line of LaTeX (kept: an update rule is drawn once per colour and pixel ratio)."""
    from matplotlib.figure import Figure
    from matplotlib.mathtext import MathTextParser

    text, picture = f"${latex}$", io.BytesIO()
    try:
        with _DRAWING:  # (as mathtext.math_to_image, on a transparent background: the panel's shows, dark or light)
            width, height, depth, _, _ = MathTextParser("path").parse(text, dpi=72)
            figure = Figure(figsize=(width / 72, height / 72))
            figure.text(0, depth / height, text, color=color)
            figure.savefig(picture, dpi=100 * scale, format="png", transparent=True)
    except Exception:  # (mathtext's parser raises ValueError, and odd inputs other errors): the text stays
        return None
    return picture.getvalue()


def lines(objective: Objective, hessian: bool) -> list[str]:
    """(drawing thread: deriving LaTeX can take a while) `left = right` for each equation, or [] when one is too
    long to read as a picture (then the whole text form stays)."""
    found = equations(objective, hessian)
    return [] if any(len(right) > MAX_LATEX for _, right in found) else [f"{left} = {right}" for left, right in found]


_DRAWER: tuple[ThreadPoolExecutor, threading.Event] | None = None  # the drawing thread, and its "stop" (after a line)
_STOPPED: list[ThreadPoolExecutor] = []  # stopped drawers whose thread may still finish a line: join_drawing()
_PENDING: set[Future] = set()  # drawings asked for and not done


def draw_later(latex: list[str] | Callable[[], list[str]], color: str, scale: float) -> Future:
    """(GUI thread) Lines of LaTeX (or a function that makes them, run there too) drawn in the shared drawing
    thread: a list of PNG bytes, or None when there are none or one cannot be drawn."""
    global _DRAWER
    if _DRAWER is None:
        _DRAWER = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-typeset",
                                      initializer=lower_this_thread), threading.Event())
    pool, stop = _DRAWER

    def drawn() -> list[bytes] | None:
        engine.wait_for_paint()  # (matplotlib's import would slow the window's first paint)
        foreground.wait()
        found = []
        for line in latex() if callable(latex) else latex:
            foreground.wait()  # (line by line: a loss typed meanwhile has its landscape drawn first)
            if stop.is_set():
                return None
            found.append(draw_latex(line, color, scale))
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
        pool, stop = _DRAWER
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        _STOPPED.append(pool)
        _DRAWER = None


def join_drawing() -> None:
    """Wait for stopped drawing threads to end (after the window has gone)."""
    while _STOPPED:
        _STOPPED.pop().shutdown(wait=True)
