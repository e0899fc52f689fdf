"""Hardening figures, part 2 (issue 17): what is tried, and what each case must end with. Size
bombs, an `--out` that never destroys a file, and clean interrupts; hardening_report.py runs each
case in a fresh process (`gdstudio.cli.main(args)`, or a few lines of the studio's own path) and
prints the table.

A case passes when its process ends within HANG seconds with an expected exit code and no traceback
(a nonzero exit with one line on stderr: `error: ...` or `interrupted ...`), passes its own check,
and leaves every file it was given (and its scenario's CSV data) as it was, with no `.NAME.*.tmp`
behind: except the output it is meant to replace, which must then be complete.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HANG = 60.0  # seconds: a hang limit on a loaded two-core machine, not a speed
OLD = b"old,contents\nkeep,me\n"  # an existing --out file's bytes
CLI = "from gdstudio.cli import main\ncode = main(sys.argv[2:])"
STUDIO_OPEN = """from gdstudio.app.objectives import OBJECTIVES  # what File > Open does in its worker thread
from gdstudio.core.expression import ExpressionError
from gdstudio.core.scenario import ScenarioError, load
try:
    scenario = load(sys.argv[2])
    data = scenario.data.dataset if scenario.data else None
    OBJECTIVES.get(scenario.loss, scenario.variables, data.columns if data else (), data.values if data else None)
    code = 0
except (ScenarioError, ExpressionError) as error:
    print(str(error)[:200].replace(chr(10), " "), file=sys.stderr)
    code = 2"""
STUDIO_POWER = """import numpy as np
from gdstudio.core.expression import parse_objective
x = np.linspace(0, 1, 1000)
for text in ("mean((w*x+b-y)^1000)", "sum((w*x+b-y)^999)"):
    objective = parse_objective(text, columns=("x", "y"), data=np.array([x, 2 * x + 1]))
    print(objective.loss(1.0, 0.5), objective.grad(1.0, 0.5))
code = 0"""
SLOW_CRITICAL = "+".join(f"(a{i}^2-1)^2+sin(a{i}*a{(i + 1) % 20})" for i in range(20))  # ~4 s: 20 variables, the limit
SLOW_DERIVE = "+".join(f"log(1+exp(a{i}*b{i}-c{i}))^2" for i in range(60))  # ~3 s: 180 variables


@dataclass
class Case:
    name: str
    args: list  # the child's sys.argv[2:]; each Path that is a file (and its scenario's CSV) must keep its bytes
    expect: tuple[int, ...] = (0,)  # exit codes
    code: str = CLI  # what the child runs
    replaces: Path | None = None  # an existing output the case is meant to replace
    signal: int | None = None  # sent once when(pid) holds
    when: Callable[[int], bool] | None = None
    limit: int | None = None  # RLIMIT_FSIZE in the child (bytes)
    closed_stdout: bool = False
    check: Callable[[str, str], str | None] | None = None  # (stdout, stderr) -> what is wrong, or None
    kind: str = ""  # its class (size, --out, interrupt), set from CLASSES


def cpu_at_least(seconds: float) -> Callable[[int], bool]:
    """The child has used this much CPU time (its imports are behind it; the work is under way)."""
    def busy(pid: int) -> bool:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") >= seconds
    return busy


def temporary_written(out: Path) -> Callable[[int], bool]:
    """The atomic writer's `.NAME.*.tmp` beside `out` exists and holds rows."""
    def written(pid: int) -> bool:
        try:
            return any(p.stat().st_size > 0 for p in out.parent.glob(f".{out.name}.*.tmp"))
        except OSError:  # (renamed away between the listing and the stat)
            return False
    return written


# --- the cases ----------------------------------------------------------------------------------

def names(count: int, prefix: str = "a") -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


def squares(count: int) -> str:
    return "+".join(f"a{i}^2" for i in range(count))


def max_product(count: int) -> str:
    return "*".join(f"max(a{i}, a{i + 1}^2)" for i in range(count))


def run_of(optimizer: str, variables: list[str], start: float = 0.9, **hyper) -> dict:
    return {"label": optimizer, "optimizer": {"name": optimizer, **hyper}, "start": dict.fromkeys(variables, start)}


