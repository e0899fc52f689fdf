"""Files: save, reopen and replay; bad files; unsaved changes; exports; closing while running."""

import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gdstudio.core import scenario as sc
from gdstudio.core.export import trajectories_csv
from gdstudio.core.runner import run_scenario

from .helpers import open_file, run_to_end

OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"


def test_save_reopen_replay_matches_the_cli(qtbot, window, tmp_path):
    window.document.update_run(0, hyper={"lr": 0.03}, seed=7)
    path = tmp_path / "mine.json"
    window.files._write(path)
    assert not window.isWindowModified() and "mine.json" in window.windowTitle()
    window.files.new()
    assert window.document.path is None
    assert open_file(qtbot, window, str(path))
    qtbot.waitUntil(lambda: window.session.objective is not None and window.session.objective.text == window.document.scenario.loss)
    assert window.document.scenario == sc.load(path)
    run_to_end(qtbot, window)
    headless = run_scenario(sc.load(path))
    for buffer, run in zip(window.session.buffers, headless):
        assert np.array_equal(buffer.rows, run.trajectory.rows)
    out = tmp_path / "gui.csv"
    assert window.files.export_csv(str(out))
    cli = tmp_path / "cli.csv"
    done = subprocess.run([sys.executable, "-m", "gdstudio", "run", str(path), "--out", str(cli)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_text() == cli.read_text() == trajectories_csv(headless)
    qtbot.waitUntil(lambda: not window.session.stagger.pending())  # (the recent files follow in a turn of their own)
    assert str(path.resolve()) in [a.toolTip() for a in window.menus.recent_menu.actions()]


def test_bad_file_shows_a_message_and_keeps_the_document(qtbot, window, tmp_path):
    before = window.document.scenario
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "runs": [{"optimizer": {"name": "adam", "lr": -1}}]}')
    assert not open_file(qtbot, window, str(bad))
    box = window.message_box
    assert box is not None and box.isVisible()
    assert "runs[0].optimizer.lr: must be > 0, got -1" in box.text()
    assert window.document.scenario == before and window.document.path is None
    box.close()
    worse = tmp_path / "worse.json"
    worse.write_text(sc.dumps(sc.Scenario(loss="x + foo(y)")))
    assert not open_file(qtbot, window, str(worse))
    assert "loss: unknown function 'foo'" in window.message_box.text()


def test_csv_data_opens_from_any_folder_and_follows_save_as(qtbot, window, tmp_path, monkeypatch):
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "points.csv").write_text("x,y\n1,3\n2,5\n3,7\n")
    scenario = sc.Scenario(loss="mean((w*x + b - y)^2)", runs=(sc.RunSpec("gd", start={"w": 0.0, "b": 0.0}),),
                           data=sc.DataSpec({"csv": "points.csv"}, None))
    (tmp_path / "project" / "fit.json").write_text(sc.dumps(scenario))
    monkeypatch.chdir(tmp_path)  # not the scenario's folder
    assert open_file(qtbot, window, "project/fit.json"), window.message_box and window.message_box.text()
    assert window.document.scenario.data.dataset.rows == 3
    (tmp_path / "copies").mkdir()
    monkeypatch.setattr("gdstudio.app.files.QFileDialog.getSaveFileName",
                        lambda *args: (str(tmp_path / "copies" / "fit"), ""))
    assert window.files.save_as()
    assert window.document.path == tmp_path / "copies" / "fit.json"
    assert sc.load(tmp_path / "copies" / "fit.json").data.source == {"csv": "../project/points.csv"}
    assert sc.load(tmp_path / "project" / "fit.json").data.source == {"csv": "points.csv"}  # the original is untouched


def test_unsaved_changes_prompt(qtbot, window, tmp_path):
    window.document.update("stop", stop=sc.StopRules(max_steps=10))
    asked = []
    window.ask_unsaved = lambda: asked.append(1) or "cancel"
    window.files.new()
    assert asked and window.document.scenario.stop.max_steps == 10  # cancelled: nothing lost
    window.ask_unsaved = lambda: "discard"
    window.files.new()
    assert window.document.scenario.stop.max_steps == 5000 and not window.document.modified


