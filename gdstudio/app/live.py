"""Live paths: drag a start or scrub a knob, and every run's whole path follows.

While nothing animates, a drag on the landscape (`drag_start`) or a knob of the run editor
(`scrub_run`) asks for the whole paths of the scenario as it would be with that start or setting,
without editing the document; the worker (live_worker.py) computes them with the engine's own runs
(core.whole_paths: bit for bit what Run or `gdstudio run` gives) and the session shows them as finished
runs (`StudioSession.show_paths`): paths, loss curves and the runs table, fed by `setData` into the
items the views made once. Letting go (`let_go`) writes the edit to the document (one undo step) and
asks for the whole paths once more, without a deadline: a drag over a big data set may cut the runs
short to keep up (the status line says so), the paths after it never are.

How it meets the session's RunState:
- IDLE, FINISHED: live. The first drag shows every run's whole path (the state becomes FINISHED); from
  then on, and after a Run has finished, any edit (a typed value, a click on the landscape, Undo) shows
  the new whole paths at once instead of clearing them (`following`).
- PAUSED: a drag or a knob ends the paused animation and goes live.
- STARTING, RUNNING: the animation wins. Dragging moves only the start's marker and scrubbing only the
  field; letting go edits the document, and the animation restarts from the new settings, as any edit
  during a run does.
- Reset clears the paths and live mode with them; Run animates from scratch as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from .buffers import RunBuffer
from .live_worker import LiveAnswer, LiveRequest, LiveWorker

if TYPE_CHECKING:
    from ..core.scenario import RunSpec, Scenario
    from .session import StudioSession

CUT_STATUS = "preview"


class LivePaths(QObject):
    """The session's live mode: requests paths from the worker and hands what comes back to the session."""

    frame = Signal()  # new live paths are in the session's buffers: draw them now
    holding_changed = Signal(bool)  # a start or a knob is held (views keep their frame and slice meanwhile)

    def __init__(self, session: StudioSession) -> None:
        super().__init__(session)
        self.session = session
        self.worker = LiveWorker(self)
        self.worker.ready.connect(self._ready)
        self.showing = False  # the session's buffers are live paths
        self.holding = False
        self.frames = 0  # frames drawn (the benchmark counts them)
        self.cut_note = ""  # what the last frame left out, when a deadline cut runs short
        self._token = 0
        self._shown = 0  # token of the request whose answer is shown
        self._said = False

    @property
    def animating(self) -> bool:
        return self.session.state in ("starting", "running")

    @property
    def following(self) -> bool:
        """An edit now shows the new whole paths (live paths or a finished Run are shown)."""
        return self.showing or self.session.state == "finished"

    @property
    def settled(self) -> bool:
        """Nothing held, asked or computing: the paths shown are the whole paths of the last request."""
        return not self.holding and not self.worker.busy and self._shown == self._token

    # -- gestures -------------------------------------------------------------------------
    def drag_start(self, index: int, values: dict[str, float]) -> None:
        """Run `index` starting at `values` (the plotted variables), shown live while the mouse moves."""
        scenario = self.session.scenario
        if 0 <= index < len(scenario.runs):
            self._hold(True)
            runs = list(scenario.runs)
            runs[index] = replace(runs[index], start=start_with(runs[index], values))
            self.preview(replace(scenario, runs=tuple(runs)), dragging=True)

    def scrub_run(self, spec: RunSpec) -> None:
        """The selected run with a knob's new value, shown live while the knob moves."""
        scenario, index = self.session.scenario, self.session.selected_index()
        if index >= 0:
            self._hold(True)
            runs = list(scenario.runs)
            runs[index] = spec
            self.preview(replace(scenario, runs=tuple(runs)), dragging=True)

    def let_go(self) -> None:
        """The drag or knob was released (its edit, if any, is in the document): the whole paths, uncut."""
        self._hold(False)
        if self.showing and not self.animating:
            self.preview(self.session.scenario, dragging=False)

    def _hold(self, holding: bool) -> None:
        if holding != self.holding:
            self.holding = holding
            self.holding_changed.emit(holding)

    # -- requests and answers ----------------------------------------------------------------
    def preview(self, scenario: Scenario, dragging: bool = False) -> bool:
        """Ask for the whole paths of `scenario`; False (nothing asked) while a Run animates or when its loss
        is not derived yet."""
        if self.animating or not scenario.runs:
            return False
        objective = self.session.runnable_objective(scenario)
        if objective is None:
            return False
        self._token += 1
        self.worker.request(LiveRequest(scenario, objective, dragging, self._token))
        if not dragging and self._slow():
            self._say("computing the whole paths…", 0)
        return True

    def _say(self, text: str, msecs: int) -> None:
        """A note on the status line; an empty one clears only what this said before."""
        if text or self._said:
            self.session.status.emit(text, msecs if text else 1)
        self._said = bool(text)

    def _slow(self) -> bool:
        data = self.session.scenario.data
        return data is not None and data.dataset.rows * self.session.scenario.stop.max_steps > 50_000_000

    def cancel(self) -> None:
        """Live mode ends (a Run starts, or Reset): nothing pending is shown."""
        self.worker.cancel()
        self.showing = False
        self._shown = self._token

    def shutdown(self) -> None:
        self.worker.shutdown()

    def _ready(self) -> None:
        answer = self.worker.take()
        if answer is None or answer.request.token <= self._shown or self.animating:
            return  # (older than what is shown, or a Run started meanwhile)
        self._shown = answer.request.token
        if answer.error:
            self.session.status.emit(f"live paths: {answer.error}", 6000)
            return
        self.session.show_paths(answer.request.scenario, self._buffers(answer), settled=not answer.request.dragging)
        self.showing = True
        self.frames += 1
        self.frame.emit()

    def _buffers(self, answer: LiveAnswer) -> list[RunBuffer]:
        buffers, cut = [], []
        for path in answer.paths:
            status, reason = path.status, path.reason
            if path.cut:
                status, reason = CUT_STATUS, (f"live: {path.steps:,} of {path.max_steps:,} steps while dragging"
                                              " (the whole path comes when you let go)")
                cut.append(path)
            buffers.append(RunBuffer.whole(path.label, path.trajectory.variables, path.trajectory, status, reason))
        note = ""
        if cut:
            shortest = min(cut, key=lambda p: p.steps)
            note = (f"dragging: paths cut to {shortest.steps:,} of {shortest.max_steps:,} steps to keep up"
                    " — the whole paths come when you let go")
        self._say(note, 4000)
        self.cut_note = note
        return buffers


def start_with(spec: RunSpec, values: dict[str, Any]) -> dict[str, float]:
    """The run's start with the dragged variables moved (rounded as a click on the landscape rounds them)."""
    return {**spec.start, **{k: round(float(v), 6) for k, v in values.items()}}