def scenario(path: Path, loss: str, runs: list[dict], max_steps: int = 20, **extra) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    stop = {"max_steps": max_steps, "grad_tol": None, "loss_tol": None, "divergence": None}
    path.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "name": path.stem, "loss": loss,
                                "runs": runs, "stop": stop, **extra}), encoding="utf-8")
    return path


def lines_are(count: int, out: Path) -> Callable[[str, str], str | None]:
    def complete(stdout: str, stderr: str) -> str | None:
        with out.open("rb") as stream:
            found = sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 24), b""))
        return None if found == count else f"{out.name} has {found:,} lines, not {count:,}"
    return complete


def says(start: str) -> Callable[[str, str], str | None]:
    return lambda stdout, stderr: None if stderr.startswith(start) else f"stderr does not start with {start!r}"


def size_cases(folder: Path) -> list[Case]:
    with (folder / "names.csv").open("w") as stream:  # 10,000,000 names (89 MB)
        for first in range(0, 10_000_000, 1_000_000):
            stream.write(",".join(f"c{i}" for i in range(first, first + 1_000_000)) + ("," if first < 9_000_000 else "\n1\n"))
    files = {"long": "c" * 10_000_000 + "\n1\n", "c51": ",".join(names(51, "c")) + "\n" + ",".join("1" * 51) + "\n",
             "limits": ",".join(names(50, "c")) + "\n" + (",".join(str(i % 10) for i in range(50)) + "\n") * 1_000_000,  # 100 MB
             "rows": "c0,c1\n" + "0.25,1\n" * 1_000_001, "logistic": "x,y\n" + "0.25,1\n-0.75,-1\n0.5,-1\n0.125,1\n" * 250_000}
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text)
    fit = [run_of("gd", ["w", "b"], 0.0, lr=0.01)]
    data = {name: scenario(folder / f"{name}.json", "mean((w*c0 + b - c1)^2)", fit, data={"csv": f"{name}.csv"})
            for name in ("names", "long", "c51", "limits", "rows")}
    logistic = scenario(folder / "logistic.json", "mean(log(1 + exp(-y*(w*x + b))))", fit, 1000,
                        data={"csv": "logistic.csv"})
    bomb = scenario(folder / "v5001.json", "x^2", [run_of("gd", ["x"], lr=0.1)], variables=["x", *names(5000, "v")])
    v257 = scenario(folder / "v257.json", "x^2", [run_of("gd", ["x"], lr=0.1)], variables=["x", *names(256, "v")])
    dense40 = scenario(folder / "dense40.json", f"({'+'.join(names(40))})^2+{squares(40)}", [run_of("newton", names(40))])
    endless = scenario(folder / "endless.json", "x^2 + y^2", [run_of("gd", ["x", "y"], lr=1e-3)], 1_000_000_000)
    many = scenario(folder / "many.json", "(1 - x)^2 + 100*(y - x^2)^2",
                    [{"label": f"r{i}", "optimizer": {"name": "adam", "lr": 1e-3}, "seed": i} for i in range(100)], 100_000)
    four = scenario(folder / "four.json", "x^2 + y^2", [run_of(o, ["x", "y"], lr=1e-9) for o in ("gd", "adam", "rmsprop", "sgd")],
                    1_000_000)
    product = "*".join(names(100))
    return [
        Case("variables: 5,001 names, loss x^2 (run)", ["run", bomb], (2,)),
        Case("variables: 5,001 names (sweep)", ["sweep", bomb], (2,)),
        Case("variables: 5,001 names (the studio's File > Open)", [bomb], (2,), code=STUDIO_OPEN),
        Case("variables: 257 names, one over the limit (run)", ["run", v257], (2,)),
        *(Case(f"a0^2+...+a{n - 1}^2, {o}{note}", ["run", scenario(folder / f"sq{n}{o}.json", squares(n),
               [run_of(o, names(n), lr=0.1)])], (2,) if "refused" in note else (0,)) for n, o, note in (
            (256, "gd", " (the variable limit)"), (240, "newton", " (refused)"), (240, "gd", ""), (64, "newton", " (its limit)"),
            (65, "newton", " (refused)"))),
        Case('derive "a0*a1*...*a99" (Hessian omitted)', ["derive", product]),
        Case('derive "a0*a1*...*a99" --at a_i=1', ["derive", product, "--at", ",".join(f"a{i}=1" for i in range(100))]),
        Case("derive a 60-term logistic sum (180 variables)", ["derive", SLOW_DERIVE]),
        Case("critical on a 100-variable sum (refused)", ["critical", squares(100)], (2,)),
        Case("critical on a 21-variable sum (refused)", ["critical", squares(21)], (2,)),
        Case("critical on a 20-variable quartic (the limit)", ["critical", SLOW_CRITICAL]),
        *(Case(f"product of {n} max(ai, ai+1^2), {o}", ["run", scenario(folder / f"max{n}{o}.json", max_product(n),
              [run_of(o, names(n + 1), lr=0.01)])], (0,) if n == 8 else (2,)) for n in (8, 16) for o in ("gd", "newton")),
        Case("critical on a product of 8 max(ai, ai+1^2)", ["critical", max_product(8)]),
        Case("CSV header of 10,000,000 names (89 MB)", ["run", data["names"]], (2,)),
        Case("CSV header: one name of 10,000,000 characters", ["run", data["long"]], (2,)),
        Case("CSV header of 51 names", ["run", data["c51"]], (2,)),
        Case("CSV of 1,000,000 rows x 50 columns (100 MB), --max-steps 3", ["run", data["limits"], "--max-steps", "3"]),
        Case("CSV of 1,000,001 rows (refused)", ["run", data["rows"]], (2,)),
        Case("sweep of a run with max_steps 1e9 (refused)", ["sweep", endless], (2,)),
        Case("sweep of that run, --max-steps 1000", ["sweep", endless, "--max-steps", "1000"]),
        Case("sweep --max-steps 1e9 (refused)", ["sweep", many, "--max-steps", "1e9"], (2,)),
        Case("sweep --lr 1e-4:1:10001 (refused)", ["sweep", endless, "--lr", "1e-4:1:10001", "--max-steps", "10"], (2,)),
        Case("sweep over 1,000,000 rows: 13 rates x 1,000 steps (refused: ~2 min)", ["sweep", logistic], (2,)),
        Case("sweep over 1,000,000 rows: 13 rates x 20 steps", ["sweep", logistic, "--max-steps", "20"]),
        Case("sweep newton, dense 40-variable Hessian, 10,000 rates x 1,000 steps (refused: ~2 min)",
             ["sweep", dense40, "--lr", "1e-3:1:10000", "--max-steps", "1000"], (2,)),
        Case("sweep newton, dense 40-variable Hessian, 1,000 rates x 100 steps",
             ["sweep", dense40, "--lr", "1e-3:1:1000", "--max-steps", "100"]),
        Case("100 runs x 100,000 steps (no --out)", ["run", many]),
        Case("run --out: 4 runs x 1,000,000 steps", ["run", four, "--out", folder / "four.csv"],
             check=lines_are(4 * 1_000_001 + 1, folder / "four.csv")),
        Case("studio: mean((w*x+b-y)^1000), sum(...^999), 1,000 rows", [], code=STUDIO_POWER),
    ]


