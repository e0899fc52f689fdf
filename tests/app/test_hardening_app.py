"""Issue 8 in the studio: recovery after a crash, Ctrl+C/SIGTERM, many runs, no leaked threads,
plots that ignore non-finite values."""

import gc
import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QThread

from gdstudio.core import scenario as sc
from gdstudio.core.runner import run_scenario
from gdstudio.core.trajectory import LOSS, PARAMS

from .helpers import run_to_end, type_loss

OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def test_unsaved_work_is_offered_after_a_crash_and_a_clean_quit_removes_it(qtbot, window):
    from gdstudio.app.main_window import MainWindow

    window.document.update_run(0, hyper={"lr": 0.0123})
    assert window.recovery.autosave() and window.recovery.file.is_file()
    edited = window.document.scenario
    # "crash": the window goes away without its close event, so the file stays, and its lock dies with it
    window.shutdown()
    window.recovery.lock.unlock()
    again = MainWindow()
    again.ask_unsaved = lambda: "discard"
    qtbot.addWidget(again)
    asked = []
    again.recovery.ask = lambda when, _scenario: asked.append(when) or True
    assert again.recovery.offer()
    assert asked and asked[0][:2] == "20"  # "Recover unsaved work from 2026-…?"
    assert again.document.scenario == edited and again.document.modified
    assert not window.recovery.file.exists()  # recovered work lives in the new studio's autosave
    assert again.recovery.file.is_file()
    again.close()  # a clean quit
    assert not again.recovery.file.exists() and not again.recovery.meta.exists()
    third = MainWindow()
    qtbot.addWidget(third)
    third.recovery.ask = lambda when, _scenario: (_ for _ in ()).throw(AssertionError("nothing to offer"))
    assert not third.recovery.offer()
    third.shutdown()


def test_declined_or_broken_recovery_files_are_removed(qtbot, window):
    from gdstudio.app.recovery import recovery_dir

    left = recovery_dir() / "autosave-1-gone.json"  # no lock: its studio is gone
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_text(sc.dumps(replace(window.document.scenario, name="left behind")))
    asked = []
    window.recovery.ask = lambda when, _scenario: asked.append(when) or False
    before = window.document.scenario
    assert not window.recovery.offer() and asked == ["an earlier session"] and not left.exists()
    assert window.document.scenario == before
    left.write_text("{broken")
    assert not window.recovery.offer() and len(asked) == 1 and not left.exists()


def test_saving_removes_the_recovery_file(qtbot, window, tmp_path):
    window.document.update_run(0, hyper={"lr": 0.0123})
    window.recovery.autosave()
    assert window.recovery.file.exists()
    window.files._write(tmp_path / "saved.json")
    assert not window.recovery.file.exists()


