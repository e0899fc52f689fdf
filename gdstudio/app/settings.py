"""QSettings in one place, and the recent files beside them.

The organisation and application names come from the QApplication, so tests
can point everything at a temporary location (see tests/app/conftest.py).

The recent files are kept in memory and written in a thread, as JSON beside the (INI) settings file: a QSettings
object flushes its file when it is destroyed or synced (up to ~50 ms of a file's opening on the GUI thread when the
disk was busy), and it does so holding the interpreter lock (PySide lets go of it in no such call), so from the
writer's thread too it stopped the GUI thread, 1-6 ms at each file opened, the lessons' back-to-back opens among
them. Python's own writes let go of the lock while the disk works. (An older studio's list, kept in the settings, is
read once.)
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings

from ..core.fileio import read_limited, write_atomic
from .background import helper_thread

MAX_RECENT = 8
MAX_BYTES = 1 << 20  # a recent-files list is a few hundred bytes: anything larger is not ours

_recent: dict[Path, list[str]] = {}  # list file -> its recent files, as last read or written (or being written)
_writer: ThreadPoolExecutor | None = None


def settings() -> QSettings:
    return QSettings()


def recent_files() -> list[str]:
    """(the studio asks as it is built: the writer's thread starts then, not with the first file opened)"""
    _the_writer()
    where = _recent_list()
    known = _recent.get(where)
    if known is None:
        known = _recent[where] = _read(where)
    return list(known)


def add_recent(path: str) -> list[str]:
    files = [path, *(p for p in recent_files() if p != path)][:MAX_RECENT]
    _write_recent(files)
    return files


def forget_recent(path: str) -> list[str]:
    """A recent file that is gone leaves the menu."""
    files = [p for p in recent_files() if p != path]
    _write_recent(files)
    return files


def _recent_list() -> Path:
    """This studio's list, beside its settings file, whatever the names are when it is asked for (the INI format's
    file: a file on every platform, where the native settings of Windows are in its registry)."""
    ini = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, QCoreApplication.organizationName(),
                    QCoreApplication.applicationName())
    return Path(ini.fileName()).with_suffix(".recent.json")


def _read(where: Path) -> list[str]:
    """The list written there, or the one an older studio kept in the settings; what is not a list of paths is none."""
    try:
        value = json.loads(read_limited(where, MAX_BYTES, ValueError))
    except (ValueError, OSError):  # (no list yet, or a damaged one)
        value = settings().value("recent", []) if not where.exists() else []
    if isinstance(value, str):  # (QSettings gives a one-item list as its item)
        value = [value]
    return [v for v in value if isinstance(v, str)][:MAX_RECENT] if isinstance(value, list) else []


def _write_recent(files: list[str]) -> None:
    where = _recent_list()
    _recent[where] = list(files)
    _the_writer().submit(_store, where, list(files))


def _the_writer() -> ThreadPoolExecutor:
    global _writer
    if _writer is None:
        _writer = helper_thread("settings")
    return _writer


def _store(where: Path, files: list[str]) -> None:
    """(the writer thread, in order)"""
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(where, json.dumps(files, indent=1))
    except OSError:  # (a read-only or full disk: the menu keeps the list for this session)
        pass
