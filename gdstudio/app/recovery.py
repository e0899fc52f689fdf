"""Autosave and crash recovery.

While the document has unsaved changes, it is written every `INTERVAL_MS` (atomically,
as an ordinary scenario file) to `recovery/autosave.json` next to the QSettings file,
with a small `autosave.meta.json` saying when and for which file. A clean quit (or a
save, or New/Open of a saved document) removes it; a crash, kill or power cut leaves it,
and the next start offers it: "Recover unsaved work from <time>?".
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, QTimer
from PySide6.QtWidgets import QMessageBox

from ..core import scenario as sc

if TYPE_CHECKING:
    from .main_window import MainWindow

INTERVAL_MS = 15_000


def recovery_dir() -> Path:
    return Path(QSettings().fileName()).resolve().parent / "recovery"


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class Recovery(QObject):
    """Writes the unsaved document now and then; offers it back after a crash."""

    def __init__(self, window: MainWindow, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.folder = recovery_dir()
        self.file = self.folder / "autosave.json"
        self.meta = self.folder / "autosave.meta.json"
        self._written = None  # the scenario last written
        self.ask = self._ask  # tests replace this: (when: str) -> bool
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
            _atomic_write(self.file, sc.dumps(self.document.scenario))
            path = str(self.document.path) if self.document.path else None
            _atomic_write(self.meta, json.dumps({"time": time.time(), "path": path, "pid": os.getpid()}))
        except (OSError, ValueError):
            return False  # never let a full disk or an odd path stop the user working
        self._written = self.document.scenario
        return True

    def discard(self) -> None:
        """Nothing unsaved any more (saved, or a clean quit): remove the recovery file."""
        self._written = None
        for path in (self.file, self.meta):
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError:
                pass

    # -- offering ---------------------------------------------------------------------
    def pending(self) -> tuple[sc.Scenario, dict] | None:
        """The recovery file left by an earlier session, if any (a broken one is removed)."""
        if not self.file.is_file():
            return None
        try:
            scenario = sc.load(self.file)
            meta = json.loads(self.meta.read_text(encoding="utf-8")) if self.meta.is_file() else {}
        except (OSError, ValueError, sc.ScenarioError):
            self.discard()
            return None
        if not isinstance(meta, dict):
            meta = {}
        return scenario, meta

    def offer(self) -> bool:
        """Ask whether to recover unsaved work from an earlier session; True if recovered."""
        found = self.pending()
        if found is None:
            return False
        scenario, meta = found
        stamp = meta.get("time")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if isinstance(stamp, (int, float)) else "an earlier session"
        if not self.ask(when):
            self.discard()
            return False
        path = meta.get("path")
        self.window.stop_runs()
        self.document.reset(scenario, Path(path) if isinstance(path, str) and path else None)
        self.document._set_modified(True)  # recovered work is unsaved until the user saves it
        self.window.statusBar().showMessage(f"recovered unsaved work from {when}", 8000)
        self.autosave()
        return True

    def _ask(self, when: str) -> bool:
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(self.window, "Recover unsaved work", f"Recover unsaved work from {when}?",
                                      buttons.Yes | buttons.No, buttons.Yes)
        return answer == buttons.Yes
