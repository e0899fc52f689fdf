"""Typeset mathematics on screen (math_view.py draws it): an update rule's lines, and the loss editor's f, ∇f
and H. The pictures are drawn in the shared drawing thread after the text is shown, so typing and the
landscape never wait for them; until they are drawn, or where they cannot be, the text form is shown.
"Copy as LaTeX" puts the loss's whole block on the clipboard."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QImage, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .math_view import document, draw_later, drawer, objective_lines

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective


class PendingDrawing(QObject):
    """One drawing in the shared drawing thread at a time (a newer one replaces it), its pictures handed to `done`
    on the GUI thread (None when there were none, or a line mathtext cannot draw), found by a short timer."""

    def __init__(self, parent: QObject, done: Callable[[list[bytes] | None], None]) -> None:
        super().__init__(parent)
        self._done: Callable[[list[bytes] | None], None] = done
        self._job: Future | None = None
        self._poll = QTimer(self, interval=30)
        self._poll.timeout.connect(self._collect)
        drawer()  # (its thread starts as the studio is built)

    @property
    def busy(self) -> bool:
        return self._job is not None

    def start(self, latex: list[str] | Callable[[], list[str]], color: str, scale: float) -> None:
        self.stop()
        self._job = draw_later(latex, color, scale)
        self._poll.start()

    def stop(self) -> None:
        """The drawing replaced is dropped if it has not started: thirteen lessons opened one after another left
        their formulas to typeset, one after another, holding the interpreter for seconds after the last."""
        if self._job is not None:
            self._job.cancel()
        self._job = None
        self._poll.stop()

    def _collect(self) -> None:
        job = self._job
        if job is None or not job.done():
            return
        self.stop()
        self._done(job.result() if not job.cancelled() and job.exception() is None else None)


LONG_TEXT = 2500  # characters of text form laid out while the typeset form is on its way (see `_shown_meanwhile`)


def _shown_meanwhile(text: str) -> str:
    """A long text form, up to the last whole section (f, ∇f, H: blank lines between) within LONG_TEXT characters: a
    logistic loss's Hessian is 8,500 characters on 128 lines, which a label took ~14 ms to lay out and ~8 ms to paint,
    for the second or so before the pictures replace it. (Whole if it is never typeset: TypesetLines._drawn.)"""
    if len(text) <= LONG_TEXT:
        return text
    cut = text.rfind("\n\n", 0, LONG_TEXT)
    if cut <= 0:
        cut = text.rfind("\n", 0, LONG_TEXT)
    return text[:cut if cut > 0 else LONG_TEXT] + "\n\n⋯ (typesetting the rest)"


class TypesetLines(QWidget):
    """A few lines of LaTeX (an update rule), typeset in the shared drawing thread; their text form until then,
    or for good where mathtext cannot draw them."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(objectName=object_name, wordWrap=True)
        self.drawn: list[QLabel] = []
        self._text = ""  # the whole text form
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.text)
        self._pending = PendingDrawing(self, self._drawn)

    def show_lines(self, latex: list[str] | Callable[[], list[str]], text: str) -> None:
        """`text` now; the lines of LaTeX (or what a function makes of them, in the drawing thread) once drawn."""
        for label in self.drawn:
            self._layout.removeWidget(label)
            label.deleteLater()
        self.drawn = []
        self._text = text
        self.text.setText(_shown_meanwhile(text) if latex else text)
        self.text.show()
        if latex:  # (a newer drawing wins)
            self._pending.start(latex, self.palette().color(QPalette.ColorRole.Text).name(), self.devicePixelRatioF())
        else:
            self._pending.stop()

    @property
    def drawing(self) -> bool:
        return self._pending.busy

    def _drawn(self, drawn: list[bytes] | None) -> None:
        if drawn is None:  # (nothing to draw, or a line mathtext cannot: the text form stays, whole)
            if self.text.text() != self._text:
                self.text.setText(self._text)
            return
        self.text.hide()
        for index, png in enumerate(drawn):
            pixmap = QPixmap.fromImage(QImage.fromData(png))
            pixmap.setDevicePixelRatio(self.devicePixelRatioF())
            label = QLabel(objectName="typesetLine")
            label.setPixmap(pixmap)
            self._layout.insertWidget(index, label)
            label.show()  # (now, with the text hidden: a layout shows a new child one event-loop pass later)
            self.drawn.append(label)


class Formulas(TypesetLines):
    """The loss editor's f, ∇f and H."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("lossMath", parent)
        self.text.setWordWrap(False)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.addStretch(1)
        self._shown: tuple[Objective, bool] | None = None  # the loss (and whether with H) Copy as LaTeX copies

    def show_text(self, text: str) -> None:
        """Only text (an error and its caret, or nothing)."""
        self._shown = None
        self.show_lines([], text)

    def show_objective(self, objective: Objective, text: str, hessian: bool) -> None:
        """The loss's text form at once; its typeset form once drawn."""
        self._shown = (objective, hessian)
        self.show_lines(objective_lines(objective, hessian), text)

    def copy_latex(self) -> None:
        """(its LaTeX written out only when asked for: a big Hessian takes a while)"""
        QGuiApplication.clipboard().setText(document(*self._shown) if self._shown else "")
