"""How long the command line makes a person wait (issue 15's CLI targets), as ratios to `import numpy`.

Run: `.venv/bin/python benchmarks/cli_speed.py [--repeat 7] [--lesson scenarios/05_momentum.json]`
(not collected by pytest: the file name does not start with test_).

Each case is a fresh `python -m gdstudio ...` process, timed from start to exit (wall clock), the median
of --repeat runs; the baseline `python -c "import numpy"` is measured in the same run, interleaved with
the cases, so a busy machine slows both. Every case runs once untimed first ("warm": Python's bytecode
and Numba's kernel caches are filled, the files are in the page cache).

Targets: a bad-input error ≤ 3× the baseline; `derive` of Rosenbrock ≤ 1 s; `run` of a lesson ≤ 1.5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"
BAD_SCENARIO = {"format": "gdstudio-scenario", "version": 1, "loss": "(x - 1)^2 + y^", "runs": [{"optimizer": {"name": "adam"}}]}


def cases(lesson: Path, bad_file: Path) -> list[tuple[str, list[str], int, float | None, float | None]]:
    """(name, command, expected exit code, target ratio to the baseline, target seconds)."""
    cli = [sys.executable, "-m", "gdstudio"]
    return [
        ('python -c "import numpy" (baseline)', [sys.executable, "-c", "import numpy"], 0, None, None),
        ('gdstudio derive "x +" (bad input)', [*cli, "derive", "x +"], 2, 3.0, None),
        ('gdstudio critical "foo(x)" (bad input)', [*cli, "critical", "foo(x)"], 2, 3.0, None),
        ("gdstudio run FILE (a bad loss)", [*cli, "run", str(bad_file)], 2, 3.0, None),
        (f'gdstudio derive "{ROSENBROCK}"', [*cli, "derive", ROSENBROCK], 0, None, 1.0),
        (f"gdstudio run {lesson.relative_to(ROOT).as_posix()} --json", [*cli, "run", str(lesson), "--json"], 0, None, 1.5),
    ]


def timed(command: list[str], code: int) -> float:
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    elapsed = time.perf_counter() - began
    if done.returncode != code:
        raise SystemExit(f"{command[2:]} ended with {done.returncode}, expected {code}: {done.stderr[-300:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of each case (the median is shown)")
    parser.add_argument("--lesson", type=Path, default=ROOT / "scenarios" / "05_momentum.json", help="the lesson `run` runs")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bad_file = Path(folder) / "bad.json"
        bad_file.write_text(json.dumps(BAD_SCENARIO), encoding="utf-8")
        todo = cases(options.lesson.resolve(), bad_file)
        times: dict[str, list[float]] = {name: [] for name, *_ in todo}
        for name, command, code, *_ in todo:  # warm
            timed(command, code)
        for _ in range(options.repeat):  # interleaved, so load on the machine falls on every case alike
            for name, command, code, *_ in todo:
                times[name].append(timed(command, code))
    baseline = statistics.median(times[todo[0][0]])
    print(f"{'case':<58} {'median s':>9} {'min s':>7} {'× numpy':>8}  target")
    for name, _, _, ratio, seconds in todo:
        median = statistics.median(times[name])
        target, met = "", True
        if ratio is not None:
            target, met = f"≤ {ratio:g}×", median <= ratio * baseline
        elif seconds is not None:
            target, met = f"≤ {seconds:g} s", median <= seconds
        verdict = "" if not target else ("  ok" if met else "  MISSED")
        print(f"{name[:58]:<58} {median:9.3f} {min(times[name]):7.3f} {median / baseline:8.2f}  {target}{verdict}")


if __name__ == "__main__":
    main()
