"""Entry point of the desktop studio: `gdstudio [FILE]` ends up in `launch`."""

from __future__ import annotations

import signal
import sys

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer
from PySide6.QtWidgets import QApplication

SIGNAL_TICK_MS = 200  # Python runs signal handlers only between bytecodes: a timer gives it the chance


def skip_feature_scan() -> None:
    """PySide6 reads the whole source of every module imported after it (inspect.getsource, in its import hook)
    to see whether it says `from __feature__ import …`; over the studio's own modules, SymPy, Numba and matplotlib,
    all imported after Qt, that took 0.2 s of a first start. gdstudio and its libraries select no such feature,
    and a module marked as not using PySide6 keeps the default selection, so the scan could only say what is known."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is not None and callable(getattr(feature, "_mod_uses_pyside", None)):
        feature._mod_uses_pyside = lambda module: False


skip_feature_scan()  # (before anything else is imported)


def install_signal_handlers(app: QApplication, window) -> QTimer:
    """Ctrl+C (SIGINT) and SIGTERM quit like the window's Quit, minus the unsaved-changes prompt
    (nobody is there to answer it): runs stop, the thread is joined, unsaved work stays in the
    recovery file, and the exit code is 0 with nothing on stderr."""

    def quit_now(signum, frame) -> None:
        QTimer.singleShot(0, lambda: _quit(app, window))

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, quit_now)
    tick = QTimer(app, interval=SIGNAL_TICK_MS)
    tick.timeout.connect(lambda: None)
    tick.start()
    return tick


def _quit(app: QApplication, window) -> None:
    window.recovery.autosave()  # kept: offered again on the next start
    window.shutdown()
    window.ask_unsaved = lambda: "discard"
    window.recovery.discard = lambda: None  # closing below must not remove it
    window.close()
    app.quit()


GIL_SWITCH_SECONDS = 0.0002  # see answer_quickly


def answer_quickly() -> None:
    """Let the GUI thread win the interpreter lock within 0.2 ms, not Python's 5 ms: deriving, typesetting and
    evaluating losses run in Python threads, and a paint that needs the lock hundreds of times waited up to 5 ms
    each time behind them (opening a 20,000-row logistic regression stalled the window for up to 1.1 s; now
    under 100 ms). The run kernels release the lock and lose nothing."""
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def launch(path: str | None = None, qt_options: list[str] | None = None) -> int:
    """Open the studio (on `path` when given; a bad file is reported and the default opens) and
    return the exit code once the window is closed. `qt_options`: Qt's own, like -style Fusion."""
    # one OpenGL share group: the 3-D view's shaders (compiled once per process by pyqtgraph) stay valid when its
    # dock floats or docks again, which gives its canvas a new context
    QApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    app = QApplication.instance() or QApplication(sys.argv[:1] + (qt_options or []))
    answer_quickly()
    app.setOrganizationName("gdstudio")
    app.setApplicationName("gdstudio")
    app.setApplicationDisplayName("gdstudio")
    from .helper import HELPER
    from .main_window import MainWindow
    from .panels.math_view import join_drawing

    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    tick = install_signal_handlers(app, window)
    window.show()
    # Qt polishes each widget made without a parent (pyqtgraph's menus for every plot and axis, and their forms: ~380)
    # in the first pass of the event loop, before the window is exposed and painted; unseen, they are polished when
    # they show. The first paint came ~5 ms sooner
    QCoreApplication.removePostedEvents(None, QEvent.Type.PolishRequest)
    recovered = window.recovery.offer()
    if path and not recovered:
        window.files.open_path(path, ask=False)
    app.exec()
    tick.stop()
    window.shutdown()
    HELPER.close()  # (the window has gone: a kernel or a formula the helper works on ends unseen)
    join_drawing()
    return 0
