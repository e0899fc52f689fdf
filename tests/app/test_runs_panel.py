"""The runs panel: optimizer choice, generated hyper-parameter form, add/duplicate/remove."""

import re
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gdstudio.core.optimizers import OPTIMIZERS


def set_field(qtbot, edit, text):
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_choose_optimizer_and_change_a_hyper_parameter(qtbot, window):
    panel = window.runs_panel
    panel.select(0)
    combo = panel.editor.optimizer
    combo.setCurrentIndex(combo.findData("rmsprop"))
    combo.activated.emit(combo.currentIndex())
    spec = window.document.scenario.runs[0]
    assert spec.optimizer == "rmsprop" and dict(spec.hyper) == {}
    form = panel.editor.hyper
    shown = sorted((label for label in form.findChildren(QLabel) if label.isVisibleTo(form)), key=lambda label: label.y())
    assert [label.text() for label in shown][:3] == ["lr", "alpha", "eps"]  # (only rmsprop's: the other pages hidden)
    assert form.field("alpha").toolTip().startswith(OPTIMIZERS["rmsprop"].params[1].help)
    set_field(qtbot, form.field("lr"), "0.05")
    assert dict(window.document.scenario.runs[0].hyper) == {"lr": 0.05}
    assert window.isWindowModified()


def test_invalid_hyper_parameter_is_explained_and_not_applied(qtbot, window):
    panel = window.runs_panel
    panel.select(0)
    before = window.document.scenario.runs[0]
    set_field(qtbot, panel.editor.hyper.field("lr"), "-1")
    assert panel.editor.problem.text() == "✖ lr: must be > 0, got -1"
    assert window.document.scenario.runs[0] == before


def test_non_finite_start_or_clip_is_explained_and_not_applied(qtbot, window):
    panel = window.runs_panel
    panel.select(0)
    before = window.document.scenario.runs[0]
    for text in ("inf", "nan", "-1e999"):
        set_field(qtbot, panel.editor._start_edits["x"], text)
        assert panel.editor.problem.text() == f"✖ start x: must be a finite number, got {text!r}"
        assert window.document.scenario.runs[0] == before
    set_field(qtbot, panel.editor._start_edits["x"], "0.5")
    assert window.document.scenario.runs[0].start["x"] == 0.5 and panel.editor.problem.text() == ""


def test_removing_every_run_while_running_leaves_nothing_drawn(qtbot, window):
    import math

    window.menus.set_speed(30)
    window.session.run()
    qtbot.waitUntil(lambda: bool(window.session.buffers) and len(window.session.buffers[0]) > 2, timeout=10000)
    panel = window.runs_panel
    while window.document.scenario.runs:
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert window.session.state == "idle" and window.session.buffers == [] and not window.session.controller.active
    marks, curves = window.landscape.marks, window.loss_curve  # (the items are kept for the next runs, emptied)
    assert all(len(item.getData()[0] if item.getData()[0] is not None else []) == 0 for item in (*marks.paths, *curves.curves))
    assert len(marks.starts.data) == len(marks.currents.data) == 0 and not curves.item.legend.isVisible()
    assert not panel.editor.isEnabled() and panel.editor.label.text() == ""
    window.menus.set_speed(math.inf)


def test_add_duplicate_remove(qtbot, window):
    panel = window.runs_panel
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    runs = window.document.scenario.runs
    assert len(runs) == 3 and runs[2].optimizer == "gd" and panel.current() == 2
    qtbot.mouseClick(panel.duplicate_button, Qt.MouseButton.LeftButton)
    runs = window.document.scenario.runs
    assert len(runs) == 4 and runs[3].label == "run 3 copy" and len({r.color for r in runs}) == 4
    panel.select(0)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [r.label for r in window.document.scenario.runs] == ["SGD + momentum", "run 3", "run 3 copy"]
    assert panel.table.topLevelItemCount() == 3


