"""View ▸ 3-D landscape: a closable dock beside the contour view, built the first time it is opened.

Nothing of the 3-D view is imported before then (PyOpenGL and pyqtgraph.opengl take a while to load
and most sessions never open it). The menu item stays checked exactly while the dock is open,
however it was closed. The window's redraw (its timer, each live frame of a drag, a run's end) calls
`refresh`, so the 3-D paths move in the same frames as the 2-D ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

if TYPE_CHECKING:
    from .plots.landscape import Landscape
    from .plots.view3d import Landscape3D
    from .session import StudioSession

SHARE = 0.3  # of the window's width, for the dock when it first opens


class View3DDock(QObject):
    def __init__(self, session: StudioSession, window: QMainWindow, landscape: Landscape, menu: QMenu) -> None:
        super().__init__(window)
        self.session, self.window, self.landscape = session, window, landscape
        self.dock: QDockWidget | None = None
        self.view: Landscape3D | None = None
        self.action = QAction("3-D landscape", window, checkable=True)
        self.action.setObjectName("view3dAction")
        self.action.setShortcut(QKeySequence("Ctrl+3"))
        self.action.setToolTip("the loss as a surface with the runs on it (rotate: drag; zoom: wheel) (Ctrl+3)")
        self.action.toggled.connect(self.set_open)
        menu.addAction(self.action)

    def set_open(self, on: bool) -> None:
        if on and self.dock is None:
            self._build()
        if self.dock is not None and self.dock.isVisible() != on:
            self.dock.setVisible(on)

    def _build(self) -> None:
        from .plots.view3d import Landscape3D

        self.view = Landscape3D(self.session, self.landscape)
        dock = self.dock = QDockWidget("3-D landscape", self.window, objectName="view3dDock")
        dock.setWidget(self.view)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        loss_dock = self.window.findChild(QDockWidget, "lossDock")
        if loss_dock is not None:  # between the loss editor and the contour view
            self.window.splitDockWidget(loss_dock, dock, Qt.Orientation.Horizontal)
        QTimer.singleShot(0, self._size)  # (once the dock is laid out)
        dock.toggleViewAction().toggled.connect(self._closed_or_opened)
        dock.visibilityChanged.connect(lambda visible: visible and self.view.refresh())

    def refresh(self) -> None:
        """A frame of the window's redraw: the paths and balls that moved (nothing before the view is opened)."""
        if self.view is not None:
            self.view.refresh()

    def _size(self) -> None:
        """Half of the middle of the window, taken from the contour view."""
        if self.dock is not None and self.dock.isVisible() and not self.dock.isFloating():
            central = self.window.centralWidget()
            width = max(int(SHARE * self.window.width()), (self.dock.width() + central.width()) // 2 if central else 0)
            self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)

    def _closed_or_opened(self, on: bool) -> None:
        """The dock's own close button (or a tab hiding it): the menu item follows."""
        if self.action.isChecked() != on:
            self.action.blockSignals(True)
            self.action.setChecked(on)
            self.action.blockSignals(False)
