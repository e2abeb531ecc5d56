"""Rendering: an executed notebook becomes a self-contained HTML page without code.

Each page opens from disk and inside the MLflow UI's artifact view: images inline and no
scripts from the network."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

# Deferred imports: nbconvert and nbformat load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.

INDEX_FILE = "index.html"
_REMOTE_SCRIPT = re.compile(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', re.I)


_REMOTE_SCRIPT = re.compile(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', re.I)


def preload_exporter() -> None:
    """Import nbconvert in a background thread, so rendering starts at once when a stage ends.

    The runner calls this as a notebook starts: its own thread then mostly waits on the
    kernel, so the import costs no wall time.
    """

    threading.Thread(target=lambda: __import__("nbconvert"), daemon=True).start()


def notebook_to_html(notebook: str | Path, output: str | Path, title: str = "") -> Path:
    """Render an executed notebook as a self-contained HTML report with code hidden.

    Markdown, outputs and errors stay visible; code cells and prompts are left out, and
    scripts that would load from the network (MathJax, require.js) are removed so the page
    opens offline and in the MLflow UI's sandboxed artifact view.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    resources = {"metadata": {"name": title or Path(notebook).stem}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    body = _REMOTE_SCRIPT.sub("", body)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(body, encoding="utf-8")
    return output


def write_page(path: Path, text: str) -> Path:
    """Write a generated page all at once (a temporary file renamed over it), so pipelines
    finishing at the same time never leave a page half written."""

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path
