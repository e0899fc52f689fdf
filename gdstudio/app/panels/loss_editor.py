"""The loss editor: type an expression, see it checked as you type.

Checking (parse, derive, pretty-print, compile for grids) runs in a background
thread after a short pause in typing (DEBOUNCE_MS), so a long derivation never blocks typing;
the GUI thread polls the single pending job with a timer. A scenario with data
hands its columns and rows over with `set_data`: column names are then data (used
inside mean(...)/sum(...)) and the objective is bound to the rows, exactly as
`gdstudio.core.runner.scenario_objective` builds it. Only the result for the text
(and data) currently in the editor is shown, and only a valid loss is handed on
(`loss_accepted`), so the document never holds an expression that does not parse.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QLabel, QMenu, QPlainTextEdit, QScrollArea, QToolButton, QVBoxLayout, QHBoxLayout,
                               QWidget)

from ...core.errors import ExpressionError
from .. import foreground
from ..background import give_way, helper_thread
from ..objectives import OBJECTIVES
from ..patience import Patience
from ..stagger import Stagger
from ..typeset import MAX_SHOWN_HESSIAN, text_form
from .formulas import Formulas

if TYPE_CHECKING:  # (the engine loads after the window shows: app/engine.py)
    from ...core.expression import Objective

# A pause between keystrokes this long starts a check: short, so a preset-size loss is drawn within ~150 ms
# of the last key (one check runs at a time, and only the newest text waits for it, so fast typing costs nothing)
DEBOUNCE_MS = 30
# The loss shown goes into the document (an edit, a step to undo) once typing has paused this long, or when
# something needs the document (Run: `commit_pending`): the half-typed losses on the way are shown, not kept.
COMMIT_MS = 700


@dataclass(frozen=True)
class Checked:
    """What the background check found for one text."""

    text: str
    objective: Objective | None = None
    typeset: str = ""
    error: str = ""
    column: int | None = None
    data_key: int = 0  # which data set it was checked against (see LossEditor.set_data)


def _problem(result: Checked) -> str | None:
    """What is wrong with a checked text, and where; None for a valid loss."""
    if result.objective is not None:
        return None
    return result.error + (f" at column {result.column}" if result.column else "")


def check(text: str, variables: tuple[str, ...] | None = None, columns: tuple[str, ...] = (), data=None,
          data_key: int = 0) -> Checked:
    """Parse, derive and typeset a loss (over the data columns, if any); never raises (runs in a worker thread).
    Before each step (all of them Python) it gives way to the GUI thread (background.give_way)."""
    try:
        give_way()
        objective = OBJECTIVES.get(text, variables, columns, data)
        for which in ("loss", "grad", "hess"):
            give_way()
            objective.compile((which,))
    except ExpressionError as error:
        return Checked(text, error=error.message, column=error.column, data_key=data_key)
    except Exception as error:  # anything else is still the text's fault, shown the same way
        return Checked(text, error=f"cannot use this loss: {error}", data_key=data_key)
    return Checked(text, objective, text_form(objective), data_key=data_key)


class LossEditor(QWidget):
    """Expression box, a one-line verdict, the typeset derivatives and the presets menu."""

    loss_accepted = Signal(str, object)  # text, Objective: a valid loss the user typed
    objective_ready = Signal(object)  # Objective for the text shown, whoever set it
    preset_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("lossText")
        self.editor.setFont(mono)
        self.editor.setPlaceholderText("type a loss, e.g. (1 - x)^2 + 100*(y - x^2)^2")
        self.editor.setFixedHeight(self.editor.fontMetrics().lineSpacing() * 4 + 12)
        self.editor.setTabChangesFocus(True)
        self.presets_button = QToolButton(text="Presets")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_menu = QMenu(self.presets_button)
        self.presets_button.setMenu(self.presets_menu)
        self.verdict = QLabel()
        self.verdict.setObjectName("lossVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formulas = Formulas()  # f, ∇f and H, typeset (their text form until drawn)
        self.math = self.formulas.text
        scroll = QScrollArea()
        scroll.setWidget(self.formulas)
        scroll.setWidgetResizable(True)
        self.copy_button = QToolButton(text="Copy as LaTeX", objectName="copyLatex", enabled=False)
        self.copy_button.setToolTip("f, ∇f and H as LaTeX, on the clipboard")
        self.copy_button.clicked.connect(self.formulas.copy_latex)
        top = QHBoxLayout()
        top.addWidget(QLabel("Loss f ="))
        top.addStretch(1)
        top.addWidget(self.copy_button)
        top.addWidget(self.presets_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.editor)
        layout.addWidget(self.verdict)
        layout.addWidget(scroll, 1)

        self._pool = helper_thread("derive")
        self._job: Future | None = None
        self._job_user = False  # whether the pending job comes from typing
        self._wanted: tuple[str, bool] | None = None  # next text to check once the job ends
        self._accepted_text: str | None = None
        self.objective: Objective | None = None
        self.error: str | None = None  # what is wrong with the text shown (the document keeps the last good loss)
        self.columns: tuple[str, ...] = ()
        self._data = None  # (columns, rows) array the loss is bound to, or None
        self._data_key = 0
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self._request(self.text(), True))
        self._commit = QTimer(self, singleShot=True, interval=COMMIT_MS)
        self._commit.timeout.connect(self.commit_pending)
        self._poll = QTimer(self, interval=5, objectName="editorPoll")  # (while a check runs: its result is shown within 5 ms)
        self._poll.timeout.connect(self._collect)
        self._patience = Patience()  # (the derived loss waits for a pass that has not worked yet: patience.py)
        self._later = Stagger(self)  # (its verdict and formulas follow the plots, in a turn of their own)
        self.editor.textChanged.connect(self._debounce.start)
        self.editor.textChanged.connect(self._commit.start)
        self._fill_presets()

    # -- public -----------------------------------------------------------------------
    def text(self) -> str:
        return self.editor.toPlainText().strip()

    def set_text(self, text: str) -> None:
        """Show a loss from the document (a file, a preset): checked at once, not handed back."""
        self._accepted_text = text
        if self.text() != text.strip():
            self.editor.blockSignals(True)
            self.editor.setPlainText(text)
            self.editor.blockSignals(False)
        self._debounce.stop()
        self._commit.stop()
        self._request(text.strip(), False)

    def set_data(self, data_spec) -> None:
        """The scenario's DataSpec (or None): its columns become data names for the next checks.
        Call before `set_text`; results checked against other data are then dropped."""
        dataset = data_spec.dataset if data_spec is not None else None
        values = dataset.values if dataset is not None else None
        if values is self._data:
            return
        self.columns = dataset.columns if dataset is not None else ()
        self._data = values
        self._data_key += 1

    def commit_pending(self) -> None:
        """Hand the loss shown to the document, if it was typed, is checked valid and is not there yet."""
        self._commit.stop()
        objective, text = self.objective, self.text()
        if objective is not None and self.error is None and objective.text.strip() == text and text != self._accepted_text:
            self._accepted_text = text
            self.loss_accepted.emit(text, objective)

    def unapplied_edit(self, loss: str) -> str | None:
        """Text on screen other than the document's `loss` that is not (yet) a valid loss."""
        if self.text() == loss.strip():
            return None
        if self.busy:  # (its verdict on screen may be about the text before the last keys)
            return "the loss shown is still being checked"
        return f"the loss shown has an error ({self.error})" if self.error else None

    @property
    def busy(self) -> bool:
        """Checking, or about to, or holding a checked loss for the document (COMMIT_MS)."""
        return self._job is not None or self._debounce.isActive() or self._commit.isActive() or self._later.pending()

    def shutdown(self) -> None:
        self._debounce.stop()
        self._commit.stop()
        self._poll.stop()
        self._later.close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- checking ---------------------------------------------------------------------
    def _request(self, text: str, from_user: bool) -> None:
        if self._job is not None:
            self._wanted = (text, from_user)
            return
        self.verdict.setText("checking…")
        self._job = foreground.track(self._pool.submit(check, text, None, self.columns, self._data, self._data_key))
        self._job_user = from_user
        self._poll.start()

    def _collect(self) -> None:
        if self._job is None or not self._job.done() or self._patience.wait():
            return
        result: Checked = self._job.result()
        from_user = self._job_user
        self._job = None
        if self._wanted is not None:
            text, user = self._wanted
            self._wanted = None
            self._request(text, user)
            if text != result.text:
                return  # stale: the editor has moved on
        else:
            self._poll.stop()
        if result.text != self.text():
            return
        if result.data_key != self._data_key:  # checked against data the scenario no longer has
            self._request(self.text(), from_user)
            return
        self.error = _problem(result)
        if result.objective is not None:
            self.objective = result.objective
            self.objective_ready.emit(result.objective)  # (first: its field and critical points are asked for before
            # the formulas' typesetting starts, which waits for them: foreground.py)
        # the verdict and formulas, laid out anew, in a turn of their own: after the landscape's new loss, in its
        # turn, the window answered nothing for 10-16 ms
        self._later.later("show", lambda: self._show(result))
        if result.objective is not None and from_user and not self._commit.isActive():  # (typing paused long enough)
            self.commit_pending()

    def _show(self, result: Checked) -> None:
        if result.text != self.text():
            return  # typed over meanwhile: its own check is on its way
        if result.objective is None:
            self.verdict.setText(f"✖ {_problem(result)}")
            self.verdict.setStyleSheet("color: #d62728;")
            self.verdict.setToolTip(self._caret(result) if result.column else "")
            self.formulas.show_text(self._caret(result) if result.column else "")
            self.copy_button.setEnabled(False)
        else:
            names = ", ".join(result.objective.variables)
            if result.objective.columns:
                text = f"✔ data columns: {', '.join(result.objective.columns)} · parameters: {names}"
            else:
                text = f"✔ variables: {names}"
            warnings = result.objective.warnings  # (a mean over no data column, a misspelt column)
            self.verdict.setText("\n".join([text, *(f"⚠ {w}" for w in warnings)]))
            self.verdict.setStyleSheet("color: #b8860b;" if warnings else "color: #2ca02c;")
            self.verdict.setToolTip("")
            self.formulas.show_objective(result.objective, result.typeset, result.objective.dimension <= MAX_SHOWN_HESSIAN)
            self.copy_button.setEnabled(True)

    @staticmethod
    def _caret(result: Checked) -> str:
        line = result.text.replace("\n", " ")
        return f"{line}\n{' ' * (max(result.column or 1, 1) - 1)}^"

    def _fill_presets(self) -> None:
        from ..presets import load_presets

        presets = load_presets()
        for preset in presets:
            action = self.presets_menu.addAction(preset.name)
            action.setToolTip(getattr(preset, "description", "") or preset.loss)
            action.triggered.connect(lambda _=False, p=preset: self.preset_chosen.emit(p))
        self.presets_button.setEnabled(bool(presets))
        if not presets:
            self.presets_button.setToolTip("no presets found (gdstudio.core.presets is not available)")
