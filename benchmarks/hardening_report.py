"""Hardening figures. Issue 8: how many hostile inputs and malformed files the tests try, what
became of each when tried here, and the peak memory of a 10,000,000-step run. Issue 17 (second
part, benchmarks/hardening_cases.py): size bombs, `--out` and interrupts, each in a fresh process,
with exit codes, hangs, peak memory and files damaged, and the inputs its new tests try.

    python benchmarks/hardening_report.py [--issue-17]    (several minutes; --issue-17: the second part only)

The corpora are the tests' own lists (tests/core/test_hardening.py and tests/core/test_parse.py),
imported, counted and run again here, so the figures follow the tests. Peak memory is the
resident-set high-water mark of a fresh process for each run: its own VmHWM (/proc/self/status),
not ru_maxrss, which Linux carries over from the parent across exec.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import hardening_cases as cases

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = ("tests/core/test_hardening_size.py", "tests/core/test_hardening_files.py",
              "tests/core/test_hardening_numbers.py", "tests/test_cli_hardening.py")  # issue 17's


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
import sys, time
from gdstudio.core.runner import run_scenario
from gdstudio.core.scenario import RunSpec, Scenario, StopRules
steps = int(sys.argv[1])
def vmhwm():  # this process's own peak (kB); ru_maxrss would be the parent's, carried over exec
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
scenario = Scenario("x^2 + y^2", runs=(RunSpec("gd", "gd", {"lr": 1e-9}, {"x": 1, "y": 1}),),
                    stop=StopRules(max_steps=steps, grad_tol=None))
before = vmhwm()
began = time.perf_counter()
(run,) = run_scenario(scenario)
elapsed = time.perf_counter() - began
print(before, vmhwm(), run.steps, len(run.trajectory), elapsed, run.status)
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


# --- issue 17: each case of hardening_cases in a fresh process ---------------------------------------

# A case's child: its code (the body, which sets `code`), then its own peak memory written to sys.argv[1].
PROLOGUE = """
import sys
code = 1
try:
{body}
finally:  # this process's own high-water mark, in kB
    with open("/proc/self/status") as status:
        hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    with open(sys.argv[1], "w") as peak:
        peak.write(str(hwm))
sys.exit(code)
"""


@dataclass
class Result:
    case: cases.Case
    code: int | None
    seconds: float
    peak_mb: float
    verdict: str
    damaged: int
    note: str


def fingerprint(path: Path) -> tuple[int, str] | None:
    """A file's size and SHA-256, or None when it is gone."""
    try:
        with path.open("rb") as stream:
            return os.fstat(stream.fileno()).st_size, hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def inputs(case: cases.Case) -> set[Path]:
    """The files a case must leave as they are: the files among its arguments and the CSV data of its scenarios."""
    found = {p.resolve() for p in case.args if isinstance(p, Path) and p.is_file()}
    for path in [p for p in found if p.suffix == ".json"]:
        data = json.loads(path.read_text()).get("data") or {}
        found |= {(path.parent / data["csv"]).resolve()} if "csv" in data else set()
    return found - {case.replaces.resolve() if case.replaces else None}


def proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except OSError:  # (gone)
        return ""


def stderr_problem(err: str, code: int) -> str | None:
    lines = err.splitlines()
    if "Traceback" in err:
        return "a traceback on stderr"
    if code != 0 and len(lines) != 1:
        return f"{len(lines)} lines on stderr"
    return "a line over 300 characters" if any(len(line) > 300 for line in lines) else None


