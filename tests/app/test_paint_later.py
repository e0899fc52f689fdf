"""The window's paint in a pass of the event loop of its own (app/paint_later.py): a change and the paint it asked
for were one turn, as posted events (the paint) come before the timers (input, rows, other views) in each pass."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QLabel

from gdstudio.app.background import wait_painted
from gdstudio.app.paint_later import PaintAfterTimers

from . import helpers


class Events(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def eventFilter(self, _watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
            self.seen.append(event.type().name)
        return False


def until_quiet(qtbot, events: Events) -> None:
    """Until no request or paint is on its way (a request sent again, on its way, paints a change made meanwhile with
    it, after one request seen); then what is seen starts anew."""
    helpers.until_quiet(qtbot, lambda: len(events.seen))
    events.seen.clear()


def test_a_change_is_painted_a_pass_later_and_every_change_is_painted(qtbot):
    label = QLabel("before")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    qtbot.wait(50)  # (the first paint's requests, all handled)
    PaintAfterTimers(label)
    events = Events()
    label.installEventFilter(events)  # (installed last, it sees each event first: the request put off too)
    for text in ("once", "twice", "thrice"):
        events.seen.clear()
        label.setText(text)
        qtbot.waitUntil(lambda: "Paint" in events.seen)
        # Qt's request, put off; the same request a pass later, let through; the paint it makes
        assert events.seen == ["UpdateRequest", "UpdateRequest", "Paint"]
    assert label.grab().width() > 0


def test_the_studio_puts_its_paints_off_and_still_paints_every_change(qtbot, window):
    qtbot.waitExposed(window)
    qtbot.wait(50)
    events = Events()
    window.installEventFilter(events)  # (after the studio's own: it sees each request first)
    window.status_label.installEventFilter(events)
    for text in ("a change", "another"):
        until_quiet(qtbot, events)  # (the studio's own changes as it starts: the engine's loading, its status line)
        window.status_label.setText(text)
        qtbot.waitUntil(lambda: "Paint" in events.seen)
        # (Qt sends no request while one is pending: two before a paint are one put off and sent again)
        assert events.seen.index("Paint") >= 2 and set(events.seen[:events.seen.index("Paint")]) == {"UpdateRequest"}


def test_the_sweep_dialog_puts_its_paints_off_too(qtbot, window):
    """Its two plots' scenes each asked for the dialog's paint at once when a sweep's results came: six paints back
    to back, a gap of ~40 ms in the event loop; put off, their changes are painted together."""
    dialog = window.insight.show_sweeps()
    qtbot.waitExposed(dialog)
    events = Events()
    dialog.installEventFilter(events)
    dialog.heading.installEventFilter(events)
    until_quiet(qtbot, events)
    dialog.heading.setText("a change")
    qtbot.waitUntil(lambda: "Paint" in events.seen)
    assert events.seen.index("Paint") >= 2 and set(events.seen[:events.seen.index("Paint")]) == {"UpdateRequest"}
    dialog.close()



class Waits(Events):
    """What a thread's `wait_painted(0)` says as each request and paint is seen."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, bool]] = []
        self._thread = ThreadPoolExecutor(1)
        self.then: Callable[[], None] | None = None  # (called once, after the next event seen)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in (QEvent.Type.Paint, QEvent.Type.UpdateRequest):
            self.said.append((event.type().name, self._thread.submit(wait_painted, 0).result()))
            if self.then is not None:
                then, self.then = self.then, None
                then()
        return super().eventFilter(watched, event)


def test_threads_wait_while_a_paint_is_on_its_way(qtbot):
    """A paint calls Python for each item it paints: a thread deriving a loss meanwhile made it wait for the
    interpreter lock each time. Such threads wait (`wait_painted`) from Qt's request until the paint is made."""
    label = QLabel("before")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    PaintAfterTimers(label)
    waits = Waits()
    label.installEventFilter(waits)  # (sees each event first: the first request before it is put off)
    until_quiet(qtbot, waits)
    waits.said.clear()
    assert wait_painted(0)
    label.setText("after")
    qtbot.waitUntil(lambda: "Paint" in waits.seen)
    # the request put off (the paint not yet on its way as it is seen), the request let through, its paint
    assert waits.said == [("UpdateRequest", True), ("UpdateRequest", False), ("Paint", False)]
    assert wait_painted(0)


def test_a_window_gone_with_a_paint_on_its_way_keeps_no_thread_waiting(qtbot):
    label = QLabel("before")
    label.show()
    qtbot.waitExposed(label)
    PaintAfterTimers(label)
    waits = Waits()
    label.installEventFilter(waits)
    until_quiet(qtbot, waits)
    waits.said.clear()
    between: list[bool] = []

    def delete() -> None:  # (the request put off, in this pass; deleted before it is sent again, in the next)
        between.append(wait_painted(0))
        label.deleteLater()

    waits.then = lambda: QTimer.singleShot(0, delete)  # (as Qt's request comes)
    label.setText("after")
    qtbot.waitUntil(lambda: wait_painted(0) and bool(between))
    assert between == [False] and len(waits.said) == 1  # (on its way, then gone unpainted)
