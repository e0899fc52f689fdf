"""Data sets for losses like mean((w*x + b - y)^2): inline columns, CSV files and seeded
generators, plus feature scaling.

A data set is a (columns, rows) float64 array with column names; the loss refers to the
names inside mean(...) or sum(...). Every problem is a DataError naming the file, row and
column where it can.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .checks import NAME, check_name, listing, shorten, show
from .fileio import read_limited
from .numbers import MAX_NUMBER_TEXT, is_finite_number, parse_float

MAX_ROWS = 1_000_000
MAX_COLUMNS = 50
MAX_CSV_BYTES = 200_000_000
MAX_PARAMETER = 1e12  # generator parameters: far beyond any lesson, far below overflow
SCALINGS = ("standard", "minmax")
MAX_HEADER = 20_000  # characters of the header row: 50 names of 64 characters, quoted and spaced, fit well
CSV_BLOCK = 1 << 20  # characters parsed at a time
_BLANK = re.compile(r"\n[ \t\r,]*(?=\n)|\n[ \t\r,]+\Z")  # a line that gives no row
_NOT_PLAIN = re.compile(r'[^0-9eE.+\-," \t\r\n]')  # anything but plain numbers, commas, quotes and spaces


class DataError(ValueError):
    """A problem with a data set, said so a person can find it."""


@dataclass(frozen=True, eq=False)
class Dataset:
    columns: tuple[str, ...]
    values: np.ndarray  # (len(columns), rows)

    @property
    def rows(self) -> int:
        return self.values.shape[1]

    def column(self, name: str) -> np.ndarray:
        return self.values[self.columns.index(name)]

    @cached_property
    def spans(self) -> dict[str, tuple[float, float]]:
        """Each column's (minimum, maximum), worked out once: over a million rows that is milliseconds, which the
        studio spends in the thread that read the file rather than in the turn that shows it."""
        return {name: (float(low), float(high))
                for name, low, high in zip(self.columns, self.values.min(axis=1), self.values.max(axis=1))}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self.columns == other.columns and np.array_equal(self.values, other.values)


def check_columns(columns: Mapping[str, object], where: str = "columns") -> Dataset:
    """Inline columns: names to equal-length lists of finite numbers."""
    if not columns:
        raise DataError(f"{where}: no columns")
    if len(columns) > MAX_COLUMNS:
        raise DataError(f"{where}: {len(columns):,} columns (limit {MAX_COLUMNS})")
    arrays = []
    for name, values in columns.items():
        path = f"{where}.{shorten(str(name))}"
        if problem := check_name(name):
            raise DataError(f"{path}: {problem}")
        if not isinstance(values, list):
            raise DataError(f"{path}: must be a list of numbers")
        if len(values) > MAX_ROWS:
            raise DataError(f"{path}: {len(values):,} rows (limit {MAX_ROWS:,})")
        for row, value in enumerate(values):
            if not is_finite_number(value):
                raise DataError(f"{path}[{row}]: must be a finite number, got {show(value)}")
        arrays.append(np.array(values, dtype=np.float64))
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise DataError(f"{where}: columns have different lengths ({', '.join(map(str, sorted(lengths)))})")
    if not lengths.pop():
        raise DataError(f"{where}: the columns are empty")
    return Dataset(tuple(columns), np.array(arrays))


def read_csv(path: str | Path) -> Dataset:
    """A CSV file with a header row of column names and numbers below it."""
    path = Path(path)
    text = read_limited(path, MAX_CSV_BYTES, lambda message: DataError(f"{path!s:.200}: {message}"))
    return parse_csv(text.removeprefix("\ufeff"), str(path))


def parse_csv(text: str, source: str = "CSV") -> Dataset:
    """Read a block of lines at a time, so that memory stays near the result's (8 bytes a cell), and
    size the header before splitting it. A problem names its row and column, never the text there:
    the file may be one the user never wrote (a `csv` of /etc/passwd)."""
    start = text.find("\n") + 1 or len(text)
    names = _header(text, start, source)
    width = len(names)
    values = np.empty((width, _row_bound(text, start)))  # pages are taken as rows fill them
    rows, line = 0, 2
    while start < len(text):
        end = text.find("\n", start + CSV_BLOCK) + 1 or len(text)
        block = text[start:end]
        found = _plain_rows(block, width)
        if found is None:
            found = _checked_rows(block, width, line, source)
        if rows + len(found) > values.shape[1]:
            raise DataError(f"{source}: more than {MAX_ROWS:,} rows")
        values[:, rows:rows + len(found)] = found.T
        rows += len(found)
        line += block.count("\n")
        start = end
    if not rows:
        raise DataError(f"{source}: no data rows below the header")
    return Dataset(tuple(names), values if rows == values.shape[1] else values[:, :rows].copy())


def _row_bound(text: str, start: int) -> int:
    """The rows text[start:] can give at most: its lines but those of nothing but spaces and commas,
    and no more than MAX_ROWS + 1. (Blank lines are counted only in a file of sensible length.)"""
    lines = text.count("\n", start) + 1
    if lines <= 2 * MAX_ROWS:
        lines -= sum(1 for _ in _BLANK.finditer(text, start - 1)) + text.endswith("\n")
    return max(min(lines, MAX_ROWS), 0)


def _header(text: str, end: int, source: str) -> list[str]:
    """The column names in text[:end], counted before they are split: a header of millions of names
    is refused at once."""
    if (cells := text.count(",", 0, end) + 1) > MAX_COLUMNS:
        raise DataError(f"{source}: {cells:,} columns (limit {MAX_COLUMNS})")
    if end > MAX_HEADER:
        raise DataError(f"{source}: row 1 has {end:,} characters, too many for {cells} column names")
    try:
        header = next(csv.reader([text[:end]]), [])
    except csv.Error as error:
        raise DataError(f"{source}: not a valid CSV file: {error}") from None
    if not any(cell.strip() for cell in header):
        raise DataError(f"{source}: the file is empty (expected a header row of column names)")
    names = [cell.strip() for cell in header]
    for number, name in enumerate(names, start=1):
        if problem := check_name(name):
            hint = "" if NAME.fullmatch(name) else "; the first row must name the columns"
            raise DataError(f"{source}: row 1, column {number}: {problem}{hint}")
    if len(set(names)) != len(names):
        raise DataError(f"{source}: row 1: a column name appears twice")
    return names


def _plain_rows(block: str, width: int) -> np.ndarray | None:
    """The block's rows by NumPy's C parser (correctly rounded, as float() is) when the block holds
    only plain numbers; None otherwise, for _checked_rows to find what is wrong. NumPy alone would
    take what numbers.parse_float refuses ('nan', '1_000', '１', a number of 1,000 digits)."""
    if _NOT_PLAIN.search(block) or ("\r" in block and block.count("\r") != block.count("\r\n")):
        return None
    lines = [text for text in block.split("\n") if text.strip(" \t\r,")]  # (blank lines give no row)
    if not lines:
        return np.empty((0, width))
    if max(map(len, lines)) > MAX_NUMBER_TEXT and _longest_cell(block) > MAX_NUMBER_TEXT:
        return None
    try:
        values = np.loadtxt(lines, dtype=np.float64, delimiter=",", quotechar='"', comments=None, ndmin=2)
    except ValueError:  # an empty cell, a line of commas, a row of another width, '1e', '1.2.3' ...
        return None
    return values if values.shape[1] == width and np.isfinite(values).all() else None


def _longest_cell(block: str) -> int:
    """Characters of the longest cell in an ASCII block, found without splitting it into cells."""
    codes = np.frombuffer(block.encode("ascii"), dtype=np.uint8)
    ends = np.flatnonzero((codes == ord(",")) | (codes == ord("\n")))
    if not len(ends):
        return len(codes)
    return max(int(ends[0]), len(codes) - 1 - int(ends[-1]), int(np.diff(ends).max(initial=1)) - 1)


def _checked_rows(block: str, width: int, line: int, source: str) -> np.ndarray:
    """The block's rows cell by cell with numbers.parse_float, the rule --at and the studio use; the
    first problem raises a DataError naming its row (line + the block's line) and column."""
    rows = []
    reader = csv.reader(io.StringIO(block))
    try:
        for record in reader:
            row = line + reader.line_num - 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != width:
                raise DataError(f"{source}: row {row}: {len(record)} cells, expected {width}")
            values = []
            for column, cell in enumerate(record, start=1):
                try:
                    values.append(parse_float(cell))
                except ValueError as error:
                    problem = error if cell.strip() else "the cell is empty"
                    raise DataError(f"{source}: row {row}, column {column}: {problem}") from None
            rows.append(values)
    except csv.Error as error:
        raise DataError(f"{source}: not a valid CSV file: {error}") from None
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def _noisy_line(rng: np.random.Generator, n: int, p: Mapping[str, float]) -> dict[str, np.ndarray]:
    x = rng.uniform(p["x_min"], p["x_max"], n)
    return {"x": x, "y": p["slope"] * x + p["intercept"] + rng.normal(0.0, p["noise"], n)}


def _noisy_quadratic(rng: np.random.Generator, n: int, p: Mapping[str, float]) -> dict[str, np.ndarray]:
    x = rng.uniform(p["x_min"], p["x_max"], n)
    return {"x": x, "y": p["a"] * x**2 + p["b"] * x + p["c"] + rng.normal(0.0, p["noise"], n)}


def _two_blobs(rng: np.random.Generator, n: int, p: Mapping[str, float]) -> dict[str, np.ndarray]:
    label = (np.arange(n) % 2).astype(np.float64)
    centre = (2 * label - 1) * p["separation"] / 2
    return {"x1": centre + rng.normal(0.0, p["spread"], n), "x2": centre + rng.normal(0.0, p["spread"], n), "label": label}


# name -> (parameter defaults, function of (rng, n, parameters) returning columns)
GENERATORS = {
    "noisy_line": ({"slope": 2.0, "intercept": 1.0, "noise": 1.0, "x_min": 0.0, "x_max": 10.0}, _noisy_line),
    "noisy_quadratic": ({"a": 0.5, "b": -1.0, "c": 2.0, "noise": 1.0, "x_min": -4.0, "x_max": 4.0}, _noisy_quadratic),
    "two_blobs": ({"separation": 3.0, "spread": 1.0}, _two_blobs),
}


def generate(spec: Mapping[str, object], where: str = "generate") -> Dataset:
    """A seeded synthetic data set: {"kind": ..., "n": rows, "seed": s, parameters...}."""
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in GENERATORS:
        raise DataError(f"{where}.kind: unknown generator {show(kind)} (known: {', '.join(GENERATORS)})")
    defaults, function = GENERATORS[kind]
    for key in spec:
        if key not in (*defaults, "kind", "n", "seed"):
            raise DataError(f"{where}.{shorten(str(key))}: unknown parameter of {kind} (known: n, seed, {', '.join(defaults)})")
    n, seed = spec.get("n", 100), spec.get("seed", 0)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ROWS:
        raise DataError(f"{where}.n: must be a whole number from 1 to {MAX_ROWS:,}, got {show(n)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"{where}.seed: must be a non-negative whole number, got {show(seed)}")
    params = dict(defaults)
    for key, value in spec.items():
        if key in defaults:
            if not is_finite_number(value) or abs(value) > MAX_PARAMETER:
                raise DataError(f"{where}.{key}: must be a number between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}, got {show(value)}")
            params[key] = float(value)
    for key in ("noise", "spread"):
        if params.get(key, 0.0) < 0:
            raise DataError(f"{where}.{key}: must not be negative, got {params[key]:g}")
    if params.get("x_min", 0.0) >= params.get("x_max", 1.0):
        raise DataError(f"{where}.x_min: must be below x_max, got {params['x_min']:g} and {params['x_max']:g}")
    columns = function(np.random.default_rng(seed), n, params)
    return Dataset(tuple(columns), np.array(list(columns.values())))


def scaling(dataset: Dataset, how: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """column -> (offset, factor) such that scaled = (value - offset) / factor: a z-score for "standard",
    [0, 1] for "minmax" (a constant column keeps factor 1). The data view uses it to draw a scaled run's
    model in the data's own units."""
    found: dict[str, tuple[float, float]] = {}
    for name, kind in how.items():
        if name not in dataset.columns:
            raise DataError(f"scale.{shorten(str(name))}: no such column (columns: {listing(dataset.columns, 10)})")
        column = dataset.column(name)
        if kind == "standard":
            spread = float(column.std())
            found[name] = (float(column.mean()), spread if spread > 0 else 1.0)
        elif kind == "minmax":
            low, high = dataset.spans[name]
            found[name] = (low, high - low if high > low else 1.0)
        else:
            raise DataError(f"scale.{name}: must be one of {', '.join(SCALINGS)}, got {show(kind)}")
    return found


def scale(dataset: Dataset, how: Mapping[str, str]) -> Dataset:
    """Standardise (z-score) or min-max scale the named columns; the others stay as they are."""
    values = dataset.values.copy()
    for name, (offset, factor) in scaling(dataset, how).items():
        column = values[dataset.columns.index(name)]
        column[:] = (column - offset) / factor
    return Dataset(dataset.columns, values)
