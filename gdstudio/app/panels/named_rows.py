"""Rows of fields, one per name (a loss's variables, a data set's columns), a page of them per tuple of names, kept
(kept_pages.py): opening lessons one after another, their variables (x; x, y; w, b) made new fields each time."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QFormLayout, QWidget

from .kept_pages import KeptPages


class NamedRows(KeptPages):
    def __init__(self, make: Callable[[str], QWidget], label: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(self._page, parent)
        self._make_field, self._label = make, label

    def show_names(self, names: tuple[str, ...]) -> dict[str, QWidget]:
        """Show the page of `names` (made now if it is new); its fields by name."""
        return self.show_page(names)

    def _page(self, names: tuple[str, ...]) -> tuple[QWidget, dict[str, QWidget]]:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        fields = {}
        for name in names:
            fields[name] = self._make_field(name)
            form.addRow(self._label(name), fields[name])
        return page, fields
