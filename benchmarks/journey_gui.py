"""The scripted journey of benchmarks/journey.py, run inside the studio's own launch() (parts 3-5 of issue 15):
typing latency, the event loop's gaps per phase, and the data landscape's preview and full picture.

Every action goes through the studio's own paths (File ▸ Open, key events in the loss editor, the Run menu's
actions, the Insight menu's tools); a 5 ms probe timer records the gaps of the GUI thread, and a sampler notes
what that thread is doing whenever a gap passes 50 ms.
"""

from __future__ import annotations

import cProfile
import io
import math
import pstats
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from journey_launch import FirstPaint
from open_stalls import SCENARIOS
from probe import EventLog, GapProbe, GapRoots, StallSampler, ThreadClock, idle, wait_until, write_scenario

USER_PAUSE_S = 0.2  # between two actions of a person (no one clicks twice in the same turn of the event loop)
OPTIMIZERS = ({"name": "gd", "lr": 0.001}, {"name": "sgd", "lr": 0.001, "momentum": 0.9},
              {"name": "adam", "lr": 0.02}, {"name": "rmsprop", "lr": 0.003}, {"name": "adagrad", "lr": 0.5})


def typed_losses(repeat: int) -> list[tuple[str, str]]:
    """(kind, text) of preset-sized losses; each repeat changes a constant, so nothing is found in a cache."""
    r = repeat + 1
    return [("Rosenbrock", f"(1 - x)^2 + {100 + r}*(y - x^2)^2"),
            ("Himmelblau", f"(x^2 + y - {11 + r})^2 + (x + y^2 - 7)^2"),
            ("Beale", f"(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.{625 + r} - x + x*y^3)^2"),
            ("3-variable quadratic", f"x^2 + 2*y^2 + {3 + r}*z^2 + x*y + y*z - x + 2*z")]


def twenty_runs(folder: Path) -> Path:
    """A scenario file of twenty runs of Rosenbrock's loss, every optimizer, that never stop by themselves."""
    runs = [{"label": f"run {i + 1}", "optimizer": OPTIMIZERS[i % len(OPTIMIZERS)],
             "start": {"x": -1.8 + 0.18 * i, "y": 2.5 - 0.1 * i}} for i in range(20)]
    body = {"loss": "(1 - x)^2 + 100*(y - x^2)^2", "view": {"x": [-2, 2], "y": [-1, 3]}, "runs": runs,
            "stop": {"max_steps": 100_000_000, "grad_tol": None, "loss_tol": None}}
    return write_scenario(folder / "twenty.json", "20 runs", body)


def drawn(window, loss: str | None = None) -> bool:
    """The scenario (or `loss`) is shown: derived, its landscape drawn in full, and the views that follow a change
    in turns of their own (stagger.py) have followed it (until the tenth session the next lesson was opened
    before they had, and its file's turn met the last one's views)."""
    w = window
    objective = w.session.objective
    loss = w.document.scenario.loss if loss is None else loss
    return (not w.files.opening and objective is not None and objective.text == loss
            and w.landscape.objective in (objective, w.session.selected_loss())  # (a scaled run's: its own loss)
            and not w.landscape.computing and not w.session.stagger.pending())


def data_loss(repeat: int) -> str:
    return f"mean((w*x + b - y)^2) + 0.0{repeat + 1}*(w^2 + b^2)"


@dataclass
class Results:
    typing: list[dict] = field(default_factory=list)  # kind, formulas, contours, critical, all, typeset (s)
    fields: list[dict] = field(default_factory=list)  # data, preview, full (s)
    phases: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    profile: str = ""


