"""Rows of fields, one per name (a loss's variables, a data set's columns), a page of them per tuple of names.

A page is made the first time its names are shown and kept: opening lessons one after another, their variables
(x; x, y; w, b) made new fields each time, whose polish, layout and first paint (and the old ones' deletion) took
3-9 ms of a lesson's turns. As ParamForm keeps a page per optimizer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFormLayout, QVBoxLayout, QWidget


class NamedRows(QWidget):
    def __init__(self, make: Callable[[str], QWidget], label: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make, self._label = make, label
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._pages: dict[tuple[str, ...], tuple[QWidget, dict[str, QWidget]]] = {}
        self._names: tuple[str, ...] | None = None
        self.fields: dict[str, QWidget] = {}  # the names shown, and their fields

    def show_names(self, names: tuple[str, ...]) -> dict[str, QWidget]:
        """Show the page of `names` (made now if it is new); its fields by name."""
        if names != self._names:
            if self._names is not None:
                self._pages[self._names][0].hide()
            if names not in self._pages:
                self._pages[names] = self._page(names)
                self._box.addWidget(self._pages[names][0])
            page, self.fields = self._pages[names]
            self._names = names
            page.show()
        return self.fields

    def _page(self, names: tuple[str, ...]) -> tuple[QWidget, dict[str, QWidget]]:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        fields = {}
        for name in names:
            fields[name] = self._make(name)
            form.addRow(self._label(name), fields[name])
        return page, fields
