"""The command line under hostile conditions: `run --out` never destroys a file and streams every
step, interrupts end in one line (130 / 143), sweeps are bounded, one number rule, short error
lines, the loss's warnings, and a stdout that cannot be written. Real processes where signals,
file-size limits or closed descriptors are the point; in-process (gdstudio.cli.main) elsewhere."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gdstudio import cli as C
from gdstudio import commands
from gdstudio.cli import main
from gdstudio.core import analysis, expression, sweeps
from gdstudio.core import scenario as S
from gdstudio.core.export import trajectories_csv
from gdstudio.core.runner import RunProgress, ScenarioRunner, Scratch, run_scenario
from gdstudio.core.trajectory import GRAD_NORM, LOSS, LR, PARAMS

ROOT = Path(__file__).resolve().parents[1]
HANG = 300  # seconds: a hang limit for real processes on a loaded machine, never a speed claim


def scenario(path: Path, loss: str = "(1 - x)^2 + 100*(y - x^2)^2", runs: list | None = None, max_steps: int = 200,
             divergence: float | None = 1e12, **extra) -> Path:
    document = {"format": "gdstudio-scenario", "version": 1, "name": "hardening", "loss": loss,
                "runs": runs if runs is not None else [
                    {"label": "gd", "optimizer": {"name": "gd", "lr": 0.001}, "start": {"x": -1.5, "y": 2.0}}],
                "stop": {"max_steps": max_steps, "grad_tol": None, "loss_tol": None, "divergence": divergence}, **extra}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err[:-1]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def process(*args, **options) -> subprocess.Popen:
    """`python -m gdstudio ...` with Ctrl+C delivered as in a terminal (a shell that started us in the
    background may have left SIGINT ignored, which Python would then keep)."""
    def default_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if "limit" in options:
            import resource
            resource.setrlimit(resource.RLIMIT_FSIZE, (options["limit"], options["limit"]))

    return subprocess.Popen([sys.executable, "-m", "gdstudio", *map(str, args)], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=options.get("stdout", subprocess.PIPE), stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)  # noqa: PLW1509 (the test starts no threads)


def old_trajectories_csv(runs) -> str:
    """export.trajectories_csv as committed before streaming (d81a3b0), the bytes `run --out` must keep."""
    runs = list(runs)
    variables = runs[0].objective.variables if runs else ()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["run", "step", "loss", "grad_norm", "lr", *variables])
    for run in runs:
        for step, row in zip(run.trajectory.steps.tolist(), run.trajectory.rows.tolist()):
            writer.writerow([run.label, step, *map(repr, (row[LOSS], row[GRAD_NORM], row[LR], *row[PARAMS:]))])
    return buffer.getvalue()


# --- the CSV: streamed, every step, the same bytes ---------------------------------------------

AWKWARD = [  # labels csv must quote, a run that overflows (inf, nan), one on data-free random starts
    {"label": 'say "hi", twice', "optimizer": {"name": "adam", "lr": 0.05}, "start": {"x": 0.5, "y": -0.5}},
    {"label": "blows\nup", "optimizer": {"name": "gd", "lr": 0.5}, "start": {"x": 3.0, "y": 3.0}},
    {"label": "plain", "optimizer": {"name": "sgd", "lr": 0.0002, "momentum": 0.95}, "seed": 7},
]


def test_the_streamed_csv_has_the_bytes_of_the_committed_export(tmp_path, capsys) -> None:
    path = scenario(tmp_path / "s.json", runs=AWKWARD, max_steps=700, divergence=None, view={"x": [-2, 2], "y": [-1, 3]})
    out = tmp_path / "t.csv"
    code, _, err = cli(capsys, "run", path, "--out", out)
    assert code == 0 and err == ""
    runs = run_scenario(S.load(path))
    assert any(not np.isfinite(r.trajectory.rows).all() for r in runs)  # inf / nan rows are in the comparison
    expected = old_trajectories_csv(runs)
    assert trajectories_csv(runs) == expected
    assert out.read_bytes() == expected.encode("utf-8")


def test_a_streamed_out_writes_every_step_past_the_row_budget(tmp_path, capsys, monkeypatch) -> None:
    """The studio thins very long runs; --out writes every step, as the README says."""
    monkeypatch.setattr("gdstudio.core.runner.row_limit", lambda runs: 1000)
    path = scenario(tmp_path / "s.json", max_steps=4000)
    out = tmp_path / "t.csv"
    assert cli(capsys, "run", path, "--out", out)[0] == 0
    steps = [int(row[1]) for row in list(csv.reader(io.StringIO(out.read_text())))[1:]]
    assert steps == list(range(4001))
    (kept,) = run_scenario(S.load(path))
    assert kept.trajectory.thinned  # (what the studio would show instead)


def test_a_runner_without_rows_hands_out_the_same_chunks_and_keeps_one_scratch() -> None:
    document = S.loads(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "x^2 + 3*y^2", "runs": [
        {"optimizer": {"name": "gd", "lr": 0.01}, "start": {"x": 1, "y": 1}},
        {"optimizer": {"name": "adam", "lr": 0.1}, "start": {"x": -1, "y": 2}}],
        "stop": {"max_steps": 5000, "grad_tol": None}}))
    kept = ScenarioRunner(document).run_to_end(chunk=777)
    streaming = ScenarioRunner(document, keep_rows=False)
    scratches = {id(r.trajectory) for r in streaming.runs}
    assert len(scratches) == 1 and isinstance(streaming.runs[0].trajectory, Scratch)
    for mine, theirs in zip(streaming.runs, kept):
        rows = []
        while not mine.done:
            rows.append(mine.advance(300).rows)
        assert np.array_equal(np.concatenate(rows), theirs.trajectory.rows)
        assert np.array_equal(mine.last_row, theirs.trajectory.rows[-1])
        assert (mine.steps, mine.status, mine.reason) == (theirs.steps, theirs.status, theirs.reason)
    assert len(streaming.runs[0].trajectory.reserve(1)) == 1 and streaming.runs[0].trajectory._rows.shape[0] == 1024


def test_many_runs_without_out_keep_no_rows(tmp_path, capsys, monkeypatch) -> None:
    """The summary needs each run's last row only: no trajectory is built (the 100-run case kept 1 GB)."""
    runs = [{"label": f"r{i}", "optimizer": {"name": "adam", "lr": 0.01}, "seed": i} for i in range(30)]
    expected = run_scenario(S.load(scenario(tmp_path / "s.json", runs=runs, max_steps=300)))
    made = []
    monkeypatch.setattr("gdstudio.core.runner.Trajectory", lambda *a, **k: made.append(1))
    code, out, _ = cli(capsys, "run", tmp_path / "s.json", "--json")
    assert code == 0 and made == []
    summary = json.loads(out)["runs"]
    assert [item["final_loss"] for item in summary] == [float(r.trajectory.loss[-1]) for r in expected]
    assert [item["final"] for item in summary] == [r.trajectory.final() for r in expected]


