"""A report made in a real Jupyter kernel shows its warnings in plain words, without paths."""

from __future__ import annotations

import json

import papermill
import pytest
from helpers import FIXTURE_NOTEBOOKS

from mlworkbench.reports.rendering import notebook_to_html


@pytest.mark.notebook
def test_report_lists_warnings_in_plain_words_without_machine_paths(tmp_path):
    executed = tmp_path / "notes-warnings.ipynb"
    papermill.execute_notebook(
        str(FIXTURE_NOTEBOOKS / "notes-warnings.ipynb"),
        str(executed),
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    outputs = [o for c in json.loads(executed.read_text())["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("name") == "stderr"]

    page = notebook_to_html(executed, tmp_path / "notes-warnings.html").read_text()
    assert "Notes on this run" in page
    for sentence in (
        "solver stopped before converging",
        "Cached file input.csv was older than the data. (UserWarning)",
        "A calculation divided by zero",
        "Scored rows were read from batch.csv.",
        "Routed through logging from example.txt (UserWarning)",
    ):
        assert sentence in page, sentence
    for raw in ("site-packages", "Warning:", "/usr", "/root", "/work", "/srv", "/home", ".py:"):
        assert raw not in page, raw
