"""The studio survives PySide6 builds that leak references to None/True/False (6.12 on Python 3.11)."""

import subprocess
import sys


def test_many_void_calls_and_emits_do_not_abort_the_interpreter():
    code = ("import gdstudio.app, sys\n"
            "from PySide6.QtCore import QObject, QPointF, Signal\n"
            "class O(QObject):\n    s = Signal()\n"
            "p, o = QPointF(), O()\n"
            "for _ in range(300_000):\n    p.setX(1.0); o.s.emit()\n"
            "print('alive')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "alive"