def out_cases(folder: Path) -> list[Case]:
    def kept(name: str) -> Path:  # an existing output, in a folder of its own
        (folder / name).mkdir()
        (folder / name / "t.csv").write_bytes(OLD)
        return folder / name / "t.csv"

    simple = scenario(folder / "s.json", "(1 - x)^2 + 100*(y - x^2)^2", [run_of("gd", ["x", "y"], -1.5, lr=1e-3)], 20_000)
    (folder / "sub").mkdir()
    os.symlink(simple, folder / "link.json")
    os.link(simple, folder / "hard.json")
    points = folder / "data" / "points.csv"
    points.parent.mkdir()
    points.write_text("x,y\n1,2\n2,4\n3,7\n")
    fit = scenario(folder / "fit.json", "mean((w*x - y)^2)", [run_of("gd", ["w"], 0.0, lr=0.01)], data={"csv": "data/points.csv"})
    outs = {name: kept(name) for name in ("limit", "closed", "term", "int", "replaced")}
    endless = {name: scenario(folder / name / "s.json", "x^2 + y^2", [run_of("gd", ["x", "y"], lr=1e-3)], 1_000_000_000)
               for name in ("term", "int")}
    return [
        Case("run s.json --out s.json", ["run", simple, "--out", simple], (2,)),
        *(Case(f"--out {how} s.json", ["run", simple, "--out", out], (2,)) for how, out in (
            ("a symbolic link to", folder / "link.json"), ("a hard link to", folder / "hard.json"),
            ("sub/../ to", folder / "sub" / ".." / "s.json"))),
        Case("--out onto the scenario's CSV data file", ["run", fit, "--out", points], (2,)),
        Case("--out onto data/./points.csv", ["run", fit, "--out", folder / "data" / "." / "points.csv"], (2,)),
        Case("--out past a 64 kB file-size limit (RLIMIT_FSIZE)", ["run", simple, "--out", outs["limit"]], (2,),
             limit=64 * 1024, check=says("error: --out: cannot write")),
        *(Case(f"{what} while --out is being written", ["run", endless[name], "--out", outs[name]], (code,), signal=number,
               when=temporary_written(outs[name]), check=says("interrupted at step")) for what, name, number, code in (
            ("SIGTERM", "term", signal.SIGTERM, 143), ("Ctrl+C (SIGINT)", "int", signal.SIGINT, 130))),
        Case("closed stdout, with --out onto an existing file", ["run", simple, "--out", outs["closed"]], (1,),
             closed_stdout=True),
        *(Case(label, args, (2,), check=says("error: ")) for label, args in (
            ('--out ""', ["run", simple, "--out", ""]), ('--out " "', ["run", simple, "--out", " "]), ('run ""', ["run", ""]),
            ('sweep ""', ["sweep", ""]), ("--out a folder", ["run", simple, "--out", folder / "sub"]))),
        Case("--out into a missing folder", ["run", simple, "--out", folder / "missing" / "t.csv"], (2,)),
        Case("--out /dev/full (a device: written, not replaced)", ["run", simple, "--out", "/dev/full"], (2,),
             check=lambda out, err: None if Path("/dev/full").is_char_device() else "/dev/full is no longer a device"),
        Case("--out replacing an existing file (completes)", ["run", simple, "--out", outs["replaced"]],
             replaces=outs["replaced"], check=lines_are(20_002, outs["replaced"])),
    ]


