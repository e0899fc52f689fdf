"""Running in the worker thread: live plots, status, pause/step, and the same numbers as the CLI."""

import math
import threading
from concurrent.futures import Future

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from gdstudio.core.export import trajectories_csv
from gdstudio.app.session import RunState
from gdstudio.core.runner import RunProgress, ScenarioRunner, run_scenario

from .helpers import open_file, run_to_end, run_unending


def test_run_to_completion_shows_status_and_plots_every_step(qtbot, window):
    run_to_end(qtbot, window)
    headless = run_scenario(window.document.scenario)
    assert [b.status for b in window.session.buffers] == [r.status for r in headless]
    for buffer, run, curve, path in zip(window.session.buffers, headless, window.loss_curve.curves, window.landscape.marks.paths):
        assert np.array_equal(buffer.rows, run.trajectory.rows)  # bit for bit
        xs, ys = curve.getOriginalDataset()  # a min/max envelope of every step (runs are longer than 2048 steps)
        assert len(run.trajectory) - 2 <= xs[-1] <= len(run.trajectory) - 1 and len(xs) <= len(run.trajectory)
        assert np.nanmax(ys) == run.trajectory.loss.max() and np.nanmin(ys) == run.trajectory.loss.min()
        px, py = path.getData()  # points closer than a pixel-sized cell are skipped; the path ends at the final point
        assert 1 < len(px) <= len(run.trajectory)
        assert (px[0], py[0]) == tuple(run.trajectory.params[0]) and (px[-1], py[-1]) == tuple(run.trajectory.params[-1])
    table = window.runs_panel.table
    assert table.topLevelItem(0).text(4) == headless[0].status
    assert table.topLevelItem(0).toolTip(4) == headless[0].reason
    window.runs_panel.select(0)
    window.redraw()
    status = window.status_label.text()
    assert status.startswith(f"Adam · step {headless[0].steps:,} · loss")
    assert headless[0].reason in status and status.endswith("[finished]")
    assert trajectories_csv(window.session.buffers) == trajectories_csv(headless)


class SlowCompiles(list):
    """The warmer's compiles asked for so far (futures), standing still until `release`; any asked for after it
    (the studio warms the shown loss's code whenever typing pauses) are done at once."""

    released = False

    def release(self) -> None:
        self.released = True
        for future in self:
            future.done() or future.set_result(None)


def slow_compiles(monkeypatch, window) -> SlowCompiles:
    made = SlowCompiles()

    def warm(_objective, _hessian) -> Future:
        made.append(Future())
        if made.released:
            made[-1].set_result(None)
        return made[-1]

    monkeypatch.setattr(window.session.kernels, "warm", warm)
    return made


@pytest.mark.parametrize("compiled_after", [math.inf, 3], ids=["never", "after 3 chunks"])
def test_until_the_kernel_is_compiled_runs_step_in_python_bit_for_bit(qtbot, window, monkeypatch, compiled_after):
    # a first start: Numba compiles the run kernel for seconds, and the loss's code after it
    compiles, tiers = slow_compiles(monkeypatch, window), []
    advance = ScenarioRunner.advance

    def counted(runner, n, interpret=False):
        tiers.append(interpret)
        if len(tiers) >= compiled_after:
            compiles.release()
        return advance(runner, n, interpret)

    monkeypatch.setattr(ScenarioRunner, "advance", counted)
    monkeypatch.setattr(RunProgress, "compiled", property(lambda run: len(tiers) >= compiled_after))
    run_to_end(qtbot, window)
    assert compiles and tiers[0] and (all(tiers) if compiled_after == math.inf else not tiers[-1])
    headless = run_scenario(window.document.scenario)
    assert [b.status for b in window.session.buffers] == [r.status for r in headless]
    for buffer, run in zip(window.session.buffers, headless):
        assert np.array_equal(buffer.rows.view(np.int64), run.trajectory.rows.view(np.int64))  # bit for bit


def test_reset_while_a_run_waits_for_its_compiled_code_answers_at_once(qtbot, window, monkeypatch):
    # a run Python cannot step (e.g. a million rows) waits for the compiled code; a Reset must not wait with it
    compiles = slow_compiles(monkeypatch, window)
    monkeypatch.setattr(RunProgress, "compiled", property(lambda run: bool(compiles) and all(f.done() for f in compiles)))
    monkeypatch.setattr(RunProgress, "python_fg", None)
    guard = threading.Timer(30, compiles.release)  # (only if Reset hangs)
    guard.start()
    window.session.run()
    qtbot.waitUntil(lambda: bool(compiles))
    window.session.reset()
    assert not any(f.done() for f in compiles)  # Reset came back while the compile still went on
    assert window.session.state == RunState.IDLE and not window.session.buffers
    guard.cancel()
    compiles.release()
    run_to_end(qtbot, window)
    assert window.session.buffers and all(b.status != "running" for b in window.session.buffers)


