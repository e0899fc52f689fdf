"""The GUI thread's turns, one by one: every top-level event it handles is timed (`QApplication.notify`), while the
thirteen lessons open back to back (`lessons`, the journey's phase) or twenty runs go at full speed (`runs`).

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/turns.py lessons [--rounds 2]` or `... runs [--seconds
10]`, with `--profile` for the Python functions of each long turn (cProfile inflates Python's share), `--focus
session._show_problem` for one function's profile. Compare two versions of the code as frames.py says (`PYTHONPATH`).

A gap of the 5 ms probe is one or more turns; a turn's size moves far less from run to run than the gaps do (two
shared cores), so this counts the turns of 6 ms or more, 10 or more and 16 or more, their total, and groups them by
event and receiver (a paint is the main window's UpdateRequest; a Stagger's or a poll's turn a Timer).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtWidgets import QApplication  # noqa: E402
from journey_gui import drawn, twenty_runs  # noqa: E402
from probe import idle, owner_of, studio_application, wait_until  # noqa: E402

LONG_S = 0.006


class TimedApplication(QApplication):
    """Times each top-level event while `on` (nested ones belong to their turn); a cProfile of each when `profile`."""

    def __init__(self, argv: list[str]) -> None:
        super().__init__(argv)
        self.on = self.profile = False
        self.turns: list[tuple[float, str, str, str]] = []  # (seconds, event, receiver's class, top functions)
        self._depth = 0

    def notify(self, receiver, event) -> bool:  # noqa: N802 (Qt's name)
        if self._depth or not self.on:
            self._depth += 1
            try:
                return super().notify(receiver, event)
            finally:
                self._depth -= 1
        self._depth += 1
        profile = cProfile.Profile() if self.profile else None
        began = time.perf_counter()
        if profile:
            profile.enable()
        try:
            return super().notify(receiver, event)
        finally:
            if profile:
                profile.disable()
            spent = time.perf_counter() - began
            self._depth -= 1
            if spent >= LONG_S:
                self.turns.append((spent, event.type().name, type(receiver).__name__, roots(profile)))


def roots(profile: cProfile.Profile | None) -> str:
    """The four functions of the studio or pyqtgraph that took longest in a turn (cumulative ms)."""
    if profile is None:
        return ""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    ours = sorted(((v[3], k) for k, v in stats.items() if "gdstudio/" in k[0] or "pyqtgraph/" in k[0]), reverse=True)[:4]
    return "; ".join(f"{k[0].rsplit('/', 1)[-1]}:{k[2]} {cumulative * 1000:.1f}" for cumulative, k in ours)


def focus(window, dotted: str, profile: cProfile.Profile) -> None:
    """Profile every call of window.<dotted>."""
    owner, name = owner_of(window, dotted)
    original = getattr(owner, name)

    def profiled(*args, **kwargs):
        profile.enable()
        try:
            return original(*args, **kwargs)
        finally:
            profile.disable()

    setattr(owner, name, profiled)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("lessons", "runs"))
    parser.add_argument("--rounds", type=int, default=2, help="lessons: times each is opened")
    parser.add_argument("--seconds", type=float, default=10.0, help="runs: how long")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--focus", help="a function of the window to profile, e.g. session._show_problem")
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    app = studio_application(folder, TimedApplication)
    from gdstudio.app import engine
    from gdstudio.app.main_window import MainWindow
    from gdstudio.app.presets import example_files

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.resize(1400, 900)
    window.show()
    wait_until(lambda: engine.kernel_loaded() and drawn(window) and not window.editor.busy, 120)
    focused = cProfile.Profile()
    if options.focus:
        focus(window, options.focus, focused)
    idle(2.0)
    app.profile = options.profile
    if options.what == "runs":
        path = twenty_runs(folder)
        window.files.open_path(str(path), ask=False)
        wait_until(lambda: window.document.path == path.resolve() and drawn(window), 60)
        window.menus.set_speed(float("inf"))
        window.menus.run.trigger()
        idle(1.0)  # (the runs started: their first frames)
        app.on, first = True, window._frame
        idle(options.seconds)
        done = f"{window._frame - first} frames"
    else:
        app.on, opened = True, 0
        for _ in range(options.rounds):
            for _title, resource in example_files():
                window.files.open_path(str(resource), ask=False)
                opened += 1
                wait_until(lambda r=resource: window.document.path == Path(str(r)).resolve() and drawn(window), 60)
        done = f"{opened} opens"
    app.on = False
    window.session.stop_runs()
    window.shutdown()
    window.close()
    turns = sorted(app.turns, reverse=True)
    print(f"{done}: {len(turns)} turns >= {LONG_S * 1000:.0f} ms, {sum(t[0] for t in turns) * 1000:.0f} ms in all; "
          f">= 10 ms: {sum(t[0] >= 0.010 for t in turns)}, >= 16 ms: {sum(t[0] >= 0.016 for t in turns)}")
    grouped: dict[tuple[str, str], list[float]] = defaultdict(list)
    for spent, event, receiver, _ in turns:
        grouped[(event, receiver)].append(spent)
    for (event, receiver), spent in sorted(grouped.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {event:>16} {receiver:<20} {len(spent):4d} turns, mean {sum(spent) / len(spent) * 1000:5.1f}, "
              f"longest {max(spent) * 1000:5.1f} ms")
    if options.profile:
        for spent, event, receiver, top in turns[:20]:
            print(f"  {spent * 1000:6.1f} ms {event} {receiver}: {top}")
    if options.focus:
        pstats.Stats(focused).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
