"""Hardening (issue 17) of the input files: CSV data sets and scenario files.

Contracts checked here:
- a CSV at the documented limits (1,000,000 rows, 50 columns) loads in about the memory of its result,
  and a header of millions of names is refused by its count before it is split;
- a CSV cell is a number by the rule --at uses (numbers.parse_float), whichever parser reads it;
- a repeated JSON key is refused with its path;
- no message quotes a file the user did not write, and every message stays short, however large the input;
- one naming rule (checks.check_name) for variables, view, start and scale keys, and data columns;
- a scenario's dimension and every list in it are bounded before anything is built for them.

Memory is measured in a child process; time is bounded only by generous hang limits (HANG).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdstudio.core import data as D
from gdstudio.core import scenario as S
from gdstudio.core.checks import check_name
from gdstudio.core.data import MAX_COLUMNS, MAX_ROWS, DataError, generate, parse_csv, read_csv
from gdstudio.core.numbers import parse_float
from gdstudio.core.presets import load_presets
from gdstudio.core.scenario import MAX_NAMES, MAX_PROBLEMS, MAX_VARIABLES, ScenarioError

HANG = 300.0  # seconds after which a child counts as hung (a 100 MB file on a loaded machine): never a speed
SHORT = 300  # characters a problem line may have, whatever the input


def document(**fields) -> dict:
    return {"format": "gdstudio-scenario", "version": 1, "loss": "x^2", **fields}


def problems(doc: dict | str, base: Path | None = None) -> list[str]:
    """The problems a document is refused with; any other exception fails the test."""
    with pytest.raises(ScenarioError) as caught:
        S.loads(doc if isinstance(doc, str) else json.dumps(doc), base=base)
    return caught.value.problems


def measured_in_a_child(code: str, *args: str) -> dict:
    """Run code (which sets `result`) in a child; its result with the peak memory grown while it ran (MB)."""
    program = ("import json, sys\n"
               "from gdstudio.core import data, scenario\n"
               "def peak():  # VmHWM: this process's own high-water mark (ru_maxrss keeps the parent's across exec)\n"
               "    with open('/proc/self/status') as status:\n"
               "        return next(int(line.split()[1]) for line in status if line.startswith('VmHWM')) / 1024\n"
               "before = peak()\n"
               f"{code}\n"
               "result['grown'] = peak() - before\n"
               "print(json.dumps(result))\n")
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True, timeout=HANG)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


# ---------------------------------------------------------------- CSV size

@pytest.mark.slow
def test_a_csv_at_the_documented_limits_loads_in_about_its_results_memory(tmp_path):
    """1,000,000 rows x 50 columns (100 MB): the result is 400 MB; the old reader peaked at 3.4 GB."""
    path = tmp_path / "limits.csv"
    row = ",".join(str(i % 10) for i in range(MAX_COLUMNS)) + "\n"
    with path.open("w") as stream:
        stream.write(",".join(f"c{i}" for i in range(MAX_COLUMNS)) + "\n")
        for _ in range(10):
            stream.write(row * (MAX_ROWS // 10))
    found = measured_in_a_child(
        "d = data.read_csv(sys.argv[1])\n"
        "result = {'shape': list(d.values.shape), 'contiguous': d.values.flags['C_CONTIGUOUS'],\n"
        "          'first': d.values[:, 0].tolist(), 'last': d.values[:, -1].tolist()}", str(path))
    assert found["shape"] == [MAX_COLUMNS, MAX_ROWS] and found["contiguous"]
    assert found["first"] == found["last"] == [float(i % 10) for i in range(MAX_COLUMNS)]
    result_mb = MAX_COLUMNS * MAX_ROWS * 8 / 2**20
    assert found["grown"] < 1.6 * result_mb + 2 * path.stat().st_size / 2**20, found["grown"]  # (~1.3 measured)


@pytest.mark.slow
def test_a_header_of_millions_of_names_is_refused_by_its_count(tmp_path):
    """10,000,000 names (89 MB) took 20 s and 1.75 GB before "limit 50 columns"; the text alone is what it costs now."""
    path = tmp_path / "wide.csv"
    with path.open("w") as stream:
        for start in range(0, 10_000_000, 1_000_000):
            stream.write(",".join(f"c{i}" for i in range(start, start + 1_000_000)) + ("," if start < 9_000_000 else "\n"))
        stream.write("1\n")
    found = measured_in_a_child(
        "try:\n    data.read_csv(sys.argv[1])\n    result = {'error': None}\n"
        "except data.DataError as error:\n    result = {'error': str(error)}", str(path))
    assert found["error"] == f"{path}: 10,000,000 columns (limit {MAX_COLUMNS})"
    assert found["grown"] < 3 * path.stat().st_size / 2**20, found["grown"]  # (the bytes and the text; was 1.75 GB)


def test_a_long_header_row_without_commas_is_refused_without_quoting_it():
    error = csv_error("x" * 50_000 + "\n1\n")
    assert "row 1 has 50,001 characters" in error and "xxx" not in error


@pytest.mark.parametrize("rows", [MAX_ROWS + 1, 3 * MAX_ROWS])
def test_rows_beyond_the_limit_are_refused(rows):
    assert csv_error("x\n" + "1\n" * rows) == f"f.csv: more than {MAX_ROWS:,} rows"


def test_blank_lines_beyond_the_row_limit_are_no_rows():
    dataset = parse_csv("x,y\n" + "\n" * (3 * MAX_ROWS) + "1,2\n" + ",,\n" * 10)
    assert dataset.values.tolist() == [[1.0], [2.0]] and dataset.values.flags["C_CONTIGUOUS"]


# ---------------------------------------------------------------- one number rule, two parsers

CELLS_REFUSED = ["1_000", "１", "٣", "1٣", "nan", "NaN", "inf", "-Infinity", "1e400", "-1e309", "0x10", "1e", ".", "e5",
                 "1.2.3", "--1", "+-1", "1 2", "1,5", "", "  ", "0." + "0" * 500 + "1", "\u20031", "1\x00", "½"]
CELLS_ACCEPTED = ["0", "-0", "7", " 7 ", "\t7\t", "+.5", "5.", "-2e-3", "1E+05", "1e308", "-1.7976931348623157e308",
                  "4.9e-324", "1e-400", "0." + "0" * 390 + "1", "123456789012345678901234567890", '"3.25"', '" 3"']


def csv_error(text: str) -> str:
    with pytest.raises(DataError) as caught:
        parse_csv(text, "f.csv")
    return str(caught.value)


@pytest.mark.parametrize("cell", CELLS_REFUSED)
def test_a_cell_parse_float_refuses_is_refused_at_its_row_and_column(cell):
    with pytest.raises(ValueError) as refused:
        parse_float(cell)
    error = csv_error(f"x,y\n1,2\n\n3,{cell}\n5,6\n" if "," not in cell else f'x,y\n1,2\n\n3,"{cell}"\n')
    said = str(refused.value) if cell.strip() else "the cell is empty"  # (parse_float's words, never the cell)
    assert error == f"f.csv: row 4, column 2: {said}"


@pytest.mark.parametrize("cell", CELLS_ACCEPTED)
def test_a_cell_parse_float_accepts_has_its_value(cell):
    assert parse_csv(f"x,y\n1,{cell}\n").column("y")[0] == parse_float(cell.replace('"', ""))


@pytest.fixture
def exact_only(monkeypatch):
    """The exact parser alone (cell by cell with parse_float), with small blocks."""
    monkeypatch.setattr(D, "_plain_rows", lambda block, width: None)
    monkeypatch.setattr(D, "CSV_BLOCK", 7)


def random_csv(seed: int) -> str:
    rng = np.random.default_rng(seed)
    numbers = [repr(float(v)) for v in rng.normal(0, 10.0 ** rng.integers(-300, 300, 600), 600)]
    numbers += [f"{v:.30e}" for v in rng.normal(size=100)] + ["0", "-0", "5.", ".5", "+1", "1e308"]
    lines = ["a,b,c"]
    for _ in range(400):
        kind = rng.integers(0, 12)
        if kind == 0:
            lines.append(rng.choice(["", "  ", ",,", " , ,\t", "\r"]))  # lines that give no row
        else:
            cells = [str(rng.choice(numbers)) for _ in range(3)]
            cells = [f" {c}\t" if rng.random() < 0.1 else f'"{c}"' if rng.random() < 0.05 else c for c in cells]
            lines.append(",".join(cells) + ("\r" if kind == 1 else ""))
    return "\n".join(lines) + rng.choice(["", "\n", "\n\n"])


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_and_the_exact_parser_agree_bit_for_bit(seed, monkeypatch):
    text = random_csv(seed)
    fast = parse_csv(text)
    monkeypatch.setattr(D, "CSV_BLOCK", 97)  # blocks end on many different lines
    assert np.array_equal(parse_csv(text).values.view(np.int64), fast.values.view(np.int64))
    monkeypatch.setattr(D, "_plain_rows", lambda block, width: None)
    exact = parse_csv(text)
    assert exact.columns == fast.columns and np.array_equal(exact.values.view(np.int64), fast.values.view(np.int64))
    lines = text.split("\n")
    assert fast.rows == sum(1 for line in lines[1:] if line.strip(" \t\r,"))


@pytest.mark.parametrize("text, message", [
    ("x,y\n1,2\n\n,,\n3,4\n5\n", "row 6: 1 cells, expected 2"),
    ("x,y\n1,2\n" + "3,4\n" * 50 + "5,6,7\n", "row 53: 3 cells, expected 2"),
    ("x,y\r\n1,2\r\n3,abc\r\n", "row 3, column 2: not a number"),
    ("x,y\n1,2\n3,\n", "row 3, column 2: the cell is empty"),
    ("x,y\n1,2\r3,4\n", "not a valid CSV file"),
])
def test_rows_are_counted_across_blocks_and_blank_lines(text, message, exact_only):
    assert message in csv_error(text)


def test_rows_are_counted_across_blocks_with_the_fast_parser(monkeypatch):
    monkeypatch.setattr(D, "CSV_BLOCK", 64)
    text = "x,y\n" + "1,2\n" * 100 + "\n\n" + "3,4\n" * 100 + "5,nan\n"
    assert csv_error(text) == "f.csv: row 204, column 2: not a number (plain digits, e.g. 12, -0.5 or 1e-3)"


# ---------------------------------------------------------------- repeated JSON keys

@pytest.mark.parametrize("text, path", [
    ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "loss": "y^2"}', "loss"),
    ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "runs": [{}, {"optimizer": {"name": "gd", "lr": 0.1, '
     '"lr": 0.2}}]}', "runs[1].optimizer.lr"),
    ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "view": {"x": [0, 1], "x": [0, 2], "x": [0, 3]}}', "view.x"),
    ('{"format": "gdstudio-scenario", "version": 1, "loss": "mean(w*x)", "data": {"columns": {"x": [1], "x": [2]}}}',
     "data.columns.x"),
    ('{"format": "gdstudio-scenario", "format": "gdstudio-scenario", "version": 1, "loss": "x^2"}', "format"),
])
def test_a_repeated_key_is_refused_with_its_path(text, path):
    assert problems(text) == [f"{path}: appears more than once in its object (which one was meant?)"]


def test_every_repeated_key_is_named_in_document_order():
    text = ('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "runs": [{"seed": 1, "seed": 2}, {}, '
            '{"start": {"x": 1, "x": 1}}], "stop": {"max_steps": 5, "max_steps": 5}}')
    assert [line.partition(":")[0] for line in problems(text)] == ["runs[0].seed", "runs[2].start.x", "stop.max_steps"]


def test_repeated_keys_in_a_large_document_are_reported_briefly():
    pairs = ", ".join(f'"k{i}": {{"a": 1, "a": 2}}' for i in range(10_000))
    found = problems('{"format": "gdstudio-scenario", "version": 1, "loss": "x^2", "view": {' + pairs + "}}")
    assert len(found) == MAX_PROBLEMS + 1 and found[0].startswith("view.k0.a: ") and found[-1] == "… and 9,990 more problems"


# ---------------------------------------------------------------- no echo, short messages

SECRET = "hunter2SECRETtoken"


@pytest.mark.parametrize("content", [
    f"root:x:0:0:{SECRET}:/root:/bin/bash\nbin:x:1:1::/bin:\n",
    f"HOME=/root\x00TOKEN={SECRET}\x00PATH=/bin\x00",
    f"{SECRET}\nsecond_{SECRET}\n",  # a first line that happens to be a valid name
    f"x\n1\n{SECRET}\n",
    f"x,y\n1,2\n3,{SECRET}\n",
    f'x,y\n1,"{SECRET},4"\n',
    f"x,{SECRET}-e\n1,2\n",
    f"x,y\n1,2\n3,4,{SECRET}\n",
    f"{SECRET}" * 10_000 + "\n1\n",
])
def test_no_message_quotes_a_foreign_files_contents(tmp_path, content):
    (tmp_path / "secret").write_text(content)
    found = problems(document(loss="mean((w*x - y)^2)", data={"csv": "secret"}), base=tmp_path)
    assert len(found) == 1 and "hunter2" not in found[0] and "SECRET" not in found[0], found
    assert len(found[0]) < len(str(tmp_path)) + SHORT


@pytest.mark.parametrize("system_file", ["/etc/passwd", "/proc/self/environ", "/proc/self/status", "/etc/hostname"])
def test_system_files_given_as_csv_are_refused_without_their_contents(system_file):
    path = Path(system_file)
    try:
        lines = [line.strip() for line in path.read_bytes().decode("utf-8", "replace").replace("\x00", "\n").splitlines()]
    except OSError:
        pytest.skip(f"no {system_file} here")
    found = problems(document(loss="mean((w*x - y)^2)", data={"csv": system_file}))
    assert len(found) == 1
    message = found[0].removeprefix(f"{system_file}: ")
    assert not any(len(line) > 3 and line in message for line in lines), message


LARGE = {
    "a version of 4,000 digits": document(version=int("9" * 4000)),
    "a format of a megabyte": document(format="f" * 1_000_000),
    "200,000 start names": document(runs=[{"start": {f"a{i}": 1.0 for i in range(200_000)}}]),
    "200,000 unknown keys": document(**{f"k{i}": 1 for i in range(200_000)}),
    "200,000 unknown keys in a run": document(runs=[{f"k{i}": 1 for i in range(200_000)}]),
    "200,000 unknown keys in stop": document(stop={f"k{i}": 1 for i in range(200_000)}),
    "a key of a megabyte": document(**{"k" * 1_000_000: 1}),
    "a start name of a megabyte": document(runs=[{"start": {"a" * 1_000_000: 1}}]),
    "an optimizer name of a megabyte": document(runs=[{"optimizer": {"name": "o" * 1_000_000}}]),
    "a hyper-parameter of a megabyte": document(runs=[{"optimizer": {"name": "gd", "l" * 1_000_000: 1}}]),
    "a list of a million betas": document(runs=[{"optimizer": {"name": "adam", "betas": [0.9] * 1_000_000}}]),
    "a colour of a megabyte": document(runs=[{"color": "#" * 1_000_000}]),
    "a label of a million items": document(runs=[{"label": ["x"] * 1_000_000}]),
    "a target of a megabyte": document(loss="mean(w*x)", data={"columns": {"x": [1]}, "target": "t" * 1_000_000}),
    "a column name of a megabyte": document(loss="mean(w*x)", data={"columns": {"c" * 1_000_000: [1]}}),
    "a generator kind of a megabyte": document(loss="mean(w*x)", data={"generate": {"kind": "k" * 1_000_000}}),
    "a generator size of 300 digits": document(loss="mean(w*x)", data={"generate": {"kind": "noisy_line", "n": 10**300}}),
    "a csv path of a kilobyte": document(loss="mean(w*x)", data={"csv": "p" * 1000}),
    "100 runs with many problems": document(runs=[{"seed": -1, "color": 1, "label": 2, "start": {"e": 1, "1x": 2}}] * 100),
    "1,000 bad view names": document(view={f"{i}x": [0, 1] for i in range(MAX_NAMES)}),
    "an unhashable sweep parameter": document(insight={"sweep": {"param": [["lr"] * 1000]}}),
}


@pytest.mark.parametrize("case", LARGE)
def test_every_message_stays_short_however_large_the_input(case):
    found = problems(LARGE[case])
    assert 1 <= len(found) <= MAX_PROBLEMS + 1
    assert all(len(line) < SHORT for line in found), [len(line) for line in found]


def test_many_problems_are_counted_beyond_the_first_ones():
    found = problems(document(runs=[{"seed": -1}] * 30))
    assert found[:MAX_PROBLEMS] == [f"runs[{i}].seed: must be a non-negative whole number, got -1" for i in range(MAX_PROBLEMS)]
    assert found[-1] == f"… and {30 - MAX_PROBLEMS} more problems"


def test_many_unknown_keys_make_one_line_naming_a_few():
    found = problems(document(runs=[{f"k{i}": 1 for i in range(200_000)}]))
    assert found == ["runs[0]: 200,000 unknown fields (k0, k1, k2, …; expected one of: batch_size, clip, color, label, "
                     "optimizer, replacement, scale, schedule, seed, start)"]


# ---------------------------------------------------------------- one naming rule

TAKEN = ["e", "pi", "sin", "mean", "sum", "relu", "lambda", "None", "True", "if"]
MALFORMED = ["1x", "_x", "x-y", "x y", "ä", "x" * 65, ""]


@pytest.mark.parametrize("name", TAKEN + MALFORMED)
def test_a_name_is_refused_alike_wherever_it_is_given(name, tmp_path):
    problem = check_name(name)
    assert problem is not None
    short = name[:39] + "…" if len(name) > 40 else name
    places = {
        "variables[0]": document(variables=[name]),
        f"view.{short}": document(view={name: [0, 1]}),
        f"runs[0].start.{short}": document(runs=[{"start": {name: 1}}]),
        f"runs[0].scale.{short}": document(loss="mean(w*x)", data={"columns": {"x": [1]}}, runs=[{"scale": {name: "standard"}}]),
        f"data.columns.{short}": document(loss="mean(w*x)", data={"columns": {name: [1]}}),
    }
    for path, doc in places.items():
        assert problems(doc) == [f"{path}: {problem}"]
    header = f'"{name}",y' if "," in name or " " in name else f"{name},y"
    (tmp_path / "points.csv").write_text(f"{header}\n1,2\n", encoding="utf-8")
    (found,) = problems(document(loss="mean(w*y)", data={"csv": "points.csv"}), base=tmp_path)
    assert found.startswith(f"{tmp_path / 'points.csv'}: row 1, column 1: {problem}")


def test_the_constant_e_cannot_hide_behind_a_data_column(tmp_path):
    """x^2+e with a column e: the column held random starts while the loss used 2.718."""
    (tmp_path / "d.csv").write_text("x,e\n1,2\n")
    (found,) = problems(document(loss="x^2 + e", data={"csv": "d.csv"}), base=tmp_path)
    assert "row 1, column 2: in a loss, e is the constant e" in found
    assert problems(document(loss="x^2 + e", variables=["x", "e"])) == [f"variables[1]: {check_name('e')}"]


def test_names_made_by_the_program_follow_the_rule():
    for kind in D.GENERATORS:
        assert all(check_name(name) is None for name in generate({"kind": kind, "n": 2}).columns)
    for preset in load_presets():
        assert all(check_name(name) is None for name in preset.variables), preset.name


@pytest.mark.parametrize("name", ["x", "w1", "learning_rate", "X", "E", "Pi", "a" * 64])
def test_good_names_are_accepted_everywhere(name, tmp_path):
    assert check_name(name) is None
    S.from_dict(document(loss=f"{name}^2", variables=[name], view={name: [0, 1]}, runs=[{"start": {name: 1}}]))
    (tmp_path / "d.csv").write_text(f"{name},y\n1,2\n")
    assert read_csv(tmp_path / "d.csv").columns == (name, "y")


# ---------------------------------------------------------------- dimension and lists, bounded early

def test_too_many_variables_are_refused_before_anything_is_built(tmp_path):
    """5,001 names with x^2 ran 400 s and grew to 1.2 GB; the data (here a file that does not exist) is never read."""
    names = [f"a{i}" for i in range(5001)]
    found = problems(document(variables=names, data={"csv": "missing.csv"}, runs=[{"seed": -1}]), base=tmp_path)
    assert found == [f"variables: 5,001 names (a0, a1, a2, …; limit {MAX_VARIABLES:,})"]


def test_the_limits_themselves_are_accepted():
    names = [f"a{i}" for i in range(MAX_NAMES)]
    scenario = S.from_dict(document(loss="a0^2", variables=names[:MAX_VARIABLES], view={n: [0, 1] for n in names},
                                    runs=[{"start": {n: 0.5 for n in names}}]))
    assert len(scenario.variables) == MAX_VARIABLES and len(scenario.view) == len(scenario.runs[0].start) == MAX_NAMES


@pytest.mark.parametrize("doc, expected", [
    (document(view={f"v{i}": [0, 1] for i in range(MAX_NAMES + 1)}), f"view: {MAX_NAMES + 1:,} names (v0, v1, v2, …; limit {MAX_NAMES:,})"),
    (document(runs=[{"start": {f"v{i}": 0 for i in range(MAX_NAMES + 1)}}]),
     f"runs[0].start: {MAX_NAMES + 1:,} names (v0, v1, v2, …; limit {MAX_NAMES:,})"),
    (document(variables=[f"v{i}" for i in range(MAX_VARIABLES + 1)]),
     f"variables: {MAX_VARIABLES + 1:,} names (v0, v1, v2, …; limit {MAX_VARIABLES:,})"),
    (document(loss="mean(w*x)", data={"columns": {"x": [1]}}, runs=[{"scale": {f"c{i}": "minmax" for i in range(51)}}]),
     f"runs[0].scale: 51 names (c0, c1, c2, …; limit {MAX_COLUMNS})"),
    (document(variables=["x", "y", "x", "y", "z"]), "variables: lists x, y more than once"),
    (document(insight={"sweep": {"param": {"a": 1}}}), "insight.sweep.param: must be a hyper-parameter an optimizer can sweep"),
])
def test_lists_and_objects_are_bounded_with_their_path(doc, expected):
    assert any(line.startswith(expected) for line in problems(doc)), problems(doc)
