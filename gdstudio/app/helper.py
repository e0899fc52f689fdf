"""Work that holds the interpreter for long stretches runs in a helper process: deriving a loss (SymPy's derivatives,
the NumPy code generated from them and their text form: 5-60 ms of Python), Numba compiling its run kernel (0.1-2 s),
typesetting its formulas (SymPy's LaTeX, then matplotlib's mathtext: up to a second) and finding its critical points
(SymPy's solving, or a Newton search: tens of milliseconds to seconds).

In threads of the studio's process they shared the interpreter lock with the GUI thread, which then waited for it in
about half of its slow turns (benchmarks/README.md, issue 15). The helper has an interpreter of its own, on the other
core, at a lower priority. What goes over is plain data: a loss as its text, variables and data columns (the helper
derives it again, to the same expressions), the rows a search reads (sent once, then named), lines of LaTeX,
pictures as PNG bytes, critical points, a kernel's source, compiled there into Numba's disk cache, from which the
studio then loads it in milliseconds (core/codegen.py), and a derived loss as a `Portable` (its expressions pickled,
which SymPy rebuilds in a millisecond, and the sources of its NumPy functions). Each kind of work has a lane of its
own, in order. Should the helper not start, or die, the caller gets `HelperFailed` and does the work in its own
thread, as before.

The helper runs `serve_here` (started by `Helper` only): requests on stdin, answers on stdout, both pickled.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pickle
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from ..core.errors import ExpressionError, HessianUnavailable
from .objectives import Objectives

if TYPE_CHECKING:
    import numpy as np

    from ..core.expression import Objective, Portable

NICE = 10  # as the helper threads (background.py): the GUI process goes first when both want a core
KEEP_BYTES = 1 << 20  # an array argument this large goes to a helper once (`_Kept`), not with every question
KEPT = 2  # arrays a helper keeps, the latest sent (a loss's rows: 16 MB for a million rows of two columns)


class HelperFailed(RuntimeError):
    """The helper could not answer (it did not start, died or failed): do the work here instead."""


class HelperClosed(HelperFailed):
    """The studio is closing: nobody wants the answer any more."""


def loss_of(objective: Objective) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """What determines a loss's expressions (its data values do not): all the helper needs to derive it again."""
    return objective.text, objective.variables, objective.columns