# --- --out never destroys anything ---------------------------------------------------------------

OLD = b"old,contents\nkeep,me\n"


def test_a_file_size_limit_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    """ulimit -f: the write fails with EFBIG (the CLI ignores SIGXFSZ, which would kill it before it
    could clean up); the old file keeps its bytes and the temporary file is gone."""
    path = scenario(tmp_path / "s.json", max_steps=20_000)
    out = tmp_path / "t.csv"
    out.write_bytes(OLD)
    child = process("run", path, "--out", out, limit=64 * 1024)
    _, err = child.communicate(timeout=HANG)
    assert child.returncode == 2
    assert one_line(err).startswith(f"error: --out: cannot write {out}: File too large")
    assert out.read_bytes() == OLD and leftovers(tmp_path) == []


def test_a_failing_write_in_process_leaves_the_old_file(tmp_path, capsys, monkeypatch) -> None:
    from gdstudio.core import export

    calls = []

    def full_disk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    real = export.csv_rows
    monkeypatch.setattr(export, "csv_rows", full_disk)
    monkeypatch.setattr(commands, "CHUNK_BYTES", 48 * 100)  # 100 rows a chunk: several chunks
    out = tmp_path / "t.csv"
    out.write_bytes(OLD)
    os.chmod(out, 0o640)
    code, stdout, err = cli(capsys, "run", scenario(tmp_path / "s.json", max_steps=1000), "--out", out)
    assert (code, stdout) == (2, "") and one_line(err) == f"error: --out: cannot write {out}: No space left on device"
    assert out.read_bytes() == OLD and stat.S_IMODE(out.stat().st_mode) == 0o640 and leftovers(tmp_path) == []
    monkeypatch.setattr(export, "csv_rows", real)
    assert cli(capsys, "run", tmp_path / "s.json", "--out", out)[0] == 0
    assert out.read_text().count("\n") == 1002 and stat.S_IMODE(out.stat().st_mode) == 0o640  # replaced, mode kept


