"""How long work in the studio's helper threads stops the GUI thread by holding the interpreter lock, old way vs new.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/lock_holders.py [--repeat 5]` (seconds; not collected by
pytest).

The GUI thread needs the interpreter lock at every call into Python that a paint or a layout makes (event filters,
pyqtgraph's items, the probe's own timer), hundreds of times in a turn. Work in another thread that holds the lock
inside one C call (no switch interval can take it back there) stops the GUI thread for all of that call: turns of
5 ms spent 0.1 ms on the processor (benchmarks/turns.py's timelines; `py-spy record --gil --threads` names the
holders). Here each piece of helper work runs in a thread, over and over, while this thread counts how long it was
kept from running (its gaps over 0.2 ms), per piece of work: the studio's way and the way it replaced, the ratio of
the two measured in the same run (medians of --repeat rounds, interleaved).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import contourpy  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402

from gdstudio.app import settings  # noqa: E402
from gdstudio.app.main import answer_quickly  # noqa: E402
from gdstudio.app.plots import contours  # noqa: E402

GAP_S = 0.0002


def stopped(work: Callable[[], object], times: int) -> tuple[float, float]:
    """(seconds one piece of work took, seconds this thread was kept from running meanwhile), per piece."""
    took: list[float] = []

    def run() -> None:
        for _ in range(times):
            began = time.perf_counter()
            work()
            took.append(time.perf_counter() - began)

    worker = threading.Thread(target=run)
    kept, last = 0.0, time.perf_counter()
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        if now - last > GAP_S:
            kept += now - last
        last = now
    worker.join()
    return sum(took) / times, kept / times


def recent_files_cases(folder: Path) -> tuple[Callable[[], object], Callable[[], object]]:
    """Eight recent files written: QSettings' sync (the old way) and settings._store (the studio's)."""
    files = [str(folder / f"lessons/lesson_{i:02d}.json") for i in range(settings.MAX_RECENT)]
    name, kind = settings.settings().fileName(), settings.settings().format()

    def old() -> None:
        store = QSettings(name, kind)
        store.setValue("recent", files)
        store.sync()

    where = settings._recent_list()
    return old, lambda: settings._store(where, files)


def contour_cases() -> tuple[Callable[[], object], Callable[[], object]]:
    """A Rosenbrock's lines on the landscape's grid, its own levels: contourpy's serial algorithm, and the studio's."""
    xs = np.linspace(-2, 2, contours.GRID)
    ys = np.linspace(-1, 3, contours.GRID)
    X, Y = np.meshgrid(xs, ys)
    z = (1 - X) ** 2 + 100 * (Y - X**2) ** 2
    levels = contours._levels(z)[0]
    masked = np.ma.masked_invalid(z)
    serial = contourpy.contour_generator(xs, ys, masked, line_type=contourpy.LineType.Separate)
    ours = contours.line_maker(xs, ys, z)
    return (lambda: [serial.lines(level) for level in levels]), (lambda: [ours.lines(level) for level in levels])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args()
    app = QCoreApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="gdstudio-locks-"))
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    app.setOrganizationName("gdstudio-benchmark")
    app.setApplicationName("gdstudio-benchmark")
    answer_quickly()  # (the studio's switch interval)
    cases = {"recent files written (8)": (recent_files_cases(folder), 30),
             f"contour lines, Rosenbrock on {contours.GRID}x{contours.GRID}": (contour_cases(), 20)}
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {options.repeat} rounds, medians")
    print("| helper work | old: took / GUI thread stopped | studio: took / stopped | stopped, studio / old |")
    print("|---|---|---|---|")
    found = {}
    for label, ((old, new), times) in cases.items():
        old(), new()  # (warm: files made, imports done)
        rounds = [(stopped(old, times), stopped(new, times)) for _ in range(options.repeat)]
        med = [[statistics.median(r[k][j] for r in rounds) * 1000 for j in (0, 1)] for k in (0, 1)]
        ratio = statistics.median(r[1][1] / r[0][1] if r[0][1] else float("nan") for r in rounds)
        found[label] = {"old_ms": med[0], "studio_ms": med[1], "ratio": ratio}
        print(f"| {label} | {med[0][0]:.2f} / {med[0][1]:.2f} ms | {med[1][0]:.2f} / {med[1][1]:.2f} ms | {ratio:.2f}x |")
    if options.json:
        options.json.write_text(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
