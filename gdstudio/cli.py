"""Command line: `gdstudio [FILE]` opens the studio; `run`, `derive`, `critical` and `sweep` work headless.

User errors end with exit code 2 and one line `error: ...` on stderr, never a traceback. Output
that cannot be written (a full disk, a closed stdout, a reader that stopped reading) ends with
exit code 1. Ctrl+C ends a headless command with one line `interrupted ...` and exit code 130,
SIGTERM likewise with 143; `run --out` then leaves the file as it was.

This module parses the arguments and turns outcomes into exit codes; the commands themselves are in
commands.py.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .animate_command import animate
from .commands import MAX_LINE, UserError, critical, derive, parse_number, printable, run, say, sweep

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_TERMINATED", "MAX_LINE", "Terminated",
           "UserError", "launch", "main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT / SIGTERM, as a shell reports a killed command
COMMANDS = ("run", "derive", "critical", "sweep", "animate", "open", "-h", "--help")
HEADLESS = ("run", "derive", "critical", "sweep", "animate")


class Terminated(KeyboardInterrupt):
    """SIGTERM in a headless command, raised like Ctrl+C so the same cleanup runs (an --out file is
    never renamed into place) and the same one line is printed; exit code 143."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


@contextmanager
def _headless_signals() -> Iterator[None]:
    """SIGTERM stops a headless command as Ctrl+C does, and a file-size limit (ulimit -f) makes a write
    fail with an error instead of killing the process before it removes its temporary file. The
    studio is not started here: it has its own handling. The old handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {signal.SIGTERM: _terminate}
    if hasattr(signal, "SIGXFSZ"):
        wanted[signal.SIGXFSZ] = signal.SIG_IGN
    saved = {number: signal.signal(number, handler) for number, handler in wanted.items()}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def _argument(parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type= from a parser that raises UserError (argparse reports the message itself)."""
    def convert(text: str) -> object:
        try:
            return parse(text)
        except UserError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    return convert


def _rates(text: str) -> tuple[float, float, int]:
    parts = text.split(":")
    if len(parts) != 3:
        raise UserError(f"expected low:high:count, e.g. 1e-4:1:20, got {text!r}")
    return parse_number(parts[0], "low"), parse_number(parts[1], "high"), int(parse_number(parts[2], "count", whole=True))


QT_OPTIONS = ("-style", "-stylesheet", "-platform", "-qwindowgeometry", "-qwindowtitle", "-reverse")  # ("-reverse" alone)


def _qt_options(args: list[str]) -> tuple[list[str], list[str]]:
    """Split Qt's own command-line options (gdstudio -style Fusion) from gdstudio's."""
    ours, qt, i = [], [], 0
    while i < len(args):
        if args[i] in QT_OPTIONS:
            takes = 0 if args[i] == "-reverse" else 1
            qt += args[i : i + 1 + takes]
            i += 1 + takes
        else:
            ours.append(args[i])
            i += 1
    return ours, qt


