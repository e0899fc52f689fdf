"""File ▸ Name and description…: what the title bar and the Help panel say about the scenario.

After typing a loss of one's own, a lesson's name and explanation no longer fit it; here they
are rewritten (the scenario file keeps them)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from ...core.scenario import DESCRIPTION_LIMIT, NAME_LIMIT
from ..document import Change, Document


class PropertiesDialog(QDialog):
    def __init__(self, name: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Name and description")
        self.setObjectName("propertiesDialog")
        self.name = QLineEdit(name, objectName="scenarioName", maxLength=NAME_LIMIT)
        self.description = QPlainTextEdit(description, objectName="scenarioDescription")
        self.description.setPlaceholderText("what this scenario shows (the Help panel displays it)")
        self.problem = QLabel(objectName="propertiesProblem", styleSheet="color: #d62728;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("name", self.name)
        form.addRow("description", self.description)
        form.addRow(self.problem)
        form.addRow(self.buttons)
        self.description.textChanged.connect(self._check)
        self.resize(560, 360)

    def values(self) -> tuple[str, str]:
        return self.name.text().strip() or "Untitled", self.description.toPlainText().strip()

    def _check(self) -> None:
        size = len(self.description.toPlainText().strip())
        too_long = size > DESCRIPTION_LIMIT
        self.problem.setText(f"✖ the description has {size:,} characters (limit {DESCRIPTION_LIMIT:,})" if too_long else "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not too_long)


def edit_properties(document: Document, parent: QWidget) -> PropertiesDialog:
    """Open the dialog (not modal for the tests' sake: `open`); OK writes both into the document."""
    scenario = document.scenario
    dialog = PropertiesDialog(scenario.name, scenario.description, parent)
    dialog.accepted.connect(lambda: document.update(Change.META, **dict(zip(("name", "description"), dialog.values()))))
    dialog.open()
    return dialog
