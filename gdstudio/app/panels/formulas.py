"""The loss editor's formulas: f, ∇f and H typeset (math_view.py), drawn in a thread of their own after
the loss is shown, so typing and the landscape never wait for them; until they are drawn, or where they
cannot be, SymPy's text form is shown. "Copy as LaTeX" puts the whole block on the clipboard."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QGuiApplication, QImage, QPalette, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ...core.expression import Objective
from .math_view import document, draw_later, pictures


class Formulas(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(objectName="lossMath")  # the text form: before drawing, errors, and what cannot be drawn
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.drawn: list[QLabel] = []  # one picture per equation
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(2, 2, 2, 2)
        self._layout.addWidget(self.text)
        self._layout.addStretch(1)
        self.latex = ""  # what Copy as LaTeX copies ("" when there is no loss)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gdstudio-math")
        self._job: Future | None = None
        self._for: Objective | None = None
        self._poll = QTimer(self, interval=30)
        self._poll.timeout.connect(self._collect)

    @property
    def drawing(self) -> bool:
        return self._job is not None

    def show_text(self, text: str) -> None:
        """Only text (an error and its caret, or nothing)."""
        self._for, self.latex = None, ""
        self._set_pictures([])
        self.text.setText(text)
        self.text.show()

    def show_objective(self, objective: Objective, text: str, hessian: bool) -> None:
        """The loss's text form at once; its typeset form once drawn."""
        self.show_text(text)
        self._for, self.latex = objective, document(objective, hessian)
        color = self.palette().color(QPalette.ColorRole.Text).name()
        if self._job is not None:
            self._job.cancel()
        self._job = self._pool.submit(pictures, objective, hessian, color, self.devicePixelRatioF())
        self._job.objective = objective  # (whose pictures they are)
        self._poll.start()

    def copy_latex(self) -> None:
        QGuiApplication.clipboard().setText(self.latex)

    def shutdown(self) -> None:
        self._poll.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _collect(self) -> None:
        job = self._job
        if job is None or not job.done():
            return
        self._job = None
        self._poll.stop()
        if job.cancelled() or job.objective is not self._for or job.exception() is not None:
            return
        drawn = job.result()
        if drawn is not None:  # (else one could not be drawn: the text form stays, whole)
            self.text.hide()
            self._set_pictures(drawn)

    def _set_pictures(self, drawn: list[bytes]) -> None:
        for label in self.drawn:
            self._layout.removeWidget(label)
            label.deleteLater()
        self.drawn = []
        scale = self.devicePixelRatioF()
        for index, png in enumerate(drawn):
            pixmap = QPixmap.fromImage(QImage.fromData(png))
            pixmap.setDevicePixelRatio(scale)
            label = QLabel(objectName="lossFormula")
            label.setPixmap(pixmap)
            self._layout.insertWidget(index, label)
            self.drawn.append(label)


class TypesetLines(QWidget):
    """A few lines of LaTeX (an update rule), typeset in the shared drawing thread; their text form until then,
    or for good where mathtext cannot draw them."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel(objectName=object_name, wordWrap=True)
        self.drawn: list[QLabel] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.text)
        self._job: Future | None = None
        self._poll = QTimer(self, interval=30)
        self._poll.timeout.connect(self._collect)

    def show_lines(self, lines: list[str], text: str) -> None:
        for label in self.drawn:
            self._layout.removeWidget(label)
            label.deleteLater()
        self.drawn = []
        self.text.setText(text)
        self.text.show()
        color = self.palette().color(QPalette.ColorRole.Text).name()
        self._job = draw_later(lines, color, self.devicePixelRatioF())
        self._poll.start()

    @property
    def drawing(self) -> bool:
        return self._job is not None

    def _collect(self) -> None:
        job = self._job
        if job is None or not job.done():
            return
        self._job = None
        self._poll.stop()
        drawn = job.result() if job.exception() is None else None
        if drawn is None:
            return
        self.text.hide()
        for png in drawn:
            pixmap = QPixmap.fromImage(QImage.fromData(png))
            pixmap.setDevicePixelRatio(self.devicePixelRatioF())
            label = QLabel(objectName="typesetLine")
            label.setPixmap(pixmap)
            self._layout.addWidget(label)
            self.drawn.append(label)
