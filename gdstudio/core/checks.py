"""What scenario files and data sets share when they check their input: one naming rule, messages
that stay short whatever the input holds, and JSON keys given once.

A name is given in many places (a scenario's variables, its view and start keys, data columns
from JSON, a CSV header or a generator, scaling keys); each place asks `check_name`, so a name
one of them accepts is never refused, or silently something else, in another.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from .vocabulary import MAX_NAME, taken_name

NAME = re.compile(rf"[A-Za-z][A-Za-z0-9_]{{0,{MAX_NAME - 1}}}", re.ASCII)
NAME_RULE = f"a name is a letter, then up to {MAX_NAME - 1} letters, digits or _"


def check_name(name: object) -> str | None:
    """What is wrong with a name for a variable or a data column, or None. The message never
    quotes a malformed name (it may come from a file the user never wrote), only a taken one."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        return f"not a valid name ({NAME_RULE})"
    if meaning := taken_name(name):
        return f"in a loss, {name} is {meaning}: choose another name"
    return None


def shorten(text: str, limit: int = 40) -> str:
    """text, or its start and an ellipsis: a key or a value in a message is a hint, not a copy."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def listing(names: Sequence[str], shown: int = 3) -> str:
    """A few of many names, each short: 'a0, a1, a2, …'."""
    head = ", ".join(shorten(str(name), 20) for name in names[:shown])
    return head + (", …" if len(names) > shown else "")


def show(value: object, depth: int = 0) -> str:
    """A JSON value for a message in a few dozen characters, however large it is: the start of a
    text, the length of a long list, the digit count of a huge integer."""
    if isinstance(value, str):
        return json.dumps(value) if len(value) <= 40 else json.dumps(value[:39])[:-1] + '…"'
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**40:
        digits = len(str(abs(value))) if value.bit_length() < 14_000 else int(value.bit_length() * math.log10(2)) + 1
        return f"an integer of {digits:,} digits"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (list, tuple, dict)):
        if depth >= 2:
            return "{…}" if isinstance(value, dict) else "[…]"
        if len(value) > 4:
            return f"an object of {len(value):,} keys" if isinstance(value, dict) else f"a list of {len(value):,} items"
        if isinstance(value, dict):
            inner = ", ".join(f"{json.dumps(shorten(str(k), 20))}: {show(v, depth + 1)}" for k, v in value.items())
            return shorten(f"{{{inner}}}", 60)
        return shorten(f"[{', '.join(show(v, depth + 1) for v in value)}]", 60)
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return shorten(repr(value))


def key_path(path: str, key: object) -> str:
    """The JSON path of an object's key, shortened: a key may be any length."""
    key = shorten(str(key), 40)
    return f"{path}.{key}" if path else key


class _Repeated(dict):
    key: str  # the key given more than once


class RepeatedKeys:
    """A json.loads object_pairs_hook that notes objects in which a key is given more than once
    (JSON allows it and Python keeps the last one silently); `paths` then names them."""

    def __init__(self) -> None:
        self.found = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict:
        data = dict(pairs)
        if len(data) == len(pairs):
            return data
        self.found = True
        marked = _Repeated(data)
        marked.key = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        return marked

    @staticmethod
    def paths(data: Any) -> Iterator[str]:
        """The JSON path of each repeated key, in document order."""
        stack = [("", data)]
        while stack:
            path, value = stack.pop()
            if isinstance(value, _Repeated):
                yield key_path(path, value.key)
            if isinstance(value, dict):
                stack.extend((key_path(path, key), item) for key, item in reversed(value.items()))
            elif isinstance(value, list):
                stack.extend((f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value))))
