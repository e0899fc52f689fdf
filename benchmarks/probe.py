"""Shared instruments of the studio benchmarks: an event-loop gap probe tagged by phase, a sampler of what the
GUI thread does during a long gap, waiting without busy-spinning, and small statistics.

Machines are noisy (two shared cores): every figure is a median of repeats, compared with a baseline measured in
the same run.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import re
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

PROBE_MS = 5
SLOW_S = 0.016  # the target's frame
STALL_S = 0.05  # a gap longer than this is sampled (what the GUI thread is doing)


def wait_until(condition: Callable[[], bool], timeout: float = 60.0, poll_ms: int = 2) -> bool:
    """Run the event loop (one exec(), no processEvents() spinning) until condition() holds; False on timeout."""
    if condition():
        return True
    loop = QEventLoop()
    check = QTimer(interval=poll_ms)
    check.timeout.connect(lambda: condition() and loop.quit())
    limit = QTimer(singleShot=True, interval=int(timeout * 1000))
    limit.timeout.connect(loop.quit)
    check.start()
    limit.start()
    loop.exec()
    check.stop()
    limit.stop()
    return condition()


def studio_application(folder: Path, kind: type[QApplication] = QApplication) -> QApplication:
    """The QApplication (of `kind`) as the studio's launch sets it up (one OpenGL share group; the GUI thread taking
    the interpreter back quickly), its settings in `folder`: for the benchmarks that build a studio window themselves."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or kind(sys.argv[:1])
    from gdstudio.app.main import answer_quickly

    answer_quickly()
    return app


def one_pass(app) -> None:
    """One pass of the event loop as exec() makes it (for scripts that drive the loop themselves): it may wait for an
    event, and so it begins with the dispatcher's aboutToBlock, by which the studio's put-off work counts its passes
    (app/patience.py). A bare processEvents() never emits it: all of a script's passes counted as one long busy pass,
    and the put-off work waited a pass more each time (a drag's paints, lessons' views)."""
    app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)


def idle(seconds: float) -> None:
    """Let the event loop run for a while."""
    end = time.perf_counter() + seconds
    wait_until(lambda: time.perf_counter() >= end, seconds + 5, poll_ms=20)


def queued() -> float:
    """Seconds the calling thread has waited for a core, so far (Linux's schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class GapProbe:
    """A 5 ms QTimer in the GUI thread; each gap between its ticks is kept under the phase that is current."""

    def __init__(self) -> None:
        self.gaps: dict[str, list[float]] = defaultdict(list)
        # of each gap over the target (16 ms): (gap, the GUI thread's time on a core, its time waiting for one), in
        # seconds. A gap it spent working is its own work to shorten; one it slept through waited for something else
        # (the GIL held by a thread stuck in the kernel, say: see core/pages.py)
        self.slow: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
        self.phase = self._started = ""
        self.last = time.perf_counter()
        self._cpu, self._queued = time.thread_time(), queued()
        self.on_gap: Callable[[float, float], None] | None = None  # (EventLog)
        self._timer = QTimer(interval=PROBE_MS, objectName="probe")
        self._timer.timeout.connect(self._tick)

    def start(self, phase: str) -> None:
        self.phase = self._started = phase
        self.last, self._cpu, self._queued = time.perf_counter(), time.thread_time(), queued()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def enter(self, phase: str) -> None:
        """Gaps that begin from now on count for `phase`."""
        self.phase = phase

    def _tick(self) -> None:
        now, cpu, waited = time.perf_counter(), time.thread_time(), queued()
        self.gaps[self._started].append(now - self.last)  # (a gap counts for the phase it began in)
        if now - self.last > SLOW_S:
            self.slow[self._started].append((now - self.last, cpu - self._cpu, waited - self._queued))
        if self.on_gap is not None:
            self.on_gap(self.last, now)
        self.last, self._started, self._cpu, self._queued = now, self.phase, cpu, waited

    def shares(self, phase: str) -> tuple[float, float]:
        """Of the phase's gaps over SLOW_S, the shares the GUI thread spent on a core and waiting for one (the rest
        it slept: for the GIL, a lock, or nothing to do); nan: no such gap."""
        slow = self.slow[phase]
        total = sum(g for g, _, _ in slow) or float("nan")
        return sum(c for _, c, _ in slow) / total, sum(q for _, _, q in slow) / total

    def stats(self, phase: str | None = None) -> dict[str, float]:
        """p50, p99 and the longest gap (ms) of a phase, or of all of them."""
        values = self.gaps[phase] if phase is not None else [g for gs in self.gaps.values() for g in gs]
        return gap_stats(values)


class GapRoots:
    """`--roots`: the GUI thread under cProfile, one profile per gap of the probe; of each gap over SLOW_S, the
    functions the event loop called (slots, event handlers) and their time. It tells which turns a gap is made of:
    a gap with two roots is two turns the probe's timer did not come between. (cProfile slows Python about 1.5x.)"""

    SHELL = ("wait_until", "_script", "script", "idle", "<lambda>")  # the journey's own frames around the studio

    def __init__(self, probe: GapProbe) -> None:
        self.probe = probe
        self.gaps: dict[str, list[tuple[float, list[tuple[str, float]]]]] = defaultdict(list)  # phase -> (ms, roots)
        self.totals: dict[str, Counter] = defaultdict(Counter)  # phase -> root -> ms in slow gaps
        self._profile = cProfile.Profile()
        self._previous, probe.on_gap = probe.on_gap, self.gap
        self._profile.enable()

    def _shell(self, func: tuple) -> bool:
        filename, _line, name = func
        return "QEventLoop" in name or name in self.SHELL and "benchmarks" in filename

    def gap(self, began: float, ended: float) -> None:
        if self._previous is not None:
            self._previous(began, ended)
        self._profile.disable()
        if ended - began > SLOW_S:
            roots = []
            for func, (_cc, _nc, _tt, cumulative, callers) in pstats.Stats(self._profile).stats.items():
                if cumulative > 0.001 and not self._shell(func) and all(self._shell(c) for c in callers):
                    where = func[0].split("/gdstudio/")[-1].split("site-packages/")[-1]
                    roots.append((f"{where}:{func[2]}", round(cumulative * 1000, 1)))
            roots.sort(key=lambda root: -root[1])
            self.gaps[self.probe.phase].append((round((ended - began) * 1000), roots[:6]))
            self.totals[self.probe.phase].update(dict(roots))
        self._profile = cProfile.Profile()
        self._profile.enable()

    def report(self, phase: str, n: int = 8) -> str:
        rows = [f"roots over all gaps > {SLOW_S * 1000:.0f} ms: {self.totals[phase].most_common(n)}"]
        rows += [f"{ms} ms: {roots}" for ms, roots in sorted(self.gaps[phase], key=lambda g: -g[0])[:n]]
        return "\n      ".join(rows)