class Journey:
    def __init__(self, app: QApplication, folder: Path, run_seconds: float, repeats: int, profile: str = "",
                 turns: bool = False, only: tuple[str, ...] = (), roots: bool = False) -> None:
        self.app, self.folder, self.run_seconds, self.repeats = app, folder, run_seconds, repeats
        self.probe = GapProbe()
        self.sampler = StallSampler(self.probe)
        self.only = only
        self.turns = EventLog(self.probe) if turns else None  # (every event filtered: it slows the studio a little)
        if self.turns is not None:
            app.installEventFilter(self.turns)
            self.sampler.others = defaultdict(Counter)
        self.results = Results()
        self.threads = ThreadClock()
        self.roots = GapRoots(self.probe) if roots else None
        self.window = None
        self._profile_phase, self._profiler = profile, None
        self._began = 0.0
        self.field_limit = 30.0 if run_seconds < 10 else 60.0  # seconds the journey waits for a full landscape

    # -- phases ---------------------------------------------------------------------
    def enter(self, phase: str) -> None:
        now = time.perf_counter()
        if self.results.phases:
            self.results.durations[self.results.phases[-1]] = now - self._began
        self._began = now
        if self._profiler is not None:
            self._profiler.disable()
            text = io.StringIO()
            pstats.Stats(self._profiler, stream=text).sort_stats("tottime").print_stats(18)
            self._profiler.dump_stats(self.folder / "gui.pstats")  # (for pstats' own browser: callers, cumulative)
            text.write(f"(all of it: python -m pstats {self.folder / 'gui.pstats'})\n")
            self.results.profile = text.getvalue()
            self._profiler = None
        if phase and phase == self._profile_phase:
            self._profiler = cProfile.Profile()  # (the GUI thread only)
            self._profiler.enable()
        if self.results.phases:  # (what a phase found, at once: a journey that never ends still reports)
            last = self.results.phases[-1]
            stats, top = self.probe.stats(last), self.sampler.top(last, 2)
            working, queued = self.probe.shares(last)
            print(f"  {last}: p99 {stats['p99']:.1f} ms, longest {stats['max']:.0f} ms; {len(self.probe.slow[last])} gaps "
                  f"> 16 ms, the GUI thread working {working:.0%} of them, waiting for a core {queued:.0%}; {top}",
                  file=sys.stderr, flush=True)
            print(f"    CPU by thread: {self.threads.lap()}", file=sys.stderr, flush=True)
            if self.roots is not None:
                print(f"    {self.roots.report(last)}", file=sys.stderr, flush=True)
            if self.turns is not None:
                print(f"    events in gaps > 50 ms (ms): {self.turns.top(last, 8)}", file=sys.stderr, flush=True)
                gap, timeline = self.turns.longest.get(last, (0, []))
                print(f"    the longest gap, {gap * 1000:.0f} ms: {[e for e in timeline if e[2] >= 1][:40]}", file=sys.stderr)
                print(f"    other threads during gaps > 50 ms: {self.sampler.others[last].most_common(5)}", file=sys.stderr)
                print(f"    parts (ms):\n      {self.turns.part_report(last)}", file=sys.stderr, flush=True)
        self.probe.enter(phase)
        if phase:
            self.results.phases.append(phase)
        print(f"  … {phase or 'done'}", file=sys.stderr, flush=True)

    def painted(self) -> None:
        self.window = next(w for w in self.app.topLevelWidgets() if w.objectName() == "studio")
        if self.turns is not None:
            self.turns.time_parts(self.window)
        self.window.ask_unsaved = lambda: "discard"
        self.probe.start("launch")
        self.threads.lap()
        self.results.phases.append("launch")
        self._began = time.perf_counter()
        self.sampler.start()
        QTimer.singleShot(0, self.script)

    def script(self) -> None:
        try:
            self._script()
        except Exception as error:  # said in the report; the studio is closed all the same
            import traceback

            self.results.errors.append(f"{type(error).__name__}: {error}")
            traceback.print_exc()
            self.enter("")
            self.window.close()
        finally:
            self.probe.stop()
            self.sampler.stop()

    def drawn(self, loss: str | None = None) -> bool:
        return drawn(self.window, loss)

    def _script(self) -> None:
        w = self.window
        wait_until(lambda: w.engine is not None and self.drawn() and not w.editor.busy, 120)
        self.enter("idle (baseline)")
        idle(3.0)
        if self.wants("open every lesson"):
            self.enter("open every lesson")
            from gdstudio.app.presets import example_files

            for _title, resource in example_files():
                w.files.open_path(str(resource), ask=False)
                wait_until(lambda r=resource: w.document.path == Path(str(r)).resolve() and self.drawn(), 60)
        if self.wants("type five losses"):
            self.enter("type five losses")
            self.typing()
        for name, kind in (("linear model, 1,000,000 rows", "linear"), ("logistic, 1,000,000 rows", "logistic")):
            if self.wants(f"open 1M rows ({kind})"):
                self.enter(f"open 1M rows ({kind})")
                self.data(name, kind)
                self.enter(f"1M rows ({kind}): GD + mini-batch SGD")
                self.run_for(self.run_seconds)
        if self.wants("20 runs at full speed"):
            self.enter("20 runs at full speed")
            self.many_runs()
        if self.wants("sweep 64x64, basins, race"):
            self.enter("sweep 64x64, basins, race")
            self.tools()
        if self.wants("pause / step / reset"):
            self.enter("pause / step / reset")
            self.pause_step_reset()
        self.enter("close")
        began = time.perf_counter()
        w.close()
        self.probe.gaps["close"].append(time.perf_counter() - began)  # (the loop waits for all of it)
        self.enter("")

    def wants(self, phase: str) -> bool:
        """Whether this run of the journey includes the phase (`--only`: phases that start with any of its words)."""
        return not self.only or any(phase.startswith(prefix) for prefix in self.only)

    # -- typing -----------------------------------------------------------------------
    def typing(self) -> None:
        w = self.window
        w.insight.critical_action.setChecked(True)  # Insight ▸ Critical points: their markers are part of it
        w.files.new()
        wait_until(self.drawn, 60)
        for r in range(self.repeats):
            for kind, text in typed_losses(r):
                self.type_one(kind, text)
        lesson = next(p for p in Path(__file__).resolve().parents[1].glob("scenarios/03_*.json"))
        w.files.open_path(str(lesson), ask=False)
        wait_until(self.drawn, 60)
        for r in range(self.repeats):
            self.type_one("data loss (100 rows)", data_loss(r))

    def type_one(self, kind: str, text: str) -> None:
        """Real key events; the clock starts after the last one is handled (QTest.keyClicks returns)."""
        w = self.window
        box = w.editor.editor
        box.setFocus()
        box.selectAll()
        QTest.keyClick(box, Qt.Key.Key_Delete)
        QTest.keyClicks(box, text)
        began = time.perf_counter()
        seen: dict[str, float] = {}
        formulas = w.editor.formulas
        critical = w.insight.critical

        def check() -> bool:
            now = time.perf_counter() - began
            objective = w.editor.objective
            if "formulas" not in seen and objective is not None and objective.text == text and formulas._shown \
                    and formulas._shown[0] is objective:
                seen["formulas"] = now
            if "formulas" in seen and "typeset" not in seen and not formulas.drawing:
                seen["typeset"] = now
            land = w.landscape.objective
            if "contours" not in seen and land is not None and land.text == text and not w.landscape.computing:
                seen["contours"] = now
            if "critical" not in seen and critical.loss is not None and critical.loss.text == text \
                    and not w.insight.tasks.busy("critical"):
                seen["critical"] = now
            return len(seen) == 4

        if not wait_until(check, 30, poll_ms=1):
            self.results.errors.append(f"typing {kind}: only {sorted(seen)} within 30 s")
        seen["all"] = max(seen.get(k, math.nan) for k in ("formulas", "contours", "critical"))
        self.results.typing.append({"kind": kind, **seen})

    # -- data over a million rows ---------------------------------------------------------
    def data(self, name: str, kind: str) -> None:
        """Open the scenario (File ▸ Open), then ask twice for other views (as "Use visible area" does): each time
        the landscape's coarse picture and its full one are timed from its request."""
        w = self.window
        body = dict(SCENARIOS["linear model, 1,000,000 rows" if kind == "linear" else "logistic, 20,000 rows"])
        if kind == "logistic":
            body = {**body, "data": {"generate": {"kind": "two_blobs", "n": 1_000_000, "seed": 1}},
                    "runs": [*body["runs"], {"label": "sgd", "optimizer": {"name": "sgd", "lr": 0.1},
                                             "start": {"a": 0, "b": 0, "c": 0}, "batch_size": 32}]}
        body["stop"] = {"max_steps": 100_000_000, "grad_tol": None, "loss_tol": None}
        path = write_scenario(self.folder / f"{kind}.json", name, body)
        service = w.landscape.fields
        asked: dict = {}
        request = service.request

        def timed(req) -> None:  # (the benchmark's own wrapper of this one landscape's service)
            asked[id(req)] = {"data": kind, "asked": time.perf_counter()}
            request(req)

        def answered(result) -> None:  # (connected after the landscape's own slot: the picture is set)
            entry = asked.get(id(result.request))
            if entry is not None and not result.error:
                entry.setdefault("preview" if result.preview else "full", time.perf_counter() - entry["asked"])

        def settled() -> bool:  # (each slot of a signal from another thread is a queued event of its own: the
            # landscape's may have run and `answered` not yet)
            latest = list(asked.values())[-1:]
            return self.drawn() and all("full" in entry for entry in latest)

        service.request = timed
        service.ready.connect(answered)
        try:
            w.files.open_path(str(path), ask=False)
            if not wait_until(lambda: w.document.path == path.resolve() and settled(), self.field_limit):
                self.results.errors.append(f"{kind}: the full landscape was not drawn within {self.field_limit:.0f} s")
            view = dict(w.document.scenario.view)
            for k in range(2 if kind == "linear" else 0):  # (a logistic full picture takes long: once)
                from gdstudio.app.document import Change

                moved = {v: (low + 0.1 * (k + 1) * (high - low), high + 0.1 * (k + 1) * (high - low))
                         for v, (low, high) in view.items()}
                w.document.update(Change.VIEW, view=moved)
                wait_until(settled, 120)
        finally:
            service.request = request
            service.ready.disconnect(answered)
        for entry in asked.values():
            if "full" in entry:
                self.results.fields.append({k: v for k, v in entry.items() if k != "asked"})

    def run_for(self, seconds: float) -> None:
        w = self.window
        w.menus.set_speed(math.inf)
        w.menus.run.trigger()
        idle(seconds)
        steps = sum(buffer.steps_done for buffer in w.session.buffers)
        print(f"    {steps:,} steps in {seconds:g} s ({steps / seconds:,.0f}/s)", file=sys.stderr, flush=True)
        w.menus.reset.trigger()
        wait_until(lambda: not w.session.controller.active, 30)

    def many_runs(self) -> None:
        w = self.window
        path = twenty_runs(self.folder)
        w.files.open_path(str(path), ask=False)
        wait_until(lambda: w.document.path == path.resolve() and self.drawn(), 60)
        self.run_for(self.run_seconds)

    # -- insight tools, pause/step/reset ---------------------------------------------------
    def tools(self) -> None:
        w = self.window
        # momentum: SGD with momentum (its second run) sweeps lr x momentum, a 64x64 grid (gd has no second knob)
        lesson = next(p for p in Path(__file__).resolve().parents[1].glob("scenarios/05_*.json"))
        w.files.open_path(str(lesson), ask=False)
        wait_until(lambda: w.document.path == lesson.resolve() and self.drawn(), 60)
        # each a person's action of its own (a click, a menu, a field, a button), so each is a turn of its own: done in
        # one turn, as before, they measured as one gap of the four together
        w.runs_panel.select(1)
        idle(USER_PAUSE_S)
        insight = w.insight
        dialog = insight.show_sweeps()
        idle(USER_PAUSE_S)
        dialog.cells.setValue(64)
        idle(USER_PAUSE_S)
        dialog.compute()
        if not wait_until(lambda: dialog.done_computing() and dialog.sweep is not None, 180):
            self.results.errors.append("the 64x64 sweep did not finish within 180 s")
        dialog.close()
        insight.basins_action.setChecked(True)
        if not wait_until(lambda: insight.basins.result is not None and not insight.tasks.busy("basins"), 180):
            self.results.errors.append("basins did not finish within 180 s")
        insight.basins_action.setChecked(False)
        insight.run_race()
        if not wait_until(lambda: bool(insight.race_panel.entries) and not insight.tasks.busy("race"), 120):
            self.results.errors.append("the race did not finish within 120 s")

    def pause_step_reset(self) -> None:
        w = self.window
        menus = w.menus
        menus.set_speed(1000)
        menus.run.trigger()
        idle(1.0)
        menus.pause.trigger()
        idle(0.3)
        for _ in range(5):
            menus.step.trigger()
            idle(0.1)
        menus.run.trigger()
        idle(1.0)
        menus.reset.trigger()
        idle(0.5)


def draw_nothing_while_running() -> None:
    """(--floor) The redraw timer's frames draw nothing; a full redraw (a run ends, a reset) is as ever."""
    from gdstudio.app.main_window import MainWindow

    redraw = MainWindow.redraw

    def frame(window: MainWindow, everything: bool = True) -> None:
        if everything:
            redraw(window, everything)

    MainWindow.redraw = frame


def run_journey(folder: Path, run_seconds: float, repeats: int, profile: str = "", turns: bool = False,
                only: tuple[str, ...] = (), roots: bool = False) -> Journey:
    """launch() the studio in this process with the journey scripted from its first paint; returns when it closed."""
    from PySide6.QtCore import QSettings

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder / "settings"))
    app = QApplication.instance() or QApplication(sys.argv[:1])
    journey = Journey(app, folder, run_seconds, repeats, profile, turns, only, roots)
    first = FirstPaint(journey.painted)
    app.installEventFilter(first)
    from gdstudio.app.main import launch

    launch()
    app.removeEventFilter(first)
    return journey
