"""Flat scroll bars (app/scroll_bars.py): Fusion's took ~1 ms a paint, and a lesson opened repainted several."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QScrollArea, QScrollBar

from gdstudio.app.scroll_bars import FLAT, flatten


def test_a_bar_is_flat_once_it_shows_with_its_handle_in_the_palettes_mid_colour_and_still_scrolls(qtbot):
    area = QScrollArea(widgetResizable=True)
    qtbot.addWidget(area)
    area.setWidget(QLabel("one line"))
    area.resize(200, 150)
    area.show()
    qtbot.waitExposed(area)
    bar = area.verticalScrollBar()
    flatten(area)
    assert not bar.isVisible() and bar.styleSheet() == ""  # (a bar that never shows is never styled)
    area.widget().setText("\n".join(f"line {i}" for i in range(200)))  # the content overflows: the bar shows
    qtbot.waitUntil(lambda: bar.isVisible() and bar.maximum() > 0)
    assert bar.styleSheet() == FLAT
    image = bar.grab().toImage()
    mid = area.palette().color(QPalette.ColorRole.Mid).name()
    column = [image.pixelColor(image.width() // 2, y).name() for y in range(image.height())]
    assert column.count(mid) >= 20  # the handle (at the top), one flat colour
    bar.setValue(bar.maximum())
    image = bar.grab().toImage()
    assert image.pixelColor(image.width() // 2, image.height() - 10).name() == mid  # it moved to the bottom


def test_the_studios_shown_scroll_bars_are_flat_once_it_is_built(qtbot, window):
    shown = [b for b in window.findChildren(QScrollBar) if b.isVisible()]  # (the window is built: the fixture waits
    assert shown and all(b.styleSheet() == FLAT for b in shown)              # for the engine, loaded after it)
    window.help.dock.show()  # (the explanation's text overflows its dock: its bar shows, flat)
    qtbot.waitUntil(lambda: any(b.isVisible() for b in window.help.dock.findChildren(QScrollBar)))
    assert all(b.styleSheet() == FLAT for b in window.findChildren(QScrollBar) if b.isVisible())