def test_an_out_file_that_is_an_input_is_refused_however_it_is_spelt(tmp_path, capsys) -> None:
    path = scenario(tmp_path / "s.json")
    before = path.read_bytes()
    (tmp_path / "sub").mkdir()
    os.symlink(path, tmp_path / "link.json")
    os.link(path, tmp_path / "hard.json")
    for out in (path, tmp_path / "sub" / ".." / "s.json", tmp_path / "link.json", tmp_path / "hard.json"):
        code, stdout, err = cli(capsys, "run", path, "--out", out)
        assert (code, stdout) == (2, "")
        assert one_line(err) == f"error: --out: {out} is the scenario file; write the CSV to another file"
    assert path.read_bytes() == before and leftovers(tmp_path) == []


def test_the_scenarios_data_file_is_refused_as_out(tmp_path, capsys) -> None:
    data = tmp_path / "data" / "points.csv"
    data.parent.mkdir()
    data.write_text("x,y\n1,2\n2,4\n3,7\n")
    path = scenario(tmp_path / "fit.json", loss="mean((w*x - y)^2)", data={"csv": "data/points.csv"},
                    runs=[{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"w": 0}}])
    before = data.read_bytes()
    for out in (data, tmp_path / "data" / "." / "points.csv"):
        code, _, err = cli(capsys, "run", path, "--out", out)
        assert code == 2 and one_line(err) == f"error: --out: {out} is the scenario's data file; write the CSV to another file"
    assert data.read_bytes() == before
    assert cli(capsys, "run", path, "--out", tmp_path / "data" / "fit.csv")[0] == 0  # beside it is fine


def test_a_symbolic_link_as_out_replaces_the_file_it_names_and_stays_a_link(tmp_path, capsys) -> None:
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_bytes(OLD)
    os.symlink(target, link)
    assert cli(capsys, "run", scenario(tmp_path / "s.json", max_steps=3), "--out", link)[0] == 0
    assert link.is_symlink() and target.read_text().startswith("run,step,loss")


def test_a_device_as_out_is_written_not_replaced(tmp_path, capsys) -> None:
    """Renaming a temporary file onto /dev/null would replace the device (as root, that succeeds)."""
    assert cli(capsys, "run", scenario(tmp_path / "s.json", max_steps=3), "--out", "/dev/null")[0] == 0
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    if Path("/dev/full").exists():
        code, _, err = cli(capsys, "run", tmp_path / "s.json", "--out", "/dev/full")
        assert code == 2 and one_line(err) == "error: --out: cannot write /dev/full: No space left on device"
        assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.parametrize("args, message", [
    (["run", "{file}", "--out", ""], "error: --out: the file name is empty"),
    (["run", "{file}", "--out", " "], "error: --out: the file name is empty"),
    (["run", ""], "error: the scenario file name is empty"),
    (["sweep", ""], "error: the scenario file name is empty"),
    (["run", "{file}", "--out", "{dir}"], "error: --out: {dir} is a folder"),
])
def test_empty_names_and_folders_get_one_clear_line(args, message, tmp_path, capsys) -> None:
    names = {"file": scenario(tmp_path / "s.json"), "dir": tmp_path}
    code, out, err = cli(capsys, *[a.format(**names) for a in args])
    assert (code, out) == (2, "") and one_line(err) == message.format(**names)


# --- interrupts ----------------------------------------------------------------------------------


def wait_for(condition, child: subprocess.Popen) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.05)


