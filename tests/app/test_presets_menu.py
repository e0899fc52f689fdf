"""The Presets menu: a classic function's loss, view and starts; the runs keep their optimizers; minima as ★."""

from __future__ import annotations

import numpy as np

from gdstudio.core import scenario as sc
from gdstudio.core.presets import load_presets, preset_by_name

from .helpers import wait_drawn


def presets_menu(win):
    for action in win.menuBar().actions():
        if action.text().replace("&", "") == "Presets":
            return action.menu()
    raise AssertionError("no Presets menu")


def choose(qtbot, win, name: str) -> None:
    menu = presets_menu(win)
    action = next(a for a in menu.actions() if a.text() == name)
    action.trigger()
    qtbot.waitUntil(lambda: win.session.objective is not None and win.session.objective.text == preset_by_name(name).loss
                    and not win.editor.busy, timeout=15000)
    wait_drawn(qtbot, win)


def test_menu_lists_every_preset_and_is_enabled(window):
    menu = presets_menu(window)
    assert menu.isEnabled()
    assert [a.text() for a in menu.actions()] == [p.name for p in load_presets()]
    assert all(a.toolTip() for a in menu.actions())


def test_choosing_a_preset_sets_loss_view_starts_and_minima(qtbot, window):
    before = window.document.scenario
    field_before = window.landscape.field.z.copy()
    choose(qtbot, window, "Himmelblau")
    preset = preset_by_name("Himmelblau")
    scenario = window.document.scenario
    assert window.editor.text() == preset.loss and scenario.loss == preset.loss
    assert window.editor.verdict.text() == "✔ variables: x, y"
    assert dict(scenario.view) == preset.view and scenario.name == "Himmelblau"
    assert [dict(r.start) for r in scenario.runs] == [preset.start] * len(before.runs)
    assert [(r.optimizer, dict(r.hyper), r.label) for r in scenario.runs] == [(r.optimizer, dict(r.hyper), r.label) for r in before.runs]
    field = window.landscape.field
    assert field is not None and not np.array_equal(field.z, field_before)
    assert field.xs[0] == preset.view["x"][0] and field.xs[-1] == preset.view["x"][1]
    x, y = np.meshgrid(field.xs, field.ys)
    assert np.allclose(field.z, (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2)
    stars = sorted(map(tuple, np.round(np.column_stack(window.landscape.minima.getData()), 6)))
    assert stars == sorted((round(p["x"], 6), round(p["y"], 6)) for p, _ in preset.minima)
    assert window.isWindowModified()


def test_one_variable_preset_draws_a_curve_with_its_minima(qtbot, window):
    choose(qtbot, window, "Double well")
    assert window.landscape.field is None
    xs, ys = window.landscape.curve_item.getData()
    assert len(xs) > 100 and np.allclose(ys, xs**4 - 3 * xs**2 + xs)
    mx, my = window.landscape.minima.getData()
    assert len(mx) == 2 and np.allclose(my, mx**4 - 3 * mx**2 + mx, atol=1e-6)


def test_a_preset_replaces_a_data_scenario(qtbot, window):
    window.data_actions.generate({"kind": "noisy_line", "n": 50, "seed": 1})
    window.document.update_run(0, batch_size=4, scale={"x": "standard"})
    choose(qtbot, window, "Booth")
    scenario = window.document.scenario
    assert scenario.data is None and all(r.batch_size is None and not r.scale for r in scenario.runs)
    assert not window.data_actions.dock.isVisibleTo(window)
    sc.loads(sc.dumps(scenario))


def test_typing_another_loss_removes_the_presets_minimum_marker(qtbot, window):
    from .helpers import type_loss

    assert len(window.landscape.minima.getData()[0]) == 1  # Rosenbrock's (1, 1)
    type_loss(qtbot, window, "x^2 + 3*y^2")
    qtbot.waitUntil(lambda: window.document.scenario.loss == "x^2 + 3*y^2")
    assert len(window.landscape.minima.getData()[0]) == 0  # (its minimum is at 0, and no preset says so)
    type_loss(qtbot, window, "(1 - x)^2 + 100*(y - x^2)^2")
    qtbot.waitUntil(lambda: len(window.landscape.minima.getData()[0]) == 1)
