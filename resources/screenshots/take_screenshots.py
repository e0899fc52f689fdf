"""Retake the README's screenshots from the real studio.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python resources/screenshots/take_screenshots.py

Each example is opened, run to the end as fast as possible, and the window grabbed to
resources/screenshots/<example>.png. Settings go to a throwaway organisation, not the user's.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE.parents[1] / "scenarios"
EXAMPLES = ("02_learning_rate", "03_batch_sgd_minibatch", "05_momentum")


def main() -> int:
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("gdstudio-screenshots")
    from gdstudio.app.main_window import MainWindow

    window = MainWindow()
    window.ask_unsaved = lambda: "discard"
    window.resize(1500, 900)
    window.show()
    queue = list(EXAMPLES)

    def next_example() -> None:
        if not queue:
            window.shutdown()
            window.close()
            app.quit()
            return
        window.files.open_path(str(SCENARIOS / f"{queue[0]}.json"), ask=False)
        window.menus.set_speed(math.inf)
        QTimer.singleShot(200, run_when_drawn)

    def run_when_drawn() -> None:  # (the file is read, its loss derived and its landscape drawn in threads)
        session = window.session
        if window.files.opening or session.objective is None or session.objective.text != session.scenario.loss \
                or window.landscape.computing:
            QTimer.singleShot(100, run_when_drawn)
            return
        session.run()
        QTimer.singleShot(500, wait_for_end)

    def wait_for_end() -> None:
        if window.session.state != "finished" or window.landscape.computing:
            QTimer.singleShot(200, wait_for_end)
            return
        QTimer.singleShot(800, grab)  # the last frames and the diagnosis

    def grab() -> None:
        name = queue.pop(0)
        window.grab().save(str(HERE / f"{name}.png"))
        print(f"wrote {HERE / f'{name}.png'}")
        next_example()

    QTimer.singleShot(500, next_example)
    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main())