@pytest.mark.parametrize("signal_number, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_run_out_is_one_line_and_leaves_the_file(tmp_path, signal_number, code) -> None:
    path = scenario(tmp_path / "s.json", loss="x^2 + y^2", max_steps=1_000_000_000,
                    runs=[{"label": "endless", "optimizer": {"name": "gd", "lr": 0.001}, "start": {"x": 1, "y": 1}}])
    out = tmp_path / "t.csv"
    out.write_bytes(OLD)
    child = process("run", path, "--out", out)
    temporary = lambda: [p for p in tmp_path.glob(".t.csv.*.tmp") if p.stat().st_size > 0]  # (rows are going out)
    wait_for(temporary, child)
    child.send_signal(signal_number)
    stdout, err = child.communicate(timeout=HANG)
    assert child.returncode == code and stdout == ""
    line = one_line(err)
    assert line.startswith("interrupted at step ") and line.endswith(f"of run 1 of 1 (endless); {out} was not written")
    assert out.read_bytes() == OLD and leftovers(tmp_path) == []


@pytest.mark.slow
def test_ctrl_c_during_a_sweep_is_one_line(tmp_path) -> None:
    """(Where the signal lands, in the imports or in the sweep, depends on the machine: either way one line.)"""
    path = scenario(tmp_path / "s.json", loss="x^2 + y^2", runs=[{"optimizer": {"name": "gd"}, "start": {"x": 1, "y": 1}}])
    child = process("sweep", path, "--lr", "1e-3:1e-2:2", "--max-steps", "99999999")
    wait_for(lambda: cpu_seconds(child.pid) >= 4, child)
    child.send_signal(signal.SIGINT)
    stdout, err = child.communicate(timeout=HANG)
    assert child.returncode == 130 and stdout == "" and one_line(err).startswith("interrupted")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def interrupt_on_call(monkeypatch, owner: object, name: str, calls: int = 1, exception: type = KeyboardInterrupt,
                      before=None) -> None:
    """Replace owner.name (a module's function or a class's method) so that its calls-th call raises
    (after calling `before` with its arguments)."""
    real = getattr(owner, name)
    count = []

    def wrapper(*args, **kwargs):
        count.append(1)
        if len(count) == calls:
            if before:
                before(*args, **kwargs)
            raise exception
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


def test_interrupts_name_the_run_and_step_in_process(tmp_path, capsys, monkeypatch) -> None:
    path = scenario(tmp_path / "s.json", runs=AWKWARD[:1] + [{"label": "second", "optimizer": {"name": "gd", "lr": 1e-4},
                                                              "start": {"x": 0, "y": 0}}], max_steps=50)
    interrupt_on_call(monkeypatch, RunProgress, "advance", calls=3)
    monkeypatch.setattr(commands, "CHUNK_SECONDS", 1e-9)  # chunks of one step: the third call would take the third step
    before = signal.getsignal(signal.SIGTERM)
    code, out, err = cli(capsys, "run", path)
    assert (code, out) == (130, "")
    assert one_line(err) == 'interrupted at step 2 of run 1 of 2 (say "hi", twice)'
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is the CLI's only while it works


@pytest.mark.parametrize("command, owner, name", [
    (["derive", "x^2 + y^2", "--at", "x=1,y=2"], expression, "parse_objective"),
    (["critical", "x^2 - y^2"], analysis, "critical_points"),
])
@pytest.mark.parametrize("exception, code", [(KeyboardInterrupt, 130), (C.Terminated, 143)])
def test_derive_and_critical_say_interrupted(command, owner, name, exception, code, capsys, monkeypatch) -> None:
    interrupt_on_call(monkeypatch, owner, name, exception=exception)
    assert cli(capsys, *command) == (code, "", "interrupted\n")


def test_a_sweep_interrupt_says_how_far_it_got(tmp_path, capsys, monkeypatch) -> None:
    path = scenario(tmp_path / "s.json", loss="x^2", runs=[{"optimizer": {"name": "gd"}, "start": {"x": 1}}])
    interrupt_on_call(monkeypatch, sweeps, "run_batch", before=lambda *a, progress, **k: progress(40, 201))
    code, out, err = cli(capsys, "sweep", path, "--lr", "0.01:0.1:5")
    assert (code, out) == (130, "") and one_line(err) == "interrupted at step 40 of 201 (all 5 rates together)"


@pytest.mark.slow
def test_the_sweep_advances_in_chunks(tmp_path, capsys, monkeypatch) -> None:
    """Chunks are what lets Ctrl+C in: the kernel itself never checks for signals."""
    seen = []
    real = sweeps.run_batch
    monkeypatch.setattr(sweeps, "run_batch", lambda *a, **k: seen.append(k["chunk_steps"]) or real(*a, **k))
    path = scenario(tmp_path / "s.json", loss="x^2", runs=[{"optimizer": {"name": "gd"}, "start": {"x": 1}}])
    assert cli(capsys, "sweep", path, "--lr", "0.01:0.1:4", "--max-steps", "1e7")[0] == 0
    assert seen and 0 < seen[0] < 10_000_000


# --- sweeps are bounded --------------------------------------------------------------------------


def test_an_unbounded_sweep_is_refused_at_once(tmp_path, capsys) -> None:
    path = scenario(tmp_path / "s.json", loss="x^2+y^2", max_steps=1_000_000_000,
                    runs=[{"optimizer": {"name": "gd"}, "start": {"x": 1, "y": 1}}])
    code, out, err = cli(capsys, "sweep", path)
    assert (code, out) == (2, "")
    assert one_line(err) == ("error: 13 rates × 1,000,000,001 steps would take about 46 minutes, more than a sweep may (60 s); "
                             "pass a smaller --max-steps or fewer rates (--lr low:high:count)")
    code, out, _ = cli(capsys, "sweep", path, "--max-steps", "1e2", "--lr", "1e-3:0.5:3")
    assert code == 0
    assert [int(line.split()[2]) for line in out.splitlines()[2:]] == [100, 100, 100]


# --- one number rule -----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ["run", "{file}", "--max-steps", "٣"], ["run", "{file}", "--max-steps", "５"], ["run", "{file}", "--max-steps", "1_000"],
    ["run", "{file}", "--max-steps", "nan"], ["run", "{file}", "--max-steps", "1e400"], ["run", "{file}", "--max-steps", "2.5"],
    ["sweep", "{file}", "--max-steps", "٣"], ["sweep", "{file}", "--run", "٣"], ["sweep", "{file}", "--run", "-1"],
    ["sweep", "{file}", "--lr", "1e-3:1:1_0"], ["sweep", "{file}", "--lr", "1e-3:１:10"], ["sweep", "{file}", "--lr", "1:2"],
    ["critical", "x^2", "--view", "x=-５:5"], ["critical", "x^2", "--view", "x=-1:1_0"], ["derive", "x^2", "--at", "x=٣"],
])
def test_every_number_follows_one_rule(args, tmp_path, capsys) -> None:
    path = scenario(tmp_path / "s.json")
    code, out, err = cli(capsys, *[a.format(file=path) for a in args])
    assert (code, out) == (2, "") and one_line(err).startswith("error: ")


