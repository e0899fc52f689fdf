"""Live paths: drag a start with the mouse, scrub a knob; the paths drawn are a headless run's, bit for bit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from gdstudio.core.runner import ScenarioRunner, scenario_objective
from gdstudio.app.plots.decimate import Decimator
from gdstudio.core.trajectory import LOSS, PARAMS


def viewport_point(landscape, x: float, y: float) -> QPoint:
    scene = landscape.vb.mapViewToScene(QPointF(x, y))
    view = landscape.plot.mapFromScene(scene)
    return QPoint(view.x(), view.y())


def data_point(landscape, point: QPoint) -> tuple[float, float]:
    view = landscape.vb.mapSceneToView(landscape.plot.mapToScene(point))
    return float(view.x()), float(view.y())


def settle(qtbot, window, timeout: int = 30000) -> None:
    qtbot.waitUntil(lambda: window.session.live.settled, timeout=timeout)


def drag(qtbot, window, start: tuple[float, float], moves: list[tuple[float, float]], modifier=Qt.KeyboardModifier.NoModifier):
    """Press at a data point, move through the others (waiting for a frame at each), release at the last."""
    landscape, viewport = window.landscape, window.landscape.plot.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, modifier, viewport_point(landscape, *start))
    for point in moves:
        frames = window.session.live.frames
        qtbot.mouseMove(viewport, viewport_point(landscape, *point))
        qtbot.waitUntil(lambda: window.session.live.frames > frames, timeout=30000)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifier, viewport_point(landscape, *moves[-1]))


def headless(window):
    scenario = window.document.scenario
    objective = window.session.objective if window.session.objective is not None else scenario_objective(scenario)
    return ScenarioRunner(scenario, objective).run_to_end()


def assert_drawn_as_headless(window) -> None:
    runs = headless(window)
    session = window.session
    assert len(session.buffers) == len(runs)
    landscape, curves = window.landscape, window.loss_curve
    for buffer, run, path, curve in zip(session.buffers, runs, landscape.marks.paths, curves.curves):
        assert np.array_equal(buffer.rows, run.trajectory.rows, equal_nan=True)  # bit for bit
        assert (buffer.status, buffer.reason) == (run.status, run.reason)
        # what is drawn is what the views draw of the headless rows (paths skip sub-pixel steps, curves decimate)
        track = landscape._new_track()
        rows = run.trajectory.rows
        axes = [PARAMS + landscape.variables.index(a) for a in landscape.axes()]
        track.feed(rows[:, axes[0]], rows[:, axes[1]])
        drawn = path.getData()
        assert np.array_equal(drawn[0], track.path()[0]) and np.array_equal(drawn[1], track.path()[1])
        assert (drawn[0][0], drawn[1][0]) == tuple(rows[0, axes]) and (drawn[0][-1], drawn[1][-1]) == tuple(rows[-1, axes])
        xs, ys = Decimator(log=curves.log.isChecked()).update(run.trajectory.steps, rows[:, LOSS])
        drawn = curve.getOriginalDataset()
        assert np.array_equal(drawn[0], xs) and np.array_equal(drawn[1], ys, equal_nan=True)
    table = window.runs_panel.table
    assert [table.topLevelItem(i).text(4) for i in range(len(runs))] == [r.status for r in runs]


def test_dragging_a_start_marker_redraws_the_whole_paths_and_undo_restores_it(qtbot, window):
    document = window.document
    old = document.scenario.runs[1].start
    landscape = window.landscape
    # press on run 1's start marker (both runs start at (-1.5, 2); the nearest is taken: run 0 drawn first)
    drag(qtbot, window, (-1.5, 2.0), [(-1.0, 1.5), (0.5, 1.8), (1.2, -0.5)])
    dragged = window.session.selected_index()
    released = data_point(landscape, viewport_point(landscape, 1.2, -0.5))
    settle(qtbot, window)
    start = document.scenario.runs[dragged].start
    assert abs(start["x"] - released[0]) < 1e-5 and abs(start["y"] - released[1]) < 1e-5
    assert window.session.state == "finished" and window.session.live.showing
    assert_drawn_as_headless(window)
    window.undo_action.trigger()
    assert document.scenario.runs[dragged].start == old
    settle(qtbot, window)
    assert_drawn_as_headless(window)  # the paths follow the undo too
    window.redo_action.trigger()
    assert document.scenario.runs[dragged].start == start


def test_shift_drag_moves_the_selected_run_from_anywhere(qtbot, window):
    window.runs_panel.select(1)
    drag(qtbot, window, (0.0, 0.0), [(0.3, 0.4), (-0.6, 1.1)], Qt.KeyboardModifier.ShiftModifier)
    settle(qtbot, window)
    scenario = window.document.scenario
    assert scenario.runs[0].start == {"x": -1.5, "y": 2.0}
    assert abs(scenario.runs[1].start["x"] + 0.6) < 0.05 and abs(scenario.runs[1].start["y"] - 1.1) < 0.05
    assert_drawn_as_headless(window)


def knob_point(knob, value: float) -> QPoint:
    """Where the knob's handle sits for `value` (the slider's own geometry)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    option = QStyleOptionSlider()
    knob.initStyleOption(option)
    option.sliderPosition = knob.scale.position(value)
    handle = knob.style().subControlRect(QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, knob)
    return handle.center()


