"""Files that never end up half-written: bounded reads and atomic writes.

Scenario saves, the autosave and `run --out` all write through `atomic_writer`, so a full
disk, a size limit, an exception or a signal part-way leaves the old file exactly as it was.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TextIO


def read_limited(path: Path, limit: int, fail: Callable[[str], Exception]) -> str:
    """A regular file's UTF-8 text, reading at most limit + 1 bytes: a device, a FIFO or a file
    that grows can neither hang nor exhaust memory. Failures raise fail(message); the message
    never quotes the file's contents (a path like /proc/self/environ must not leak them)."""
    try:
        if path.is_dir():
            problem = "Is a directory"
        elif path.exists() and not path.is_file():
            problem = "not a regular file (a device or a pipe)"
        else:
            problem = None
            with path.open("rb") as stream:
                data = stream.read(limit + 1)
                size = max(len(data), path.stat().st_size)
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        problem = getattr(error, "strerror", None) or str(error)
    if problem:
        raise fail(f"cannot read the file: {problem}")
    if len(data) > limit:
        raise fail(f"the file is too large ({size:,} bytes, limit {limit:,})")
    try:
        return data.decode("utf-8-sig")  # (a byte-order mark, as some editors write, is dropped)
    except UnicodeDecodeError:
        raise fail("the file is not UTF-8 text") from None


@contextmanager
def atomic_writer(path: str | os.PathLike, binary: bool = False) -> Iterator[TextIO]:
    """A text (or binary) stream whose contents replace `path` only when the block ends without an error:
    written to a temporary file beside it, flushed to disk, given the old file's permissions
    (or the umask's for a new file), then renamed over it. On any failure, including
    KeyboardInterrupt, the temporary file is removed and `path` is untouched."""
    path = Path(path)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)  # keep the permissions of the file being replaced
    except OSError:
        mode = new_file_mode()
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temp, mode)  # mkstemp makes it owner-only
        with (os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8", newline="")) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_writer(path) as stream:
        stream.write(text)


def default_scenario_text() -> str:
    """The built-in scenario the studio opens on (Rosenbrock, Adam vs SGD with momentum)."""
    return files("gdstudio.resources").joinpath("default_scenario.json").read_text(encoding="utf-8")


def new_file_mode() -> int:
    """0o666 less the umask, as open() would create the file; the umask is read without setting it, so that
    other threads never see a changed one."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644