def test_a_step_limit_may_be_written_with_an_exponent(tmp_path, capsys) -> None:
    code, out, _ = cli(capsys, "run", scenario(tmp_path / "s.json"), "--json", "--max-steps", "1e1")
    assert code == 0 and json.loads(out)["runs"][0]["steps"] == 10


# --- short lines ---------------------------------------------------------------------------------


def test_fifty_thousand_stray_arguments_make_a_short_line(tmp_path, capsys) -> None:
    code, _, err = cli(capsys, "run", scenario(tmp_path / "s.json"), *[f"stray{i}" for i in range(50_000)])
    line = one_line(err)
    assert code == 2 and line.startswith("error: unrecognized arguments: stray0 stray1")
    assert len(line) == C.MAX_LINE and line.endswith("…")


def test_a_huge_warning_is_short_too(tmp_path, capsys) -> None:
    start = {f"typo{i}": 1.0 for i in range(900)}  # (the loader allows 1,000)
    path = scenario(tmp_path / "s.json", runs=[{"optimizer": {"name": "gd", "lr": 1e-3}, "start": start}], max_steps=2)
    code, out, err = cli(capsys, "run", path)
    assert code == 0 and out
    line = one_line(err)
    assert line.startswith(f"warning: {path}: runs[0].start: typo0, typo1") and len(line) == C.MAX_LINE


