"""The critical points' tooltips as typeset mathematics: where the point is, its loss, and its Hessian's
eigenvalues λ₁ … λₙ, drawn by mathtext (panels/math_view) in the shared drawing thread and embedded in the
tooltip's rich text as PNG data. Until the pictures are drawn, or where they cannot be, the tooltip is the
plain text of `describe`.

The pictures take the tooltip's own text colour (QToolTip's palette, dark themes too) and the screen's pixel
ratio; the <img> is sized in logical pixels, so a high-DPI screen shows every one of its pixels.
"""

from __future__ import annotations

import base64
import html
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QToolTip

from .common import KIND_GLYPH

if TYPE_CHECKING:
    from ...core.analysis import CriticalPoint


def number(value: float) -> str:
    """A number as LaTeX, to 4 significant digits: 1.2e-05 becomes 1.2 × 10⁻⁵."""
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text.replace("inf", r"\infty").replace("nan", r"\mathrm{nan}")


def latex_lines(point: CriticalPoint) -> list[str]:
    """(drawing thread: SymPy names the variables) Where the point is and its loss; its eigenvalues."""
    import sympy as sp

    names = [sp.latex(sp.Symbol(name)) for name in point.point]
    where = ",\\ ".join(f"{n} = {number(v)}" for n, v in zip(names, point.point.values()))
    eigen = ",\\quad ".join(rf"\lambda_{{{i}}} = {number(v)}" for i, v in enumerate(point.eigenvalues, start=1))
    return [rf"{where},\quad f = {number(point.loss)}", eigen or r"\mathrm{no\ eigenvalues}"]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header."""
    return struct.unpack(">II", png[16:24])


def tooltip(point: CriticalPoint, pictures: list[bytes], scale: float, note: str = "") -> str:
    """The rich-text tooltip: the kind in words, the typeset lines, the note (off the slice) in words."""
    images = []
    for png, alt in zip(pictures, ("where", "Hessian eigenvalues")):
        width, height = png_size(png)
        source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        images.append(f'<img src="{source}" alt="{alt}" width="{round(width / scale)}" height="{round(height / scale)}">')
    head = f"{KIND_GLYPH[point.kind]} {point.kind}"
    tail = f"<br>{html.escape(note)}" if note else ""
    return f"<qt><b>{head}</b><br>{images[0]}<br>Hessian eigenvalues:<br>{images[1]}{tail}</qt>"


class TypesetTips:
    """Draws the points' lines once per set of points, then calls `ready` on the GUI thread."""

    def __init__(self, ready: Callable[[], None], timer_parent) -> None:
        from ..panels.formulas import PendingDrawing

        self.ready = ready
        self.pictures: dict[int, list[bytes]] = {}  # id(point) -> its two pictures
        self.scale = 1.0
        self._points: list[CriticalPoint] = []
        self._pending = PendingDrawing(timer_parent, self._drawn)

    def draw(self, points: list[CriticalPoint], scale: float) -> None:
        """Typeset these points' lines (a newer call wins; the old pictures go)."""
        self.pictures, self._points, self.scale = {}, list(points), scale
        if not points:
            self._pending.stop()
            return
        color = QToolTip.palette().color(QPalette.ColorRole.ToolTipText).name()
        self._pending.start(lambda: [line for p in points for line in latex_lines(p)], color, scale)

    @property
    def drawing(self) -> bool:
        return self._pending.busy

    def _drawn(self, drawn: list[bytes] | None) -> None:
        if drawn is None or len(drawn) != 2 * len(self._points):  # (one line mathtext cannot draw: the text stays)
            return
        self.pictures = {id(p): drawn[2 * i : 2 * i + 2] for i, p in enumerate(self._points)}
        self.ready()

    def stop(self) -> None:
        self._pending.stop()
