"""A loss's run kernel, once compiled, is kept in Numba's disk cache (core/codegen.py): another process loads it in
milliseconds, and loads the right one for each loss."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from gdstudio.core import codegen
from gdstudio.core.expression import parse_objective

HANG = 300  # seconds: a bound on a hang of a fresh process on a loaded machine, never a speed claim

# In a fresh process: each loss's kernel (compiled, or loaded from the cache) and a run of gd on it, as JSON.
RUN_EACH = """
import json, sys
from gdstudio.core import scenario as S
from gdstudio.core.codegen import compiled_kernel
from gdstudio.core.expression import parse_objective
from gdstudio.core.runner import run_scenario

found = []
for loss in sys.argv[1:]:
    objective = parse_objective(loss)
    hits = sum(compiled_kernel(objective, False).stats.cache_hits.values())
    doc = {"format": "gdstudio-scenario", "version": 1, "loss": loss, "stop": {"max_steps": 50},
           "runs": [{"optimizer": {"name": "gd", "lr": 0.01}, "start": {"x": 1.5}}]}
    (run,) = run_scenario(S.from_dict(doc))
    found.append({"hits": hits, "losses": [float(v) for v in run.trajectory.loss]})
print(json.dumps(found))
"""


def run_each(*losses: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-c", RUN_EACH, *losses], capture_output=True, text=True, timeout=HANG,
                         check=True).stdout
    return json.loads(out)


@pytest.mark.slow
def test_a_kernel_compiled_in_one_process_is_loaded_by_the_next_and_each_loss_gets_its_own():
    """Numba names machine code by module and function: two kernels loaded from the cache under one name were linked
    to the first one's code (a run of x^4 stepped on another loss)."""
    new = time.time_ns() % 10**9  # (losses no earlier run of the suite has compiled)
    losses = (f"x^4 + {new}", f"(x - 3)^2 + {new}", f"cos(x) + x^2 / {new}")
    compiled = [found for loss in losses for found in run_each(loss)]  # (each the first kernel of its process)
    fresh, *loaded = run_each(f"x^2 + {new}", *losses)  # (one compiled here first, then the three loaded)
    assert [c["hits"] for c in compiled] == [0, 0, 0] and [c["hits"] for c in [fresh, *loaded]] == [0, 1, 1, 1]
    assert [c["losses"] for c in loaded] == [c["losses"] for c in compiled]  # bit for bit
    assert compiled[0]["losses"][0] == 1.5**4 + new and compiled[1]["losses"][0] == 1.5**2 + new
    assert len({tuple(c["losses"]) for c in compiled}) == 3


def test_the_source_is_kept_under_its_hash_and_a_kernel_compiles_without_a_cache_to_write(tmp_path, monkeypatch):
    source = codegen.kernel_source(parse_objective("x^2 + 3*x"), False)
    name, named = codegen._named(source)
    assert named.startswith(f"def {name}(p, g, hess, data, rows):") and named.count(name) == 1
    monkeypatch.setattr(codegen, "cache_folder", lambda: tmp_path)  # (not the variable: Numba reads it again)
    path = codegen.source_file(name, named)
    assert path.read_text() == named and path == tmp_path / "objectives" / f"{name}.py"
    assert codegen.source_file(name, named) == path and not list(path.parent.glob("*.part"))
    monkeypatch.setattr(codegen, "cache_folder", lambda: tmp_path / "a-file" / "below")
    (tmp_path / "a-file").write_text("")  # (no folder can be made below a file)
    codegen.compile_source.cache_clear()
    fg = codegen.compiled_kernel(parse_objective("x^2 + 3*x"), False)
    assert fg.stats.cache_path is None  # (compiled, for this process only)


def test_past_its_limit_the_cache_keeps_the_newest_half_of_the_kernels(tmp_path, monkeypatch):
    monkeypatch.setattr(codegen, "cache_folder", lambda: tmp_path)
    sources, entries = tmp_path / "objectives", tmp_path / "objectives_0123abcd"
    sources.mkdir()
    entries.mkdir()
    for i in range(12):
        name = f"fg_{i:032x}"
        (sources / f"{name}.py").write_text("")
        os.utime(sources / f"{name}.py", (1_000_000 + i, 1_000_000 + i))  # (oldest first)
        for suffix in (f"{name}-1.py311.nbi", f"{name}-1.py311.1.nbc"):
            (entries / f"{name}.{suffix}").write_text("")
    assert codegen.prune_kept_kernels(limit=20) == 0 and len(list(sources.iterdir())) == 12
    assert codegen.prune_kept_kernels(limit=10) == 7  # (12 past 10: down to half of it, the newest)
    kept = sorted(path.stem for path in sources.iterdir())
    assert kept == [f"fg_{i:032x}" for i in range(7, 12)]
    assert sorted({path.name.split(".")[0] for path in entries.iterdir()}) == kept
