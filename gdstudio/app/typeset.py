"""f, ∇f and H as textbook mathematics: SymPy's LaTeX, drawn by matplotlib's mathtext into PNG pictures.

mathtext draws a LaTeX subset without a TeX installation (matplotlib is a well-kept, widely installed
library; a TeX system is neither). It has no matrices and no line breaking, so the gradient and the
Hessian are written one entry per line (∂f/∂x = …). Qt-free: the helper process draws with it (app/helper.py), and
the studio's drawing thread too should the helper fail (panels/math_view.py).
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from typing import TYPE_CHECKING

from ..core.errors import HessianUnavailable
from .background import give_way

if TYPE_CHECKING:  # SymPy comes with the engine, after the window shows (app/engine.py); these run later
    from ..core.expression import Objective

MAX_LATEX = 4000  # characters of one equation beyond which it stays text (an image that wide reads as badly)
MAX_ENTRIES = 16 * 17 // 2  # Hessian entries drawn (the upper triangle of 16 variables)
MAX_SHOWN = 20000  # characters of the text form; longer ones are cut with a note
MAX_SHOWN_HESSIAN = 16  # variables up to which H is shown (a 256 × 256 matrix takes long to typeset and to read)
_DRAWING = threading.Lock()
# matplotlib says on stderr that a first start builds its font cache when that takes over 5 s (a busy machine): the
# studio says what it is loading on its status line, and its formulas show as text until they are drawn (set once)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


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


def text_form(objective: Objective) -> str:
    """f, ∇f and H in text, until typeset; made once per loss (by the helper process that derived it, which hands it
    over with the loss: app/objectives.py). Its printer's first product imports sympy.physics.units: the engine does,
    as it loads."""
    return objective.kept("text form", lambda: _text_form(objective))


def _text_form(objective: Objective) -> str:
    give_way()
    try:
        hessian = objective.hessian if objective.dimension <= MAX_SHOWN_HESSIAN else None
        not_shown = f"({objective.dimension} × {objective.dimension}, not shown)"
    except HessianUnavailable as error:
        hessian, not_shown = None, f"not derived: {error.message}"
    try:
        names = ", ".join(objective.variables)
        import sympy as sp  # (loaded with the objective)

        def pretty(expr) -> str:
            give_way()
            return sp.pretty(expr, use_unicode=True)

        f, grad = pretty(objective.expr), pretty(sp.Matrix(objective.gradient))
        hess = pretty(sp.Matrix(hessian)) if hessian else not_shown
        typeset = f"f({names}) =\n{f}\n\n∇f =\n{grad}\n\nH =\n{hess}"
    except Exception:  # pretty-printing is a nicety; fall back to plain text
        hess = [list(r) for r in hessian] if hessian else not_shown
        typeset = f"f = {objective.expr}\n\n∇f = {list(objective.gradient)}\n\nH = {hess}"
    return typeset if len(typeset) <= MAX_SHOWN else typeset[:MAX_SHOWN] + "\n… (too long to show in full)"