class Helper:
    """The studio's one helper process, started on first use (or by `start`), again after it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None
        self._pending: dict[int, tuple[subprocess.Popen, Future]] = {}  # by request: the process asked, the answer
        self._ids = itertools.count()
        self._kept: list[tuple[Any, int]] = []  # (array, number): those the live helper keeps, oldest first
        self._kept_by: subprocess.Popen | None = None
        self._ready = threading.Event()  # (set by the live helper once it has imported SymPy and Numba)

    @property
    def ready(self) -> bool:
        """Whether the helper is up, its imports done: work asked of it now is begun at once."""
        with self._lock:
            return self._process is not None and self._process.poll() is None and self._ready.is_set()

    def start(self) -> None:
        """Start the helper now, so that it has imported SymPy and Numba by the time it is first asked."""
        with self._lock:
            self._running()

    def call(self, name: str, *args: Any) -> Future:
        """Ask the helper to run one of its `_WORK`; a future of the answer (HelperFailed when there is none). Wait
        for it in a worker thread, never on the GUI thread."""
        future: Future = Future()
        with self._lock:
            ident = next(self._ids)
            try:
                process = self._running()
                self._pending[ident] = (process, future)
                pickle.dump((ident, name, self._by_reference(process, args)), process.stdin)
                process.stdin.flush()
            except (OSError, ValueError) as error:  # (could not start, or its pipe is closed: it died)
                self._pending.pop(ident, None)
                _settle(future, exception=HelperFailed(f"the helper process is not available ({error})"))
        return future

    def _by_reference(self, process: subprocess.Popen, args: tuple) -> tuple:
        """(under the lock) Large arrays as `_Kept`, each sent on its own before the first question that reads it:
        a million rows went over again at each search for critical points (again each time the view moved). The
        helper keeps the KEPT latest, as this mirror of them does; arrays are never changed in place here
        (expression.py keys its own caches by their identity too)."""
        if self._kept_by is not process:  # (a new helper keeps nothing yet)
            self._kept_by, self._kept = process, []
        sent = []
        for arg in args:
            if getattr(arg, "nbytes", 0) < KEEP_BYTES:
                sent.append(arg)
                continue
            number = next((n for kept, n in self._kept if kept is arg), None)
            if number is None:
                number = next(self._ids)
                pickle.dump((number, _KEEP, (arg,)), process.stdin)
                self._kept = [*self._kept, (arg, number)][-KEPT:]
            sent.append(_Kept(number))
        return tuple(sent)

    def abandon(self, future: Future) -> None:
        """Whoever waits for this answer stops waiting (HelperClosed), and the helper drops the work unless it has
        begun it (a compile cannot be stopped midway): a studio closed, or a test, leaves no work queued behind it."""
        _settle(future, exception=HelperClosed("the answer is no longer wanted"))
        with self._lock:
            ident = next((i for i, (_, f) in self._pending.items() if f is future), None)
            if ident is None:
                return
            process, _ = self._pending.pop(ident)
            try:
                pickle.dump((ident, _DROP, ()), process.stdin)
                process.stdin.flush()
            except (OSError, ValueError):  # (it died: nothing left to drop)
                pass

    def close(self) -> None:
        """Stop the helper now (whatever it is doing), fail what waits (HelperClosed), and reap it (idempotent)."""
        with self._lock:
            process, reader, self._process, self._reader = self._process, self._reader, None, None
            pending, self._pending = list(self._pending.values()), {}
            self._kept, self._kept_by = [], None
        for _, future in pending:
            _settle(future, exception=HelperClosed("the helper process was stopped"))
        if process is not None:
            process.kill()
            _end(process)
        if reader is not None:
            reader.join()

    def _running(self) -> subprocess.Popen:
        """(under the lock) The live helper process, started if need be."""
        if self._process is not None and self._process.poll() is None:
            return self._process
        package = str(Path(__file__).resolve().parents[2])  # (the same gdstudio as this process's, installed or not)
        path = os.pathsep.join(filter(None, [package, os.environ.get("PYTHONPATH")]))
        self._ready = threading.Event()
        self._process = subprocess.Popen([sys.executable, "-c", "from gdstudio.app.helper import serve_here; serve_here()"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path})
        self._reader = threading.Thread(target=self._read, args=(self._process, self._ready), name="gdstudio-helper-reader",
                                        daemon=True)
        self._reader.start()
        return self._process

    def _read(self, process: subprocess.Popen, ready: threading.Event) -> None:
        """(reader thread) Hand each answer to its future; when the helper ends, fail what still waits."""
        try:
            while True:
                ident, ok, value = pickle.load(process.stdout)
                if ident == _READY:
                    ready.set()
                    continue
                with self._lock:
                    _, future = self._pending.pop(ident, (None, None))
                if future is not None:
                    _settle(future, result=value) if ok else _settle(future, exception=HelperFailed(value))
        except Exception:  # (it ended, or sent what cannot be read: the stream is lost either way)
            pass
        self._fail_pending(process, HelperFailed("the helper process ended"))
        process.kill()
        _end(process)

    def _fail_pending(self, process: subprocess.Popen, error: HelperFailed) -> None:
        """Fail what was asked of this process, and only that: a call may have started another one meanwhile."""
        with self._lock:
            if self._process is process:
                self._process = None
            lost = [self._pending.pop(i)[1] for i, (asked, _) in list(self._pending.items()) if asked is process]
        for future in lost:
            _settle(future, exception=error)


class Asking:
    """Questions to the helper that their owner stops waiting for all at once (`stop`: a studio closing, a drawing
    stopped): each answer still awaited is abandoned, and nothing more is asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # (a stop and a question do not cross)
        self._awaited: set[Future] = set()
        self.stopped = False

    def ask(self, name: str, *args: Any) -> Any:
        """The helper's `answer`; HelperClosed once stopped (HelperFailed when there is none)."""
        with self._lock:
            if self.stopped:
                raise HelperClosed("no longer asked")
            future = HELPER.call(name, *args)
            self._awaited.add(future)
        try:
            return answer(future)
        finally:
            with self._lock:
                self._awaited.discard(future)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            awaited = list(self._awaited)
        for future in awaited:
            HELPER.abandon(future)


class _Refusal(NamedTuple):
    """An ExpressionError (HessianUnavailable too) made in the helper, as data."""

    kind: str
    message: str
    column: int | None


def answer(future: Future, timeout: float | None = None) -> Any:
    """The helper's answer; its refusal (an ExpressionError, or HessianUnavailable) raised here as there."""
    found = future.result(timeout)
    if isinstance(found, _Refusal):
        kind = HessianUnavailable if found.kind == HessianUnavailable.__name__ else ExpressionError
        raise kind(found.message, found.column)
    return found


def _end(process: subprocess.Popen) -> None:
    """Close a helper's pipes and reap it (it was killed, or its answers ended)."""
    for pipe in (process.stdin, process.stdout):
        try:
            pipe.close()
        except (OSError, ValueError):  # (a write to it failed, or the other thread closed it: closed all the same)
            pass
    process.wait()


def _settle(future: Future, result: Any = None, exception: BaseException | None = None) -> None:
    """Set a future's outcome unless it has one already (abandoned, or failed meanwhile)."""
    try:
        future.set_exception(exception) if exception is not None else future.set_result(result)
    except Exception:  # (InvalidStateError: settled before)
        pass


HELPER = Helper()  # one per studio process: every window and thread shares it
atexit.register(HELPER.close)


# -- the helper's side ----------------------------------------------------------------------------------------------

_OBJECTIVES = Objectives()  # (the studio's cache, one in this process too: two lanes asking for a loss derive it once)


def _objective(text: str, variables: tuple[str, ...], columns: tuple[str, ...]) -> Objective:
    return _OBJECTIVES.get(text, variables, columns)  # (SymPy is in: serve_here imported it)


