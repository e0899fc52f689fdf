"""The wheel ships every package and the data the app reads with importlib.resources."""

import tomllib
from importlib.resources import files
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_python_package_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "gdstudio").rglob("__init__.py")}
    assert found <= listed


def test_presets_default_scenario_and_examples_are_package_data() -> None:
    assert files("gdstudio.resources").joinpath("presets.json").is_file()
    assert files("gdstudio.resources").joinpath("default_scenario.json").is_file()
    assert len([f for f in files("gdstudio.scenarios").iterdir() if f.name.endswith(".json")]) >= 12
