"""gdstudio animate --view 3d: the 3-D landscape's frames where there is OpenGL, one error line where there is none.

The suite runs on Qt's offscreen platform, which has no OpenGL (as CI): there the refusal is tested for real and
the drawing test is skipped. With a display (Xvfb and Mesa: `QT_QPA_PLATFORM=xcb DISPLAY=:11`) it is the other
way round.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import ImageChops

from gdstudio.app.plots.gl_support import gl_reason
from gdstudio.cli import main
from gdstudio.core import scenario as sc
from gdstudio.core.runner import run_scenario

from .test_animate import LESSON, frames


def test_without_opengl_the_3d_view_is_one_error_line_before_any_work(qapp, tmp_path, capsys, monkeypatch):
    reason = gl_reason()
    if reason is None:
        pytest.skip("OpenGL is here: the refusal is tested where it is not (Qt's offscreen platform, as in CI)")
    import gdstudio.animate_command as command
    import gdstudio.app.animate as animate

    monkeypatch.setattr(command, "_load", lambda *args: pytest.fail("the scenario was loaded"))
    monkeypatch.setattr(animate, "render", lambda *args, **kwargs: pytest.fail("frames were drawn"))
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    assert main(["animate", str(path), "--out", str(tmp_path / "race.gif"), "--view", "3d"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --view 3d: the 3-D landscape needs OpenGL (") and err.count("\n") == 1
    assert reason in err and "--view 2d" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.json"]


def test_the_3d_view_animates_the_surface_paths_and_balls(qapp, tmp_path, capsys):
    reason = gl_reason()
    if reason is not None:
        pytest.skip(f"no OpenGL here ({reason}); run with a display, e.g. QT_QPA_PLATFORM=xcb DISPLAY=:11 under Xvfb")
    from gdstudio.app.animate import frame_steps, render

    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    out = tmp_path / "race.gif"
    assert main(["animate", str(path), "--out", str(out), "--fps", "5", "--seconds", "2", "--size", "480x320", "--view", "3d"]) == 0
    said = capsys.readouterr()
    assert said.err == "" and said.out.startswith(f"wrote {out}: ") and said.out.rstrip().endswith("3-D view")
    shown = frames(out)
    last = max(len(run.trajectory) for run in run_scenario(LESSON)) - 1
    assert len(shown) == len(frame_steps(last, 10)) and all(frame.size == (480, 320) for frame in shown)
    assert ImageChops.difference(shown[0], shown[-1]).getbbox() is not None  # the paths grow, the camera turns
    surface = np.asarray(shown[-1])[:, :300]  # (the 3-D view: the left of a wide frame; the loss curve beside it)
    assert len(np.unique(surface.reshape(-1, 3), axis=0)) > 50  # a shaded surface, not an empty or black canvas
    final = tmp_path / "final.gif"
    assert render(LESSON, final, fps=1, seconds=1, size=(480, 320), view="3d") == 2  # the start, and the final state
    difference = np.abs(np.asarray(frames(final)[-1], float) - np.asarray(shown[-1], float))
    assert difference.mean() < 1.0  # (the same picture; a GIF's palette may round a few pixels otherwise)
