"""QSettings in one place: recent files and window geometry.

The organisation and application names come from the QApplication, so tests
can point everything at a temporary location (see tests/app/conftest.py).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

MAX_RECENT = 8


def settings() -> QSettings:
    return QSettings()


def recent_files() -> list[str]:
    value = settings().value("recent", [])
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or [])][:MAX_RECENT]


def add_recent(path: str) -> list[str]:
    files = [path, *(p for p in recent_files() if p != path)][:MAX_RECENT]
    settings().setValue("recent", files)
    return files


def forget_recent(path: str) -> list[str]:
    """A recent file that is gone leaves the menu."""
    files = [p for p in recent_files() if p != path]
    settings().setValue("recent", files)
    return files
