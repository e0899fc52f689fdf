"""Help ▸ "What am I looking at?": the open scenario's title and lesson, what each part of the picture
means, the update rule θ := θ − α∇J and the selected run's optimizer formula, typeset in HTML.

`Help(session, window)` adds the Help menu, a dock with this panel (shown, with the lesson on top,
whenever a scenario with a description is opened) and names the Examples menu's entries by each
example's title, with its description as tooltip and status tip.
"""

from __future__ import annotations

import html
import json
from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QImage, QKeySequence, QPalette, QTextDocument
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTextBrowser, QWidget

from ...core.optimizers import OPTIMIZERS
from ...core.scenario import Scenario
from .math_view import draw_later
from .rules_latex import RULES

if TYPE_CHECKING:
    from ..session import StudioSession

PICTURE = """
<h3>The picture</h3>
<ul>
<li><b>Landscape</b> (top): the loss J(θ) over two parameters, shaded from low (dark) to high (yellow);
the thin white <b>contours</b> join points of equal loss. Where contours crowd, the slope is steep.
Levels are log-spaced when the loss spans many decades (the note above the plot says which).
With one parameter the landscape is the curve J(x) itself, with each run's tangent (dashed).</li>
<li><b>Path</b>: each run's line is the sequence of points it visited; <b>○</b> is where it started,
<b>●</b> where it is now. ★ marks known minima. Click the landscape to move the selected run's start.
The picture frames the starts, the known minima and the paths as they grow; once you pan or zoom it keeps
your view, until <b>View ▸ Frame runs</b> (Ctrl+0).</li>
<li><b>Loss curve</b> (bottom): the loss after each step. On a <b>log scale</b> (View ▸ Log scale),
a straight falling line means the error shrinks by the same factor every step (linear convergence);
a curve that bends down ever faster is quadratic convergence (Newton).</li>
<li><b>Status</b>: every run ends converged (‖∇J‖ or |ΔJ| below its tolerance), at the step limit,
diverged (loss became huge or not a number) or with an error, and says why.</li>
</ul>
<h3>The update rule</h3>
<p style="font-family: monospace; font-size: 120%">θ := θ − α ∇J(θ)</p>
<p>The gradient ∇J points uphill; a step of size α (the <b>learning rate</b>) goes the other way.
On a quadratic with curvatures λ, plain gradient descent multiplies the error along each direction by
(1 − αλ) per step: too small an α crawls, α &gt; 2/λmax overshoots and diverges
(Insight ▸ panel shows λmax and 2/λmax for the selected run).</p>
"""


def optimizer_html(name: str, pictures: list[str] | None = None) -> str:
    """The optimizer's rule (typeset when `pictures`, the image resources of its lines, are there; as text too,
    to copy), its defaults and its state."""
    info = OPTIMIZERS.get(name)
    if info is None:
        return ""
    params = ", ".join(f"{p.name} = {html.escape(json.dumps(p.default))}" for p in info.params)
    state = ", ".join(info.state) if info.state else "none — each step uses only the current gradient"
    typeset = "<p>" + "<br>".join(f"<img src='{src}'>" for src in pictures) + "</p>" if pictures else ""
    size = "95%; color: gray" if pictures else "115%"
    return (f"<h3>This run's optimizer: {html.escape(info.title)} (<code>{name}</code>)</h3>{typeset}"
            f"<p style='font-family: monospace; font-size: {size}; white-space: pre-wrap'>"
            f"{'<br>'.join(html.escape(part.strip()) for part in info.formula.split(';'))}</p>"
            f"<p>g = ∇J(θ), {_alpha(info.formula)}. Defaults (as torch.optim): {params}.<br>"
            f"State kept between steps: {html.escape(state)}.</p>")


def _alpha(formula: str) -> str:
    """What α means in this formula: the learning rate, or (RMSprop, which writes lr) its smoothing `alpha`."""
    return "α = alpha, the smoothing constant" if "lr" in formula and "α" in formula else "α = lr" if "α" in formula else "lr the step size"


def help_html(scenario: Scenario, run_index: int, pictures: dict[str, list[str]] | None = None) -> str:
    parts = [f"<h2>{html.escape(scenario.name)}</h2>"]
    if scenario.description:
        parts.append(f"<p class='lesson'>{html.escape(scenario.description)}</p>")
    runs = scenario.runs
    if runs:
        spec = runs[min(max(run_index, 0), len(runs) - 1)]
        parts.append(f"<p>Selected run: <b>{html.escape(spec.label)}</b></p>")
        parts.append(optimizer_html(spec.optimizer, (pictures or {}).get(spec.optimizer)))
    parts.append(PICTURE)
    return "\n".join(parts)