def test_a_failed_save_says_why_and_closing_keeps_the_window(qtbot, window, tmp_path):
    path = tmp_path / "kept.json"
    assert window.files._write(path)
    saved = path.read_text()
    window.document.update_run(0, start={"x": math.inf, "y": 2.0})  # (the editors refuse it; a script might not)
    window.ask_unsaved = lambda: "save"
    window.close()
    assert window.isVisible() and window.document.modified  # not closed, nothing lost
    box = window.message_box
    assert box is not None and "runs[0].start.x: must be a finite number, got inf" in box.text()
    assert path.read_text() == saved  # the old file untouched
    window.ask_unsaved = lambda: "discard"


def test_drop_a_scenario_file(qtbot, window, tmp_path):
    path = tmp_path / "dropped.json"
    sc.save(sc.Scenario(loss="x^2 + y^2", name="Bowl", runs=(sc.RunSpec("gd", start={"x": 1.0, "y": 1.0}),)), path)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(lambda: window.document.scenario.name == "Bowl")
    assert window.windowTitle().startswith("Bowl — dropped.json")
    csv = tmp_path / "points.csv"  # a CSV becomes the data, as Data ▸ Import
    csv.write_text("x,y\n0,1\n1,3\n2,5\n")
    data.setUrls([QUrl.fromLocalFile(str(csv))])
    window.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: window.document.scenario.data is not None)
    assert window.document.scenario.data.dataset.columns == ("x", "y") and window.document.scenario.name == "Bowl"


