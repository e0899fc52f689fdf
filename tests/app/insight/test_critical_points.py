"""Critical points: found, classified, drawn, faded off the slice."""

from __future__ import annotations

import base64
import re

import numpy as np
from PySide6.QtGui import QColor, QImage, QPalette, QTextDocument
from PySide6.QtWidgets import QToolTip

from gdstudio.app.insight.point_math import latex_lines, number

from ..helpers import open_example, run_to_end, type_loss


def test_critical_points_on_himmelblau_show_four_minima(qtbot, window):
    open_example(qtbot, window, "08_")
    insight = window.insight
    insight.critical_action.setChecked(True)
    qtbot.waitUntil(lambda: insight.critical.count("minimum") == 4, timeout=30000)
    assert insight.critical.count("maximum") == 1 and insight.critical.count("saddle") == 4
    assert window.statusBar().currentMessage() == "critical points: 4 minima ★, 1 maximum ▲, 4 saddles ✕"
    tips = [spot.data() for spot in insight.critical.items["minimum"].points()]  # (text, or typeset once drawn)
    assert all(t.startswith(("★ minimum at", "<qt><b>★ minimum</b>")) and "Hessian eigenvalues" in t for t in tips)
    insight.critical_action.setChecked(False)
    assert insight.critical.count("minimum") == 0


def test_critical_points_are_searched_where_the_landscape_draws(qtbot, window):
    """Himmelblau typed over Rosenbrock's view (x -2..2, y -1..3): the landscape frames it on its known minima, and
    every critical point it draws is marked, not only the two inside the view it inherited."""
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "(x^2 + y - 11)^2 + (x + y^2 - 7)^2")
    qtbot.waitUntil(lambda: window.insight.critical.count("minimum") == 4, timeout=30000)
    assert window.insight.critical.count("saddle") == 4 and window.insight.critical.count("maximum") == 1
    assert window.document.scenario.range_of("x") == (-2.0, 2.0)  # (the scenario's view is as it was)


def test_critical_points_follow_the_loss(qtbot, window):

    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 - y^2")
    qtbot.waitUntil(lambda: window.insight.critical.count("saddle") == 1, timeout=30000)
    assert window.insight.critical.count("minimum") == 0


def test_critical_points_off_the_slice_are_drawn_faded_and_say_so(qtbot, window):
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 + y^2 + (z^2 - 0.5)^2")  # minima at z = ±0.7071; a saddle at z = 0
    critical = window.insight.critical
    qtbot.waitUntil(lambda: critical.count("minimum") == 2 and critical.count("saddle") == 1, timeout=30000)
    assert window.landscape.slice_point()["z"] == 0.0  # (the runs start nowhere in z: the middle of its range)
    (saddle,) = critical.items["saddle"].points()
    assert "off this slice" not in saddle.data() and saddle.brush().color().alpha() == 255
    for minimum in critical.items["minimum"].points():
        assert "off this slice (z = " in minimum.data() and "the slice is at 0)" in minimum.data()
        assert minimum.brush().color().alpha() < 255


def test_faded_critical_points_follow_the_slice_as_the_run_moves(qtbot, window):
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 + y^2 + (z^2 - 0.5)^2")
    critical = window.insight.critical
    qtbot.waitUntil(lambda: critical.count("minimum") == 2, timeout=30000)
    window.runs_panel.select(0)
    window.document.update_run(0, start={"x": 0.5, "y": 0.5, "z": 0.3})
    run_to_end(qtbot, window)  # the slice follows the selected run to z = 0.7071
    qtbot.waitUntil(lambda: abs(window.landscape.slice_point()["z"] - 0.5 ** 0.5) < 1e-3, timeout=10000)

    def on_slice():
        return [p.brush().color().alpha() == 255 for p in critical.items["minimum"].points()]

    qtbot.waitUntil(lambda: sorted(on_slice()) == [False, True], timeout=5000)


def test_numbers_and_eigenvalues_are_written_as_latex():
    from gdstudio.core.analysis import CriticalPoint

    assert number(1.23456e-5) == r"1.235 \times 10^{-5}" and number(74.1526) == "74.15" and number(-0.5) == "-0.5"
    point = CriticalPoint({"x": 3.0, "y": 2.0}, 0.0, "minimum", (74.15, 34.85))
    assert latex_lines(point) == [r"x = 3,\ y = 2,\quad f = 0", r"\lambda_{1} = 74.15,\quad \lambda_{2} = 34.85"]


def typeset_tips(qtbot, critical, kind: str, count: int) -> list[str]:
    qtbot.waitUntil(lambda: critical.count(kind) == count and not critical.typeset.drawing
                    and all(s.data().startswith("<qt>") for s in critical.items[kind].points()), timeout=30000)
    return [spot.data() for spot in critical.items[kind].points()]


def pictures(tip: str) -> list[QImage]:
    return [QImage.fromData(base64.b64decode(data)) for data in re.findall(r'src="data:image/png;base64,([^"]+)"', tip)]


def inked(image: QImage) -> np.ndarray:
    """The colours of the picture's opaque pixels (the glyphs), as RGB rows."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    pixels = pixels[:, : image.width()].reshape(-1, 4)
    return pixels[pixels[:, 3] == 255][:, :3]


def test_the_critical_points_tooltips_typeset_place_loss_and_eigenvalues(qtbot, window):
    window.insight.critical_action.setChecked(True)
    type_loss(qtbot, window, "x^2 - y^2")
    critical = window.insight.critical
    (tip,) = typeset_tips(qtbot, critical, "saddle", 1)
    assert tip.startswith("<qt><b>✕ saddle</b><br><img ") and "Hessian eigenvalues" in tip
    where, eigen = pictures(tip)
    assert not where.isNull() and not eigen.isNull() and eigen.width() > 2 * eigen.height()  # λ₁ = 2, λ₂ = −2: one line
    document = QTextDocument()
    document.setHtml(tip)  # Qt's rich text (a tooltip's) shows the embedded pictures at their logical size
    assert document.size().width() >= eigen.width() / window.landscape.plot.devicePixelRatioF()
    text = QToolTip.palette().color(QPalette.ColorRole.ToolTipText)
    ink = inked(eigen)
    assert len(ink) and np.abs(ink.astype(int) - [text.red(), text.green(), text.blue()]).max() <= 2  # the tooltip's colour


def test_typeset_tooltips_follow_a_dark_palette(qtbot, window):
    saved = QToolTip.palette()
    dark = QPalette(saved)
    dark.setColor(QPalette.ColorRole.ToolTipBase, QColor("#202020"))
    dark.setColor(QPalette.ColorRole.ToolTipText, QColor("#f0f0f0"))
    QToolTip.setPalette(dark)
    try:
        window.insight.critical_action.setChecked(True)
        type_loss(qtbot, window, "x^2 + 3*y^2")
        (tip,) = typeset_tips(qtbot, window.insight.critical, "minimum", 1)
        for picture in pictures(tip):
            ink = inked(picture)
            assert len(ink) and (ink >= 0xee).all()  # light glyphs on the dark tooltip (transparent around them)
    finally:
        QToolTip.setPalette(saved)
