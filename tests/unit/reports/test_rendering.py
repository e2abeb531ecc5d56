"""HTML rendering of executed notebooks and the run index, on real files and a real store."""

from __future__ import annotations

import base64
import re

import matplotlib
import mlflow
import nbformat
import pandas as pd

from mlworkbench.reports import elements
from mlworkbench.reports.index import rebuild_index
from mlworkbench.reports.rendering import notebook_to_html

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
).decode()


def executed_notebook(path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code_line = 42")
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "fig"}),
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="bad <value>", traceback=["ValueError: bad <value>"]
        ),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title here"), code]
    nbformat.write(nb, path)
    return path


def test_report_hides_code_keeps_outputs_and_loads_nothing_remote(tmp_path):
    html = notebook_to_html(executed_notebook(tmp_path / "n.ipynb"), tmp_path / "n.html")
    page = html.read_text()
    assert "Title here" in page
    assert "secret_code_line" not in page
    assert "data:image/png;base64," in page
    assert "ValueError" in page and "bad &lt;value&gt;" in page
    assert not re.search(r'<script[^>]+src="https?://', page)


def test_table_html_escapes_data_and_formats_shares():
    frame = pd.DataFrame({"column": ["<b>x</b>"], "missing_share": [0.25], "score": [float("nan")]})
    table = elements.table_html(frame, percent=["missing_share"], headers={"column": "Column"})
    assert "&lt;b&gt;x&lt;/b&gt;" in table and "<b>x</b>" not in table
    assert "25.0%" in table and "–" in table and ">Column<" in table


def test_callout_escapes_sentences():
    box = elements.callout("T & C", ["<script>alert(1)</script>"])
    assert "<script>" not in box and "&lt;script&gt;" in box and "T &amp; C" in box


def test_show_figure_closes_it():
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    elements.show_figure(fig)
    assert not plt.fignum_exists(fig.number)


def test_index_lists_runs_newest_first_and_escapes_names(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(uri)
    reports_dir = tmp_path / "reports"
    (reports_dir / "e").mkdir(parents=True)
    (reports_dir / "e" / "01-eda.html").write_text("<html></html>")
    for name in ("<script>evil</script>", "second"):
        exp = client.get_experiment_by_name(name) or client.create_experiment(
            name, artifact_location=(tmp_path / "art").as_uri()
        )
        exp_id = exp if isinstance(exp, str) else exp.experiment_id
        parent = client.create_run(exp_id, tags={"mlwb.pipeline": "true"}).info.run_id
        child = client.create_run(
            exp_id,
            run_name="eda",
            tags={
                "mlwb.pipeline": "stage",
                "mlflow.parentRunId": parent,
                "mlwb.stage": "eda",
                "mlwb.report": "e/01-eda.html",
                "mlwb.key_figures": "rows",
            },
        ).info.run_id
        client.log_metric(child, "rows", 1000)
        client.set_terminated(child, "FINISHED")
        client.set_terminated(parent, "FAILED" if name == "second" else "FINISHED")
    index = rebuild_index(client, reports_dir)
    page = index.read_text()
    assert "<script>evil" not in page and "&lt;script&gt;evil&lt;/script&gt;" in page
    assert page.index("second") < page.index("&lt;script&gt;evil")
    assert page.count('href="e/01-eda.html"') == 2
    assert "rows: 1,000" in page
    assert 'class="badge FAILED"' in page


def test_empty_store_gives_an_index_that_says_what_to_do(tmp_path):
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    page = rebuild_index(client, tmp_path / "reports").read_text()
    assert "No pipeline runs yet" in page


def test_format_figure():
    assert elements.format_figure(48842.0) == "48,842"
    assert elements.format_figure(0.01234) == "0.0123"
    assert elements.format_figure(0.01234, "missing_share") == "1.2%"
