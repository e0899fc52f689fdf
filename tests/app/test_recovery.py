"""Autosave with more than one studio at once: each writes its own file, removes only its own,
and is offered only the autosaves of studios that are gone (their lock died with them)."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gdstudio.app.recovery import lock_of, recovery_dir
from gdstudio.core import scenario as sc


@pytest.fixture
def studio(qtbot):
    """Makes more studio windows, closed (a clean quit) after the test."""
    from gdstudio.app.main_window import MainWindow

    def make():
        win = MainWindow()
        win.ask_unsaved = lambda: "discard"
        qtbot.addWidget(win)
        return win

    return make


def never(when: str, _scenario=None) -> bool:
    raise AssertionError(f"offered an autosave from {when}")


def orphan(name: str, scenario: sc.Scenario, stamp: float | None = None) -> Path:
    """An autosave left by a studio that is gone: no lock file, modified at `stamp`."""
    file = recovery_dir() / f"autosave-{name}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(sc.dumps(scenario))
    if stamp is not None:
        file.with_name(f"autosave-{name}.meta.json").write_text(json.dumps({"time": stamp, "path": None}))
        os.utime(file, (stamp, stamp))
    return file


def test_two_studios_autosave_apart_and_a_clean_quit_removes_only_its_own(studio, window):
    other = studio()
    window.document.update_run(0, hyper={"lr": 0.0123})
    other.document.update_run(0, hyper={"lr": 0.0456})
    assert window.recovery.autosave() and other.recovery.autosave()
    assert window.recovery.file != other.recovery.file
    assert sc.load(window.recovery.file).runs[0].hyper["lr"] == 0.0123
    assert sc.load(other.recovery.file).runs[0].hyper["lr"] == 0.0456
    window.close()  # a clean quit
    assert not window.recovery.file.exists() and not window.recovery.meta.exists()
    assert sc.load(other.recovery.file).runs[0].hyper["lr"] == 0.0456 and other.recovery.meta.is_file()
    other.document.update_run(0, hyper={"lr": 0.0789})
    assert other.recovery.autosave()  # still locked by its studio: a newcomer leaves it alone
    newcomer = studio()
    newcomer.recovery.ask = never
    assert not newcomer.recovery.offer() and other.recovery.file.is_file()


def test_an_autosave_is_offered_once_its_studio_is_gone(studio, window):
    window.document.update_run(0, hyper={"lr": 0.0123})
    window.recovery.autosave()
    edited = window.document.scenario
    newcomer = studio()
    newcomer.recovery.ask = never
    assert not newcomer.recovery.offer()  # alive
    window.shutdown()
    window.recovery.lock.unlock()  # as when its process ends without a clean quit
    newcomer.recovery.ask = lambda when, _scenario: True
    assert newcomer.recovery.offer() and newcomer.document.scenario == edited


def test_two_newcomers_never_offer_the_same_autosave(studio, window):
    left = orphan("1-gone", replace(window.document.scenario, name="left behind"), time.time())
    other = studio()
    other.recovery.ask = never
    seen = []

    def ask(when: str, _scenario) -> bool:
        seen.append(other.recovery.offer())  # the second studio starts while the first is asking
        return False

    window.recovery.ask = ask
    assert not window.recovery.offer()
    assert seen == [False] and not left.exists()


def test_the_newest_is_offered_first_a_declined_one_is_removed_and_the_rest_kept(window):
    now = time.time()
    old, middle, new = (orphan(f"{i}-gone", replace(window.document.scenario, name=name), now - 3600 * (3 - i))
                        for i, name in enumerate(("old", "middle", "new")))
    answers = iter([False, True])
    asked = []
    window.recovery.ask = lambda when, _scenario: asked.append(when) or next(answers)
    assert window.recovery.offer()
    assert len(asked) == 2 and asked[0] > asked[1]  # "2026-… 14:00" then "… 13:00"
    assert window.document.scenario.name == "middle" and window.document.modified
    assert not new.exists() and not middle.exists() and old.is_file()  # kept for a later start
    assert sc.load(window.recovery.file).name == "middle"


def test_unreadable_autosaves_are_skipped_without_a_prompt(window):
    folder = recovery_dir()
    broken = orphan("1-gone", window.document.scenario)
    broken.write_text("{broken")
    empty = orphan("2-gone", window.document.scenario)
    empty.write_bytes(b"")
    binary = orphan("3-gone", window.document.scenario)
    binary.write_bytes(b"\xff\xfe\x00garbage")
    window.recovery.ask = never
    assert not window.recovery.offer()
    assert not broken.exists() and not empty.exists() and not binary.exists()
    odd_meta = orphan("4-gone", replace(window.document.scenario, name="odd meta"), time.time())
    odd_meta.with_name("autosave-4-gone.meta.json").write_text('{"time": NaN, "path": 3}')
    asked = []
    window.recovery.ask = lambda when, _scenario: asked.append(when) or True
    assert window.recovery.offer() and asked == ["an earlier session"]
    assert window.document.scenario.name == "odd meta" and window.document.path is None
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in (window.recovery.file, window.recovery.meta,
                                                                              window.recovery.file.with_suffix(".lock")))


def test_an_autosave_of_a_killed_process_is_offered_but_not_while_it_runs(window, isolated_settings, tmp_path):
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication
        for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
            QSettings.setPath(fmt, QSettings.Scope.UserScope, {str(isolated_settings)!r})
        app = QApplication(["gdstudio-tests"])
        app.setOrganizationName("gdstudio-tests")
        app.setApplicationName("gdstudio-tests")
        from gdstudio.app.main_window import MainWindow
        win = MainWindow()
        win.document.update_run(0, hyper={{"lr": 0.0321}})
        assert win.recovery.autosave()
        open({str(ready)!r}, "w").close()
        time.sleep(60)
    """)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the child studio never autosaved"
        [left] = [p for p in recovery_dir().glob("autosave-*.json") if not p.name.endswith(".meta.json")]
        assert left.name.startswith(f"autosave-{child.pid}-")
        window.recovery.ask = never
        assert not window.recovery.offer() and left.is_file()  # its studio is running
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert lock_of(left).getLockInfo()[0]  # the lock file is still there, naming a dead process
    asked = []
    window.recovery.ask = lambda when, _scenario: asked.append(when) or True
    assert window.recovery.offer() and len(asked) == 1
    assert window.document.scenario.runs[0].hyper["lr"] == 0.0321
    assert not left.exists() and not left.with_suffix(".lock").exists()


