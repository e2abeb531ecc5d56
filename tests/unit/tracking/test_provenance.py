"""Provenance tags: the git commit (marked dirty) and package versions."""

from __future__ import annotations

import json
import subprocess

import mlflow

from mlworkbench.tracking import provenance


def test_git_commit_marks_changes(tmp_path):
    assert provenance.git_commit(tmp_path) == ""

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "f.txt").write_text("a")
    git("add", "f.txt")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "m")
    commit = provenance.git_commit(tmp_path)
    assert len(commit) == 40
    (tmp_path / "f.txt").write_text("b")
    assert provenance.git_commit(tmp_path) == commit + "-dirty"


def test_standard_tags_name_versions(tmp_path):
    tags = provenance.standard_tags(tmp_path, "papermill_configs/x.yaml")
    assert tags["mlwb.config_file"] == "papermill_configs/x.yaml"
    assert json.loads(tags["mlwb.packages"])["mlflow"] == mlflow.__version__
    assert tags["mlwb.version"]
