"""Test-wide setup: Qt runs offscreen so the whole suite is headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def compiled_kernels():
    """The run kernels in Numba's cache before any test, as after a studio's first start: the studio tests close their
    windows within seconds, and closing stops a first compile under way (app/engine.py), so on a fresh machine none
    would finish. (A first start itself is tested with a cache of its own: tests/app/test_first_start.py.)"""
    from gdstudio.core.kernel import advance_parallel, compiled_advance

    compiled_advance()
    advance_parallel()
