"""Flat scroll bars (app/scroll_bars.py): Fusion's took ~1 ms a paint, and a lesson opened repainted several."""

from __future__ import annotations

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel, QScrollArea, QScrollBar

from gdstudio.app.scroll_bars import FLAT, flatten


def test_a_flat_bar_shows_its_handle_in_the_palettes_mid_colour_and_still_scrolls(qtbot):
    area = QScrollArea()
    qtbot.addWidget(area)
    area.setWidget(QLabel("\n".join(f"line {i}" for i in range(200))))
    area.resize(200, 150)
    flatten(area)
    area.show()
    qtbot.waitExposed(area)
    bar = area.verticalScrollBar()
    assert bar.styleSheet() == FLAT and bar.maximum() > 0
    image = bar.grab().toImage()
    mid = area.palette().color(QPalette.ColorRole.Mid).name()
    column = [image.pixelColor(image.width() // 2, y).name() for y in range(image.height())]
    assert column.count(mid) >= 20  # the handle (at the top), one flat colour
    bar.setValue(bar.maximum())
    image = bar.grab().toImage()
    assert image.pixelColor(image.width() // 2, image.height() - 10).name() == mid  # it moved to the bottom


def test_every_scroll_bar_of_the_studio_is_flat_once_it_is_built(qtbot, window):
    qtbot.waitUntil(lambda: window.help is not None and all(b.styleSheet() == FLAT for b in window.findChildren(QScrollBar)))
    assert len(window.findChildren(QScrollBar)) > 20  # (the explanation's, the runs', the editor's, the tables'…)
