"""The loss grammar checked without SymPy (syntax.check_loss): it refuses what the full parse refuses for
want of grammar, with the same message and column, accepts everything the full parse accepts, and
imports neither SymPy nor Numba.

The inputs are the hostile and malformed lists of test_parse and test_hardening, the presets and the
shipped lessons, and random text.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hardening import HOSTILE as CLI_HOSTILE
from test_hardening import IN_PROCESS_ONLY
from test_parse import ERRORS, FRAGMENTS, HOSTILE, NUMERIC_HAZARDS, REFUSED_QUICKLY

from gdstudio.core import functions, vocabulary
from gdstudio.core.expression import ExpressionError, parse_objective
from gdstudio.core.presets import load_presets
from gdstudio.core.scenario import load
from gdstudio.core.syntax import check_loss

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "scenarios").glob("*.json"))
BAD = [t for t, _, _ in ERRORS] + REFUSED_QUICKLY + NUMERIC_HAZARDS + HOSTILE + CLI_HOSTILE + IN_PROCESS_ONLY
# refused only once built: the grammar has nothing against them
ARITHMETIC = ("division by zero", "too large", "out of range", "out of the range of floating-point numbers", "not a real number",
              "undefined", "too many comparisons", "too complex", "no variables", "too many variables", "unknown variable",
              "cannot build", "cannot derive")


def refusal(check, *args) -> tuple[str, int | None] | None:
    try:
        check(*args)
    except ExpressionError as error:
        return error.message, error.column
    return None


def ids(texts: list[str]) -> list[str]:
    return [f"{i}:{t[:20]!r}" for i, t in enumerate(texts)]


@pytest.mark.parametrize("text", BAD, ids=ids(BAD))
def test_the_grammar_refuses_as_the_full_parse_does(text: str) -> None:
    full = refusal(parse_objective, text)
    assert full is not None
    early = refusal(check_loss, text)
    if early is None:  # then only arithmetic refuses it
        assert any(word in full[0] for word in ARITHMETIC), full
    else:
        assert early == full


@pytest.mark.parametrize("text, fragment, column", ERRORS, ids=[repr(t)[1:-1][:30] for t, _, _ in ERRORS])
def test_every_grammar_error_is_found_without_sympy(text: str, fragment: str, column: int) -> None:
    if fragment == "division by zero":  # x/(1-1): arithmetic
        assert refusal(check_loss, text) is None
        return
    message, where = refusal(check_loss, text)
    assert fragment in message and where == column


DATA_CASES = [  # (text, columns, the refusal)
    ("a*x - b", ("a", "b"), ("data column 'a' must be inside mean(...) or sum(...)", 1)),
    ("mean((w*x - y)^2)", (), ("mean(...) averages over a data set, and this scenario has none", 1)),
    ("mean(sum(w*x))", ("x",), ("sum(...) cannot be nested inside mean(...)", 6)),
    ("mean w", ("x",), ("'mean' needs its argument in parentheses, like mean((w*x - y)^2)", 1)),
    ("sum((w*x - y)^2", ("x", "y"), ("expected ')' to close the '(' at column 4 but found the end of the expression", 16)),
]


@pytest.mark.parametrize("text, columns, expected", DATA_CASES)
def test_aggregate_rules_are_grammar(text: str, columns: tuple[str, ...], expected) -> None:
    assert refusal(check_loss, text, None, columns) == expected == refusal(parse_objective, text, None, columns)


@pytest.mark.parametrize("variables, columns", [(["x", "x"], ()), (["e"], ()), (["1x"], ()), (None, ["pi"]),
                                                ([f"v{i}" for i in range(300)], ())])
def test_names_are_checked_as_the_full_parse_checks_them(variables, columns) -> None:
    assert refusal(check_loss, "x", variables, columns) == refusal(parse_objective, "x", variables, columns) is not None


def test_a_loss_that_is_not_text_is_refused_alike() -> None:
    assert refusal(check_loss, 5) == refusal(parse_objective, 5) == ("the loss must be text, got int", None)


@pytest.mark.parametrize("preset", load_presets(), ids=lambda p: p.name)
def test_every_preset_passes_the_grammar(preset) -> None:
    parse_objective(preset.loss, preset.variables)
    check_loss(preset.loss, preset.variables)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_passes_the_grammar(path: Path) -> None:
    scenario = load(path)
    columns = scenario.data.dataset.columns if scenario.data else ()
    check_loss(scenario.loss, scenario.variables, columns)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from([*FRAGMENTS, "mean", "sum", "a", "b"]), st.text(max_size=2)), max_size=25).map("".join))
def test_random_text_the_grammar_refuses_is_refused_alike(text: str) -> None:
    columns = ("a", "b")
    early = refusal(check_loss, text, None, columns)
    if early is not None:
        assert refusal(parse_objective, text, None, columns) == early
    elif (full := refusal(parse_objective, text, None, columns)) is not None:
        assert any(word in full[0] for word in ARITHMETIC), full


def test_one_list_of_names_for_both_passes() -> None:
    assert set(functions.FUNCTIONS) == set(vocabulary.ARITY)
    assert set(functions.CONSTANTS) == set(vocabulary.CONSTANT_NAMES)
    assert {name: arity for name, (_, arity) in functions.FUNCTIONS.items()} == vocabulary.ARITY


def test_the_grammar_imports_neither_sympy_nor_numba() -> None:
    code = (
        "import json, sys\n"
        "from gdstudio.core.errors import ExpressionError\n"
        "from gdstudio.core.syntax import check_loss\n"
        "refused = 0\n"
        "for text in json.load(sys.stdin):\n"
        "    try:\n"
        "        check_loss(text)\n"
        "    except ExpressionError:\n"
        "        refused += 1\n"
        "print(json.dumps({'refused': refused, 'heavy': sorted({'sympy', 'numba', 'PySide6'} & set(sys.modules))}))\n"
    )
    texts = [t for t in BAD if "\x00" not in t][:200] + ["(1-x)^2 + 100*(y-x^2)^2"]
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(texts), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["heavy"] == [] and found["refused"] > 100
