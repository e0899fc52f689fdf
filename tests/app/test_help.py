"""Help ▸ What am I looking at?: the picture, the update rule, the selected optimizer's formula, and each
example's title and description in the Examples menu and on screen when it is opened."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt

from gdstudio.app.presets import example_files
from gdstudio.core.optimizers import OPTIMIZERS
from gdstudio.core.scenario import loads


def shows_formula(panel, name: str) -> bool:
    """Each statement of the formula is on its own line of the panel."""
    lines = panel.toPlainText().splitlines()
    return all(part.strip() in lines for part in OPTIMIZERS[name].formula.split(";"))


def test_help_panel_shows_the_selected_optimizers_formula(qtbot, window):
    window.help.action.trigger()
    panel = window.help.panel
    assert window.help.dock.isVisible()
    text = panel.toPlainText()
    assert "θ := θ − α ∇J(θ)" in text and "contours" in text and "Loss curve" in text and "log scale" in text
    window.runs_panel.select(0)
    assert shows_formula(panel, "adam") and "Adam (adam)" in panel.toPlainText()
    window.runs_panel.select(1)
    assert shows_formula(panel, "sgd") and not shows_formula(panel, "adam")
    window.document.update_run(1, optimizer="newton", hyper={})
    qtbot.waitUntil(lambda: shows_formula(panel, "newton"))  # (the help follows in a turn of its own: stagger.py)


def test_examples_menu_shows_titles_and_descriptions(window):
    """Read as the menu first shows (reading them took the launch's longest turn after the first paint)."""
    menu, examples = window.menus.examples_menu, example_files()
    assert [a.text() for a in menu.actions() if a.isEnabled()] == [title for title, _r in examples]  # (not read yet)
    menu.aboutToShow.emit()
    actions = [a for a in menu.actions() if a.isEnabled()]
    assert len(actions) == len(examples) >= 10
    for action, (_title, resource) in zip(actions, examples):
        scenario = loads(resource.read_text(encoding="utf-8"), resource.name)
        assert action.text().replace("&&", "&") == scenario.name
        assert action.toolTip() == scenario.description


def test_opening_an_example_shows_its_description(qtbot, window):
    resource = next(r for _t, r in example_files() if r.name.startswith("02_"))
    scenario = loads(resource.read_text(encoding="utf-8"), resource.name)
    assert scenario.description
    window.menus.examples_menu.aboutToShow.emit()
    action = next(a for a in window.menus.examples_menu.actions() if a.text().replace("&&", "&") == scenario.name)
    action.trigger()
    assert window.document.scenario.name == scenario.name
    qtbot.waitUntil(lambda: scenario.description in window.help.panel.toPlainText())  # (a turn later: stagger.py)
    assert window.help.dock.isVisible()
    shown = window.help.panel.toPlainText()
    assert scenario.name in shown and scenario.description in shown
    assert window.statusBar().currentMessage().startswith(scenario.name)


def test_name_and_description_can_be_rewritten(qtbot, window, tmp_path):
    """After a loss of one's own, a lesson's name and explanation no longer fit: File ▸ Name and description."""
    from PySide6.QtWidgets import QDialogButtonBox

    from gdstudio.core import scenario as sc

    runs_before = window.document.scenario.runs
    dialog = window.edit_properties()
    qtbot.addWidget(dialog)
    dialog.name.setText("My bowl")
    dialog.description.setPlainText("A round bowl: every start heads straight for the bottom.")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    scenario = window.document.scenario
    assert (scenario.name, scenario.description) == ("My bowl", "A round bowl: every start heads straight for the bottom.")
    assert window.windowTitle().startswith("My bowl — ") and window.isWindowModified() and scenario.runs == runs_before
    qtbot.waitUntil(lambda: "A round bowl" in window.help.panel.toPlainText())
    path = tmp_path / "bowl.json"
    window.files._write(path)
    assert sc.load(path).description == scenario.description
    dialog = window.edit_properties()
    qtbot.addWidget(dialog)
    dialog.description.setPlainText("d" * 10_001)
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled() and "limit 10,000" in dialog.problem.text()
    dialog.reject()
    assert window.document.scenario.description == scenario.description


def test_help_typesets_the_selected_runs_update_rule(qtbot, window):
    window.help.show()
    panel = window.help.panel
    qtbot.waitUntil(lambda: "adam" in panel.rules, timeout=30000)
    assert len(panel.rules["adam"]) == 3 and not panel.rules["adam"][0].isNull()
    assert panel.toHtml().count("rule:adam/") == 3  # drawn in the panel, the text form below them


def test_a_change_the_help_does_not_show_leaves_its_text_alone(qtbot, window):
    """setHtml lays the whole text out again (~2 ms): not for a moved view or a run's new start."""
    panel = window.help.panel
    panel.show_scenario(window.document.scenario, 0)
    laid_out = []
    panel.document().contentsChanged.connect(lambda: laid_out.append(1))
    scenario = window.document.scenario
    moved = {name: (low - 1.0, high + 1.0) for name, (low, high) in scenario.view.items()}
    panel.show_scenario(replace(scenario, view=moved), 0)
    assert not laid_out
    panel.show_scenario(replace(scenario, description="Another lesson"), 0)
    assert laid_out and "Another lesson" in panel.toPlainText()
