"""Test-wide setup: Qt runs offscreen so the whole suite is headless."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
