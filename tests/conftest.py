"""Test-wide setup: Qt runs offscreen so the whole suite is headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def compiled_kernels():
    """The run kernels in Numba's cache before any test, as after a studio's first start: the studio tests close their
    windows within seconds, and closing stops a first compile under way (app/engine.py), so on a fresh machine none
    would finish. (A first start itself is tested with a cache of its own: tests/app/test_first_start.py.) On an empty
    cache the two compile at once, each in a child process as a first start compiles them, on two cores in half the
    time; this process then loads them from the cache."""
    import subprocess
    import sys

    from gdstudio.core import COMPILE_BATCHES, COMPILE_RUNS, kernel_cached
    from gdstudio.core.kernel import advance_parallel, compiled_advance

    if not kernel_cached():
        for child in [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
                      for code in (COMPILE_RUNS, COMPILE_BATCHES)]:
            child.wait()
    compiled_advance()  # (compiled here, should a child have failed)
    advance_parallel()
