"""Typing in the loss editor: derivatives for a good loss, a located error for a bad one."""

from PySide6.QtCore import QTimer

from .helpers import HANG, open_example, type_loss


def test_good_expression_shows_variables_gradient_and_hessian(qtbot, window):
    type_loss(qtbot, window, "x^2 + 3*y")
    assert window.editor.verdict.text() == "✔ variables: x, y"
    shown = window.editor.math.text()
    assert "∇f =" in shown and "H =" in shown
    assert "2⋅x" in shown  # ∂f/∂x, typeset
    assert "3" in shown
    # the valid loss went into the document; the runs kept their settings
    assert window.document.scenario.loss == "x^2 + 3*y"
    assert [r.optimizer for r in window.document.scenario.runs] == ["adam", "sgd"]
    assert window.windowTitle().endswith("[*] — gdstudio") and window.isWindowModified()


def test_the_verdict_follows_the_plots_in_a_turn_of_its_own(qtbot, window):
    """A derived loss goes to the plots in one turn; its verdict and formulas, laid out anew, in a later one (in the
    same turn the window answered nothing for 10-16 ms)."""
    after_its_turn = []
    window.editor.objective_ready.connect(
        lambda _objective: QTimer.singleShot(0, lambda: after_its_turn.append(window.editor.verdict.text())))
    type_loss(qtbot, window, "x^2 + 3*y")
    assert after_its_turn == ["checking…"]
    assert window.editor.verdict.text() == "✔ variables: x, y"


def test_bad_expression_shows_message_with_column_and_keeps_document(qtbot, window):
    before = window.document.scenario
    type_loss(qtbot, window, "x + foo(y)")
    verdict = window.editor.verdict.text()
    assert verdict.startswith("✖ unknown function 'foo'")
    assert verdict.endswith("at column 5")
    assert window.editor.math.text().splitlines()[-1] == "    ^"  # caret under column 5
    assert window.document.scenario == before


def test_run_refuses_while_an_edit_on_screen_is_invalid(qtbot, window):
    """The document keeps the last good loss; running it while another text is shown would mislead."""
    from .test_runs_panel import set_field

    type_loss(qtbot, window, "x^2 + y^")
    window.session.run()
    assert window.session.state == "idle" and not window.session.buffers
    assert window.message_box.text() == ("The loss shown has an error (the expression ends too early at column 9)."
                                         " Fix it, or undo the edit, and run again.")
    assert window.statusBar().currentMessage().startswith("Not run: The loss shown has an error")  # (said once)
    window.editor.editor.insertPlainText("2")  # "x^2 + y^2": valid, but Run comes before its check
    assert window.editor.busy
    window.session.run()
    assert window.session.state == "idle" and "still being checked" in window.message_box.text()
    type_loss(qtbot, window, "x^2 + y^2")
    window.runs_panel.select(0)
    set_field(qtbot, window.runs_panel.editor.hyper.field("lr"), "0")
    window.session.step()
    assert window.session.state == "idle" and "A setting shown is not valid (lr: must be > 0, got 0)" in window.message_box.text()
    set_field(qtbot, window.runs_panel.editor.hyper.field("lr"), "0.1")
    window.session.step()
    qtbot.waitUntil(lambda: bool(window.session.buffers) and window.session.buffers[0].steps_done == 1, timeout=10000)


def test_typing_fast_checks_only_the_final_text(qtbot, window):
    type_loss(qtbot, window, "sin(x)*cos(y) + 0.1*(x^2 + y^2)")
    assert window.editor.verdict.text() == "✔ variables: x, y"
    assert window.document.scenario.loss == "sin(x)*cos(y) + 0.1*(x^2 + y^2)"
    assert window.landscape.field is not None and window.landscape.field.z.shape == (180, 180)


def test_one_variable_loss_draws_a_curve(qtbot, window):
    type_loss(qtbot, window, "(x - 1)^2")
    xs, ys = window.landscape.curve_item.getData()
    assert len(xs) == 800 and abs(ys.min()) < 1e-3
    assert window.landscape.field is None


def test_a_misspelt_data_column_is_warned_about_in_the_verdict(qtbot, window):
    """xx is no column of the data (x, y), so it silently became a parameter: the loss is accepted, with a warning."""
    open_example(qtbot, window, "03")
    type_loss(qtbot, window, "mean((w*xx + b - y)^2)")
    lines = window.editor.verdict.text().splitlines()
    assert lines[0] == "✔ data columns: x, y · parameters: b, w, xx"
    assert lines[1] == "⚠ 'xx' in mean(...) is a parameter, not a data column: did you mean 'x'? (the data has columns x, y)"
    type_loss(qtbot, window, "mean((w*x + b - y)^2)")
    assert window.editor.verdict.text() == "✔ data columns: x, y · parameters: b, w"