def test_scrubbing_the_learning_rate_knob_redraws_live_and_commits_once(qtbot, window):
    window.runs_panel.select(1)
    editor = window.runs_panel.editor
    knob = editor.hyper._knobs[editor.hyper.field("lr")]
    before = window.document.scenario
    press = knob_point(knob, 0.0005)
    qtbot.mousePress(knob, Qt.MouseButton.LeftButton, pos=press)
    assert knob.isSliderDown()
    for to in (0.0007, 0.001):  # (where the handle would be for these: the knob's width does not matter)
        frames = window.session.live.frames
        qtbot.mouseMove(knob, QPoint(knob_point(knob, to).x(), press.y()))
        qtbot.waitUntil(lambda: window.session.live.frames > frames, timeout=30000)
    lr = float(editor.hyper.field("lr").text())
    assert lr > 0.0005 and window.document.scenario == before  # nothing committed while held
    shown = window.session.running
    assert shown.runs[1].hyper["lr"] == lr and shown.runs[0] == before.runs[0]
    qtbot.mouseRelease(knob, Qt.MouseButton.LeftButton, pos=QPoint(knob_point(knob, 0.001).x(), press.y()))
    settle(qtbot, window)
    assert window.document.scenario.runs[1].hyper["lr"] == lr
    assert_drawn_as_headless(window)
    window.undo_action.trigger()  # the whole scrub is one step
    assert window.document.scenario == before
    settle(qtbot, window)
    assert_drawn_as_headless(window)


def test_a_drag_on_a_1d_curve_moves_along_it(qtbot, window):
    from .helpers import type_loss

    type_loss(qtbot, window, "x^4 - 3*x^2 + x")
    document = window.document
    document.set_runs([replace(r, start={"x": -0.5}) for r in document.scenario.runs])
    qtbot.waitUntil(lambda: not window.landscape.computing)
    height = float(window.session.objective.loss(-0.5))
    drag(qtbot, window, (-0.5, height), [(0.2, 0.0), (1.5, 0.0)])
    settle(qtbot, window)
    moved = document.scenario.runs[window.session.selected_index()].start["x"]
    assert abs(moved - 1.5) < 0.05
    runs = headless(window)
    for buffer, run in zip(window.session.buffers, runs):
        assert np.array_equal(buffer.rows, run.trajectory.rows, equal_nan=True)


