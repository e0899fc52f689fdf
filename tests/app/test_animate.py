"""gdstudio animate: a GIF or MP4 of the runs descending the landscape, drawn offscreen by the studio's own views
(the 3-D view: test_animate_3d.py)."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import numpy as np
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
])
def test_bad_arguments_get_one_error_line(qapp, tmp_path, capsys, args, fragment):
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    assert main(["animate", str(path), "--out", str(tmp_path / "a.gif"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err
    assert not (tmp_path / "a.gif").exists()


def test_the_output_must_be_a_gif_or_an_mp4_and_not_the_scenario(qapp, tmp_path, capsys):
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


def video_frames(path) -> tuple[tuple[int, int], list[np.ndarray]]:
    """An MP4's size and its frames as RGB arrays, decoded by imageio-ffmpeg's ffmpeg (run here: its read_frames
    leaves the pipes of an ffmpeg that ended first unclosed, a ResourceWarning)."""
    import imageio_ffmpeg

    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "info", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, timeout=120, check=True)
    width, height = map(int, re.search(rb"Video: h264\b.*?, (\d+)x(\d+)", done.stderr).groups())
    data = np.frombuffer(done.stdout, np.uint8).reshape(-1, height, width, 3)
    return (width, height), list(data)


def close(a: np.ndarray, b: np.ndarray, tolerance: float = 2.0) -> bool:
    """The same picture, give or take H.264's losses (mean absolute difference per channel, out of 255)."""
    return float(np.abs(a.astype(float) - b.astype(float)).mean()) < tolerance


def test_animate_writes_an_mp4_whose_last_frame_is_the_final_state(qapp, tmp_path, capsys):
    pytest.importorskip("imageio_ffmpeg", reason="MP4 needs imageio-ffmpeg (in the test extra)")
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    out = tmp_path / "race.mp4"
    assert main(["animate", str(path), "--out", str(out), "--fps", "5", "--seconds", "2", "--size", "321x241"]) == 0
    said = capsys.readouterr()
    assert said.err == "" and said.out.startswith(f"wrote {out}: ") and "320×240" in said.out  # (H.264 in yuv420p: even sides)
    assert out.read_bytes()[4:8] == b"ftyp" and out.read_bytes().find(b"moov") < out.read_bytes().find(b"mdat")  # +faststart
    size, shown = video_frames(out)
    last = max(len(run.trajectory) for run in run_scenario(LESSON)) - 1
    assert size == (320, 240) and len(shown) == len(frame_steps(last, 10))
    assert not close(shown[0], shown[-1], 0.5)  # the paths grow
    final = tmp_path / "final.mp4"
    with open(final, "wb") as stream:
        assert render(LESSON, stream, fps=1, seconds=1, size=(320, 240), suffix=".mp4") == 2
    assert close(video_frames(final)[1][-1], shown[-1])
    gif = io.BytesIO()  # and the GIF's last frame, drawn by the same views
    render(LESSON, gif, fps=1, seconds=1, size=(320, 240))
    assert close(np.asarray(frames(gif)[-1]), shown[-1], 4.0)


def test_without_the_encoder_an_mp4_is_one_error_line_before_any_work(qapp, tmp_path, capsys, monkeypatch):
    import gdstudio.app.animate as animate

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # (import imageio_ffmpeg raises ImportError)
    monkeypatch.setattr(animate, "render", lambda *args, **kwargs: pytest.fail("rendered without an encoder"))
    path = tmp_path / "lesson.json"
    sc.save(LESSON, path)
    assert main(["animate", str(path), "--out", str(tmp_path / "race.mp4")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and err.count("\n") == 1 and "pip install imageio-ffmpeg" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.json"]


def test_file_export_animation_writes_an_mp4(qtbot, window, tmp_path):
    pytest.importorskip("imageio_ffmpeg", reason="MP4 needs imageio-ffmpeg (in the test extra)")
    out = tmp_path / "race.mp4"
    assert window.files.export_animation(str(out), fps=4, seconds=1, size=(200, 160))
    size, shown = video_frames(out)
    assert size == (200, 160) and len(shown) == 4
