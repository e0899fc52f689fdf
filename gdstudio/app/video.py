"""Where an animation's frames go: an animated GIF (Pillow) or an MP4 video (H.264 through imageio-ffmpeg).

GIF needs nothing beyond the studio's own dependencies; MP4 needs the optional imageio-ffmpeg (a wheel that
bundles an ffmpeg binary: `pip install "gdstudio[video]"`), imported only when an MP4 is asked for, so a
caller can ask `problem(".mp4")` before drawing a single frame. Frames are RGB arrays (height, width, 3),
all of one size; an MP4's sides must be even (yuv420p), which `even()` gives.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import numpy as np

SUFFIXES = (".gif", ".mp4")
MP4_INSTALL = 'MP4 needs the ffmpeg encoder of imageio-ffmpeg: pip install imageio-ffmpeg (or "gdstudio[video]")'
CRF = 18  # H.264 quality (lower is better; 18 keeps the plots' thin lines and text crisp)


def suffix_of(path: str | Path) -> str:
    """'.gif' or '.mp4' (lower case), or '' for a name that is neither."""
    suffix = Path(str(path)).suffix.lower()
    return suffix if suffix in SUFFIXES else ""


def problem(suffix: str) -> str | None:
    """Why frames cannot be written in this format here (None when they can): asked before any work."""
    if suffix != ".mp4":
        return None
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()  # (raises RuntimeError when the wheel's binary is missing)
    except Exception:  # ImportError, or a broken install
        return MP4_INSTALL
    return None


def available(suffix: str) -> bool:
    return problem(suffix) is None


def even(size: tuple[int, int]) -> tuple[int, int]:
    """A frame size H.264 in yuv420p can store: each side rounded down to even."""
    return (size[0] - size[0] % 2, size[1] - size[1] % 2)


class GifFrames:
    """Frames kept in memory (Pillow writes an animated GIF in one go, with one palette per frame)."""

    def __init__(self, fps: int) -> None:
        self.fps, self.images = fps, []

    def add(self, rgb: np.ndarray) -> None:
        from PIL import Image

        self.images.append(Image.fromarray(np.ascontiguousarray(rgb), "RGB"))

    def finish(self, out: BinaryIO | str | Path) -> None:
        first, *rest = self.images
        first.save(out, format="GIF", save_all=True, append_images=rest, duration=round(1000 / self.fps), loop=0, optimize=False)

    def abort(self) -> None:
        self.images = []


class Mp4Frames:
    """Frames piped as raw RGB to ffmpeg as they are drawn (no frame is kept), H.264 in yuv420p with the index
    at the front (+faststart: plays while it downloads). ffmpeg needs a seekable file for that, so it writes
    to a temporary one, copied to `out` at the end (which may then be any stream: an atomic writer, memory)."""

    def __init__(self, fps: int, size: tuple[int, int]) -> None:
        import imageio_ffmpeg

        if size != even(size):
            raise ValueError(f"an MP4's sides must be even, got {size[0]}×{size[1]}")
        self.size = size
        self.folder = tempfile.TemporaryDirectory(prefix="gdstudio-video-")
        self.path = str(Path(self.folder.name) / "animation.mp4")
        self.writer = imageio_ffmpeg.write_frames(self.path, size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                                  pix_fmt_out="yuv420p", quality=None, macro_block_size=1,
                                                  ffmpeg_log_level="error", output_params=["-crf", str(CRF), "-movflags", "+faststart"])
        self.writer.send(None)  # (starts ffmpeg)

    def add(self, rgb: np.ndarray) -> None:
        if rgb.shape != (self.size[1], self.size[0], 3):
            raise ValueError(f"a frame of {rgb.shape[1]}×{rgb.shape[0]} in a video of {self.size[0]}×{self.size[1]}")
        self.writer.send(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())

    def finish(self, out: BinaryIO | str | Path) -> None:
        self.writer.close()  # (waits for ffmpeg to write the file)
        try:
            if isinstance(out, (str, Path)):
                shutil.copyfile(self.path, out)
            else:
                with open(self.path, "rb") as video:
                    shutil.copyfileobj(video, out)
        finally:
            self.folder.cleanup()

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # (ffmpeg may complain of a video without frames: it is thrown away anyway)
            pass
        finally:
            self.folder.cleanup()


def frames_for(suffix: str, fps: int, size: tuple[int, int]) -> GifFrames | Mp4Frames:
    """Where the frames of an animation written as `suffix` go."""
    return Mp4Frames(fps, size) if suffix == ".mp4" else GifFrames(fps)