# --- the loss's own warnings ---------------------------------------------------------------------


def warn_about(monkeypatch, target: str, text: str) -> None:
    """Give the objectives `target` makes a `warnings` tuple (the parser adds it for mean(...) over no column)."""
    module, name = target.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def wrapper(*args, **kwargs):
        objective = real(*args, **kwargs)
        object.__setattr__(objective, "warnings", (text,))
        return objective

    monkeypatch.setattr(target, wrapper)


@pytest.mark.parametrize("command", [["derive", "x^2 + y"], ["critical", "x^2 + y^2"]])
def test_derive_and_critical_print_and_return_the_loss_warnings(command, capsys, monkeypatch) -> None:
    warn_about(monkeypatch, "gdstudio.core.expression.parse_objective", "mean(q) uses no data column")
    code, out, err = cli(capsys, *command)
    assert code == 0 and one_line(err) == "warning: loss: mean(q) uses no data column"
    assert json.loads(out)["warnings"] == ["mean(q) uses no data column"]


@pytest.mark.parametrize("command", [["run"], ["sweep"]])
def test_run_and_sweep_print_the_loss_warnings(command, tmp_path, capsys, monkeypatch) -> None:
    path = scenario(tmp_path / "s.json", max_steps=5)
    warn_about(monkeypatch, "gdstudio.core.plan.scenario_objective", "mean(q) uses no data column")
    code, out, err = cli(capsys, *command, path)
    assert code == 0 and out and one_line(err) == f"warning: {path}: mean(q) uses no data column"


def test_no_warnings_no_key(capsys) -> None:
    code, out, err = cli(capsys, "derive", "x^2")
    assert code == 0 and err == "" and "warnings" not in json.loads(out)


# --- a stdout that cannot be written -------------------------------------------------------------


def test_a_closed_stdout_exits_1_before_any_work(tmp_path) -> None:
    out = tmp_path / "t.csv"
    done = subprocess.run([sys.executable, "-m", "gdstudio", "run", str(scenario(tmp_path / "s.json")), "--out", str(out)],
                          cwd=ROOT, stderr=subprocess.PIPE, text=True, timeout=HANG, preexec_fn=lambda: os.close(1), check=False)
    assert done.returncode == 1 and done.stderr == "error: cannot write the output: stdout is closed\n"
    assert not out.exists()


def test_a_reader_that_stopped_reading_exits_1_quietly() -> None:
    """`gdstudio derive ... | head -c1` once head has gone: the output is not all there (exit 1), and the
    reader chose to stop, so no error line either (nor a BrokenPipeError at exit)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "gdstudio", "derive", "x^2"], cwd=ROOT, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=HANG, check=False)
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (1, "")


def test_a_sweep_is_bounded_by_what_its_steps_cost(tmp_path, capsys) -> None:
    """A step over a million rows, or a dense Newton step, costs far more than a step on x²: the bound is the
    sweep's estimated time, not its count of steps (13 rates × 1,000 steps over 1M rows took 135 s)."""
    from gdstudio.commands import SWEEP_SECONDS
    from gdstudio.core.sweeps import sweep_seconds

    assert sweep_seconds(13, 1001, 1_000_000, 3, False) > SWEEP_SECONDS > sweep_seconds(13, 1001, 1, 3, False)
    assert sweep_seconds(10_000, 1001, 1, 40, True) > SWEEP_SECONDS > sweep_seconds(10_000, 1001, 1, 40, False)
    path = scenario(tmp_path / "s.json", loss="mean((w*x - y)^2)", max_steps=1000, runs=[{"start": {"w": 0}}],
                    data={"generate": {"kind": "noisy_line", "n": 1_000_000, "seed": 1}})
    code, out, err = cli(capsys, "sweep", path)
    assert (code, out) == (2, "") and "over 1,000,000 rows would take about" in one_line(err)
    code, out, _ = cli(capsys, "sweep", path, "--max-steps", "5", "--lr", "1e-3:0.1:2")
    assert code == 0 and len(out.splitlines()) == 4