def test_escape_on_the_prompt_keeps_the_autosave_for_later_and_discard_asks_twice(qtbot, window):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    left = orphan("1-gone", replace(window.document.scenario, name="left behind"), time.time())
    shown = []

    def escape(box: QMessageBox) -> None:
        qtbot.keyClick(box, Qt.Key.Key_Escape)

    def discard(box: QMessageBox) -> None:
        box.button(QMessageBox.StandardButton.Discard).click()

    def answer(*actions):
        """Answer the message boxes as they come, one action each."""
        def go():
            box = QApplication.activeModalWidget()
            if not isinstance(box, QMessageBox):
                QTimer.singleShot(20, go)
                return
            shown.append(box.text())
            if len(actions) > 1:
                QTimer.singleShot(50, answer(*actions[1:]))
            actions[0](box)
        return go

    QTimer.singleShot(50, answer(escape))
    assert not window.recovery.offer() and left.is_file()  # Esc: later, not lost
    assert "left behind" in shown[0] and "loss (1 - x)^2 + 100*(y - x^2)^2" in shown[0]
    QTimer.singleShot(50, answer(discard, escape))  # Discard, then "for good?" — cancelled: still later
    assert not window.recovery.offer() and left.is_file() and shown[-1].startswith("Discard the work from")
    QTimer.singleShot(50, answer(discard, discard))  # for good
    assert not window.recovery.offer() and not left.exists()