def run_case(case: cases.Case, folder: Path, logs: Path, index: int) -> Result:
    """HANG: not ended after cases.HANG seconds (its process group is then killed). Peak: the VmHWM the
    child writes in its `finally` (of a killed child, the last seen in /proc/<pid>/status). Damaged:
    each of its inputs whose bytes changed or that is gone, and each `.NAME.*.tmp` it left."""
    before = {path: fingerprint(path) for path in sorted(inputs(case))}
    temporaries = set(folder.rglob(".*.tmp"))
    peak_file, out_file, err_file = (logs / f"{index}.{suffix}" for suffix in ("peak", "out", "err"))

    def inside() -> None:  # in the child, before exec
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl+C as in a terminal (a background shell may ignore it)
        if case.limit:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.limit, case.limit))
        if case.closed_stdout:
            os.close(1)

    body = textwrap.indent(case.code, "    ")
    command = [sys.executable, "-c", PROLOGUE.format(body=body), str(peak_file), *map(str, case.args)]
    with out_file.open("wb") as out, err_file.open("wb") as err:
        began = time.perf_counter()
        child = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stderr=err, start_new_session=True,
                                 stdout=subprocess.DEVNULL if case.closed_stdout else out,
                                 preexec_fn=inside)  # noqa: PLW1509 (this process starts no threads)
        seen, sent, hang = 0, None, False
        while child.poll() is None and not hang:
            status = proc(child.pid, "status").splitlines()
            seen = max([seen, *(int(line.split()[1]) for line in status if line.startswith("VmHWM"))])
            if case.signal and sent is None and case.when(child.pid):
                child.send_signal(case.signal)
                sent = time.perf_counter() - began
            if hang := time.perf_counter() - began > cases.HANG:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            time.sleep(0.05)
        seconds = time.perf_counter() - began
    stdout, stderr = (path.read_text(errors="replace") for path in (out_file, err_file))
    peak_mb = (seen if hang or not peak_file.exists() else int(peak_file.read_text())) / 1024
    changed = [path.name for path, known in before.items() if fingerprint(path) != known]
    left = [path.name for path in set(folder.rglob(".*.tmp")) - temporaries]
    notes = [f"{path.name} {known[0]:,} B sha256 {known[1][:8]} {'CHANGED' if path.name in changed else 'kept'}"
             for path, known in before.items() if case.kind == "--out"] + [f"left {name}" for name in left]
    if case.replaces and case.replaces.exists():
        notes.append(f"{case.replaces.name} replaced ({case.replaces.stat().st_size:,} B)")
    if sent is not None:
        notes.append(f"signal at {sent:.1f} s")
    code, verdict = (None, "HANG") if hang else (child.returncode, "DAMAGED" if changed or left else "ok")
    if verdict == "ok" and code not in case.expect:
        verdict = "unexpected exit"
        notes.append(f"expected {case.expect}; {stderr.strip()[:120]!r}")
    elif verdict == "ok" and (problem := stderr_problem(stderr, code) or (case.check and case.check(stdout, stderr))):
        verdict = "unexpected output"
        notes.append(problem)
    return Result(case, code, seconds, peak_mb, verdict, len(changed) + len(left), "; ".join(notes))


def results(progress: Callable[[Result], None]) -> list[Result]:
    """Every case, one after the other, each class in a fresh folder."""
    found = []
    with tempfile.TemporaryDirectory(prefix="gdstudio-hardening-") as top:
        (Path(top) / "logs").mkdir()
        for kind, build in cases.CLASSES:
            folder = Path(top) / kind.strip("-")
            folder.mkdir()
            for case in build(folder):
                case.kind = kind
                found.append(run_case(case, folder, Path(top) / "logs", len(found)))
                progress(found[-1])
    return found


def test_counts() -> dict[str, int]:
    """Collected test ids (each parametrized input one) per file of the issue's new hardening tests."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0", "-p", "no:cacheprovider",
                           *TEST_FILES],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    ids = [line.split("::", 1)[0] for line in done.stdout.splitlines() if "::" in line]
    return {name: ids.count(name) for name in TEST_FILES}


def issue_17() -> None:
    print(f"\nIssue 17: size bombs, --out, interrupts, each case in a fresh process (hang limit {cases.HANG:.0f} s)")
    print(f"{'case':<68} {'class':<9} {'exit':>4} {'s':>6} {'peak MB':>7}  verdict  note")

    def row(r: Result) -> None:
        code = "-" if r.code is None else r.code
        print(f"{r.case.name:<68} {r.case.kind:<9} {code:>4} {r.seconds:6.1f} {r.peak_mb:7.0f}  {r.verdict}"
              + (f"  ({r.note})" if r.note else ""), flush=True)

    done = results(row)
    counts = test_counts()
    kinds = {kind: sum(r.case.kind == kind for r in done) for kind, _ in cases.CLASSES}
    peak = max(done, key=lambda r: r.peak_mb)
    others = max((r for r in done if "1,000,000 rows x 50" not in r.case.name), key=lambda r: r.peak_mb)
    print("Test ids collected (pytest --collect-only; each parametrized input one): "
          + ", ".join(f"{Path(name).name} {count}" for name, count in counts.items()) + f"; total {sum(counts.values())}")
    print(f"Inputs tried: {len(done)} cases here ({', '.join(f'{kind} {n}' for kind, n in kinds.items())}) "
          f"+ {sum(counts.values())} test ids = {len(done) + sum(counts.values())}")
    print(f"Hangs: {sum(r.verdict == 'HANG' for r in done)}; files damaged: {sum(r.damaged for r in done)}; "
          f"unexpected exits or output: {sum(r.verdict not in ('ok', 'HANG', 'DAMAGED') for r in done)}")
    print(f"Largest peak memory: {peak.peak_mb:.0f} MB ({peak.case.name}); "
          f"the largest of the others: {others.peak_mb:.0f} MB ({others.case.name})")
    print("(The issue's `run --out` of 4 runs x 10,000,000 steps is the 4 x 1,000,000 case x10: ~4 min of formatting.)")


if __name__ == "__main__":
    if "--issue-17" not in sys.argv[1:]:  # (--issue-17: the second part only)
        main()
    issue_17()
