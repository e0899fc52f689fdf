"""Autosave and crash recovery, one autosave per running studio.

While the document has unsaved changes, it is written every `INTERVAL_MS` (atomically,
as an ordinary scenario file) to `recovery/autosave-<pid>-<random>.json` next to the
QSettings file, with `autosave-….meta.json` saying when and for which file. Each studio
(window or process) has its own name, so two studios never overwrite or remove each
other's work. While it has an autosave, the studio also holds `autosave-….lock`, a
`QLockFile` that dies with the process: Qt treats it as stale once its pid is gone or
belongs to another program (and the lock records the boot), so a crash or kill frees it.

A clean quit (or a save, or New/Open of a saved document) removes the studio's own files
and lock only. A crash, kill or power cut leaves them, and the next start offers each
autosave whose lock it can take (its studio is gone), newest first: "Recover unsaved work
from <time>?". A declined autosave is removed and the next one is offered; once one is
accepted the rest stay for a later start (one window holds one document). Each is locked
while it is looked at, so two studios starting together never offer the same one. An
autosave that cannot be read is removed without a word: it must never block the start.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile, QObject, QSettings, QTimer
from PySide6.QtWidgets import QMessageBox, QWidget

from ..core import scenario as sc
from ..core.fileio import write_atomic

if TYPE_CHECKING:
    from .session import StudioSession

INTERVAL_MS = 15_000
META_SUFFIX = ".meta.json"


def recovery_dir() -> Path:
    return Path(QSettings().fileName()).resolve().parent / "recovery"


def meta_of(file: Path) -> Path:
    """`autosave-….meta.json` beside `autosave-….json`: its time and the document's path."""
    return file.with_name(file.name.removesuffix(".json") + META_SUFFIX)


def lock_of(file: Path) -> QLockFile:
    """The lock that says the autosave's studio is alive. Stale only by pid, never by age:
    a studio left open for days must not have its autosave offered to another."""
    lock = QLockFile(str(file.with_suffix(".lock")))
    lock.setStaleLockTime(0)
    return lock


def _remove(file: Path) -> None:
    for path in (file, meta_of(file)):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only folder: the user cannot be helped here


def _newest_first(folder: Path, own: Path) -> list[Path]:
    """Every autosave but this studio's own (the single `autosave.json` of older versions too)."""

    def age(path: Path) -> float:
        try:
            return -path.stat().st_mtime
        except OSError:  # removed meanwhile by another studio claiming it
            return 0.0

    try:
        files = [p for p in folder.glob("autosave*.json") if not p.name.endswith(META_SUFFIX) and p != own]
    except OSError:
        return []
    return sorted(files, key=age)


def _read(file: Path) -> tuple[sc.Scenario, dict] | None:
    """The scenario and its meta (empty if unreadable); None when the scenario cannot be read."""
    try:
        scenario = sc.load(file)
    except (OSError, ValueError, sc.ScenarioError):
        return None
    try:
        meta = json.loads(meta_of(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    return scenario, meta if isinstance(meta, dict) else {}


def _when(stamp: object) -> str:
    """The autosave's time for the question; a meta file with an odd time must not stop the start."""
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):  # localtime(None) would say "now"
        try:
            return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))
        except (ValueError, OverflowError, OSError):
            pass
    return "an earlier session"


class Recovery(QObject):
    """Writes the unsaved document now and then; offers it back after a crash."""

    def __init__(self, session: StudioSession, parent: QWidget, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.session, self.parent_widget = session, parent  # (the parent: what its questions are modal to)
        self.document = session.document
        self.folder = recovery_dir()
        self.file = self.folder / f"autosave-{os.getpid()}-{uuid.uuid4().hex[:12]}.json"
        self.meta = meta_of(self.file)
        self.lock = lock_of(self.file)  # held only while the file may exist
        self._written = None  # the scenario last written
        self.ask = self._ask  # tests replace this: (when, scenario) -> True recover, False discard, None later
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()
        self.document.modified_changed.connect(lambda modified: None if modified else self.discard())

    # -- writing ----------------------------------------------------------------------
    def autosave(self) -> bool:
        """Write the document if it has unsaved changes not written yet; True when written."""
        if not self.document.modified or self.document.scenario is self._written:
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if not (self.lock.isLocked() or self.lock.tryLock(0)):
                return False  # unlocked, it would be offered to other studios while this one lives
            write_atomic(self.file, sc.dumps(self.document.scenario))
            path = str(self.document.path) if self.document.path else None
            write_atomic(self.meta, json.dumps({"time": time.time(), "path": path, "pid": os.getpid()}))
        except (OSError, ValueError):
            return False  # never let a full disk or an odd path stop the user working
        self._written = self.document.scenario
        return True

    def discard(self) -> None:
        """Nothing unsaved any more (saved, or a clean quit): remove this studio's files only."""
        self._written = None
        _remove(self.file)
        self.lock.unlock()

    # -- offering ---------------------------------------------------------------------
    def offer(self) -> bool:
        """Offer, newest first, the autosaves of studios no longer running; True if one was recovered."""
        for file in _newest_first(self.folder, self.file):
            lock = lock_of(file)
            if not lock.tryLock(0):
                continue  # its studio is still running (or the folder is unusable)
            try:
                found = _read(file)
                answer = self._propose(*found) if found is not None else False
                if answer is None:  # "later": kept for the next start, and nothing more asked now
                    return False
                if answer:
                    if self.autosave():  # now in this studio's own autosave
                        _remove(file)
                    return True
                _remove(file)  # discarded, or unreadable
            finally:
                lock.unlock()
        return False

    def _propose(self, scenario: sc.Scenario, meta: dict) -> bool | None:
        """Ask about one autosave and, if wanted, open it as unsaved work (None: ask again next time)."""
        when = _when(meta.get("time"))
        answer = self.ask(when, scenario)
        if not answer:
            return answer
        path = meta.get("path")
        self.session.stop_runs()
        self.document.reset(scenario, Path(path) if isinstance(path, str) and path else None)
        self.document._set_modified(True)  # recovered work is unsaved until the user saves it
        self.session.status.emit(f"recovered unsaved work from {when}", 8000)
        return True

    def _ask(self, when: str, scenario: sc.Scenario) -> bool | None:
        """Recover, Discard (asked twice: it cannot be undone) or Later (also Esc and closing the box)."""
        buttons = QMessageBox.StandardButton
        loss = scenario.loss if len(scenario.loss) <= 80 else scenario.loss[:77] + "…"
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"gdstudio did not quit cleanly on {when}. Its unsaved work can be opened again:\n\n"
                          f"{scenario.name}\nloss {loss}\n{len(scenario.runs)} run(s)", parent=self.parent_widget)
        box.setStandardButtons(buttons.Open | buttons.Discard | buttons.Ignore)
        box.button(buttons.Ignore).setText("Later")
        box.setDefaultButton(buttons.Open)
        box.setEscapeButton(buttons.Ignore)
        answer = box.exec()
        if answer == buttons.Open:
            return True
        if answer == buttons.Discard:
            sure = QMessageBox.question(self.parent_widget, "Discard unsaved work", f"Discard the work from {when} for good?",
                                        buttons.Discard | buttons.Cancel, buttons.Cancel)
            return False if sure == buttons.Discard else None
        return None
