"""Every Objective the studio builds, kept by what determines it, so a loss is derived once.

Opening a file checks its loss in a background thread; the editor, asked to show that loss a moment
later, finds it here instead of deriving it again, and so does a Run. Keys are the loss text, the
variables, the data columns and the identity of the rows (a scaled copy of the data is other rows).
Failures are kept too: a bad loss is refused again at once. Once the helper process is up, the studio's losses are
derived there (`_in_helper`), and the studio only rebuilds them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import ExpressionError

if TYPE_CHECKING:
    from ..core.expression import Objective, Portable

KEPT = 32


class Objectives:
    """A small thread-safe cache in front of `parse_objective` (call `get` from worker threads only:
    a miss derives, which can take seconds). `before`: what a miss calls first (the studio's: load the engine);
    `elsewhere`: where a miss is derived when it can be (the studio's: its helper process), None to derive it here."""

    def __init__(self, before: Callable[[], None] | None = None,
                 elsewhere: Callable[[str, tuple[str, ...] | None, tuple[str, ...]], Portable | None] | None = None) -> None:
        self._before = before
        self._elsewhere = elsewhere
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, tuple[np.ndarray | None, Objective | ExpressionError]] = OrderedDict()
        self._deriving: dict[tuple, threading.Event] = {}  # a second thread asking waits for the first one's result

    @staticmethod
    def _key(text: str, variables: tuple[str, ...] | None, columns: tuple[str, ...], data: np.ndarray | None) -> tuple:
        return text.strip(), variables, tuple(columns), id(data) if data is not None else None

    def peek(self, text: str, variables: tuple[str, ...] | None = None, columns: tuple[str, ...] = (),
             data: np.ndarray | None = None) -> Objective | ExpressionError | None:
        """What is known of this loss without deriving it (safe on the GUI thread)."""
        key = self._key(text, variables, columns, data)
        with self._lock:
            found = self._kept.get(key)
            if found is None or found[0] is not data:  # (an id reused by other rows)
                return None
            self._kept.move_to_end(key)
            return found[1]

    def get(self, text: str, variables: tuple[str, ...] | None = None, columns: tuple[str, ...] = (),
            data: np.ndarray | None = None) -> Objective:
        """The objective, derived now if it is not known (or waited for, if another thread is deriving it);
        raises its ExpressionError."""
        key = self._key(text, variables, columns, data)
        while (known := self.peek(text, variables, columns, data)) is None:
            with self._lock:
                other = self._deriving.get(key)
                if other is None:
                    self._deriving[key] = threading.Event()
            if other is not None:
                other.wait()
                continue
            try:
                known = self._derive(key, text, variables, columns, data)
            finally:
                with self._lock:
                    self._deriving.pop(key).set()
            break
        if isinstance(known, ExpressionError):
            raise ExpressionError(known.message, known.column)  # (a fresh one: a raised error keeps its traceback)
        return known

    def _derive(self, key: tuple, text: str, variables: tuple[str, ...] | None, columns: tuple[str, ...],
                data: np.ndarray | None) -> Objective | ExpressionError:
        if self._before is not None:
            self._before()
        from ..core.expression import parse_objective

        try:
            made = self._elsewhere(text, variables, columns) if self._elsewhere is not None else None
            known = made.objective(data) if made is not None else parse_objective(text, variables, columns, data)
        except ExpressionError as error:
            known = error
        with self._lock:
            self._kept[key] = (data, known)
            while len(self._kept) > KEPT:
                self._kept.popitem(last=False)
        return known


def _load_engine() -> None:
    from . import engine  # (here, not at the top: the helper process keeps a cache of its own and no Qt)

    engine.load()


def _in_helper(text: str, variables: tuple[str, ...] | None, columns: tuple[str, ...]) -> Portable | None:
    """The loss as the helper process derives it (its refusal raised), once the helper is up; None before that, or
    should it fail: then it is derived here. SymPy's derivation, code generation and printing, 5-60 ms of Python a
    lesson, held the interpreter lock the window's turns waited for; the studio only unpickles (0.1-5 ms)."""
    from .helper import HELPER, HelperFailed, answer  # (here: the helper's process imports this module)

    if not HELPER.ready:  # (a first start: the helper imports what the engine does, no sooner)
        return None
    try:
        return answer(HELPER.call("derive", text, variables, columns))
    except HelperFailed:
        return None


OBJECTIVES = Objectives(_load_engine, _in_helper)  # one per studio process: the editor, file opening and runs share it


def data_model(text: str) -> Objective | None:
    """A data set's model (`data.model`, drawn by the data view), its NumPy loss compiled; None when it does not
    parse. Opening a file makes it in the file's thread, so the data view finds it here."""
    try:
        return OBJECTIVES.get(text).compile(("loss",))
    except Exception:  # (whatever it is: the data view shows the points alone, and the file still opens)
        return None
