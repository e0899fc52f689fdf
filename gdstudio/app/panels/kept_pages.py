"""One page of widgets shown at a time, one per key, each made the first time its key is shown and then kept.

New fields' first polish, layout and paint (and the old ones' deletion) took 60-130 ms of the GUI thread at every
change of optimizer (ParamForm) and 3-9 ms of a lesson's turns for its variables' start fields (NamedRows): a page
made once is shown again for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtWidgets import QVBoxLayout, QWidget

_NONE = object()  # (the key shown before any page is)


class KeptPages(QWidget):
    def __init__(self, make: Callable[[Any], tuple[QWidget, Any]], parent: QWidget | None = None,
                 lay_out_at_once: bool = False) -> None:
        """`make(key)` gives a new page (a child of this widget) and what the caller wants of it (its fields);
        `lay_out_at_once`: a page shown is laid out in the call, not in a later turn."""
        super().__init__(parent)
        self._make_page, self._at_once = make, lay_out_at_once
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._pages: dict[Hashable, tuple[QWidget, Any]] = {}
        self._key: Any = _NONE

    def show_page(self, key: Hashable) -> Any:
        """Show the page of `key` (made now if it is new); what its `make` gave beside it."""
        if key != self._key:
            if self._key is not _NONE:
                self._pages[self._key][0].hide()
            if key not in self._pages:
                self._pages[key] = self._make_page(key)
                self._box.addWidget(self._pages[key][0])
            page = self._pages[key][0]
            self._key = key
            page.show()
            if self._at_once:
                page.layout().activate()
                self._box.activate()
        return self._pages[key][1]
