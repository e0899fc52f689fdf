"""Flat scroll bars, drawn from a style sheet in the palette's colours.

Fusion draws a scroll bar's gradients anew at every size: ~1 ms a paint for a bar 400 pixels tall, and a lesson
opened repainted four to six of them (the explanation's, the runs', the loss editor's), ~4 ms of that turn's paint.
From this style sheet a paint takes ~0.02 ms. It is set on each bar, not on the window or the application: a style
sheet there would style every widget through Qt's style-sheet style (the window took ~8 ms longer to build). A bar
is styled as it first shows (~0.1 ms each): most never do, as their content fits.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QScrollBar, QWidget

FLAT = """
QScrollBar:vertical { width: 12px; margin: 0; background: palette(base); }
QScrollBar:horizontal { height: 12px; margin: 0; background: palette(base); }
QScrollBar::handle { background: palette(mid); border-radius: 4px; margin: 2px; }
QScrollBar::handle:vertical { min-height: 24px; }
QScrollBar::handle:horizontal { min-width: 24px; }
QScrollBar::handle:hover, QScrollBar::handle:pressed { background: palette(dark); }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; border: none; }
QScrollBar::add-page, QScrollBar::sub-page { background: none; }
"""


class _FlatOnShow(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Show and isinstance(watched, QScrollBar):
            watched.removeEventFilter(self)
            watched.setStyleSheet(FLAT)
        return False


_on_show: _FlatOnShow | None = None


def flatten(root: QWidget) -> None:
    """Every scroll bar under `root`, now or as it first shows (call again for widgets built later)."""
    global _on_show
    if _on_show is None:
        _on_show = _FlatOnShow()
    for bar in root.findChildren(QScrollBar):
        if bar.styleSheet() == FLAT:
            continue
        if bar.isVisible():
            bar.setStyleSheet(FLAT)
        else:
            bar.installEventFilter(_on_show)  # (once: Qt does not add a filter twice)
