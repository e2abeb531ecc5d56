"""environment.yml (conda) and pyproject.toml describe the same environment."""

from __future__ import annotations

import re
import tomllib

import yaml
from helpers import REPO


def test_conda_environment_installs_the_project_with_its_dev_extra():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    python = next(d for d in conda if d.startswith("python"))
    minimum = re.search(r">=\s*([\d.]+)", project["requires-python"]).group(1)
    assert python == f"python={minimum}"
    assert pip == ["-e .[dev]"]
    assert "dev" in project["optional-dependencies"]
    # Every other package comes from pyproject through pip, so the two cannot drift apart.
    assert sorted(conda) == sorted([python, "pip"])


def test_every_dependency_has_a_tested_range():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    assert "mlworkbench[team]" in extras["dev"]  # the tests start the team's servers
    for requirement in [*project["dependencies"], *(r for e in extras.values() for r in e)]:
        if requirement.startswith("mlworkbench["):
            continue  # another extra of this project, checked on its own
        assert re.search(r">=[\d.]+,<[\d.]+", requirement), requirement


def test_notebooks_are_stored_without_outputs_and_keep_their_parameters_tag():
    import nbformat

    for path in [
        *(REPO / "notebooks").glob("*.ipynb"),
        *(REPO / "tests" / "fixtures" / "notebooks").glob("*.ipynb"),
    ]:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path
        assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1, path
