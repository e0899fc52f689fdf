"""Data sets for losses like mean((w*x + b - y)^2): inline columns, CSV files and seeded
generators, plus feature scaling.

A data set is a (columns, rows) float64 array with column names; the loss refers to the
names inside mean(...) or sum(...). Every problem is a DataError naming the file, row and
column where it can.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fileio import read_limited
from .numbers import is_finite_number
from .parse import taken_name

MAX_ROWS = 1_000_000
MAX_COLUMNS = 50
MAX_CSV_BYTES = 200_000_000
MAX_PARAMETER = 1e12  # generator parameters: far beyond any lesson, far below overflow
SCALINGS = ("standard", "minmax")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


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

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dataset) and self.columns == other.columns and np.array_equal(self.values, other.values)


def check_columns(columns: Mapping[str, object], where: str = "columns") -> Dataset:
    """Inline columns: names to equal-length lists of finite numbers."""
    if not columns:
        raise DataError(f"{where}: no columns")
    if len(columns) > MAX_COLUMNS:
        raise DataError(f"{where}: {len(columns)} columns (limit {MAX_COLUMNS})")
    arrays = []
    for name, values in columns.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise DataError(f"{where}.{name}: not a valid column name (letters, digits, _; starting with a letter)")
        if meaning := taken_name(name):
            raise DataError(f"{where}.{name}: in a loss, {name} is {meaning}: rename the column")
        if not isinstance(values, list):
            raise DataError(f"{where}.{name}: must be a list of numbers")
        if len(values) > MAX_ROWS:
            raise DataError(f"{where}.{name}: {len(values):,} rows (limit {MAX_ROWS:,})")
        for row, value in enumerate(values):
            if not is_finite_number(value):
                raise DataError(f"{where}.{name}[{row}]: must be a finite number, got {_short(value)}")
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
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise DataError(f"{source}: the file is empty (expected a header row of column names)")
        names = [cell.strip() for cell in header]
        for number, name in enumerate(names, start=1):
            if not _NAME.fullmatch(name):
                raise DataError(f"{source}: row 1, column {number}: {name!r} is not a valid column name "
                                "(the first row must name the columns)")
            if meaning := taken_name(name):
                raise DataError(f"{source}: row 1, column {number}: in a loss, {name} is {meaning}: rename the column")
        if len(set(names)) != len(names):
            raise DataError(f"{source}: row 1: a column name appears twice")
        if len(names) > MAX_COLUMNS:
            raise DataError(f"{source}: {len(names)} columns (limit {MAX_COLUMNS})")
        rows: list[list[float]] = []
        for line, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                raise DataError(f"{source}: row {line}: {len(record)} cells, expected {len(names)}")
            if len(rows) >= MAX_ROWS:
                raise DataError(f"{source}: more than {MAX_ROWS:,} rows")
            values = []
            for name, cell in zip(names, record):
                try:
                    value = float(cell)
                except ValueError:
                    raise DataError(f"{source}: row {line}, column '{name}': {cell.strip()!r} is not a number") from None
                if not math.isfinite(value):
                    raise DataError(f"{source}: row {line}, column '{name}': {cell.strip()!r} is not a finite number")
                values.append(value)
            rows.append(values)
    except csv.Error as error:
        raise DataError(f"{source}: not a valid CSV file: {error}") from None
    if not rows:
        raise DataError(f"{source}: no data rows below the header")
    return Dataset(tuple(names), np.array(rows, dtype=np.float64).T.copy())


# name -> (parameter defaults, function of (rng, n, parameters) returning columns)
def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


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


GENERATORS = {
    "noisy_line": ({"slope": 2.0, "intercept": 1.0, "noise": 1.0, "x_min": 0.0, "x_max": 10.0}, _noisy_line),
    "noisy_quadratic": ({"a": 0.5, "b": -1.0, "c": 2.0, "noise": 1.0, "x_min": -4.0, "x_max": 4.0}, _noisy_quadratic),
    "two_blobs": ({"separation": 3.0, "spread": 1.0}, _two_blobs),
}


def generate(spec: Mapping[str, object], where: str = "generate") -> Dataset:
    """A seeded synthetic data set: {"kind": ..., "n": rows, "seed": s, parameters...}."""
    kind = spec.get("kind")
    if not isinstance(kind, str) or kind not in GENERATORS:
        raise DataError(f"{where}.kind: unknown generator {kind!r} (known: {', '.join(GENERATORS)})")
    defaults, function = GENERATORS[kind]
    for key in spec:
        if key not in (*defaults, "kind", "n", "seed"):
            raise DataError(f"{where}.{key}: unknown parameter of {kind} (known: n, seed, {', '.join(defaults)})")
    n, seed = spec.get("n", 100), spec.get("seed", 0)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_ROWS:
        raise DataError(f"{where}.n: must be a whole number from 1 to {MAX_ROWS:,}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"{where}.seed: must be a non-negative whole number, got {seed!r}")
    params = dict(defaults)
    for key, value in spec.items():
        if key in defaults:
            if not is_finite_number(value) or abs(value) > MAX_PARAMETER:
                raise DataError(f"{where}.{key}: must be a number between -{MAX_PARAMETER:g} and {MAX_PARAMETER:g}, got {_short(value)}")
            params[key] = float(value)
    for key in ("noise", "spread"):
        if params.get(key, 0.0) < 0:
            raise DataError(f"{where}.{key}: must not be negative, got {params[key]:g}")
    if params.get("x_min", 0.0) >= params.get("x_max", 1.0):
        raise DataError(f"{where}.x_min: must be below x_max, got {params['x_min']:g} and {params['x_max']:g}")
    columns = function(np.random.default_rng(seed), n, params)
    return Dataset(tuple(columns), np.array(list(columns.values())))


def scale(dataset: Dataset, how: Mapping[str, str]) -> Dataset:
    """Standardise (z-score) or min-max scale the named columns; the others stay as they are."""
    values = dataset.values.copy()
    for name, kind in how.items():
        if name not in dataset.columns:
            raise DataError(f"scale.{name}: no such column (columns: {', '.join(dataset.columns)})")
        column = values[dataset.columns.index(name)]
        if kind == "standard":
            spread = column.std()
            column[:] = (column - column.mean()) / (spread if spread > 0 else 1.0)
        elif kind == "minmax":
            width = column.max() - column.min()
            column[:] = (column - column.min()) / (width if width > 0 else 1.0)
        else:
            raise DataError(f"scale.{name}: must be one of {', '.join(SCALINGS)}, got {kind!r}")
    return Dataset(dataset.columns, values)
