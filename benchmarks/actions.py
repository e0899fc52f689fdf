"""A person's single actions, one at a time (issue 15: "every action within a frame").

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/actions.py [--rounds 3]`

The journey (journey.py) measures whole phases; this measures each action on its own: a run selected, a run added,
Undo, a preset, the window resized, a lesson opened, Run and Reset... Each is done through the studio's own widgets
and actions, then the event loop runs on for a while; a 5 ms probe timer records the gaps of the GUI thread meanwhile.
Reported per action: its longest gap (the median over the rounds, and the worst) and how many gaps passed 16 ms.
The baseline, measured in the same run, is the idle window over as long a time: the ratio is the action's longest gap
to the idle one's. Target: every gap within a frame (16 ms).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from probe import SLOW_S, GapProbe, idle, table, wait_until  # noqa: E402

LESSONS = Path(__file__).resolve().parents[1] / "scenarios"
SETTLE_S = 0.05  # before and after each action, outside its measure


def actions(window) -> list[tuple[str, Callable[[], object], float]]:
    """(name, what the person does, seconds the event loop runs after it)."""
    from gdstudio.app.presets import load_presets

    w, insight = window, window.insight
    preset = {p.name: p for p in load_presets()}

    def named(part: str):
        return next(p for name, p in preset.items() if part in name)

    return [
        ("idle (baseline)", lambda: None, 0.4),
        ("select a run", lambda: w.runs_panel.select(1), 0.4),
        ("select the other run", lambda: w.runs_panel.select(0), 0.4),
        ("add a run", lambda: w.runs_panel.add_button.click(), 0.4),
        ("remove it", lambda: w.runs_panel.remove_button.click(), 0.4),
        ("undo", lambda: w.undo_action.trigger(), 0.4),
        ("redo", lambda: w.redo_action.trigger(), 0.4),
        ("gradient arrows on", lambda: w.landscape.arrows_box.setChecked(True), 0.4),
        ("gradient arrows off", lambda: w.landscape.arrows_box.setChecked(False), 0.4),
        ("log scale off and on", lambda: (w.menus.log.trigger(), w.menus.log.trigger()), 0.4),
        ("step", lambda: w.menus.step.trigger(), 0.4),
        ("reset", lambda: w.menus.reset.trigger(), 0.4),
        ("Run to the end", lambda: (w.menus.set_speed(math.inf), w.menus.run.trigger()), 1.5),
        ("reset after it", lambda: w.menus.reset.trigger(), 0.4),
        ("Run again", lambda: w.menus.run.trigger(), 1.5),
        ("reset again", lambda: w.menus.reset.trigger(), 0.4),
        ("frame runs", lambda: w.menus.frame.trigger(), 0.4),
        ("critical points on", lambda: insight.critical_action.setChecked(True), 0.8),
        ("critical points off", lambda: insight.critical_action.setChecked(False), 0.4),
        ("preset: Himmelblau", lambda: w.session.apply_preset(named("immelblau")), 0.8),
        ("preset: Rosenbrock", lambda: w.session.apply_preset(named("osenbrock")), 0.8),
        ("window resized", lambda: w.resize(w.width() - 100, w.height() - 50), 0.4),
        ("window resized back", lambda: w.resize(w.width() + 100, w.height() + 50), 0.4),
        ("sweep dialog shown", insight.show_sweeps, 0.4),
        ("sweep dialog closed", lambda: insight.sweep_dialog.close(), 0.4),
        ("basins on", lambda: insight.basins_action.setChecked(True), 1.5),
        ("basins off", lambda: insight.basins_action.setChecked(False), 0.4),
        ("race", insight.run_race, 1.5),
        ("random restarts", insight.restarts.run, 1.5),
        ("File > New", w.files.new, 0.8),
        ("open lesson 3 (data)", lambda: w.files.open_path(str(next(LESSONS.glob("03_*.json"))), ask=False), 0.8),
        ("select a run (lesson 3)", lambda: w.runs_panel.select(2), 0.4),
        ("open lesson 4 (scaling)", lambda: w.files.open_path(str(next(LESSONS.glob("04_*.json"))), ask=False), 0.8),
        ("select a scaled run", lambda: w.runs_panel.select(2), 0.4),
        ("open lesson 5", lambda: w.files.open_path(str(next(LESSONS.glob("05_*.json"))), ask=False), 0.8),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="times each action is measured (each round anew)")
    options = parser.parse_args()
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # (kept: the windows live in it)
    settings = tempfile.mkdtemp(prefix="gdstudio-actions-")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, settings)
    QCoreApplication.setOrganizationName("gdstudio-benchmark")
    from gdstudio.app.main import answer_quickly
    from gdstudio.app.main_window import MainWindow

    answer_quickly()  # (as the studio's launch does)
    longest: dict[str, list[float]] = {}
    slow: dict[str, list[int]] = {}
    for _ in range(options.rounds):
        window = MainWindow()
        window.ask_unsaved = lambda: "discard"
        window.resize(1400, 900)
        window.show()
        wait_until(lambda: window.engine is not None and window.session.objective is not None
                   and not window.landscape.computing and not window.editor.busy and window.help is not None, 60)
        idle(3.0)  # (the window settled: the engine, the docks built after the first paint, the helper started)
        probe = GapProbe()
        probe.start("")
        done = actions(window)
        for name, act, seconds in done:
            idle(SETTLE_S)
            probe.enter(name)
            act()
            idle(seconds)
            probe.enter("")
        idle(SETTLE_S)
        probe.stop()
        for name, _act, _seconds in done:
            gaps = probe.gaps[name]
            longest.setdefault(name, []).append(max(gaps) * 1000)
            slow.setdefault(name, []).append(sum(gap > SLOW_S for gap in gaps))
        window.shutdown()
        window.close()
    base = statistics.median(longest["idle (baseline)"])
    rows = [[name, f"{statistics.median(ms):.0f} ms", f"{max(ms):.0f} ms", f"{statistics.median(ms) / base:.1f}x",
             f"{statistics.median(slow[name]):g}", "ok" if max(ms) <= SLOW_S * 1000 else "over a frame"]
            for name, ms in longest.items()]
    print(table(["action", "longest gap (median)", "worst", "ratio to idle", "gaps > 16 ms", "frame"], rows))
    over = sum(row[-1] != "ok" for row in rows)
    print(f"\n{len(rows) - over} of {len(rows)} actions within a frame; {options.rounds} round(s)")


if __name__ == "__main__":
    main()