def test_a_drag_on_a_slice_of_three_variables_moves_the_plotted_two(qtbot, window):
    """The landscape of a 3-variable loss is a slice through z: a drag moves x and y, z keeps its start, and the
    paths (in all three variables) are a headless run's, during the drag and after it."""
    from .helpers import type_loss

    type_loss(qtbot, window, "(x - 1)^2 + 2*(y + 0.5)^2 + 3*z^2 + x*z")
    document, landscape, session = window.document, window.landscape, window.session
    document.set_runs([replace(r, start={"x": -1.5, "y": 2.0, "z": 0.7}) for r in document.scenario.runs])
    qtbot.waitUntil(lambda: not landscape.computing and landscape.slice_point().get("z") == 0.7)
    assert landscape.axes() == ("x", "y") and len(landscape.variables) == 3
    viewport = landscape.plot.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, -1.5, 2.0))
    for point in [(-0.5, 1.0), (0.8, -1.2)]:
        frames = session.live.frames
        qtbot.mouseMove(viewport, viewport_point(landscape, *point))
        qtbot.waitUntil(lambda p=point: session.live.frames > frames  # (a frame of the press may still come first)
                        and abs(session.running.runs[session.selected_index()].start["x"] - p[0]) < 0.05, timeout=30000)
        index, shown = session.selected_index(), session.running
        assert shown.runs[index].start["z"] == 0.7
        assert landscape.slice_point()["z"] == 0.7  # (the slice holds still while the start is held)
        runs = ScenarioRunner(shown, session.objective).run_to_end()
        for buffer, run in zip(session.buffers, runs):  # the live paths, bit for bit
            assert np.array_equal(buffer.rows, run.trajectory.rows, equal_nan=True)
            assert buffer.rows.shape[1] == PARAMS + 3 and buffer.rows[0, PARAMS + 2] == 0.7
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, 0.8, -1.2))
    settle(qtbot, window)
    index = session.selected_index()
    start = document.scenario.runs[index].start
    assert start["z"] == 0.7 and abs(start["x"] - 0.8) < 0.05 and abs(start["y"] + 1.2) < 0.05
    assert all(r.start == {"x": -1.5, "y": 2.0, "z": 0.7} for i, r in enumerate(document.scenario.runs) if i != index)
    window.redraw()
    assert_drawn_as_headless(window)


def test_while_a_run_animates_a_drag_moves_the_start_and_the_animation_restarts(qtbot, window):
    window.menus.set_speed(30)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "running", timeout=20000)
    landscape, viewport = window.landscape, window.landscape.plot.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, -1.5, 2.0))
    qtbot.mouseMove(viewport, viewport_point(landscape, 0.5, 0.5))
    assert landscape.drag.ghost.isVisible() and window.session.live.frames == 0  # the animation is not fought
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=viewport_point(landscape, 0.5, 0.5))
    assert window.session.state in ("starting", "running") and window.session.live.frames == 0
    index = window.session.selected_index()
    assert abs(window.document.scenario.runs[index].start["x"] - 0.5) < 0.05
    window.session.reset()


def test_a_drag_over_a_data_loss_lowers_the_budget_and_the_release_is_whole(qtbot, window, tmp_path):
    import json

    from .helpers import open_file

    path = tmp_path / "data.json"
    path.write_text(json.dumps({
        "format": "gdstudio-scenario", "version": 1, "name": "line", "loss": "mean((w*x + b - y)^2)",
        "data": {"generate": {"kind": "noisy_line", "n": 200_000, "seed": 1, "slope": 2, "intercept": 1, "noise": 1}},
        "view": {"w": [-1, 5], "b": [-3, 5]}, "stop": {"max_steps": 3000, "grad_tol": None, "loss_tol": None},
        "runs": [{"label": "sgd", "optimizer": {"name": "sgd", "lr": 0.01}, "start": {"w": 0, "b": 0}, "batch_size": 64}]}))
    assert open_file(qtbot, window, path)
    qtbot.waitUntil(lambda: window.session.runnable_objective(window.document.scenario) is not None, timeout=30000)
    messages = []
    window.session.status.connect(lambda text, _ms: messages.append(text))
    drag(qtbot, window, (0.0, 0.0), [(1.0, 1.0), (2.0, 0.5)])
    assert any("cut to" in m and "of 3,000 steps" in m for m in messages)
    settle(qtbot, window, timeout=60000)
    buffer = window.session.buffers[0]
    assert buffer.status == "max_steps" and buffer.steps_done == 3000
    assert_drawn_as_headless(window)


def test_undo_steps_back_through_edits_and_new_starts_a_new_history(qtbot, window):
    document = window.document
    first = document.scenario
    window.session.set_start({"x": 0.25, "y": 0.5})
    second = document.scenario
    document.update_run(0, hyper={"lr": 0.05})
    assert window.history.undo() and document.scenario == second
    assert window.history.undo() and document.scenario == first
    assert not window.history.undo()
    assert window.history.redo() and document.scenario == second
    window.files.new()
    assert not window.history.undo() and not window.history.redo()