def test_the_derivatives_are_typeset_and_copy_as_latex(qtbot, window):
    """f, ∂f/∂x, ∂f/∂y and the Hessian's upper triangle of Rosenbrock: six drawn equations, the text form
    hidden once they are; Copy as LaTeX puts f, ∇f and H on the clipboard."""
    from PySide6.QtGui import QGuiApplication

    formulas = window.editor.formulas
    qtbot.waitUntil(lambda: not formulas.drawing, timeout=30000)
    assert len(formulas.drawn) == 6 and all(not label.pixmap().isNull() for label in formulas.drawn)
    assert not window.editor.math.isVisibleTo(window) and all(label.isVisibleTo(window) for label in formulas.drawn)
    window.editor.copy_button.click()
    copied = QGuiApplication.clipboard().text()
    assert copied.startswith("\\begin{aligned}") and "\\nabla f &=" in copied and "H &=" in copied and "400" in copied


def test_an_equation_that_cannot_be_drawn_leaves_the_text_form(qtbot, window, monkeypatch):
    import gdstudio.app.panels.math_view as math_view

    monkeypatch.setattr(math_view, "draw_line", lambda *args: None)
    type_loss(qtbot, window, "x^2 + 3*y^2")
    qtbot.waitUntil(lambda: not window.editor.formulas.drawing, timeout=30000)
    assert window.editor.formulas.drawn == [] and window.editor.math.isVisibleTo(window)
    assert "2⋅x" in window.editor.math.text()


def test_half_typed_losses_are_shown_but_only_the_finished_one_is_kept(qtbot, window):
    """Each pause in typing shows the loss at once; the document (and Undo) gets the one typing stopped at,
    and Run takes the loss shown even when typing stopped a moment ago."""
    kept = []
    window.document.loss_changed.connect(lambda scenario: kept.append(scenario.loss))
    window.editor._commit.setInterval(60_000)  # (a pause in typing that never ends here: a check slower than the
    editor = window.editor.editor              # real pause, on a loaded machine, kept "a^2")
    editor.selectAll()
    qtbot.keyClicks(editor, "a^2")
    qtbot.waitUntil(lambda: window.session.objective.text == "a^2", timeout=10000)  # shown, not kept yet
    assert window.document.scenario.loss != "a^2" and window.editor.busy
    qtbot.keyClicks(editor, " + b^2")
    qtbot.waitUntil(lambda: window.session.objective.text == "a^2 + b^2", timeout=10000)
    window.session.run()  # before the pause that would keep it: Run keeps it first
    assert kept == ["a^2 + b^2"] and window.document.scenario.loss == "a^2 + b^2"
    qtbot.waitUntil(lambda: window.session.state in ("running", "finished"), timeout=10000)
    window.session.stop_runs()


def test_a_long_text_form_shows_its_first_sections_until_typeset_and_all_of_it_if_never(qtbot, window, monkeypatch):
    """A logistic loss's text form is ~8,500 characters (its Hessian): ~14 ms to lay out and ~8 to paint, for the
    second before its pictures replace it. Meanwhile its first sections; all of it when it cannot be typeset."""
    import threading

    import gdstudio.app.panels.math_view as math_view
    from gdstudio.app.panels.formulas import LONG_TEXT

    loss = "mean(log(1 + exp(-(2*y - 1)*(a*x + b*y + c*x*y))))"
    drawn, gate, outcome = math_view.draw_line, threading.Event(), []

    def draw(*args):  # (in the drawing thread: held until the text form meanwhile is looked at)
        gate.wait(HANG)
        return None if outcome == ["never"] else drawn(*args)

    monkeypatch.setattr(math_view, "draw_line", draw)
    window.data_actions.generate({"kind": "two_blobs", "n": 50, "seed": 0})
    for ending, extra in (("drawn", ""), ("never", " + 0*a")):
        gate.clear()
        outcome[:] = [ending]
        window.editor.set_text(loss + extra)
        qtbot.waitUntil(lambda e=extra: not window.editor.busy and window.session.objective is not None
                        and window.session.objective.text == loss + e, timeout=HANG * 1000)
        shown = window.editor.math.text()
        assert window.editor.formulas.drawing and len(shown) < LONG_TEXT + 40 and "∇f =" in shown
        assert shown.endswith("⋯ (typesetting the rest)") and "H =" not in shown
        gate.set()
        qtbot.waitUntil(lambda: not window.editor.formulas.drawing, timeout=HANG * 1000)
        if ending == "drawn":
            assert window.editor.formulas.drawn and not window.editor.math.isVisibleTo(window)
        else:
            full = window.editor.math.text()
            assert window.editor.formulas.drawn == [] and len(full) > 2 * LONG_TEXT and "H =" in full


def test_the_check_lets_the_windows_paint_go_first(monkeypatch):
    """Deriving, compiling and printing a loss is Python: before each step it gives way to the GUI thread (a paint on
    its way, a busy turn: background.give_way), not to hold the interpreter lock their Python calls need."""
    from gdstudio.app import typeset
    from gdstudio.app.objectives import Objectives
    from gdstudio.app.panels import loss_editor

    steps: list[str] = []
    monkeypatch.setattr(loss_editor, "give_way", lambda: steps.append("wait"))
    monkeypatch.setattr(typeset, "give_way", lambda: steps.append("wait"))
    monkeypatch.setattr(loss_editor, "OBJECTIVES", Objectives())  # (derived in this process, not by the helper)
    checked = loss_editor.check("x^2 + 3*y^2")
    assert checked.objective is not None and "∇f" in checked.typeset
    assert steps == ["wait"] * 8  # (derive; compile loss, gradient, Hessian; Hessian; print f, gradient, Hessian)
