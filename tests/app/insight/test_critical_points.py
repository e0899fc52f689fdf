"""Critical points: found, classified, drawn, faded off the slice."""

from __future__ import annotations

from ..helpers import open_example, run_to_end, type_loss


def test_critical_points_on_himmelblau_show_four_minima(qtbot, window):
    open_example(qtbot, window, "08_")
    insight = window.insight
    insight.critical_action.setChecked(True)
    qtbot.waitUntil(lambda: insight.critical.count("minimum") == 4, timeout=30000)
    assert insight.critical.count("maximum") == 1 and insight.critical.count("saddle") == 4
    assert window.statusBar().currentMessage() == "critical points: 4 minima ★, 1 maximum ▲, 4 saddles ✕"
    tips = [spot.data() for spot in insight.critical.items["minimum"].points()]
    assert all(t.startswith("★ minimum at") and "Hessian eigenvalues" in t for t in tips)
    insight.critical_action.setChecked(False)
    assert insight.critical.count("minimum") == 0


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