def interrupt_cases(folder: Path) -> list[Case]:
    endless = scenario(folder / "endless.json", "x^2 + y^2", [run_of("gd", ["x", "y"], lr=1e-3)], 1_000_000_000)
    (folder / "logistic.csv").write_text("x,y\n" + "0.25,1\n-0.75,-1\n0.5,-1\n0.125,1\n" * 250_000)
    logistic = scenario(folder / "logistic.json", "mean(log(1 + exp(-y*(w*x + b))))", [run_of("gd", ["w", "b"], 0.0, lr=0.1)],
                        1000, data={"csv": "logistic.csv"})
    commands = {  # the arguments, and the CPU seconds the child has used when the signal is sent
        "run": (["run", endless], 1.5),
        "sweep": (["sweep", endless, "--lr", "1e-3:1e-2:2", "--max-steps", "99999999"], 3.0),
        "a sweep over 1,000,000 rows": (["sweep", logistic, "--max-steps", "400"], 5.0),
        "critical (a 20-variable quartic)": (["critical", SLOW_CRITICAL], 2.0),
        "derive (a 60-term logistic sum)": (["derive", SLOW_DERIVE], 1.5),
    }
    return [Case(f"{name} during {command}", args, (code,), signal=number, when=cpu_at_least(cpu), check=says("interrupted"))
            for command, (args, cpu) in commands.items()
            for name, number, code in (("Ctrl+C", signal.SIGINT, 130), ("SIGTERM", signal.SIGTERM, 143))]


CLASSES = (("size", size_cases), ("--out", out_cases), ("interrupt", interrupt_cases))  # (class, its cases in a folder)