def test_pause_step_resume_and_reset(qtbot, window):
    window.menus.set_speed(30)
    window.session.run()
    qtbot.waitUntil(lambda: bool(window.session.buffers) and len(window.session.buffers[0]) > 2, timeout=10000)
    window.session.pause()
    qtbot.waitUntil(window.session.controller.held, timeout=10000)  # the worker waits: it makes no more steps
    QCoreApplication.processEvents()  # (the steps it made before pausing arrive)
    steps = len(window.session.buffers[0])
    QCoreApplication.processEvents()
    assert len(window.session.buffers[0]) == steps and window.session.state == "paused"
    window.redraw()
    assert window.runs_panel.table.topLevelItem(0).text(4) == "paused"
    assert window.status_label.text().endswith("[paused]") and "running" not in window.status_label.text()
    window.session.step()
    qtbot.waitUntil(lambda: len(window.session.buffers[0]) == steps + 1, timeout=5000)
    window.menus.set_speed(math.inf)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=20000)
    headless = run_scenario(window.document.scenario)
    assert np.array_equal(window.session.buffers[0].rows, headless[0].trajectory.rows)  # pausing never changes results
    window.session.reset()
    assert window.session.buffers == [] and window.session.state == "idle" and window.status_label.text().startswith("ready")


def test_reset_drops_the_runs_without_settling_them_and_stop_settles_them(qtbot, window, monkeypatch):
    """Settling a run past its row limit thins it exactly, as the command line does (~5 ms a run): a Stop keeps the
    runs and settles them; a Reset drops them, so it does not (twenty runs held the Reset 100 ms)."""
    from gdstudio.app import buffers

    settled = []
    settle = buffers.LiveTrajectory.settle
    monkeypatch.setattr(buffers.LiveTrajectory, "settle", lambda self: (settled.append(self), settle(self)))
    for stop, kept in ((window.session.stop_runs, True), (window.session.reset, False)):
        before = window.session.buffers
        run_unending(window)
        qtbot.waitUntil(lambda: window.session.buffers is not before and window.session.buffers
                        and len(window.session.buffers[0]) > 10, timeout=10000)
        runs = len(window.session.buffers)
        settled.clear()
        stop()
        assert len(settled) == (runs if kept else 0) and bool(window.session.buffers) == kept


def test_each_step_from_idle_takes_one_update(qtbot, window):
    """Lesson 1 is stepped by hand: the first press already shows θ after one update, not just the start."""
    window.session.step()
    qtbot.waitUntil(lambda: bool(window.session.buffers) and window.session.buffers[0].steps_done == 1, timeout=10000)
    assert len(window.session.buffers[0]) == 2
    qtbot.waitUntil(lambda: window.status_label.text().startswith("Adam · step 1 ·"), timeout=5000)
    window.session.step()
    qtbot.waitUntil(lambda: window.session.buffers[0].steps_done == 2, timeout=5000)
    headless = run_scenario(window.document.scenario, max_steps=2)
    assert np.array_equal(window.session.buffers[0].rows, headless[0].trajectory.rows)


def test_new_run_cancels_the_old_one(qtbot, window):
    window.menus.set_speed(10)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "running" and bool(window.session.buffers), timeout=10000)
    first = window.session.controller._worker
    window.session.run(restart=True)
    assert window.session.controller._worker is not first
    run_to_end(qtbot, window)
    assert len(window.session.buffers[0]) == len(run_scenario(window.document.scenario)[0].trajectory)


def test_editing_while_running_restarts_with_the_edit(qtbot, window):
    window.menus.set_speed(100)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "running" and bool(window.session.buffers), timeout=10000)
    window.document.update_run(0, hyper={"lr": 0.05})
    window.menus.set_speed(math.inf)
    qtbot.waitUntil(lambda: window.session.state == "finished", timeout=20000)
    headless = run_scenario(window.document.scenario)
    assert np.array_equal(window.session.buffers[0].rows, headless[0].trajectory.rows)


def test_diverging_run_reports_its_reason(qtbot, window):
    window.document.update_run(1, hyper={"lr": 0.1})
    run_to_end(qtbot, window)
    buffer = window.session.buffers[1]
    assert buffer.status == "diverged" and buffer.reason.startswith("diverged at step")
    assert window.runs_panel.table.topLevelItem(1).text(4) == "diverged"


def test_short_run_plots_every_step(qtbot, window):
    window.document.update("stop", stop=window.document.scenario.stop.__class__(max_steps=300))
    run_to_end(qtbot, window)
    headless = run_scenario(window.document.scenario)
    for curve, run in zip(window.loss_curve.curves, headless):
        xs, ys = curve.getOriginalDataset()
        assert len(xs) == len(run.trajectory) == 301 and np.array_equal(ys, run.trajectory.loss)
    window.loss_curve.quantity.setCurrentIndex(2)  # learning rate
    window.loss_curve.log.setChecked(False)
    xs, ys = window.loss_curve.curves[0].getOriginalDataset()
    assert np.array_equal(ys, headless[0].trajectory.lr)