class EventLog(QObject):
    """Every event the GUI thread handles, by kind and receiver, timed from its start to the next one's (nested
    events count for the innermost); each gap longer than STALL_S is broken down into them (`--turns`)."""

    def __init__(self, probe: GapProbe) -> None:
        super().__init__()
        self.probe = probe
        self.events: list[tuple[float, str]] = []
        self.spent: dict[str, Counter] = defaultdict(Counter)  # phase -> what -> ms spent in long gaps
        self.longest: dict[str, tuple[float, list]] = {}  # phase -> the longest gap: (s, [(ms into it, what, ms)])
        probe.on_gap = self.gap

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if threading.get_ident() == threading.main_thread().ident:
            name = watched.objectName() or type(watched).__name__
            self.events.append((time.perf_counter(), f"{event.type().name} > {name}"))
        return False

    def gap(self, began: float, ended: float) -> None:
        events, self.events = self.events, []
        if ended - began < STALL_S:
            return
        spent = self.spent[self.probe.phase]
        stamps = [t for t, _ in events] + [ended]
        timeline = []
        for (t, what), after in zip(events, stamps[1:], strict=True):
            spent[what] += (after - max(t, began)) * 1000
            timeline.append((round((t - began) * 1000, 1), what, round((after - max(t, began)) * 1000, 1)))
        if ended - began > self.longest.get(self.probe.phase, (0, []))[0]:
            self.longest[self.probe.phase] = (ended - began, timeline)

    def top(self, phase: str, n: int = 6) -> list[tuple[str, int]]:
        return [(what, round(ms)) for what, ms in self.spent[phase].most_common(n)]

    def time_parts(self, window) -> None:
        """Time the studio's per-frame parts too (every call, by phase): which of them make the long turns."""
        import pyqtgraph as pg

        self.parts: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))

        def timed(owner, name: str, label: str) -> None:
            time_calls(owner, name, lambda seconds: self.parts[self.probe.phase][label].append(seconds))

        timed(window.landscape, "refresh", "landscape.refresh")
        timed(window.loss_curve, "refresh", "loss_curve.refresh")
        timed(window.runs_panel, "show_status", "runs_panel.show_status")
        timed(window.session.controller, "_deliver", "controller._deliver")
        from gdstudio.app.plots.style import TickGrid

        timed(TickGrid, "paint", "grid paint")
        original_paint = pg.GraphicsView.paintEvent

        def paint(view, event):
            began = time.perf_counter()
            original_paint(view, event)
            name = view.parent().objectName() or type(view.parent()).__name__ if view.parent() else "?"
            self.parts[self.probe.phase][f"paint {name}"].append(time.perf_counter() - began)

        pg.GraphicsView.paintEvent = paint

    def part_report(self, phase: str) -> str:
        rows = []
        for label, values in sorted(self.parts[phase].items(), key=lambda kv: -sum(kv[1])):
            ms = np.asarray(values) * 1000
            rows.append(f"{label}: n {len(ms)}, total {ms.sum():.0f}, p50 {np.median(ms):.1f}, p90 "
                        f"{np.percentile(ms, 90):.1f}, max {ms.max():.1f}")
        return "\n      ".join(rows)


