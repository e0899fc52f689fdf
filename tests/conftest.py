"""Test-wide setup: Qt runs offscreen so the whole suite is headless, and the suite runs on every core
(pytest-xdist workers, `-n auto` in pyproject.toml)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


def pytest_sessionstart(session: pytest.Session) -> None:
    """The run kernels in Numba's cache before any test, as after a studio's first start: the studio tests close their
    windows within seconds, and closing stops a first compile under way (app/engine.py), so on a fresh machine none
    would finish. (A first start itself is tested with a cache of its own: tests/app/test_first_start.py.) On an empty
    cache the two compile at once, each in a child process as a first start compiles them, before any worker starts
    (xdist starts them after this hook), so they compile once, not once per worker."""
    import subprocess
    import sys

    from gdstudio.core import COMPILE_BATCHES, COMPILE_RUNS, kernel_cached

    if hasattr(session.config, "workerinput") or kernel_cached():
        return
    for child in [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL)
                  for code in (COMPILE_RUNS, COMPILE_BATCHES)]:
        child.wait()


@pytest.fixture(autouse=True, scope="session")
def compiled_kernels():
    """Each process loads the kernels from the cache once (or compiles them here, should a child have failed)."""
    from gdstudio.core.kernel import advance_parallel, compiled_advance

    compiled_advance()
    advance_parallel()
