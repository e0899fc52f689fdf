"""The engine: parsing, optimizers, runs and scenario files. Never imports Qt."""

import hashlib
import os
from pathlib import Path


def _numba_cache_dir() -> Path:
    """Numba's on-disk cache only notices edits to the file that holds a cached function, not
    to the functions it calls: keying the directory by every compiled source keeps it honest."""
    here = Path(__file__).parent
    compiled = ("kernel.py", "rules.py", "newton.py", "jit.py", "newton_notes.py", "outcomes.py", "trajectory.py",
                "pages.py", "trace.py")
    sources = b"".join((here / name).read_bytes() for name in compiled)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "gdstudio" / "numba" / hashlib.sha256(sources).hexdigest()[:16]


os.environ.setdefault("NUMBA_CACHE_DIR", str(_numba_cache_dir()))


# What a child process runs to compile each run kernel into the cache (a first start: app/engine.py; the test suite)
COMPILE_RUNS = ("from gdstudio.core.kernel import compiled_advance; compiled_advance(); "
                "from gdstudio.core.pages import compiled_fault_in; compiled_fault_in(); "
                "from gdstudio.core.trace import compiled_tracer; compiled_tracer()")
COMPILE_BATCHES = "from gdstudio.core.kernel import advance_parallel; advance_parallel()"


def kernel_cached() -> bool:
    """Whether the run kernels (one run at a time, and many on every core) are in Numba's cache (else their
    first use compiles them, for several seconds each)."""
    folder = Path(os.environ["NUMBA_CACHE_DIR"])
    return all(any(folder.glob(f"*/kernel.{name}-*.nbi")) for name in ("advance", "_advance_parallel"))