def test_epoch_axis_for_runs_on_a_data_set(qtbot, window):
    from pathlib import Path

    from gdstudio.core import scenario as sc

    assert not window.loss_curve.x_unit.isEnabled()  # no data set: steps only
    path = Path(__file__).resolve().parents[2] / "scenarios" / "03_batch_sgd_minibatch.json"
    assert open_file(qtbot, window, str(path))
    qtbot.waitUntil(lambda: window.session.objective is not None and window.session.objective.text == window.document.scenario.loss)
    run_to_end(qtbot, window)
    scenario = sc.load(path)
    rows = scenario.data.dataset.rows
    curve = window.loss_curve
    assert curve.x_unit.isEnabled()
    steps_x = [c.getOriginalDataset()[0][-1] for c in curve.curves]
    curve.x_unit.setCurrentIndex(1)
    assert curve.item.getAxis("bottom").labelText == "epoch"
    for spec, c, last in zip(scenario.runs, curve.curves, steps_x):
        expected = last * min(spec.batch_size or rows, rows) / rows
        assert abs(c.getOriginalDataset()[0][-1] - expected) < 1e-9 * max(1.0, expected)
    curve.x_unit.setCurrentIndex(0)
    assert [c.getOriginalDataset()[0][-1] for c in curve.curves] == steps_x


def test_log_loss_axis_labels_stay_readable(qtbot, window):
    """One decade and a half of loss: every minor tick of 2..9 labelled overlapped; now 1, 2, 5 × 10ⁿ."""
    axis = window.loss_curve.item.getAxis("left")
    values = [math.log10(v) for v in (0.8, 0.9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30, 40, 50, 60)]
    labels = [text for text in axis.logTickStrings(values, 1.0, 1.0) if text]
    assert labels == ["1", "2", "5", "10¹", "2·10¹", "5·10¹"]
    assert axis.logTickStrings([0.0, 1.0, 2.0], 1.0, 1.0) == ["1", "10¹", "10²"]  # few ticks: all labelled
    assert window.loss_curve.item.getAxis("left").autoSIPrefix is False


def test_a_log_axis_says_when_it_hides_losses_at_or_below_zero(qtbot, window):
    from .helpers import type_loss

    curve = window.loss_curve
    run_to_end(qtbot, window)  # Rosenbrock: every loss above 0
    window.redraw()
    assert curve.log.isChecked() and not curve.hidden_note.isVisible()
    type_loss(qtbot, window, "(1 - x)^2 + 100*(y - x^2)^2 - 1")  # the same descent, one lower: minimum −1
    run_to_end(qtbot, window)
    window.redraw()
    assert curve.hidden_note.isVisible() and curve.hidden_note.text() == "values ≤ 0 not drawn"
    curve.log.setChecked(False)  # linear: everything drawn
    assert not curve.hidden_note.isVisible()
    assert np.nanmin(curve.curves[0].getOriginalDataset()[1]) < 0


def test_a_paced_chunk_takes_no_longer_than_a_chunk_of_time(qtbot):
    """At 1000 steps a second a frame is 30 steps; over a million rows a Reset waited up to 0.6 s for them (a Reset or a
    Pause waits for the chunk under way): a paced chunk is a frame's steps, or what fits in CHUNK_SECONDS if fewer."""
    from gdstudio.app.document import default_scenario
    from gdstudio.app.worker import CHUNK_SECONDS, FRAME, RunWorker

    worker = RunWorker(1, default_scenario(), None, 1000.0, paused=False)
    assert worker._next_chunk(per_step=1e-6) == round(1000.0 * FRAME) == 30  # (a cheap loss: the frame's steps)
    assert worker._next_chunk(per_step=0.01) == int(CHUNK_SECONDS / 0.01) == 2  # (10 ms a step)
    assert worker._next_chunk(per_step=1.0) == 1  # (a step longer than a chunk: one at a time)


def test_without_runs_the_loss_curve_shows_its_first_range_again(qtbot, window):
    """A Reset, or a new document, left the empty loss curve in the last runs' range (0 to 3,000 steps, say)."""
    view = window.loss_curve.item.vb
    first = view.viewRange()[0]
    run_to_end(qtbot, window)
    window.loss_curve.refresh()
    assert view.viewRange()[0][1] > 10 * max(first[1], 1.0)
    window.menus.reset.trigger()
    assert view.viewRange()[0] == pytest.approx([0.0, 1.0])
    assert all(view.autoRangeEnabled())  # (the next runs are followed again)


def test_run_reset_run_keeps_the_runs_items_and_draws_nothing_in_between(qtbot, window):
    """Twenty runs' paths and loss curves were made again at every Run after a reset (~20 ms of the GUI thread)."""
    def points(item) -> int:
        xs = item.getData()[0]
        return 0 if xs is None else len(xs)

    run_to_end(qtbot, window)
    marks, loss = window.landscape.marks, window.loss_curve
    paths, curves = list(marks.paths), list(loss.curves)
    assert paths and curves and loss.item.legend.isVisible()
    window.session.reset()
    assert not any(points(item) for item in (*paths, *curves))
    assert len(marks.starts.data) == len(marks.currents.data) == 0 and not loss.item.legend.isVisible()
    run_to_end(qtbot, window)
    assert marks.paths == paths and loss.curves == curves  # the same items, fed again
    assert all(points(item) > 1 for item in (*paths, *curves)) and loss.item.legend.isVisible()
