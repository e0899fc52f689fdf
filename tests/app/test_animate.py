"""gdstudio animate: a GIF of the runs descending the landscape, drawn offscreen by the studio's own views."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from gdstudio.app.animate import frame_steps, render
from gdstudio.cli import main
from gdstudio.core import scenario as sc
from gdstudio.core.runner import run_scenario

LESSON = sc.Scenario(loss="(1 - x)^2 + 100*(y - x^2)^2",
                     runs=(sc.RunSpec("Adam", "adam", {"lr": 0.05}, {"x": -1.5, "y": 2.0}),
                           sc.RunSpec("GD", "gd", {"lr": 0.001}, {"x": -1.5, "y": 2.0})),
                     stop=sc.StopRules(max_steps=300))


def frames(path) -> list[Image.Image]:
    with Image.open(path) as image:
        found = []
        for index in range(image.n_frames):
            image.seek(index)
            found.append(image.convert("RGB"))
    return found


def test_frame_steps_are_log_spaced_and_end_at_the_last():
    steps = frame_steps(300, 10)
    assert steps[0] == 0 and steps[-1] == 300 and list(steps) == sorted(set(steps))
    assert steps[1] - steps[0] < steps[-1] - steps[-2]  # dense early, sparse late
    assert list(frame_steps(3, 100)) == [0, 1, 2, 3]


def test_animate_writes_a_gif_whose_last_frame_is_the_final_state(qapp, tmp_path, capsys):
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    out = tmp_path / "race.gif"
    assert main(["animate", str(path), "--out", str(out), "--fps", "5", "--seconds", "2", "--size", "320x240"]) == 0
    said = capsys.readouterr()
    assert said.err == "" and said.out.startswith(f"wrote {out}: ")
    shown = frames(out)
    last = max(len(run.trajectory) for run in run_scenario(LESSON)) - 1
    assert len(shown) == len(frame_steps(last, 10)) and all(frame.size == (320, 240) for frame in shown)
    assert ImageChops.difference(shown[0], shown[-1]).getbbox() is not None  # the paths grow
    final = io.BytesIO()
    assert render(LESSON, final, fps=1, seconds=1, size=(320, 240)) == 2  # the start, and the final state alone
    assert ImageChops.difference(frames(final)[-1], shown[-1]).getbbox() is None


@pytest.mark.parametrize("args, fragment", [
    (["--fps", "0"], "--fps: must be from 1 to 60"),
    (["--seconds", "1e9"], "--seconds: must be from 0.5 to 120"),
    (["--size", "10x10"], "--size: must be from 64 to 4096"),
    (["--size", "big"], "--size: expected WIDTHxHEIGHT"),
    (["--view", "4d"], "--view: invalid choice"),
    (["--view", "3d"], "the 3-D landscape is not built yet"),
])
def test_bad_arguments_get_one_error_line(qapp, tmp_path, capsys, args, fragment):
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    assert main(["animate", str(path), "--out", str(tmp_path / "a.gif"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "a.gif").exists()


def test_the_output_must_be_a_gif_and_not_the_scenario(qapp, tmp_path, capsys):
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    before = path.read_bytes()
    assert main(["animate", str(path), "--out", str(tmp_path / "a.png")]) == 2
    assert main(["animate", str(path)]) == 2  # (--out is required)
    assert "--out" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_file_export_animation_shows_progress_and_cancel_keeps_the_old_file(qtbot, window, tmp_path, monkeypatch):
    import gdstudio.app.animate as animate

    out = tmp_path / "race.gif"
    assert window.files.export_animation(str(out), fps=4, seconds=1, size=(200, 160))
    assert len(frames(out)) == 4 and frames(out)[0].size == (200, 160)
    assert window.files.animation_progress.maximum() == 4 and "exported" in window.statusBar().currentMessage()
    before = out.read_bytes()
    real = animate.render

    def cancelled_after_two_frames(*args, **kwargs):
        asked = []
        return real(*args[:6], lambda: asked.append(1) or len(asked) > 2)

    monkeypatch.setattr(animate, "render", cancelled_after_two_frames)
    assert not window.files.export_animation(str(out), fps=4, seconds=1, size=(200, 160))
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["race.gif"]
    assert window.statusBar().currentMessage() == "animation cancelled: nothing written"
