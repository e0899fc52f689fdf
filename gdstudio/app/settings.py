"""QSettings in one place: recent files and window geometry.

The organisation and application names come from the QApplication, so tests
can point everything at a temporary location (see tests/app/conftest.py).

The recent files are kept in memory and written in a thread: a QSettings object flushes its file to disk when it
is destroyed, and on the GUI thread that took up to ~50 ms of every file's opening when the disk was busy.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QSettings

from .background import helper_thread

MAX_RECENT = 8

_recent: dict[str, list[str]] = {}  # settings file -> its recent files, as last written (or being written)
_writer: ThreadPoolExecutor | None = None


def settings() -> QSettings:
    return QSettings()


def recent_files() -> list[str]:
    """(the studio asks as it is built: the writer's thread starts then, not with the first file opened)"""
    _the_writer()
    store = settings()
    known = _recent.get(store.fileName())
    if known is not None:
        return list(known)
    value = store.value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])][:MAX_RECENT]


def add_recent(path: str) -> list[str]:
    files = [path, *(p for p in recent_files() if p != path)][:MAX_RECENT]
    _write_recent(files)
    return files


def forget_recent(path: str) -> list[str]:
    """A recent file that is gone leaves the menu."""
    files = [p for p in recent_files() if p != path]
    _write_recent(files)
    return files


def _write_recent(files: list[str]) -> None:
    store = settings()
    name, kind = store.fileName(), store.format()  # (this studio's file, whatever the names are when it is written)
    _recent[name] = list(files)
    _the_writer().submit(_store, name, kind, list(files))


def _the_writer() -> ThreadPoolExecutor:
    global _writer
    if _writer is None:
        _writer = helper_thread("settings")
    return _writer


def _store(name: str, kind: QSettings.Format, files: list[str]) -> None:
    """(the writer thread, in order)"""
    store = QSettings(name, kind)
    store.setValue("recent", files)
    store.sync()
