"""Stop rules shared by all runs: step limit, gradient and loss tolerances, divergence."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QLineEdit, QSpinBox, QWidget

from ...core.scenario import MAX_STEPS_LIMIT, StopRules
from .param_form import fmt

TIPS = {
    "grad_tol": "converged when ‖∇‖ ≤ this (empty = never)",
    "loss_tol": "converged when the loss changes by ≤ this in one step (empty = never)",
    "divergence": "diverged when the loss exceeds this (empty = only when it becomes inf/nan)",
}


class StopRulesBox(QGroupBox):
    """Edits a StopRules; `edited(rules)` fires with a valid one."""

    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Stop rules (all runs)", parent)
        self.max_steps = QSpinBox(objectName="maxSteps", maximum=MAX_STEPS_LIMIT, singleStep=1000)
        self.max_steps.setGroupSeparatorShown(True)
        self.max_steps.setToolTip("each run stops after this many steps")
        self.edits = {key: QLineEdit(objectName=key, placeholderText="off", toolTip=tip) for key, tip in TIPS.items()}
        self.problem = QLabel(styleSheet="color: #d62728;", wordWrap=True)
        layout = QFormLayout(self)
        layout.addRow("max steps", self.max_steps)
        layout.addRow("‖∇‖ tolerance", self.edits["grad_tol"])
        layout.addRow("loss tolerance", self.edits["loss_tol"])
        layout.addRow("divergence above", self.edits["divergence"])
        layout.addRow(self.problem)
        self.max_steps.editingFinished.connect(self._commit)
        for edit in self.edits.values():
            edit.editingFinished.connect(self._commit)

    def show_rules(self, rules: StopRules) -> None:
        self.max_steps.setValue(rules.max_steps)
        for key, edit in self.edits.items():
            value = getattr(rules, key)
            edit.setText("" if value is None else fmt(value))
        self.problem.clear()

    def rules(self) -> StopRules:
        values: dict[str, float | None] = {}
        for key, edit in self.edits.items():
            text = edit.text().strip()
            if not text:
                values[key] = None
                continue
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{key}: must be a number, got {text!r}") from None
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{key}: must be a number ≥ 0, got {text}")
            values[key] = value
        return StopRules(self.max_steps.value(), **values)

    def _commit(self) -> None:
        try:
            rules = self.rules()
        except ValueError as error:
            self.problem.setText(f"✖ {error}")
            return
        self.problem.clear()
        self.edited.emit(rules)
