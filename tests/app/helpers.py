"""Shared steps of the studio tests."""

from __future__ import annotations

import math


def run_to_end(qtbot, win, timeout: int = 20000) -> None:
    win.set_speed(math.inf)
    win.run()
    qtbot.waitUntil(lambda: win.state == "finished", timeout=timeout)
