"""The command line, in-process (gdstudio.cli.main) and once through `python -m gdstudio`: headless runs
(summary, JSON, CSV), derive, and user errors (exit code 2, one `error:` line, nothing on stdout)."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gdstudio.cli import main
from gdstudio.core import scenario as S
from gdstudio.core.expression import parse_objective
from gdstudio.core.runner import run_scenario
from gdstudio.core.trajectory import GRAD_NORM, LOSS, LR, PARAMS

ROSENBROCK = "(1 - x)^2 + 100*(y - x^2)^2"
DOCUMENT = {
    "format": "gdstudio-scenario",
    "version": 1,
    "name": "CLI test",
    "loss": ROSENBROCK,
    "view": {"x": [-2, 2], "y": [-1, 3]},
    "runs": [
        {"label": "Adam", "optimizer": {"name": "adam", "lr": 0.02}, "start": {"x": -1.5, "y": 2.0}},
        {"label": "momentum", "optimizer": {"name": "sgd", "lr": 0.0005, "momentum": 0.9}, "start": {"x": -1.5, "y": 2.0}},
        {"label": "random", "optimizer": {"name": "rmsprop", "lr": 0.01}, "seed": 42},
        {"label": "too fast", "optimizer": {"name": "gd", "lr": 0.1}, "start": {"x": -1.5, "y": 2.0}},
    ],
    "stop": {"max_steps": 300, "grad_tol": 1e-8, "loss_tol": None, "divergence": 1e12},
}


@pytest.fixture
def scenario_file(tmp_path) -> Path:
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


def cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# --- run ----------------------------------------------------------------------------------------


def test_run_json_summary_matches_the_engine(capsys, scenario_file) -> None:
    code, out, err = cli(capsys, "run", scenario_file, "--json")
    assert code == 0 and err == ""
    summary = json.loads(out)
    expected = run_scenario(S.load(scenario_file))
    assert [item["label"] for item in summary["runs"]] == ["Adam", "momentum", "random", "too fast"]
    for item, run in zip(summary["runs"], expected, strict=True):
        assert set(item) == {"label", "optimizer", "steps", "status", "reason", "final_loss", "final"}
        assert item["optimizer"] == run.spec.optimizer
        assert item["steps"] == run.steps
        assert item["status"] == run.status
        assert item["reason"] == run.reason
        if math.isfinite(run.trajectory.loss[-1]):
            assert item["final_loss"] == float(run.trajectory.loss[-1])
        else:
            assert item["final_loss"] is None  # JSON has no inf or nan
        assert set(item["final"]) == {"x", "y"}
        assert item["final"] == {k: (v if math.isfinite(v) else None) for k, v in run.trajectory.final().items()}
    statuses = {item["label"]: item["status"] for item in summary["runs"]}
    assert statuses["too fast"] == "diverged" and statuses["Adam"] == "max_steps"


def test_run_text_summary_has_one_line_per_run(capsys, scenario_file) -> None:
    code, out, err = cli(capsys, "run", scenario_file)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("CLI test: ")
    assert len(lines) == 1 + len(DOCUMENT["runs"])
    assert "Adam (adam): max_steps after 300 steps" in lines[1]
    assert "too fast (gd): diverged" in lines[4]


def test_run_out_writes_every_step_exactly(capsys, scenario_file, tmp_path) -> None:
    target = tmp_path / "traj.csv"
    code, out, err = cli(capsys, "run", scenario_file, "--out", target)
    assert code == 0 and err == ""
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["run", "step", "loss", "grad_norm", "lr", "x", "y"]
    expected = run_scenario(S.load(scenario_file))
    body = rows[1:]
    assert len(body) == sum(run.steps + 1 for run in expected)
    at = 0
    for run in expected:
        mine = body[at : at + run.steps + 1]
        at += run.steps + 1
        assert {row[0] for row in mine} == {run.label}
        assert [int(row[1]) for row in mine] == list(range(run.steps + 1))
        values = np.array([[float(v) for v in row[2:]] for row in mine])
        rows = run.trajectory.rows
        exported = np.column_stack([rows[:, [LOSS, GRAD_NORM, LR]], rows[:, PARAMS:]])  # the batch loss is not exported
        assert np.array_equal(values, exported, equal_nan=True)  # the exact bits, inf and nan included


def test_run_out_and_json_together(capsys, scenario_file, tmp_path) -> None:
    target = tmp_path / "both.csv"
    code, out, _ = cli(capsys, "run", scenario_file, "--json", "--out", target, "--max-steps", "3")
    assert code == 0
    steps = [item["steps"] for item in json.loads(out)["runs"]]
    assert steps == [3, 3, 3, 2]  # "too fast" diverges at step 2 (its loss passes 1e12 there)
    assert len(target.read_text(encoding="utf-8").splitlines()) == 1 + sum(n + 1 for n in steps)


@pytest.mark.parametrize("steps", [0, 1, 17])
def test_max_steps_overrides_the_file(capsys, scenario_file, steps: int) -> None:
    code, out, _ = cli(capsys, "run", scenario_file, "--json", "--max-steps", str(steps))
    assert code == 0
    for item in json.loads(out)["runs"][:3]:  # the fourth diverges at step 2
        assert item["steps"] == steps and item["status"] == "max_steps"
        assert item["reason"] == f"reached the step limit ({steps} step{'' if steps == 1 else 's'})"


def test_run_of_a_scenario_without_runs(capsys, tmp_path) -> None:
    path = tmp_path / "empty.json"
    path.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "x^2"}), encoding="utf-8")
    code, out, _ = cli(capsys, "run", path, "--json")
    assert code == 0 and json.loads(out) == {"runs": []}


def test_the_built_in_default_scenario_runs(capsys, tmp_path) -> None:
    from gdstudio.core.fileio import default_scenario_text

    path = tmp_path / "default.json"
    path.write_text(default_scenario_text(), encoding="utf-8")
    code, out, _ = cli(capsys, "run", path, "--json", "--max-steps", "10")
    assert code == 0 and len(json.loads(out)["runs"]) >= 1


# --- derive -------------------------------------------------------------------------------------


def test_derive_prints_exact_derivatives(capsys) -> None:
    code, out, err = cli(capsys, "derive", "x^2 + 3x*y")
    assert code == 0 and err == ""
    result = json.loads(out)
    assert set(result) == {"variables", "loss", "gradient", "hessian"}
    assert result["variables"] == ["x", "y"]
    # the strings are SymPy's; read them back and check them against the derivatives by hand
    back = lambda text: parse_objective(text, ["x", "y"])  # noqa: E731
    for x, y in [(1.0, 2.0), (-0.5, 3.0)]:
        assert float(back(result["loss"]).loss(x, y)) == x * x + 3 * x * y
        assert [float(back(g).loss(x, y)) for g in result["gradient"]] == [2 * x + 3 * y, 3 * x]
    assert result["hessian"] == [["2", "3"], ["3", "0"]]


def test_derive_at_a_point(capsys) -> None:
    code, out, _ = cli(capsys, "derive", ROSENBROCK, "--at", "x=-1.5, y=2")
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"variables", "loss", "gradient", "hessian", "at"}
    assert set(result["at"]) == {"loss", "gradient", "hessian"}
    x, y = -1.5, 2.0
    assert result["at"]["loss"] == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2, rel=1e-15)
    assert result["at"]["gradient"] == pytest.approx([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], rel=1e-15)
    np.testing.assert_allclose(result["at"]["hessian"], [[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200]],
                               rtol=1e-15)


def test_derive_at_a_point_in_any_order_and_three_variables(capsys) -> None:
    code, out, _ = cli(capsys, "derive", "w1*w2 + w10^2", "--at", "w10=3,w1=2,w2=5")
    assert code == 0
    result = json.loads(out)
    assert result["variables"] == ["w1", "w2", "w10"]
    assert result["at"]["loss"] == 2 * 5 + 9
    assert result["at"]["gradient"] == [5, 2, 6]


def test_derive_where_the_gradient_is_undefined_gives_null(capsys) -> None:
    code, out, _ = cli(capsys, "derive", "sqrt(x^2 + y^2)", "--at", "x=0,y=0")
    assert code == 0
    result = json.loads(out)  # strict JSON: no NaN
    assert result["at"]["loss"] == 0.0
    assert result["at"]["gradient"] == [None, None]


# --- user errors: exit 2, one line on stderr, nothing on stdout ---------------------------------


def bad_file(tmp_path: Path, name: str, content: bytes | str | dict) -> Path:
    path = tmp_path / name
    if isinstance(content, dict):
        content = json.dumps(content)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def with_changes(**changes) -> dict:
    document = json.loads(json.dumps(DOCUMENT))
    document.update(changes)
    return document


ERRORS = [
    # (arguments, a fragment of the one error line); {file}, {missing}, {dir} are filled in below
    (["derive", "x +* y"], "unexpected '*' at column 4"),
    (["derive", "x + foo(x)"], "unknown function 'foo'"),
    (["derive", "__import__('os').system('true')"], "cannot start with '_'"),
    (["derive", ""], "empty"),
    (["derive", "2 + 3"], "no variables"),
    (["derive", "9^9^9^9"], "too large"),
    (["derive", "max(log(-1), x)"], "not a real number"),
    (["derive", "x^2", "--at", "x=abc"], "--at: x: not a number"),
    (["derive", "x^2", "--at", "y=1"], "--at: expected name=value"),
    (["derive", "x^2 + y", "--at", "x=1"], "--at: no value for y"),
    (["derive", "x^2", "--at", ""], "--at: no value for x"),
    (["derive", "x^2", "--at", "x"], "--at: expected name=value"),
    (["derive", "x^2", "--at", "x=1,x=2"], "--at: x is given twice"),
    (["derive", "x^2", "--at", "x=nan"], "--at: x: not a number"),
    (["derive", "x^2", "--at", "x=1e999"], "--at: x: out of the range of floating-point numbers"),
    (["derive"], "required: expression"),
    (["run"], "required: file"),
    (["run", "{missing}"], "cannot read the file"),
    (["run", "{dir}"], "cannot read the file"),
    (["run", "{not_json}"], "not valid JSON"),
    (["run", "{latin1}"], "not UTF-8"),
    (["run", "{bad_lr}"], 'runs[1].optimizer.lr: must be a positive number, got "fast"'),
    (["run", "{two_problems}"], "runs[0].seed: must be a non-negative whole number, got -1; "),
    (["run", "{bad_loss}"], "loss: unexpected '*' at column 4"),
    (["run", "{unknown_variable}"], "loss: unknown variable 'y'"),
    (["run", "{newer}"], "newer gdstudio"),
    (["run", "{file}", "--max-steps", "-1"], "--max-steps"),
    (["run", "{file}", "--max-steps", "ten"], "--max-steps"),
    (["run", "{file}", "--max-steps", "1.5"], "argument --max-steps: not a whole number, got '1.5'"),
    (["run", "{file}", "--max-steps", "10000000000"], "--max-steps"),
    (["run", "{file}", "--bogus"], "unrecognized arguments: --bogus"),
    (["run", "{file}", "--out", "{missing_dir}"], "--out: cannot write"),
]


@pytest.mark.parametrize("args, fragment", ERRORS, ids=[" ".join(a)[:50] for a, _ in ERRORS])
def test_user_errors_are_one_line_and_exit_code_2(capsys, tmp_path, scenario_file, args, fragment) -> None:
    files = {
        "file": scenario_file,
        "missing": tmp_path / "missing.json",
        "missing_dir": tmp_path / "no" / "such" / "dir" / "out.csv",
        "dir": tmp_path,
        "not_json": bad_file(tmp_path, "broken.json", '{"format": "gdstudio-scenario",'),
        "latin1": bad_file(tmp_path, "latin1.json", json.dumps(DOCUMENT).replace("CLI test", "Caf\xe9").encode("latin-1")),
        "bad_lr": bad_file(tmp_path, "bad_lr.json", {**DOCUMENT, "runs": [DOCUMENT["runs"][0],
                                                     {"optimizer": {"name": "sgd", "lr": "fast"}}]}),
        "two_problems": bad_file(tmp_path, "two.json", {**DOCUMENT, "runs": [{"seed": -1}],
                                                        "stop": {"grad_tol": -1}}),
        "bad_loss": bad_file(tmp_path, "bad_loss.json", with_changes(loss="x +* y")),
        "unknown_variable": bad_file(tmp_path, "vars.json", with_changes(variables=["x"])),
        "newer": bad_file(tmp_path, "newer.json", with_changes(version=2)),
    }
    argv = [a.format(**files) for a in args]
    code, out, err = cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ")
    assert fragment in err
    assert "Traceback" not in err


# --- the module entry point, in a real process -------------------------------------------------


def run_module(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "gdstudio", *args], capture_output=True, timeout=120, env=environment,
                          cwd=Path(__file__).resolve().parents[1])


def test_python_dash_m_gdstudio_derive() -> None:
    done = run_module("derive", "x^2")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"variables": ["x"], "loss": "x**2", "gradient": ["2*x"], "hessian": [["2"]]}
    assert done.stderr == b""


def test_python_dash_m_gdstudio_reports_a_user_error_in_one_line() -> None:
    done = run_module("derive", "x +* y")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().splitlines() == ["error: unexpected '*' at column 4"]


def test_output_survives_a_console_that_cannot_show_unicode(tmp_path) -> None:
    """A redirected stdout on Windows is cp1252: no ∇ or ‖. The JSON must still come out, and be valid."""
    path = bad_file(tmp_path, "converges.json", {
        "format": "gdstudio-scenario", "version": 1, "name": "Süß — τ", "loss": "x^2 + y^2",
        "runs": [{"label": "gd ∇", "optimizer": {"name": "gd", "lr": 0.25}, "start": {"x": 1, "y": 1}}],
        "stop": {"max_steps": 100, "grad_tol": 1e-6},
    })
    done = run_module("run", str(path), "--json", PYTHONIOENCODING="cp1252")
    assert done.returncode == 0, done.stderr
    (item,) = json.loads(done.stdout.decode("cp1252"))["runs"]
    assert item["label"] == "gd ∇"
    assert item["reason"].startswith("converged at step 22: ‖∇‖ = ")
    text = run_module("run", str(path), PYTHONIOENCODING="cp1252")
    assert text.returncode == 0, text.stderr
    assert "converged after 22 steps" in text.stdout.decode("cp1252")


def test_critical_classifies_himmelblau(capsys) -> None:
    assert main(["critical", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2", "--view", "x=-5:5,y=-5:5"]) == 0
    points = json.loads(capsys.readouterr().out)["points"]
    kinds = sorted(p["kind"] for p in points)
    assert kinds == ["maximum"] + ["minimum"] * 4 + ["saddle"] * 4
    assert {"x": 3.0, "y": 2.0} in [{k: round(v, 9) for k, v in p["point"].items()} for p in points if p["kind"] == "minimum"]


def test_sweep_shows_too_small_right_and_too_large(tmp_path, capsys) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "x^2",
                                "runs": [{"optimizer": {"name": "gd"}, "start": {"x": 1.0}}],
                                "stop": {"max_steps": 200, "grad_tol": 1e-8}}))
    assert main(["sweep", str(path), "--lr", "0.001:2:12"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    statuses = [row[-1] for row in rows]
    assert statuses[0] == "max_steps" and "converged" in statuses and statuses[-1] == "diverged"


@pytest.mark.parametrize("example, run", [("03_batch_sgd_minibatch", 1), ("04_feature_scaling", 0)])
def test_a_sweep_cell_is_the_run_itself_with_its_batches_scaling_and_clipping(example, run, tmp_path, capsys) -> None:
    """SGD (batch 1) and a run on standardised x: the sweep at the run's own rate ends exactly where it ends."""
    path = Path(__file__).parents[1] / "scenarios" / f"{example}.json"
    spec = S.load(path).runs[run]
    lr = spec.hyper["lr"]
    assert main(["sweep", str(path), "--run", str(run), "--lr", f"{lr!r}:{lr * 1.0000001!r}:2"]) == 0
    row = capsys.readouterr().out.splitlines()[2].split()
    (result,) = [r for r in run_scenario(S.load(path)) if r.label == spec.label]
    assert (int(row[2]), row[3]) == (result.steps, result.status) and float(row[1]) == float(f"{result.trajectory.loss[-1]:.4g}")
    clipped = tmp_path / "clip.json"  # x⁴ from 10 at lr 0.5: unclipped it overflows; clipped to norm 1 it converges
    clipped.write_text(json.dumps({"format": "gdstudio-scenario", "version": 1, "loss": "x^4",
                                   "runs": [{"optimizer": {"name": "gd", "lr": 0.5}, "start": {"x": 10}, "clip": {"norm": 1}}]}))
    assert main(["sweep", str(clipped), "--lr", "0.5:0.6:2"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[-1] != "diverged"


@pytest.mark.parametrize("args", [["critical", "foo(x)"], ["critical", "x^2", "--view", "x=1"], ["sweep", "missing.json"],
                                  ["critical", "x^2", "--view", "x=-1e308:1e308"], ["critical", "x^2", "--view", "x=1:-1"],
                                  ["sweep", "f.json", "--lr", "abc"], ["sweep", str(Path(__file__).parents[1] / "scenarios" / "02_learning_rate.json"), "--lr", "0.1:inf:3"]])
def test_critical_and_sweep_errors(args, capsys) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_labels_cannot_send_control_codes_to_the_terminal(tmp_path, capsys) -> None:
    path = tmp_path / "esc.json"
    path.write_text(json.dumps({**DOCUMENT, "name": "evil\u001b]0;pwned\u0007\u001b[2J", "runs": [
        {**DOCUMENT["runs"][0], "label": "\u001b[1;32mok\r\nfake line"}]}))
    code, out, _ = cli(capsys, "run", path)
    assert code == 0 and "\u001b" not in out and "\r" not in out and "\u0007" not in out
    assert "\\x1b[1;32mok\\r\\nfake line" in out  # shown, escaped, on its own line


@pytest.mark.parametrize("args, message", [
    (["bogus"], "'bogus' is neither a command (run, derive, critical, sweep, animate, open) nor a scenario file"),
    (["derive", "-x^2"], 'the following arguments are required: expression (see gdstudio derive --help); a loss that '
                         'starts with "-" goes after --: gdstudio derive -- "-x^2"'),
    (["derive"], "the following arguments are required: expression (see gdstudio derive --help)"),
    (["bogus", "x"], "unrecognized arguments: x (see gdstudio --help)"),
    (["derive", "--at", "x=１", "--", "x^2"], "--at: x: not a number (plain digits, e.g. 12, -0.5 or 1e-3), got '１'"),
    (["derive", "--at", "x=1_000", "--", "x^2"], "--at: x: not a number (plain digits, e.g. 12, -0.5 or 1e-3), got '1_000'"),
])
def test_mistyped_commands_and_numbers(args, message, capsys) -> None:
    code, out, err = cli(capsys, *args)
    assert (code, out, err) == (2, "", f"error: {message}\n")


def test_without_a_display_the_studio_says_so_instead_of_aborting(monkeypatch, capsys) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    code, out, err = cli(capsys)
    assert code == 2 and err.startswith("error: the studio needs a desktop session")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_an_error_line_not_a_traceback() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "gdstudio", "derive", "--", "x^2"], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 1 and done.stderr == "error: cannot write the output: No space left on device\n"


def test_a_start_that_names_no_variable_is_warned_about(tmp_path, capsys) -> None:
    path = tmp_path / "typo.json"
    path.write_text(json.dumps({**DOCUMENT, "runs": [{**DOCUMENT["runs"][0], "start": {"X": -1.5, "y": 2.0}}]}))
    code, out, err = cli(capsys, "run", path)
    assert code == 0 and out
    assert err == (f"warning: {path}: runs[0].start: X is no variable of the loss (x, y), so x starts at a seeded "
                   "random point\n")
    path.write_text(json.dumps({**DOCUMENT, "runs": [{**DOCUMENT["runs"][0], "start": {"x": 1, "y": 2.0, "z": 3}}]}))
    assert cli(capsys, "run", path)[2] == ""  # every variable has its start: nothing to warn about


def test_qt_options_go_to_qt() -> None:
    from gdstudio.cli import _qt_options

    assert _qt_options(["-style", "Fusion", "f.json", "-reverse"]) == (["f.json"], ["-style", "Fusion", "-reverse"])
    assert _qt_options(["run", "f.json", "--json"]) == (["run", "f.json", "--json"], [])
