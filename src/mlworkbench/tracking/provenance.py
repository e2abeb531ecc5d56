"""Provenance of a run: the git commit of the project and the versions of the packages that
shape its results, recorded as tags on every run, and MLflow's own tags of who ran what."""

from __future__ import annotations

import functools
import getpass
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

# Deferred imports: mlflow loads inside `system_tags` only, so that importing this module (from
# the command line or a notebook) stays fast.

NOTEBOOK = "NOTEBOOK"
"""MLflow's source type of a run a notebook made (`mlflow.entities.SourceType`)."""

COMMAND = "LOCAL"
"""MLflow's source type of a run a local command (`mlwb run`, ...) made."""

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


def os_user() -> str:
    """The name of the user running this process; '' when the system has none (a container
    whose user id has no account)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def system_tags(source: str, source_type: str, commit: str) -> dict[str, str]:
    """MLflow's own tags of a run, which its UI shows in the Source and User columns: what ran
    it (`source`: a notebook such as `notebooks/01-eda.ipynb` of type `NOTEBOOK`, or an `mlwb`
    command of type `COMMAND`), the git commit (without the `-dirty` mark of `mlwb.git_commit`;
    left out outside git) and the user (left out when unknown)."""
    from mlflow.utils.mlflow_tags import (
        MLFLOW_GIT_COMMIT,
        MLFLOW_SOURCE_NAME,
        MLFLOW_SOURCE_TYPE,
        MLFLOW_USER,
    )

    tags = {
        MLFLOW_SOURCE_NAME: source,
        MLFLOW_SOURCE_TYPE: source_type,
        MLFLOW_GIT_COMMIT: commit.removesuffix("-dirty"),
        MLFLOW_USER: os_user(),
    }
    return {key: value for key, value in tags.items() if value}
