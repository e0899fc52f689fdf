"""Studio tests: real widgets, offscreen, settings in a temporary place, every window closed
(and its worker thread joined) after each test."""

from __future__ import annotations


import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt

# as the studio does (app.main.launch), before the test application exists: the 3-D view's GL resources are shared
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

# The offscreen platform cannot resize native windows and says so when a main window lays out its docks.
OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/app" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True, scope="package")
def gui_thread_garbage_collection(qapp):
    """As in the studio: cycles are collected on the GUI thread only (see gdstudio.app.collector)."""
    from gdstudio.app.collector import collect_anywhere, collect_on_gui_thread

    collect_on_gui_thread()
    yield
    collect_anywhere()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, qapp):
    """QSettings go to a temporary folder under a test organisation, never the user's."""
    folder = tmp_path_factory.mktemp("settings")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(folder))
    QCoreApplication.setOrganizationName("gdstudio-tests")
    QCoreApplication.setApplicationName("gdstudio-tests")
    yield folder


@pytest.fixture
def window(qtbot):
    from gdstudio.app.main_window import MainWindow
    from gdstudio.app.panels.math_view import join_drawing

    win = MainWindow()
    win.ask_unsaved = lambda: "discard"
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.session.objective is not None and not win.landscape.computing
                    and not win.session.stagger.pending(), timeout=30000)  # (the views that follow in turns of their own too)
    yield win
    win.shutdown()
    join_drawing()
    assert not win.session.controller.active
    if win.message_box is not None:
        win.message_box.close()
    win.close()