def test_export_png(qtbot, window, tmp_path):
    run_to_end(qtbot, window)
    out = tmp_path / "plots.png"
    assert window.files.export_png(str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    image, landscape, curve = QImage(str(out)), window.landscape.plot, window.loss_curve.plot
    assert (image.width(), image.height()) == (max(landscape.width(), curve.width()), landscape.height() + curve.height())
    # the plots alone: the controls above them (view range, "show loss / log scale") are not in it
    assert image.height() < window.landscape.height() + window.loss_curve.height()


def test_close_while_running_joins_the_worker(qtbot, window):
    window.menus.set_speed(10)
    window.session.run()
    qtbot.waitUntil(lambda: window.session.state == "running", timeout=10000)
    thread = window.session.controller._thread
    assert thread is not None and thread.isRunning()
    assert window.close()
    assert not window.session.controller.active and not thread.isRunning()


def test_geometry_is_remembered(qtbot, window):
    from gdstudio.app.main_window import MainWindow

    window.resize(701, 555)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.size().height() == 555  # (the width is held up by the docks on the small offscreen screen)
    again.shutdown()


@pytest.mark.slow
def test_launch_closed_during_a_run_exits_cleanly(tmp_path):
    """The real entry point in a fresh process: exit code 0 and nothing on stderr."""
    script = textwrap.dedent(f"""
        import math, sys
        from PySide6.QtCore import QCoreApplication, QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})
        from gdstudio.cli import main as cli_main
        app = QApplication(["gdstudio"])  # so the timers below have an event loop; launch() reuses it
        def drive():
            win = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "studio")
            win.menus.set_speed(math.inf)
            win.ask_unsaved = lambda: "discard"
            win.document.update("stop", stop=win.document.scenario.stop.__class__(max_steps=10**9, grad_tol=None))
            win.session.run()
            poll = QTimer(win, interval=50)
            def check():
                if win.session.buffers and len(win.session.buffers[0]) > 1000:  # running for real (after compiling)
                    print("state", win.session.state, True)
                    poll.stop()
                    QTimer.singleShot(300, win.close)
            poll.timeout.connect(check)
            poll.start()
            QTimer.singleShot(30000, win.close)  # never hang the test
        QTimer.singleShot(300, drive)
        sys.exit(cli_main([]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    stderr = "\n".join(line for line in done.stderr.splitlines() if line != OFFSCREEN_NOISE)
    assert done.returncode == 0, done.stderr
    assert stderr == ""
    assert "state running True" in done.stdout


def test_launch_with_a_bad_file_falls_back_to_the_default(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    script = textwrap.dedent(f"""
        import sys
        from PySide6.QtCore import QSettings, QTimer
        from PySide6.QtWidgets import QApplication
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, {str(tmp_path)!r})
        from gdstudio.cli import main as cli_main
        app = QApplication(["gdstudio"])
        def look():  # (the file is read in a background thread: look once its verdict is on screen)
            win = next((w for w in QApplication.topLevelWidgets() if w.objectName() == "studio"), None)
            if win is None or win.files.opening or win.message_box is None:
                QTimer.singleShot(50, look)
                return
            print("TITLE", win.windowTitle())
            print("MESSAGE", win.message_box.text().replace("\\n", " | "))
            win.close()
        QTimer.singleShot(50, look)
        sys.exit(cli_main([{str(bad)!r}]))
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert "TITLE Rosenbrock: Adam vs momentum — untitled.json" in done.stdout
    assert "not valid JSON" in done.stdout and "broken.json" in done.stdout


def test_a_recent_file_that_is_gone_leaves_the_menu(qtbot, window, tmp_path):
    path = tmp_path / "gone.json"
    assert window.files._write(path)

    def recent() -> list[str]:
        return [a.toolTip() for a in window.menus.recent_menu.actions()]

    qtbot.waitUntil(lambda: str(path.resolve()) in recent())  # (the menu follows in a turn of its own: stagger.py)
    path.unlink()
    next(a for a in window.menus.recent_menu.actions() if a.toolTip() == str(path.resolve())).trigger()
    qtbot.waitUntil(lambda: not window.files.opening)
    assert "No such file" in window.message_box.text()
    qtbot.waitUntil(lambda: str(path.resolve()) not in recent())


def test_recent_files_are_written_off_the_gui_thread_and_kept_in_order(qtbot, monkeypatch):
    """The list is written in a thread, by Python (QSettings' flush holds the interpreter lock, and so stopped the GUI
    thread from the writer's too); what is asked meanwhile is right."""
    import json

    from PySide6.QtCore import QSettings

    from gdstudio.app import settings
    from gdstudio.app.settings import add_recent, forget_recent, recent_files

    synced = []
    monkeypatch.setattr(QSettings, "sync", lambda self: synced.append(self.fileName()))
    for name in ("/a.json", "/b.json", "/c.json"):
        add_recent(name)
    forget_recent("/b.json")
    assert recent_files() == ["/c.json", "/a.json"]
    written = settings._recent_list()
    qtbot.waitUntil(lambda: written.exists() and json.loads(written.read_text()) == ["/c.json", "/a.json"], timeout=10000)
    assert synced == []


def test_an_older_studios_recent_files_are_read_and_a_damaged_list_is_none(qtbot):
    """A list an older studio kept in the settings is the menu's until the first file opened; a list file that is
    not a list of paths (damaged, or someone else's) gives an empty menu, and is written over."""
    import json

    from PySide6.QtCore import QSettings

    from gdstudio.app import settings

    QSettings().setValue("recent", ["/old/one.json", "/old/two.json"])
    assert settings.recent_files() == ["/old/one.json", "/old/two.json"]
    written = settings._recent_list()
    for damaged in ("{not json", '{"recent": 3}', "[1, 2]", "x" * (settings.MAX_BYTES + 1)):
        settings._recent.clear()
        written.write_text(damaged)
        assert settings.recent_files() == []
    assert settings.add_recent("/new.json") == ["/new.json"]
    qtbot.waitUntil(lambda: written.read_text() == json.dumps(["/new.json"], indent=1), timeout=10000)
