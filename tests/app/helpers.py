"""Shared steps of the studio tests."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt


def run_to_end(qtbot, win, timeout: int = 20000) -> None:
    win.set_speed(math.inf)
    win.run()
    qtbot.waitUntil(lambda: win.state == "finished", timeout=timeout)


def type_loss(qtbot, win, text: str) -> None:
    editor = win.editor.editor
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    qtbot.keyClicks(editor, text)
    qtbot.waitUntil(lambda: not win.editor.busy and not win.editor.verdict.text().startswith("checking"), timeout=10000)
