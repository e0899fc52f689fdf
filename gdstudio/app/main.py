"""Entry point of the desktop studio: `gdstudio [FILE]` ends up in `launch`."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication


def launch(path: str | None = None) -> int:
    """Open the studio (on `path` when given; a bad file is reported and the default opens) and
    return the exit code once the window is closed."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("gdstudio")
    app.setApplicationName("gdstudio")
    app.setApplicationDisplayName("gdstudio")
    from .main_window import MainWindow

    window = MainWindow()
    app.aboutToQuit.connect(window.shutdown)
    window.show()
    if path:
        window.files.open_path(path, ask=False)
    app.exec()
    window.shutdown()
    return 0
