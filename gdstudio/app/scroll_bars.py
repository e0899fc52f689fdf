"""Flat scroll bars, drawn from a style sheet in the palette's colours.

Fusion draws a scroll bar's gradients anew at every size: ~1 ms a paint for a bar 400 pixels tall, and a lesson
opened repainted four to six of them (the explanation's, the runs', the loss editor's), ~4 ms of that turn's paint.
From this style sheet a paint takes ~0.02 ms. It is set on each bar, not on the window or the application: a style
sheet there would style every widget through Qt's style-sheet style (the window took ~8 ms longer to build).
"""

from __future__ import annotations

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


def flatten(root: QWidget) -> None:
    """Every scroll bar under `root` (call again for widgets built later: bars already flat are left alone)."""
    for bar in root.findChildren(QScrollBar):
        if bar.styleSheet() != FLAT:
            bar.setStyleSheet(FLAT)
