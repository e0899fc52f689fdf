"""File actions of the main window: New, Open, Save, Save As, recent files, examples,
drag-and-drop, and exports (trajectory CSV, plot PNG).

Kept apart from the window so each has one reason to change. Every path that
can lose unsaved work goes through `maybe_save`; every failure is shown as a
message and leaves the current document as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from ..core.errors import ExpressionError
from ..core.export import trajectories_csv
from ..core.fileio import atomic_writer, write_atomic
from ..core.scenario import Scenario, ScenarioError, load, loads
from . import foreground
from .background import give_way, helper_thread
from .document import default_scenario
from .objectives import OBJECTIVES, data_model
from .presets import example_files
from .settings import add_recent, forget_recent, recent_files
from .stagger import Stagger

if TYPE_CHECKING:
    from .document import Document
    from .session import StudioSession

FILTER = "gdstudio scenarios (*.json);;All files (*)"


def describe(error: Exception) -> str:
    if isinstance(error, ScenarioError):
        return "\n".join(error.problems)
    return str(error)


class FileActions(QObject):
    recent_changed = Signal(list)  # the recent files, newest first
    _opened = Signal(int, str, object, str)  # token, path, Scenario or None, problem: from the reading thread

    def __init__(self, session: StudioSession, parent: QWidget, ask_unsaved: Callable[[], str],
                 plots: Callable[[], list]) -> None:
        super().__init__(parent)
        self.session, self.parent_widget = session, parent  # (the parent: what its dialogs are modal to)
        self.document = session.document
        self._ask_unsaved, self._plots = ask_unsaved, plots
        self._pool = helper_thread("open")
        self._token = 0
        self._opening: str | None = None
        Stagger(self).follow(self._opened, self._finish_open)  # (a pass of its own, not another turn's: stagger.py)

    # -- unsaved changes --------------------------------------------------------------
    def maybe_save(self) -> bool:
        """True when it is fine to replace or close the document (saved, discarded or unchanged)."""
        if not self.document.modified:
            return True
        answer = self._ask_unsaved()
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- open -------------------------------------------------------------------------
    def new(self) -> None:
        if self.maybe_save():
            self.session.stop_runs()
            self.document.reset(default_scenario(), None)

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.document.path.parent) if self.document.path else ""
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open scenario", start, FILTER)
        if path:
            self.open_path(path, ask=False)

    def open_path(self, path: str, ask: bool = True) -> None:
        """Open a file. It is read and its loss checked in a background thread (a big data set or a slow
        loss never freezes the studio); then the document is replaced, or the problem is shown and the
        current document stays. `opening` says whether an answer is still due; a newer open wins."""
        if ask and not self.maybe_save():
            return
        self._token += 1
        self._opening = path
        foreground.track(self._pool.submit(self._read, self._token, path))

    @property
    def opening(self) -> bool:
        return self._opening is not None

    def _read(self, token: int, path: str) -> None:
        """(worker thread) The scenario, with its loss derived once (the editor then finds it in OBJECTIVES)."""
        scenario, problem = None, ""
        try:
            give_way()  # (the GUI thread's turns first, the window's last change painted: background.py)
            scenario = load(path)  # size-limited; a CSV named in it is read relative to its folder
            data = scenario.data.dataset if scenario.data else None
            give_way()
            OBJECTIVES.get(scenario.loss, scenario.variables, data.columns if data else (), data.values if data else None)
            if data is not None:
                data.spans  # noqa: B018  (worked out here, for the data view)
                if scenario.data.model:
                    give_way()
                    data_model(scenario.data.model)  # (for the data view)
        except ScenarioError as error:
            problem = describe(error)
        except ExpressionError as error:
            problem = f"loss: {error}"
        except Exception as error:  # never a dead thread: whatever it is, it is said
            problem = f"{type(error).__name__}: {error}"
        if not problem:
            path = str(Path(path).resolve())  # (here: each lstat of the path's parts took up to 0.5 ms of the GUI thread)
        self._opened.emit(token, path, None if problem else scenario, problem)

    def _finish_open(self, token: int, path: str, scenario: Scenario | None, problem: str) -> None:
        if token != self._token:
            return  # a newer open took over
        self._opening = None
        if scenario is None:
            self.session.message.emit("Cannot open the scenario", f"{path}:\n{problem}")
            if not Path(path).exists() and path in recent_files():
                self.recent_changed.emit(forget_recent(path))
            return
        self.session.stop_runs()
        self.document.reset(scenario, Path(path))  # (resolved by _read)
        self.recent_changed.emit(add_recent(path))

    def shutdown(self) -> None:
        """Drop an open still due and join its thread (idempotent)."""
        self._token += 1
        self._opening = None
        self._pool.shutdown(wait=True, cancel_futures=True)

    def open_example(self, resource: Any) -> None:
        if not self.maybe_save():
            return
        try:
            scenario = loads(resource.read_text(encoding="utf-8"), resource.name)
        except ScenarioError as error:
            self.session.message.emit("Cannot open the example", describe(error))
            return
        self.session.stop_runs()
        self.document.reset(scenario, None)  # an example is a template: saving asks for a name

    def fill_examples(self, menu: QMenu) -> None:
        menu.clear()
        examples = example_files()
        for title, resource in examples:
            menu.addAction(title, lambda r=resource: self.open_example(r))
        if not examples:
            menu.addAction("(no examples installed)").setEnabled(False)

    # -- save -------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._write(self.document.path)

    def save_as(self) -> bool:
        suggested = str(self.document.path or Path.cwd() / "scenario.json")
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save scenario as", suggested, FILTER)
        if not path:
            return False
        if not path.lower().endswith(".json"):
            path += ".json"
        return self._write(Path(path))

    def _write(self, path: Path) -> bool:
        self.session.unapplied_edit()  # (a loss typed a moment ago goes into the document first)
        try:
            self.document.save(path)
        except OSError as error:
            self.session.message.emit("Cannot save", f"{path}:\n{error.strerror or error}")
            return False
        except ScenarioError as error:
            self.session.message.emit("Cannot save", f"{path}:\n{describe(error)}")
            return False
        self.recent_changed.emit(add_recent(str(path.resolve())))
        self.session.status.emit(f"saved {path}", 4000)
        return True

    # -- exports ----------------------------------------------------------------------
    def export_csv(self, path: str | None = None) -> bool:
        buffers = self.session.buffers
        if not buffers:
            self.session.message.emit("Nothing to export", "Run the scenario first: the CSV holds every step of every run.")
            return False
        if path is None:
            base = self.document.path.with_suffix(".csv") if self.document.path else Path.cwd() / "trajectories.csv"
            path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Export trajectories", str(base), "CSV (*.csv)")
            if not path:
                return False
        try:
            write_atomic(path, trajectories_csv(buffers))  # the format of `gdstudio run --out`; never half a file
        except OSError as error:
            self.session.message.emit("Cannot export", f"{path}:\n{error.strerror or error}")
            return False
        self.session.status.emit(f"exported {path}", 4000)
        return True

    def _save_path(self, title: str, stem: str, suffix: str, kinds: str, others: tuple[str, ...] = ()) -> str:
        """Asked in a dialog (beside the scenario, named after it), with `suffix` added when the name ends in
        neither it nor one of `others`; "" when the person cancels."""
        base = self.document.path.with_suffix(suffix) if self.document.path else Path.cwd() / f"{stem}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, title, str(base), kinds)
        return path if not path or path.lower().endswith((suffix, *others)) else path + suffix

    def export_png(self, path: str | None = None) -> bool:
        path = path or self._save_path("Export plots", "plots", ".png", "PNG image (*.png)")
        if not path:
            return False
        if not self.plots_image().save(path, "PNG"):
            self.session.message.emit("Cannot export", f"{path}: the image could not be written")
            return False
        self.session.status.emit(f"exported {path}", 4000)
        return True

    def export_animation(self, path: str | None = None, fps: int = 30, seconds: float = 8.0,
                         size: tuple[int, int] = (960, 640)) -> bool:
        """File ▸ Export animation…: the scenario's runs as a GIF, or an MP4 where imageio-ffmpeg is installed (as
        `gdstudio animate`), with a progress dialog whose Cancel stops it between frames; the frames are drawn
        between events, so the studio keeps answering."""
        from PySide6.QtWidgets import QProgressDialog

        from .animate import Cancelled, render
        from .video import available, problem, suffix_of

        if not path:
            kinds = "GIF animation (*.gif)" + (";;MP4 video (*.mp4)" if available(".mp4") else "")
            path = self._save_path("Export animation", "animation", ".gif", kinds, (".mp4",))
        if not path:
            return False
        suffix = suffix_of(path) or ".gif"
        if problem(suffix):
            self.session.message.emit("Cannot export", f"{path}:\n{problem(suffix)}")
            return False
        dialog = QProgressDialog("Drawing the frames…", "Cancel", 0, 1, self.parent_widget)
        dialog.setObjectName("animationProgress")
        dialog.setMinimumDuration(0)
        self.animation_progress = dialog

        def progress(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)

        try:
            with atomic_writer(path, binary=True) as stream:
                frames = render(self.document.scenario, stream, fps, seconds, size, progress, dialog.wasCanceled, suffix=suffix)
        except Cancelled:
            self.session.status.emit("animation cancelled: nothing written", 4000)
            return False
        except (OSError, ValueError) as error:
            self.session.message.emit("Cannot export", f"{path}:\n{getattr(error, 'strerror', None) or error}")
            return False
        finally:
            dialog.close()
        self.session.status.emit(f"exported {path} ({frames} frames)", 4000)
        return True

    def plots_image(self) -> QPixmap:
        """The plots shown (landscape, loss curve and, with data, the fitted models) one under the other:
        the plots alone, without the controls around them."""
        shots = [plot.grab() for plot in self._plots()]
        image = QPixmap(max(s.width() for s in shots), sum(s.height() for s in shots))
        image.fill(self.parent_widget.palette().color(QPalette.ColorRole.Base))
        painter = QPainter(image)
        top = 0
        for shot in shots:
            painter.drawPixmap(0, top, shot)
            top += shot.height()
        painter.end()
        return image


def ask_unsaved(parent: QWidget, document: Document) -> str:
    """Save / Discard / Cancel, for a document with unsaved changes."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "Unsaved changes", f"Save the changes to {document.display_name()}?",
                                  buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")
