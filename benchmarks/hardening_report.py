"""Hardening figures (issue 8): how many hostile inputs and malformed files the tests try, what
became of each when tried here, and the peak memory of a 10,000,000-step run.

    python benchmarks/hardening_report.py

The corpora are the tests' own lists (tests/core/test_hardening.py and tests/core/test_parse.py),
imported, counted and run again here, so the figures follow the tests. Peak memory is the
resident-set high-water mark (resource.getrusage ru_maxrss) of a fresh process for each run.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "core" / f"{name}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def hostile_figures(hardening, parse) -> dict:
    from gdstudio.core.expression import ExpressionError, parse_objective

    strings = {
        "test_hardening: HOSTILE + IN_PROCESS_ONLY (each through `derive` and `run`)": hardening.HOSTILE + hardening.IN_PROCESS_ONLY,
        "test_parse: ERRORS": [text for text, _, _ in parse.ERRORS],
        "test_parse: REFUSED_QUICKLY": parse.REFUSED_QUICKLY,
        "test_parse: NUMERIC_HAZARDS": parse.NUMERIC_HAZARDS,
        "test_parse: HOSTILE": parse.HOSTILE,
    }
    marker = "/nonexistent/pwned"
    outcome = {"refused": 0, "accepted": 0, "other exception": 0}
    slowest = 0.0
    distinct = set()
    for texts in strings.values():
        for template in texts:
            text = template.format(marker=marker) if "{marker}" in template else template
            distinct.add(text)
            began = time.perf_counter()
            try:
                parse_objective(text)
                outcome["accepted"] += 1
            except ExpressionError:
                outcome["refused"] += 1
            except Exception:  # noqa: BLE001 - counted: the figure says whether there were any
                outcome["other exception"] += 1
            slowest = max(slowest, time.perf_counter() - began)
    listed = {name: len(texts) for name, texts in strings.items()}
    extra = {
        "test_hardening: --at points": len(hardening.AT_POINTS),
        "test_hardening: unicode spaces (refused or parsed, cleanly)": len(hardening.EITHER),
        "test_hardening: in a real process (derive and run each)": len(hardening.SUBPROCESS),
        "test_parse: hypothesis examples (two fuzzers x 300)": 600,
    }
    return {"listed": listed, "distinct strings": len(distinct), "parsed here": outcome,
            "slowest parse (s)": round(slowest, 3), "also tried by the tests": extra,
            "total tried by the tests": sum(listed.values()) + sum(extra.values())}


def malformed_figures(hardening) -> dict:
    from gdstudio.core import scenario as S

    documents: list[tuple[str, bytes]] = []
    for param in hardening.WRONG_TYPES:
        base_name, path, keys, wrong = param.values
        documents.append(("wrong type", json.dumps(hardening.replaced(hardening.BASES[base_name], keys, wrong)).encode()))
    for param in hardening.MISSING:
        base_name, path, keys = param.values
        documents.append(("missing field", json.dumps(hardening.replaced(hardening.BASES[base_name], keys)).encode()))
    for cut in hardening.TRUNCATIONS:
        documents.append(("truncated", json.dumps(hardening.BASE)[:cut].encode()))
    for case, text in hardening.MALFORMED.items():
        documents.append(("malformed", hardening.BYTES[case] if case in hardening.BYTES else text.encode("utf-8", "surrogatepass")))
    outcome: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for kind, content in documents:
            path = Path(folder) / "s.json"
            path.write_bytes(content)
            counts = outcome.setdefault(kind, {"ScenarioError": 0, "loaded (valid)": 0, "other exception": 0})
            try:
                S.load(path)
                counts["loaded (valid)"] += 1
            except S.ScenarioError:
                counts["ScenarioError"] += 1
            except Exception:  # noqa: BLE001
                counts["other exception"] += 1
    csv_files = len(hardening.CSV_CASES) + 1  # + the sparse file over the size limit
    bug_files = hardening.BUG_FILES  # files that reproduced the engine bugs found (fixed; now regression tests)
    other = 1 + 2  # the 50 MB file, a missing file and a directory
    tried_here = sum(sum(c.values()) for c in outcome.values())
    return {"scenario documents tried here": outcome, "CSV data files (tests)": csv_files,
            "files of the engine bugs found (regression tests)": bug_files, "huge/unreadable files (tests)": other,
            "total tried by the tests": tried_here + csv_files + bug_files + other}


PEAK = """
import resource, sys, time
from gdstudio.core.runner import run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules
steps = int(sys.argv[1])
scenario = Scenario("x^2 + y^2", runs=(RunSpec("gd", "gd", {"lr": 1e-9}, {"x": 1, "y": 1}),),
                    stop=StopRules(max_steps=steps, grad_tol=None))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
began = time.perf_counter()
(run,) = run_scenario(scenario)
elapsed = time.perf_counter() - began
print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, run.steps, len(run.trajectory), elapsed, run.status)
"""


def peak_memory(steps: int) -> dict:
    done = subprocess.run([sys.executable, "-c", PEAK, str(steps)], capture_output=True, text=True, check=True, cwd=ROOT)
    before, after, done_steps, rows, elapsed, status = done.stdout.split()
    return {"steps": int(done_steps), "status": status, "rows kept": int(rows), "seconds": round(float(elapsed), 2),
            "peak RSS before the run (MB)": round(int(before) / 1024, 1), "peak RSS (MB)": round(int(after) / 1024, 1)}


def main() -> None:
    hardening, parse = module("test_hardening"), module("test_parse")
    hostile = hostile_figures(hardening, parse)
    malformed = malformed_figures(hardening)
    long_run, short_run = peak_memory(10_000_000), peak_memory(1_000)
    print("Hostile inputs")
    print(json.dumps(hostile, indent=2, ensure_ascii=False))
    print("Malformed files")
    print(json.dumps(malformed, indent=2))
    print("Peak memory, each run in a fresh process")
    for run in (long_run, short_run):
        print(json.dumps(run))
    print(f"10,000,000 steps vs 1,000 steps: {long_run['peak RSS (MB)']:.0f} MB vs {short_run['peak RSS (MB)']:.0f} MB "
          f"(x{long_run['peak RSS (MB)'] / short_run['peak RSS (MB)']:.2f}); "
          f"the trajectory keeps {long_run['rows kept']:,} of {long_run['steps'] + 1:,} rows")


if __name__ == "__main__":
    main()