def _launch_and_signal(tmp_path, signum):
    script = textwrap.dedent(f"""
        import math, sys
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})
        from gdstudio.cli import main as cli_main
        app = QApplication(["gdstudio"])
        def drive():
            win = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "studio")
            win.menus.set_speed(math.inf)
            win.document.update("stop", stop=win.document.scenario.stop.__class__(max_steps=10**9, grad_tol=None))
            win.session.run()
            poll = QTimer(win, interval=50)
            def check():
                if win.session.buffers and len(win.session.buffers[0]) > 1000:
                    open({str(tmp_path / "running")!r}, "w").close()
                    poll.stop()
            poll.timeout.connect(check)
            poll.start()
        QTimer.singleShot(300, drive)
        code = cli_main([])
        print("EXIT", code, flush=True)
        sys.exit(code)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60  # never block on the child's pipes: poll a marker file
        while not (tmp_path / "running").exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / "running").exists(), "the studio never got running"
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = "\n".join(x for x in err.splitlines() if x != OFFSCREEN_NOISE)
    return process.returncode, out, stderr


@pytest.mark.slow
def test_sigterm_during_a_run_exits_cleanly_and_keeps_unsaved_work(tmp_path):
    code, out, err = _launch_and_signal(tmp_path, signal.SIGTERM)
    assert code == 0 and err == "" and "EXIT 0" in out
    recovered = [p for p in tmp_path.rglob("recovery/autosave-*.json") if not p.name.endswith(".meta.json")]
    assert recovered and sc.load(recovered[0]).stop.max_steps == 10**9  # the unsaved edit survives


@pytest.mark.slow
def test_ctrl_c_during_a_run_exits_cleanly(tmp_path):
    code, out, err = _launch_and_signal(tmp_path, signal.SIGINT)
    assert code == 0 and err == "" and "EXIT 0" in out


def test_twenty_runs_at_once(qtbot, window):
    for _ in range(20 - len(window.document.scenario.runs)):
        window.runs_panel.add_run()
    window.document.update("stop", stop=sc.StopRules(max_steps=2000))
    assert len(window.document.scenario.runs) == 20
    run_to_end(qtbot, window, timeout=60000)
    headless = run_scenario(window.document.scenario)
    assert len(window.session.buffers) == 20
    table = window.runs_panel.table
    for i, (buffer, run) in enumerate(zip(window.session.buffers, headless)):
        assert buffer.status == run.status != "running"
        assert np.array_equal(buffer.rows, run.trajectory.rows)
        assert table.topLevelItem(i).text(4) == run.status
        assert table.topLevelItem(i).text(1) == f"{run.steps:,}"
    assert len(window.loss_curve.curves) == len(window.landscape.marks.paths) == 20


def _qthreads() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, QThread))


def test_starting_and_cancelling_100_times_leaks_no_threads(qtbot, window):
    window.menus.set_speed(math.inf)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state in ("running", "finished"), timeout=10000)  # threads exist now
    qtbot.waitUntil(lambda: not window.session._warm.isActive(), timeout=10000)  # (so does the kernel warmer's)
    window.session.reset()
    threads, qthreads = threading.active_count(), _qthreads()
    for i in range(100):
        window.session.run(restart=True)
        if i % 10 == 0:
            QCoreApplication.processEvents()  # some get to start, some are cancelled while starting
        window.session.reset() if i % 2 else window.session.stop_runs()
    QCoreApplication.processEvents()  # (every worker is joined: their late signals are delivered now, and dropped)
    assert not window.session.controller.active
    assert threading.active_count() <= threads and _qthreads() <= qthreads
    run_to_end(qtbot, window)  # and it still works
    assert window.session.buffers[0].status == run_scenario(window.document.scenario)[0].status


def test_a_diverging_run_never_puts_inf_or_nan_in_the_plots(qtbot, window):
    window.document.update_run(1, hyper={"lr": 0.1})
    window.document.update("stop", stop=sc.StopRules(max_steps=5000, divergence=None))  # runs until the loss is inf/nan
    run_to_end(qtbot, window)
    buffer = window.session.buffers[1]
    assert buffer.status == "diverged" and not np.isfinite(buffer.rows[-1]).all()
    for log in (True, False):
        window.loss_curve.log.setChecked(log)
        xs, ys = window.loss_curve.curves[1].getData()
        assert len(xs) and np.isfinite(xs).all() and not np.isinf(ys).any()
    px, py = window.landscape.marks.paths[1].getData()
    assert len(px) > 1 and np.isfinite(px).all() and np.isfinite(py).all()
    window.landscape.plot.grab()
    window.loss_curve.plot.grab()
    for rect in (window.landscape.vb.viewRange(), window.loss_curve.item.vb.viewRange()):
        assert np.isfinite(rect).all()


def test_plots_skip_nonfinite_rows(qtbot):
    from gdstudio.app.buffers import RunBuffer
    from gdstudio.app.plots.loss_curve import LossCurve

    buffer = RunBuffer("odd", ("x", "y"))
    rows = np.ones((1500, PARAMS + 2))
    rows[:, LOSS] = np.linspace(1, 2, 1500)
    rows[100, LOSS], rows[200, LOSS], rows[300, LOSS] = np.inf, np.nan, -np.inf
    buffer.extend(rows)
    curve = LossCurve()
    qtbot.addWidget(curve)
    curve.set_runs([buffer], ["#1f77b4"])
    for log in (True, False):
        curve.log.setChecked(log)
        curve.refresh()
        xs, ys = curve.curves[0].getOriginalDataset()
        assert len(xs) == 1500 and not np.isinf(ys).any() and np.nanmax(ys) == 2.0 and np.isnan(ys[[100, 200, 300]]).all()


def test_garbage_is_collected_on_the_gui_thread_only(qtbot, window):
    """Cycles freed by a derivation thread while the GUI thread deletes widgets deadlocked the studio."""
    threads = set()

    def note(phase, info):
        if phase == "start":
            threads.add(threading.current_thread().name)

    gc.callbacks.append(note)
    try:
        for text in ("sin(x)*cos(y) + x^4*y^3", "(1-x)^2 + 100*(y-x^2)^2", "exp(-x^2-y^2)*x*y + atan(x*y)"):
            type_loss(qtbot, window, text)
        run_to_end(qtbot, window)
        qtbot.waitUntil(lambda: "MainThread" in threads, timeout=5000)
    finally:
        gc.callbacks.remove(note)
    assert threads == {"MainThread"}