class HelpPanel(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("helpPanel")
        self.setOpenExternalLinks(True)
        self.scenario: Scenario | None = None
        self.run_index = 0
        self.rules: dict[str, list[QImage]] = {}  # typeset update rules, drawn in the shared drawing thread
        self._drawing: dict[str, Future] = {}
        self._html = ""  # (what it shows)
        self._poll = QTimer(self, interval=50)
        self._poll.timeout.connect(self._collect)

    def show_scenario(self, scenario: Scenario, run_index: int | None = None) -> None:
        self.scenario = scenario
        if run_index is not None:
            self.run_index = run_index
        if scenario.runs:
            self._typeset(scenario.runs[min(max(self.run_index, 0), len(scenario.runs) - 1)].optimizer)
        sources = {name: [f"rule:{name}/{i}" for i in range(len(images))] for name, images in self.rules.items()}
        text = help_html(scenario, self.run_index, sources)
        if text == self._html:  # (a change it does not show: a view moved, a run's start; setHtml lays it all out)
            return
        self._html = text
        for name, images in self.rules.items():  # (setHtml drops the document's resources: added each time)
            for source, image in zip(sources[name], images):
                self.document().addResource(QTextDocument.ResourceType.ImageResource, QUrl(source), image)
        position = self.verticalScrollBar().value()
        self.setHtml(text)
        self.verticalScrollBar().setValue(position)

    def _typeset(self, name: str) -> None:
        if name in self.rules or name in self._drawing or name not in RULES:
            return
        color = self.palette().color(QPalette.ColorRole.Text).name()
        self._drawing[name] = draw_later(RULES[name], color, self.devicePixelRatioF())
        self._poll.start()

    def _collect(self) -> None:
        for name, job in list(self._drawing.items()):
            if not job.done():
                continue
            del self._drawing[name]
            drawn = job.result() if not job.cancelled() and job.exception() is None else None
            if drawn is not None:
                self.rules[name] = [QImage.fromData(png) for png in drawn]
                for image in self.rules[name]:
                    image.setDevicePixelRatio(self.devicePixelRatioF())
                if self.scenario is not None:
                    self.show_scenario(self.scenario)
        if not self._drawing:
            self._poll.stop()

    def select_run(self, index: int) -> None:
        if self.scenario is not None:
            self.show_scenario(self.scenario, index)


def label_examples(menu: QMenu) -> None:
    """Each example's entry shows its title; its description is the tooltip and status tip. The files are read when
    the menu first shows: reading the thirteen (two of them generate their data) took 15-20 ms of the launch, its
    longest turn after the first paint."""
    menu.setToolTipsVisible(True)
    menu.aboutToShow.connect(lambda: _label(menu), Qt.ConnectionType.SingleShotConnection)


def _label(menu: QMenu) -> None:
    from ...core.scenario import loads
    from ..presets import example_files

    resources = {title: resource for title, resource in example_files()}
    for action in menu.actions():
        resource = resources.get(action.text())
        if resource is None:
            continue
        try:
            scenario = loads(resource.read_text(encoding="utf-8"), resource.name)
        except Exception:  # a broken example keeps its file name; opening it reports the problem
            continue
        action.setText(scenario.name.replace("&", "&&"))
        action.setToolTip(scenario.description or scenario.name)
        action.setStatusTip(scenario.description[:200])


class Help:
    """The Help menu and dock, following the session's document and run selection."""

    def __init__(self, session: StudioSession, window: QMainWindow, examples: QMenu | None = None) -> None:
        self.session, self.window = session, window  # (the window: where the dock and menu go)
        self.panel = HelpPanel()
        self.dock = QDockWidget("What am I looking at?", window, objectName="helpDock")
        self.dock.setWidget(self.panel)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)
        loss_dock = window.findChild(QDockWidget, "lossDock")
        if loss_dock is not None:
            window.splitDockWidget(loss_dock, self.dock, Qt.Orientation.Vertical)
        self.dock.hide()
        menu = window.menuBar().addMenu("&Help")
        menu.setObjectName("helpMenu")
        self.action = QAction("What am I looking at?", window)
        self.action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.action.setObjectName("helpAction")
        self.action.triggered.connect(self.show)
        menu.addAction(self.action)
        self.menu = menu
        if examples is not None:
            label_examples(examples)
        self._opened = False  # (a file was opened: its explanation goes on screen, scrolled to the top)
        session.document.replaced.connect(self._note_opened)
        session.stagger.follow(session.document.changed, self._changed)
        session.selection_changed.connect(self.panel.select_run)
        self.panel.show_scenario(session.scenario, session.selected_index())

    def show(self) -> None:
        self.panel.show_scenario(self.session.scenario, self.session.selected_index())
        self._reveal()

    def _reveal(self) -> None:
        self.dock.show()
        self.dock.raise_()
        self.window.resizeDocks([self.dock], [max(self.dock.height(), 360)], Qt.Orientation.Vertical)

    def _note_opened(self, _scenario: Scenario) -> None:
        self._opened = True

    def _changed(self, scenario: Scenario) -> None:
        self.panel.show_scenario(scenario, self.session.selected_index())
        if self._opened:
            self._opened = False
            self._show_opened(scenario)

    def _show_opened(self, scenario: Scenario) -> None:
        if scenario.description:
            self.panel.verticalScrollBar().setValue(0)
            self._reveal()  # a lesson opened: its explanation is on screen at once
            self.session.status.emit(f"{scenario.name} — {scenario.description.split('. ')[0]}.", 15000)

