"""GUI buffers thin long runs incrementally, yet end with exactly the rows the core (and the CLI) keeps."""

import math

import numpy as np
from PySide6.QtCore import QTimer
import pytest

from gdstudio.app.buffers import LiveTrajectory, RunBuffer
from gdstudio.app.stagger import Stagger
from gdstudio.core.trajectory import LOSS, PARAMS, Trajectory

from .helpers import HANG


@pytest.mark.parametrize("seed", range(8))
def test_live_thinning_is_a_superset_and_settles_to_the_core_rows(seed, monkeypatch):
    import gdstudio.app.buffers as buffers

    monkeypatch.setattr(buffers, "BLOCK", 3)  # many small blocks: overlapping moves are exercised
    rng = np.random.default_rng(seed)
    for _ in range(25):
        limit = int(rng.integers(20, 400))
        window = int(rng.integers(1, limit // 2))
        core = Trajectory(("x",), limit=limit, window=window)
        live = LiveTrajectory(("x",), limit=limit, window=window, batch=int(rng.integers(1, 60)))
        total = 0
        for _ in range(int(rng.integers(1, 200))):
            n = int(rng.integers(0, 80))
            rows = rng.random((n, PARAMS + 1))
            rows[:, LOSS] = np.arange(total, total + n)
            total += n
            core.extend(rows)
            live.extend(rows)
            assert set(core.steps) <= set(live.steps)
            assert np.array_equal(live.rows[:, LOSS], live.steps)  # rows and steps move together
        live.settle()
        assert np.array_equal(core.rows, live.rows) and np.array_equal(core.steps, live.steps)


def test_run_buffer_settles_when_the_run_ends_and_finds_new_rows_by_step():
    buffer = RunBuffer("r", ("x", "y"))
    buffer.trajectory = LiveTrajectory(("x", "y"), limit=100, window=20, batch=10)
    core = Trajectory(("x", "y"), limit=100, window=20)
    rows = np.random.default_rng(0).random((337, PARAMS + 2))
    for part in np.array_split(rows, 9):
        buffer.extend(part)
        core.extend(part)
    steps, new = buffer.after(330)
    assert list(steps) == [331, 332, 333, 334, 335, 336] and np.array_equal(new, rows[331:])
    buffer.status = "running"
    buffer.status = "max_steps"
    assert np.array_equal(buffer.rows, core.rows) and buffer.appended == 337


def test_the_memory_rows_go_to_next_is_faulted_in_ahead_and_the_rows_stay_whole(monkeypatch):
    """Copying rows into untouched pages cost the GUI thread ~20 µs a page (twenty runs at full speed: turns of
    80-150 ms); a thread faults the next pages in first, changing none of the rows already there."""
    import gdstudio.app.buffers as buffers

    asked: list[tuple[int, int, int]] = []
    ask = buffers.PREFAULT.ask
    monkeypatch.setattr(buffers.PREFAULT, "ask", lambda array, start, stop: (asked.append((id(array), start, stop)),
                                                                            ask(array, start, stop)))
    buffer = RunBuffer("r", ("x", "y"))
    trajectory = buffer.trajectory
    rows = np.random.default_rng(1).random((300_000, PARAMS + 2))
    for part in np.array_split(rows, 150):
        buffer.extend(part)
        row_bytes = trajectory._rows.strides[0]
        ahead = [stop for array, _, stop in asked if array == id(trajectory._rows)]
        assert ahead and ahead[-1] // row_bytes >= len(buffer) + buffers.AHEAD_BYTES // row_bytes // 2
    spans = [(start, stop) for array, start, stop in asked if array == id(trajectory._rows)]
    assert all(stop == start2 for (_, stop), (start2, _) in zip(spans, spans[1:]))  # each page asked for once
    assert np.array_equal(buffer.rows, rows) and np.array_equal(buffer.steps, np.arange(len(rows)))


def test_jobs_waiting_to_fault_in_memory_neither_keep_it_nor_touch_it_once_it_is_dropped(monkeypatch):
    """After a Reset of twenty runs at full speed, the thread went on faulting in their dropped buffers for seconds,
    and its queue kept them in memory meanwhile."""
    import threading
    import weakref

    import gdstudio.app.buffers as buffers
    from gdstudio.core import pages

    faulted: list[int] = []
    gate, done = threading.Event(), threading.Event()

    def fault_in(array, _start, _stop) -> None:
        gate.wait(HANG)  # (the first job waits here while the test drops the second one's array)
        faulted.append(len(array))
        if len(array) == 30:
            done.set()

    monkeypatch.setattr(pages, "fault_in", fault_in)
    prefault = buffers.Prefault()
    first, dropped, last = np.zeros(10), np.zeros(20), np.zeros(30)
    for array in (first, dropped, last):
        prefault.ask(array, 0, array.nbytes)
    alive = weakref.ref(dropped)
    del dropped, array
    assert alive() is None  # (nothing but the test held it)
    gate.set()
    assert done.wait(HANG) and faulted == [10, 30]


def test_a_run_longer_than_the_row_limit_matches_the_cli(qtbot, window):
    from gdstudio.core import scenario as sc
    from gdstudio.core.runner import run_scenario
    from gdstudio.core.trajectory import ROW_LIMIT

    from .helpers import run_to_end

    window.document.update("stop", stop=sc.StopRules(max_steps=ROW_LIMIT + 300_000, grad_tol=None))
    window.document.set_runs(window.document.scenario.runs[:1])
    run_to_end(qtbot, window, timeout=120000)
    headless = run_scenario(window.document.scenario)
    assert headless[0].trajectory.thinned
    assert np.array_equal(window.session.buffers[0].rows, headless[0].trajectory.rows)
    assert np.array_equal(window.session.buffers[0].steps, headless[0].trajectory.steps)


def test_runs_reaching_their_row_limit_together_thin_one_per_frame(monkeypatch):
    # twenty runs at full speed reach the limit in the same delivery: thinning them all in one turn was a 100-300 ms gap
    import gdstudio.app.buffers as buffers

    clock = [1000.0]
    monkeypatch.setattr(buffers.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(buffers, "_last_thinning", -math.inf)
    runs = [LiveTrajectory(("x",), capacity=1024, limit=100, window=20, batch=10) for _ in range(3)]
    rows = np.zeros((115, PARAMS + 1))
    for run in runs:
        run.extend(rows)
    assert [len(run) for run in runs].count(115) == 2  # one thinned; two wait (their slack holds the rows)
    clock[0] += 1.0
    for run in runs:
        run.extend(rows[:1])
    assert [len(run) for run in runs].count(116) == 1  # the next frame, the next one
    for run in runs:
        run.settle()
    assert len({len(run) for run in runs}) == 1  # and every run ends with the core's rows


def test_a_studio_buffer_thins_in_a_turn_of_its_own_one_buffer_a_turn(qtbot):
    """Thinning moves a run's recent window of rows down (~5 ms with twenty runs): in the turn that took the rows it
    made one gap of the two. The rows kept are the core's all the same."""
    turns = Stagger()
    made = []
    for _ in range(2):
        buffer = RunBuffer("r", ("x",), turns=turns)
        buffer.trajectory = LiveTrajectory(("x",), capacity=1024, limit=100, window=20, batch=10)
        buffer.trajectory.thin_on_commit = False
        made.append(buffer)
    core = Trajectory(("x",), limit=100, window=20)
    rows = np.random.default_rng(1).random((115, PARAMS + 1))
    layouts = [buffer.layout for buffer in made]
    for buffer in made:
        buffer.extend(rows)
    core.extend(rows)
    assert [len(buffer) for buffer in made] == [115, 115]  # (not in the turn that appended them)
    seen: list[list[int]] = []
    passes = QTimer(interval=0)  # (a zero timer: one tick a pass of the event loop)
    passes.timeout.connect(lambda: seen.append([len(buffer) for buffer in made]))
    passes.start()
    qtbot.waitUntil(lambda: all(len(buffer) < 115 for buffer in made))
    passes.stop()
    assert seen[0].count(115) == 1  # one buffer a turn (the queue's zero timer was started first)
    assert [buffer.layout for buffer in made] == [layout + 1 for layout in layouts]
    for buffer in made:
        buffer.status = "running"
        buffer.status = "max_steps"
        assert np.array_equal(buffer.rows, core.rows) and np.array_equal(buffer.steps, core.steps)
    assert not turns.pending()
