"""The studio's objectives are derived once: a Run pressed while the editor derives the same loss waits for it."""

from __future__ import annotations

import threading

import pytest

from gdstudio.app.objectives import Objectives
from gdstudio.core import expression
from gdstudio.core.errors import ExpressionError


def test_threads_asking_for_the_same_loss_at_once_derive_it_once(monkeypatch) -> None:
    calls, asked = [], threading.Semaphore(0)
    parse = expression.parse_objective

    class Counting(Objectives):
        def peek(self, *args):
            asked.release()
            return super().peek(*args)

    def slow_parse(*args):
        calls.append(args[0])
        for _ in range(4):  # every thread has missed the loss once: the others wait for this derivation
            asked.acquire(timeout=10)
        return parse(*args)

    monkeypatch.setattr(expression, "parse_objective", slow_parse)
    objectives, found = Counting(), []
    threads = [threading.Thread(target=lambda: found.append(objectives.get("x^2 + 3*y^2"))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert calls == ["x^2 + 3*y^2"]
    assert len(found) == 4 and all(objective is found[0] for objective in found)


def test_a_refused_loss_is_refused_to_every_thread_that_waited() -> None:
    objectives = Objectives()
    for _ in range(2):
        with pytest.raises(ExpressionError, match="column"):
            objectives.get("x +")
