"""A form generated from a registry's HyperParam tuple (optimizers, schedules).

Numbers are typed as text (learning rates span 1e-8…10, which spin boxes handle
badly); each field shows the default as placeholder and the help as tooltip.
`values()` returns only what differs from the defaults, as a scenario file would;
a value that does not parse is reported by `values()` raising ValueError with
the parameter's name, like the core's own checks. Each number has a knob beside
it (knob.py): scrubbing it shows the value in the field and emits `scrubbed`;
letting go emits `edited` then `let_go`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from ...core.optimizers import HyperParam
from .kept_pages import KeptPages
from .knob import Knob


def fmt(value: float) -> str:
    """Short but exact: repr round-trips, :g is used when it loses nothing."""
    short = f"{value:g}"
    return short if float(short) == value else repr(float(value))


def finite_number(text: str, name: str) -> float:
    """A typed number, or the error to show: what the scenario file would refuse is refused here too."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {text!r}")
    return value


class ParamForm(KeptPages):
    """Editors for a tuple of HyperParams, a page of them per tuple, kept (kept_pages.py); `edited` fires when the
    user finishes a change."""

    edited = Signal()
    scrubbed = Signal()  # a knob is held and moved: the fields show its value, nothing is committed
    let_go = Signal()  # a knob was let go (after `edited`)

    def __init__(self, parent: QWidget | None = None) -> None:
        # (a page shown is laid out at once: its fields where they will be drawn, for a knob is dragged by where it is)
        super().__init__(self._page, parent, lay_out_at_once=True)
        self._params: tuple[HyperParam, ...] | None = None
        self._fields: dict[str, Any] = {}
        self._knobs: dict[QLineEdit, Knob] = {}

    def set_params(self, params: tuple[HyperParam, ...], values: Mapping[str, Any]) -> None:
        """Show the fields for `params` with `values` (defaults where absent)."""
        self._fields, self._knobs = self.show_page(params)
        self._params = params
        self._show(values)

    def _page(self, params: tuple[HyperParam, ...]) -> tuple[QWidget, tuple[dict[str, Any], dict[QLineEdit, Knob]]]:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self._fields, self._knobs = {}, {}  # (the page's own, which _with_knobs fills)
        for param in params:
            self._fields[param.name] = field = self._make(param)
            form.addRow(QLabel(param.name.replace("_", " "), toolTip=param.help), self._with_knobs(param, field))
        return page, (self._fields, self._knobs)

    def _make(self, param: HyperParam) -> QWidget:
        if param.kind == "bool":
            box = QCheckBox()
            box.setToolTip(param.help)
            box.toggled.connect(self.edited)
            return box
        edits = [QLineEdit() for _ in range(2 if param.kind == "pair" else 1)]
        defaults = param.default if param.kind == "pair" else (param.default,)
        for edit, default in zip(edits, defaults):
            edit.setPlaceholderText(fmt(default))
            edit.setToolTip(f"{param.help} (default {fmt(default)})")
            edit.editingFinished.connect(self._finished)
        if len(edits) == 1:
            edits[0].setObjectName(f"param_{param.name}")
            return edits[0]
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        for i, edit in enumerate(edits):
            edit.setObjectName(f"param_{param.name}_{i}")
            row.addWidget(edit)
        holder.edits = edits  # type: ignore[attr-defined]
        return holder

    def _with_knobs(self, param: HyperParam, field: QWidget) -> QWidget:
        """The field with a knob beside each number (under them for a pair)."""
        if param.kind == "bool":
            return field
        edits = field.edits if param.kind == "pair" else [field]
        holder = QWidget()
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(0)
        grid.addWidget(field, 0, 0, 1, 2 if param.kind == "pair" else 1)
        for i, edit in enumerate(edits):
            knob = self._knobs[edit] = Knob(edit, param, pair=param.kind == "pair")
            knob.scrubbed.connect(self.scrubbed)
            knob.released.connect(self._released)
            grid.addWidget(knob, 1 if param.kind == "pair" else 0, i if param.kind == "pair" else 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        return holder

    def _released(self) -> None:
        self.edited.emit()
        self.let_go.emit()

    def _finished(self) -> None:
        sender = self.sender()
        if isinstance(sender, QLineEdit) and sender.isModified():
            sender.setModified(False)
            self.edited.emit()

    def _show(self, values: Mapping[str, Any]) -> None:
        for param in self._params or ():
            field = self._fields[param.name]
            value = values.get(param.name, param.default)
            field.blockSignals(True)
            if param.kind == "bool":
                field.setChecked(bool(value))
            elif param.kind == "pair":
                for edit, v in zip(field.edits, value):
                    edit.setText(fmt(v))
                    self._knobs[edit].show_value(float(v))
            else:
                field.setText(fmt(value))
                self._knobs[field].show_value(float(value))
            field.blockSignals(False)

    def field(self, name: str) -> QWidget:
        return self._fields[name]

    def values(self) -> dict[str, Any]:
        """What differs from the defaults; raises ValueError naming a field that is not a number."""
        out: dict[str, Any] = {}
        for param in self._params or ():
            field = self._fields[param.name]
            if param.kind == "bool":
                value: Any = field.isChecked()
            elif param.kind == "pair":
                value = tuple(finite_number(e.text() or e.placeholderText(), param.name) for e in field.edits)
            else:
                value = finite_number(field.text() or field.placeholderText(), param.name)
            if value != param.default:
                out[param.name] = value
        return out
