"""Provenance of a run: the git commit of the project and the versions of the packages that
shape its results, recorded as tags on every run."""

from __future__ import annotations

import functools
import json
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mlworkbench.tracking.tags import (
    TAG_CONFIG,
    TAG_GIT,
    TAG_PACKAGES,
    TAG_VERSION,
)

TRACKED_PACKAGES = (
    "mlworkbench",
    "mlflow",
    "papermill",
    "pandas",
    "scikit-learn",
    "fg-data-profiling",
    "numpy",
    "xgboost",
    "shap",
    "pdpbox",
    "fairlearn",
)


def git_commit(project_root: str | Path) -> str:
    """The project's git commit, with `-dirty` when the work tree has changes; '' outside git."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(project_root), *args], capture_output=True, text=True, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += "-dirty"
    return commit


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide a run's results (read once per
    process: the runner asks for every stage)."""
    return dict(_package_versions())


@functools.cache
def _package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def standard_tags(code_dir: str | Path, config_file: str = "") -> dict[str, str]:
    """Tags every workbench run carries: config file, git commit of `code_dir` (the folder
    of the config or notebook that ran) and package versions."""
    versions = package_versions()
    return {
        TAG_CONFIG: config_file,
        TAG_GIT: git_commit(code_dir),
        TAG_VERSION: versions["mlworkbench"],
        TAG_PACKAGES: json.dumps(versions, sort_keys=True),
    }
