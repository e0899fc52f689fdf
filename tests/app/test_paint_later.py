"""The window's paint in a pass of the event loop of its own (app/paint_later.py): a change and the paint it asked
for were one turn, as posted events (the paint) come before the timers (input, rows, other views) in each pass."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel

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
