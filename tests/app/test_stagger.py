"""Views that follow a change in turns of their own (app/stagger.py): opening a lesson was one 30-80 ms turn."""

from __future__ import annotations

import json
import threading

from PySide6.QtCore import QObject, QTimer, Signal

from gdstudio.app.objectives import OBJECTIVES
from gdstudio.app.stagger import Stagger

from .helpers import wait_drawn


class Source(QObject):
    changed = Signal(object)


def test_each_queued_view_runs_in_a_turn_of_its_own_in_the_order_asked(qtbot):
    stagger, seen = Stagger(), []
    turns = QTimer(interval=0)  # counts the event loop's turns: a zero timer fires once per pass
    passes = []
    turns.timeout.connect(lambda: passes.append(len(seen)))
    turns.start()
    stagger.later("help", lambda: seen.append("help"))
    stagger.later("menu", lambda: seen.append("menu"))
    assert seen == [] and stagger.pending()  # (nothing in the turn that asked)
    qtbot.waitUntil(lambda: not stagger.pending())
    turns.stop()
    assert seen == ["help", "menu"]
    assert 1 in passes  # a turn of the loop came between the two


def test_a_view_queued_again_runs_once_with_the_latest_call_in_its_first_place(qtbot):
    stagger, source, seen = Stagger(), Source(), []
    stagger.follow(source.changed, lambda value: seen.append(("help", value)))
    stagger.later("menu", lambda: seen.append(("menu", None)))
    source.changed.emit(1)
    source.changed.emit(2)
    qtbot.waitUntil(lambda: not stagger.pending())
    assert seen == [("menu", None), ("help", 2)]


def test_a_closed_queue_runs_nothing_more(qtbot):
    stagger, seen = Stagger(), []
    stagger.later("help", lambda: seen.append("help"))
    stagger.close()
    stagger.later("menu", lambda: seen.append("menu"))  # (a view asking as the window closes)
    qtbot.wait(20)
    assert seen == [] and not stagger.pending()


def test_a_view_that_fails_leaves_the_others_their_turns(qtbot):
    stagger, seen = Stagger(), []

    def fails() -> None:
        raise ValueError("a view's bug")

    stagger.later("failing", fails)
    stagger.later("menu", lambda: seen.append("menu"))
    with qtbot.captureExceptions() as raised:
        qtbot.waitUntil(lambda: seen == ["menu"])
    assert [type(e[1]) for e in raised] == [ValueError]


def test_opening_a_lesson_leaves_the_help_and_the_tools_to_later_turns(qtbot, window):
    """The file's own turn sets the document, the editor and the runs; the explanation, the recent files and the
    insight tools follow, each in a turn of its own, and all of them do follow."""
    from gdstudio.app.presets import example_files

    resource = next(r for _t, r in example_files() if r.name.startswith("02_"))
    insight, in_its_turn = window.insight, []
    window.document.changed.connect(  # (connected last: the end of the file's turn)
        lambda scenario: in_its_turn.append((scenario.description in window.help.panel.toPlainText(),
                                             window.session.stagger.pending())))
    window.files.open_path(str(resource), ask=False)
    qtbot.waitUntil(lambda: not window.files.opening)
    assert in_its_turn == [(False, True)]
    qtbot.waitUntil(lambda: window.document.scenario.description in window.help.panel.toPlainText())
    qtbot.waitUntil(lambda: not window.session.stagger.pending())
    assert window.menus.recent_menu.actions()[0].toolTip() == str(resource.resolve())
    wait_drawn(qtbot, window)
    insight.race_panel.entries = ["a race of the loss before"]
    window.session.objective_changed.emit(window.session.objective)  # a new loss: the old results go at once
    assert insight.race_panel.entries == [] and window.session.stagger.pending()  # (the panels a turn later)
    qtbot.waitUntil(lambda: not window.session.stagger.pending())


def test_a_data_model_is_made_in_the_files_thread(qtbot, window, tmp_path, monkeypatch):
    """The data view's model (parse, derive, NumPy code) took ~13 ms of the GUI thread for every file with data."""
    made_on = []
    derive = OBJECTIVES._derive
    monkeypatch.setattr(OBJECTIVES, "_derive", lambda *args: (made_on.append(threading.current_thread()), derive(*args))[1])
    model = "w*x + 0.5*b"  # (not made by another test: OBJECTIVES keeps what every test made)
    body = {"format": "gdstudio-scenario", "version": 1, "name": "line", "loss": "mean((w*x + 0.5*b - y)^2)",
            "data": {"columns": {"x": [0.0, 1.0, 2.0], "y": [1.0, 2.0, 3.0]}, "model": model},
            "runs": [{"label": "GD", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"w": 0.0, "b": 0.0}}]}
    path = tmp_path / "line.json"
    path.write_text(json.dumps(body))
    window.files.open_path(str(path), ask=False)
    qtbot.waitUntil(lambda: window.document.path == path.resolve() and not window.session.stagger.pending())
    view = window.data_actions.view
    assert view.layout_ is not None and view.layout_.mode == "curve" and view.layout_.model.text == model
    assert made_on and threading.main_thread() not in made_on


def test_a_files_data_is_drawn_in_a_turn_after_the_files(qtbot, window):
    """The data view's points, layout and each run's model (4-11 ms a lesson with data) were drawn in the file's turn."""
    from gdstudio.app.presets import example_files

    resource = next(r for _t, r in example_files() if r.name.startswith("03_"))  # (a lesson with a data set)
    view, in_its_turn = window.data_actions.view, []

    def points() -> int:
        xs = view.scatter.getData()[0]
        return 0 if xs is None else len(xs)

    window.document.changed.connect(lambda _s: in_its_turn.append(points()))  # (connected last: the file's turn ends)
    window.files.open_path(str(resource), ask=False)
    qtbot.waitUntil(lambda: not window.files.opening and not window.session.stagger.pending())
    assert window.document.scenario.data is not None and window.data_actions.dock.isVisibleTo(window)
    assert in_its_turn == [0] and points() == window.document.scenario.data.dataset.rows


def test_a_derived_loss_reaches_the_landscape_in_its_turn_and_the_other_views_in_the_next(qtbot, window):
    """(~10 ms a loss typed in one turn): the landscape asks for its field at once, the rest follows."""
    objective = OBJECTIVES.get("(p - 1)^2 + 3*(q + 2)^2 + p*q/5")
    seen = []
    window.session.objective_changed.connect(seen.append)
    window.session.set_objective(objective)
    assert window.landscape.objective is objective and window.landscape.computing and seen == []
    qtbot.waitUntil(lambda: seen == [objective])
    assert window.runs_panel._variables == objective.variables