def _derive(text: str, variables: tuple[str, ...] | None, columns: tuple[str, ...]) -> Portable:
    """The loss derived, its NumPy functions generated (for the loss, the gradient and the Hessian, over rows and as
    moment sums) and its text form printed: what the studio's objectives are made from (app/objectives.py)."""
    from .typeset import text_form

    objective = _objective(text, variables, columns).compile()
    text_form(objective)
    return objective.portable()


def _kernel(text: str, variables: tuple[str, ...], columns: tuple[str, ...], hessian: bool) -> str:
    """The run kernel's source, compiled into Numba's cache."""
    from ..core.codegen import compile_source, kernel_source

    source = kernel_source(_objective(text, variables, columns), hessian)
    compile_source(source)
    return source


def _critical(text: str, variables: tuple[str, ...], columns: tuple[str, ...], data: np.ndarray | None,
              view: dict[str, tuple[float, float]]) -> list:
    """The loss's critical points in the view (core/analysis.py), over these rows when it has data."""
    from ..core.analysis import critical_points

    objective = _objective(text, variables, columns)
    return critical_points(objective.bind(data) if data is not None else objective, view)


def _lines(text: str, variables: tuple[str, ...], columns: tuple[str, ...], hessian: bool) -> list[str]:
    from .typeset import lines

    return lines(_objective(text, variables, columns), hessian)


def _draw(latex: str, color: str, scale: float) -> bytes | None:
    from .typeset import draw_latex

    return draw_latex(latex, color, scale)


_WORK = {"derive": _derive, "kernel": _kernel, "critical": _critical, "lines": _lines, "draw": _draw}
# each lane a thread of its own, in order: critical points are found, and a formula typeset, while a kernel that
# takes seconds compiles
_LANES = {"derive": "derive", "kernel": "compile", "critical": "critical", "lines": "typeset", "draw": "typeset"}
# critical points in two threads, as the studio's tool threads did: a search of the loss before, abandoned once begun,
# runs on to its end (seconds, for some), and the new loss's must not wait behind it
_THREADS = {"critical": 2}
_DROP = "drop"  # (a request no longer wanted: `Helper.abandon`)
_KEEP = "keep"  # (an array that later requests name by its number: `Helper._by_reference`)
_READY = -1  # (the answer to no request that a helper sends once its imports are done: `Helper.ready`)


class _Kept(NamedTuple):
    """(an argument) The array the helper was sent under this number."""

    number: int


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer requests until stdin closes: (id, name, args) -> (id, ok, value or the error's text)."""
    sending = threading.Lock()

    def reply(ident: int, name: str, args: tuple) -> None:
        try:
            found = (ident, True, _WORK[name](*args))
        except ExpressionError as error:  # (a refusal: the answer, raised again on the other side by `result`)
            found = (ident, True, _Refusal(type(error).__name__, error.message, error.column))
        except Exception as error:  # (a bug, or an odd loss: said to the caller, who does it itself)
            found = (ident, False, f"{type(error).__name__}: {error}")
        with sending:
            pickle.dump(found, answers)
            answers.flush()

    dropped: set[int] = set()
    kept: dict[int, Any] = {}

    def lane(requests: queue.SimpleQueue) -> None:
        while (request := requests.get()) is not None:
            if request[0] not in dropped:
                reply(*request)

    lanes = {name: queue.SimpleQueue() for name in set(_LANES.values())}
    threads = [threading.Thread(target=lane, args=(q,), daemon=True)
               for name, q in lanes.items() for _ in range(_THREADS.get(name, 1))]
    for thread in threads:
        thread.start()
    while True:
        try:
            ident, name, args = pickle.load(requests)
        except EOFError:
            break
        if name == _DROP:
            dropped.add(ident)
            continue
        if name == _KEEP:
            kept[ident] = args[0]
            for number in list(kept)[:-KEPT]:
                del kept[number]
            continue
        try:  # (named now: the lane may take it up after newer arrays have replaced these)
            args = tuple(kept[arg.number] if isinstance(arg, _Kept) else arg for arg in args)
        except KeyError:
            reply(ident, f"{name} of an array no longer kept", args)  # (cannot happen: a failure, said, if it does)
            continue
        if name in _LANES:
            lanes[_LANES[name]].put((ident, name, args))
        else:
            reply(ident, name, args)  # (a KeyError, said at once)
    for name, requests_of_lane in lanes.items():
        for _ in range(_THREADS.get(name, 1)):
            requests_of_lane.put(None)
    for thread in threads:
        thread.join()


def serve_here() -> None:
    """The helper process's whole life (started by `Helper`): what it answers is pickled under this module's name,
    which the studio reads back (run as __main__, a refusal would be __main__._Refusal, unknown there)."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # (whatever a library prints goes to stderr, never into the answers)
    try:
        os.nice(NICE)
    except OSError:
        pass
    from ..core import analysis, codegen  # noqa: F401 (SymPy and Numba, before the first request)
    import sympy.physics.units  # noqa: F401 (for a first loss's text form, as the engine imports it: engine.py)

    pickle.dump((_READY, True, None), answers)
    answers.flush()
    codegen.prune_kept_kernels()  # (here, off the studio's threads, once a session)
    serve(sys.stdin.buffer, answers)

