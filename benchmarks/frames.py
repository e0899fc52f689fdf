"""The event loop while twenty runs go at full speed, the scenario open and running already (issue 15's frames).

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/frames.py [--seconds 10]` (not collected by pytest).
To compare two versions of the code, interleave them in the same minutes, e.g. with the older one unpacked in /tmp/A
(`git archive <commit> gdstudio | tar -x -C /tmp/A`): run this file from another directory than the repository's,
with `PYTHONPATH=/tmp/A` and then `PYTHONPATH=/work/main`, a few times each.

The journey's "20 runs" phase also holds the scenario's open and the first Run, and its p99 moves by +-5 ms from
run to run; here a 5 ms QTimer records only the steady state: the gaps between its ticks (p50, p99, the longest and
how many are over 16 ms), and what each part of a frame took in the GUI thread (per call: p50, p90, the longest).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtCore import QTimer  # noqa: E402
from journey_gui import twenty_runs  # noqa: E402
from probe import SLOW_S, idle, owner_of, studio_application, time_calls, wait_until  # noqa: E402

PARTS = ("landscape.refresh", "loss_curve.refresh", "runs_panel.show_status", "session.controller._deliver",
         "landscape.plot.paintEvent", "loss_curve.plot.paintEvent")


def timed(window, dotted: str, spent: dict[str, list[float]]) -> None:
    """Time every call of window.<dotted>."""
    time_calls(*owner_of(window, dotted), spent[dotted].append)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    seconds = parser.parse_args().seconds
    folder = Path(tempfile.mkdtemp())
    _app = studio_application(folder)  # (kept: the application lives as long as this function)
    from gdstudio.app import engine
    from gdstudio.app.main_window import MainWindow

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.show()
    wait_until(lambda: window.session.objective is not None and engine.kernel_loaded(), 120)
    path = twenty_runs(folder)
    window.files.open_path(str(path), ask=False)
    wait_until(lambda: window.document.path == path.resolve() and not window.session.stagger.pending()
               and not window.landscape.computing, 60)
    window.menus.set_speed(math.inf)
    window.menus.run.trigger()
    idle(1.0)  # (the runs started: their first frames)
    spent: dict[str, list[float]] = defaultdict(list)
    for dotted in PARTS:
        timed(window, dotted, spent)
    ticks: list[float] = []
    probe = QTimer(interval=5)
    probe.timeout.connect(lambda: ticks.append(time.perf_counter()))
    probe.start()
    idle(seconds)
    probe.stop()
    steps = sum(buffer.steps_done for buffer in window.session.buffers)
    window.session.stop_runs()
    window.shutdown()
    window.close()
    gaps = np.diff(ticks) * 1000
    print(f"twenty runs at full speed, {seconds:g} s ({steps / (seconds + 1):,.0f} steps/s): {len(gaps)} gaps, "
          f"p50 {np.median(gaps):.1f} ms, p99 {np.percentile(gaps, 99):.1f} ms, longest {gaps.max():.0f} ms, "
          f"over {SLOW_S * 1000:.0f} ms: {(gaps > SLOW_S * 1000).sum()}")
    for dotted, values in spent.items():
        ms = np.asarray(values) * 1000
        print(f"  {dotted}: {len(ms)} calls, p50 {np.median(ms):.1f}, p90 {np.percentile(ms, 90):.1f}, "
              f"longest {ms.max():.1f} ms")


if __name__ == "__main__":
    main()