def test_schedule_clip_seed_and_stop_rules(qtbot, window):
    panel = window.runs_panel
    panel.select(1)
    editor = panel.editor
    editor.schedule.setCurrentIndex(editor.schedule.findData("cosine"))
    editor.schedule.activated.emit(editor.schedule.currentIndex())
    set_field(qtbot, editor.schedule_form.field("T_max"), "500")
    editor.clip_kind.setCurrentIndex(editor.clip_kind.findData("norm"))
    editor.clip_kind.activated.emit(editor.clip_kind.currentIndex())
    set_field(qtbot, editor.clip_value, "2")
    spec = window.document.scenario.runs[1]
    assert (spec.schedule, dict(spec.schedule_params), spec.clip_kind, spec.clip_value) == ("cosine", {"T_max": 500.0}, "norm", 2.0)
    set_field(qtbot, panel.stop_box.edits["grad_tol"], "1e-5")
    assert window.document.scenario.stop.grad_tol == 1e-5


def test_twenty_runs_get_twenty_colours_and_a_key_that_fits(qtbot, window):
    from dataclasses import replace

    from gdstudio.app.document import run_color

    base = window.document.scenario.runs[0]
    window.document.set_runs([replace(base, label=f"r{i}", color=None) for i in range(20)])
    assert len({run_color(window.document.scenario, i) for i in range(20)}) == 20
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=5))
    window.menus.set_speed(float("inf"))
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=20000)
    key = window.loss_curve.key.text()  # (named above the plot: a legend of twenty covered the curves)
    assert window.loss_curve.key.isVisible() and re.findall(r"■</span>&nbsp;([^&<]+)", key) == [f"r{i}" for i in range(20)]


def test_the_run_editor_typesets_the_update_rule(qtbot, window):
    """Adam's rule as three typeset lines (m, v, θ); choosing gradient descent shows its one line."""
    formula = window.runs_panel.editor.formula
    qtbot.waitUntil(lambda: not formula.drawing, timeout=30000)
    assert len(formula.drawn) == 3 and not formula.text.isVisibleTo(window)
    assert all(not label.pixmap().isNull() for label in formula.drawn)
    combo = window.runs_panel.editor.optimizer
    combo.setCurrentIndex(combo.findData("gd"))
    combo.activated.emit(combo.currentIndex())  # (as a choice in the list does)
    assert window.document.scenario.runs[0].optimizer == "gd"
    qtbot.waitUntil(lambda: not formula.drawing and len(formula.drawn) == 1, timeout=30000)


def test_the_start_fields_of_variables_shown_before_are_kept_and_only_the_current_ones_shown(qtbot):
    """Lessons one after another change the loss's variables: their start fields were made anew each time (3-9 ms of
    polish, layout and first paint), now each set of variables keeps its page (panels/named_rows.py)."""
    from gdstudio.app.panels.run_editor import RunEditor
    from gdstudio.core.scenario import RunSpec

    editor = RunEditor()
    qtbot.addWidget(editor)
    editor.show()
    spec = RunSpec("gd", start={"x": 1.0, "w": 2.0})

    def shown() -> list[str]:
        labels = (label for label in editor.starts.findChildren(QLabel) if label.isVisibleTo(editor.starts))
        return [label.text() for label in sorted(labels, key=lambda label: label.y())]

    editor.show_run(spec, ("x", "y"), "#1f77b4")
    x_field = editor._start_edits["x"]
    assert shown() == ["start x", "start y"] and x_field.text() == "1"
    editor.show_run(spec, ("w", "b"), "#1f77b4")
    assert shown() == ["start w", "start b"] and editor._start_edits["w"].text() == "2"
    editor.show_run(replace(spec, start={"x": 3.0}), ("x", "y"), "#1f77b4")
    assert editor._start_edits["x"] is x_field and x_field.text() == "3" and shown() == ["start x", "start y"]