class ThreadClock:
    """CPU seconds each thread of this process spent, from /proc (Linux): which helper threads ran during a phase,
    sharing the interpreter with the GUI thread. Python threads by their name, the others by the kernel's."""

    def __init__(self) -> None:
        self._last = self._read()

    @staticmethod
    def _read() -> dict[str, float]:
        names = {t.native_id: t.name for t in threading.enumerate()}
        tick = os.sysconf("SC_CLK_TCK")
        found: dict[str, float] = defaultdict(float)
        for task in Path("/proc/self/task").iterdir():
            try:
                stat = (task / "stat").read_text()
            except OSError:  # (ended meanwhile)
                continue
            comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
            name = names.get(int(task.name), comm)
            found[re.sub(r"_\d+$", "", name)] += (int(rest[11]) + int(rest[12])) / tick  # utime + stime
        return found

    def lap(self, n: int = 6) -> str:
        """The threads' CPU since the last lap, busiest first."""
        now = self._read()
        spent = {k: v - self._last.get(k, 0.0) for k, v in now.items()}
        self._last = now
        top = sorted(((v, k) for k, v in spent.items() if v > 0.005), reverse=True)[:n]
        return ", ".join(f"{k} {v:.2f} s" for v, k in top) or "none"


def owner_of(root, dotted: str) -> tuple[object, str]:
    """The object that holds root.<dotted>, and the name it holds it by (window, "landscape.refresh")."""
    path, name = dotted.rsplit(".", 1)
    for part in path.split("."):
        root = getattr(root, part)
    return root, name


def time_calls(owner, name: str, record: Callable[[float], None]) -> None:
    """owner.<name> replaced by a wrapper that records the seconds of each call (set on an instance, Qt calls it too)."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            record(time.perf_counter() - began)

    setattr(owner, name, wrapper)


def gap_stats(values: Iterable[float]) -> dict[str, float]:
    array = np.asarray(list(values), dtype=float) * 1000
    if not array.size:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    return {"p50": float(np.median(array)), "p99": float(np.percentile(array, 99)), "max": float(array.max()),
            "n": int(array.size)}


IDLE = ("futures/thread.py:_worker:81", "python3.11/threading.py:wait:", "python3.11/queue.py:get:",
        "python3.11/threading.py:wait", "app/buffers.py:_run:")  # (the leaf frames of threads waiting for work)


class StallSampler:
    """A thread that, while the probe has not ticked for STALL_S, samples the GUI thread's stack every few ms:
    the innermost frames of project code tell what a long gap is spent on (cheap enough to leave on)."""

    def __init__(self, probe: GapProbe, every: float = 0.004) -> None:
        self.probe, self.every = probe, every
        self.samples: dict[str, Counter] = defaultdict(Counter)
        self.others: dict[str, Counter] = {}  # (filled when not empty: see EventLog)
        self.main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if time.perf_counter() - self.probe.last < STALL_S:
                continue
            frames = sys._current_frames()
            frame = frames.get(self.main)
            if frame is not None:
                self.samples[self.probe.phase][where(frame)] += 1
            if self.others:  # (--turns: what the other threads are doing meanwhile)
                names = {t.ident: t.name for t in threading.enumerate()}
                for ident, other in frames.items():
                    at = where(other)
                    if ident not in (self.main, threading.get_ident()) and not at.startswith(IDLE):
                        self.others[self.probe.phase][f"{names.get(ident, '?')}: {at}"] += 1

    def top(self, phase: str, n: int = 4) -> list[tuple[str, int]]:
        return self.samples[phase].most_common(n)


def where(frame) -> str:
    """The stack, innermost first: up to three frames, those of gdstudio first when there are any."""
    frames = []
    while frame is not None and len(frames) < 40:
        code = frame.f_code
        frames.append(f"{Path(code.co_filename).parent.name}/{Path(code.co_filename).name}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    ours = [f for f in frames if f.startswith(("app/", "core/", "plots/", "panels/", "insight/"))
            and "benchmarks" not in f]
    leaf = frames[0]
    chain = [leaf] + [f for f in ours if f != leaf][:2]
    return " < ".join(chain)


def median(values: Iterable[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def write_scenario(path: Path, name: str, body: dict) -> Path:
    """A scenario file the studio opens like any other (File ▸ Open)."""
    path.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "name": name, **body}))
    return path


def verdict(value: float, target: float) -> str:
    return "met" if value <= target else f"MISSED by {value - target:.3g} ({value / target:.1f}x)"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (printed, and pasted into benchmarks/README.md)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