def launch(path: str | None, qt_options: Sequence[str] = ()) -> int:
    platform = "-platform" in qt_options
    if sys.platform.startswith("linux") and not platform and not any(
            os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise UserError("the studio needs a desktop session (no DISPLAY or WAYLAND_DISPLAY is set); "
                        "headless, use `gdstudio run FILE`")  # (else Qt aborts the process)
    try:
        from .app.main import launch as launch_gui
    except ImportError as error:
        raise UserError(f"the desktop studio cannot start: {error}") from None
    return launch_gui(path, list(qt_options))


def _max_steps(text: str) -> int:
    """A step limit from 0 to 10⁹, by the one number rule: 1000, 1e6 and 2.0 are whole numbers; ٣ and 1_000 are not."""
    value = int(parse_number(text, whole=True))
    if not 0 <= value <= 1_000_000_000:
        raise UserError(f"must be from 0 to 1,000,000,000, got {value}")
    return value


def _bounded(low: float, high: float, whole: bool = False) -> Callable[[str], float]:
    """A number from low to high, by the one number rule."""
    def parse(text: str) -> float:
        value = parse_number(text, whole=whole)
        if not low <= value <= high:
            raise UserError(f"must be from {low:g} to {high:g}, got {value:g}")
        return int(value) if whole else value
    return parse


def _size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT, each from 64 to 4096 pixels."""
    parts = text.lower().split("x")
    if len(parts) != 2:
        raise UserError(f"expected WIDTHxHEIGHT, e.g. 960x640, got {printable(text)[:40]!r}")
    return tuple(_bounded(64, 4096, whole=True)(part) for part in parts)


def _run_index(text: str) -> int:
    value = int(parse_number(text, whole=True))
    if value < 0:
        raise UserError(f"runs are numbered from 0, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage mistakes as one `error:` line like every other user error."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.split(" ", 1)[-1] if " " in self.prog else ""
        raise UserError(f"{message} (see gdstudio {command} --help)".replace("  ", " "))


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gdstudio", description="A desktop lab for gradient descent.")
    commands = parser.add_subparsers(dest="command")
    run_cmd = commands.add_parser("run", help="run a scenario headless and report how each run ended")
    run_cmd.add_argument("file", help="scenario file (JSON)")
    run_cmd.add_argument("--out", help="write every step of every run to this CSV file")
    run_cmd.add_argument("--json", action="store_true", help="print the summary as JSON")
    run_cmd.add_argument("--max-steps", type=_argument(_max_steps), help="override the scenario's step limit")
    derive_cmd = commands.add_parser("derive", help="print a loss's exact gradient and Hessian as JSON")
    derive_cmd.add_argument("expression", help="the loss, e.g. '(1-x)^2 + 100*(y-x^2)^2'")
    derive_cmd.add_argument("--at", help="also evaluate at a point, e.g. x=1,y=2")
    critical_cmd = commands.add_parser("critical", help="find and classify the stationary points of a loss (JSON)")
    critical_cmd.add_argument("expression")
    critical_cmd.add_argument("--view", help="where to look, e.g. x=-5:5,y=-5:5 (default -3:3 for each variable)")
    sweep_cmd = commands.add_parser("sweep", help="run one run of a scenario over a range of learning rates")
    sweep_cmd.add_argument("file")
    sweep_cmd.add_argument("--run", type=_argument(_run_index), default=0, help="which run (from 0; default 0)")
    sweep_cmd.add_argument("--lr", type=_argument(_rates), default=(1e-4, 1.0, 13),
                           help="low:high:count, log-spaced (default 1e-4:1:13)")
    sweep_cmd.add_argument("--max-steps", type=_argument(_max_steps), help="override the scenario's step limit")
    animate_cmd = commands.add_parser("animate", help="a GIF or MP4 of the runs descending the landscape")
    animate_cmd.add_argument("file")
    animate_cmd.add_argument("--out", required=True, help="the file to write: race.gif, or race.mp4 (needs imageio-ffmpeg)")
    animate_cmd.add_argument("--fps", type=_argument(_bounded(1, 60, whole=True)), default=30, help="frames per second (1-60)")
    animate_cmd.add_argument("--seconds", type=_argument(_bounded(0.5, 120)), default=8.0, help="length (0.5-120 s)")
    animate_cmd.add_argument("--size", type=_argument(_size), default=(960, 640), help="WIDTHxHEIGHT in pixels (default 960x640)")
    animate_cmd.add_argument("--view", choices=("2d", "3d"), default="2d",
                             help="the landscape drawn: 2d contours (default; no display needed) or the 3d surface (needs OpenGL)")
    open_cmd = commands.add_parser("open", help="open a scenario in the studio (same as `gdstudio FILE`)")
    open_cmd.add_argument("file", nargs="?")
    return parser


def _print(text: str) -> None:
    """Print what the console's encoding can show (a Windows console or a redirected cp1252 stdout has no ∇),
    instead of failing with UnicodeEncodeError after the work is done; and no control codes, which a
    stranger's run labels could use to retitle or clear the terminal or forge lines."""
    text = "\n".join(printable(line) for line in text.split("\n"))
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, errors="replace").decode(encoding, errors="replace"))
    sys.stdout.flush()  # a full disk or a closed pipe fails here, inside main's handlers, not at exit


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_options = _qt_options(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] not in COMMANDS:
        args = ["open", *args]  # `gdstudio FILE`
    options = None
    try:
        options = _parse(args)
        if options.command not in HEADLESS:
            return launch(getattr(options, "file", None), qt_options)
        if sys.stdout is None:  # started with stdout closed (`gdstudio run f.json >&-`): no work to throw away
            say("error: cannot write the output: stdout is closed")
            return EXIT_FAILED
        with _headless_signals():
            _print(_headless(options))
    except UserError as error:
        say(f"error: {error}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as stop:  # Ctrl+C, or SIGTERM (see _headless_signals)
        if options is None or options.command not in HEADLESS:
            raise  # the studio handles its own
        say(f"interrupted{getattr(stop, 'where', '')}")
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:  # `gdstudio run f.json | head -c1`: the reader stopped reading; the output is not all there
        _quiet_stdout()
        return EXIT_FAILED
    except OSError as error:  # a full disk
        say(f"error: cannot write the output: {error.strerror or error}")
        return EXIT_FAILED
    return EXIT_OK


def _parse(args: list[str]) -> argparse.Namespace:
    if (args[:1] == ["open"] and len(args) == 2 and not args[1].startswith("-") and not Path(args[1]).exists()
            and not args[1].endswith(".json")):
        raise UserError(f"{printable(args[1])!r} is neither a command ({', '.join(COMMANDS[:6])}) nor a scenario file")
    try:
        return _parser().parse_args(args)
    except UserError as error:
        if "expression" in str(error) and any(a.startswith("-") and a != "--" for a in args[1:]):  # "-x^2": an option?
            raise UserError(f'{error}; a loss that starts with "-" goes after --: gdstudio {args[0]} -- "-x^2"') from None
        raise


def _headless(options: argparse.Namespace) -> str:
    """The text a headless command prints."""
    if options.command == "run":
        return run(options.file, options.out, options.json, options.max_steps)
    if options.command == "derive":
        return json.dumps(derive(options.expression, options.at), indent=2)
    if options.command == "critical":
        return json.dumps(critical(options.expression, options.view), indent=2)
    if options.command == "animate":
        return animate(options.file, options.out, options.fps, options.seconds, options.size, options.view)
    return sweep(options.file, options.run, *options.lr, max_steps=options.max_steps)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail once more with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # (an in-process test's stdout has no file descriptor)
        pass


if __name__ == "__main__":
    sys.exit(main())

