"""HTML reports: executed notebooks rendered without code, and the index of every run.

Reports are generated, never edited. Each is one self-contained file (images inline, no
scripts from the network) that opens from disk and inside the MLflow UI's artifact view.
Every string that came from data is escaped.
"""

from __future__ import annotations

import html
import io
import logging
import os
import warnings
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from mlworkbench.reports import notes
from mlworkbench.reports.formatting import (
    format_fixed,
    format_number,
    left_aligned_text,
    status_word,
)
from mlworkbench.reports.notes import add_note as add_note  # notebooks call reports.add_note
from mlworkbench.reports.notes import notes_html as notes_html
from mlworkbench.tracking.store import find_project_root, log_png, safe_name

# Deferred imports: IPython and matplotlib load inside the functions that use them, so that
# importing this module (from the command line or a notebook) stays fast.


def stage_output_dir(report_dir: str, run_id: str) -> Path:
    """Where a stage writes pages beside its report: the runner's run folder, or, for a
    notebook run on its own, `reports/interactive/<run id>` in the project."""

    folder = (
        Path(report_dir)
        if report_dir
        else find_project_root() / "reports" / "interactive" / run_id[:8]
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def prepare_notebook() -> None:
    """Keep library noise out of reports that domain experts read.

    Silences warnings known to say nothing about the analysis (tqdm's missing-widget notice,
    MLflow's integer-schema hint), collects every other warning raised from now on in this
    kernel as a plain-language note instead of printing it with the machine's paths (the
    notebook shows them last with `notes_html()`), sets a plain plotting style, and adds the
    page style of wide tables (`wide_tables_style()`) to the report.
    """

    import matplotlib
    from IPython.display import HTML, display

    notes.install()
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"IProgress not found")
    warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight"})
    display(HTML(wide_tables_style()))


@cache
def wide_tables_style() -> str:
    """The `<style>` that keeps wide tables inside the page: scrolling in their own box on
    screen, shrunk and wrapped to the page width when printed (templates/wide_tables.css.j2,
    which the index, monitoring and comparison pages include too)."""

    css = resources.files("mlworkbench.reports").joinpath("templates", "wide_tables.css.j2")
    return f"<style>{css.read_text(encoding='utf-8')}</style>"


def publish_figure(figure: Any, artifact_file: str) -> None:
    """Render a matplotlib figure once, store it as an image artifact of the active run and
    display the same image in the notebook (then close it)."""

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(figure)
    log_png(buffer.getvalue(), artifact_file)
    display(Image(data=buffer.getvalue(), format="png"))


def show_figure(figure: Any) -> None:
    """Display a matplotlib figure once (closing it, so the inline backend does not repeat it)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(figure)
    plt.close(figure)


def experiment_dir(reports_dir: Path, experiment: str) -> Path:
    """`reports/<experiment>/`, the experiment's name made safe for a folder name."""

    return reports_dir / (safe_name(experiment, "-").strip("-") or "experiment")


def escape(value: Any) -> str:
    """HTML-escape any value for inclusion in a page."""
    return html.escape(str(value), quote=True)


def callout(title: str, sentences: Iterable[str], tone: str = "info") -> str:
    """A boxed plain-language summary: a title and one paragraph per sentence, escaped."""
    colours = {"info": "#1f6feb", "ok": "#1a7f37", "warn": "#9a6700", "bad": "#cf222e"}
    paragraphs = "".join(f"<li>{escape(s)}</li>" for s in sentences)
    return (
        f'<div style="border-left:6px solid {colours.get(tone, colours["info"])};'
        'background:#f6f8fa;padding:10px 16px;margin:8px 0;font-size:15px;">'
        f'<div style="font-weight:600;font-size:17px;margin-bottom:4px">{escape(title)}</div>'
        f'<ul style="margin:4px 0 0 0;padding-left:20px">{paragraphs}</ul></div>'
    )


def _missing_as_nan(frame: Any) -> Any:
    """`frame` with None and pd.NA as NaN, which the table shows as a dash like other gaps."""
    out = frame
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind not in "fcmM" and values.isna().any():
            out = out.copy() if out is frame else out
            out[column] = values.astype(object).where(values.notna(), float("nan"))
    return out


def table_html(
    frame: Any,
    percent: Iterable[str] = (),
    decimals: Mapping[str, int] | None = None,
    headers: Mapping[str, str] | None = None,
) -> str:
    """A DataFrame as an escaped HTML table: shares as percentages, `decimals` columns with
    that many decimals, every other number as `format_number` writes it (32,220, never
    3.22e+04), NaN as a dash, and column names replaced by readable `headers` where given."""
    names = dict(headers or {})
    frame = frame.rename(columns=names)
    frame = _missing_as_nan(frame)
    formatters: dict[str, Any] = {column: format_number for column in frame.columns}
    for column in percent:
        formatters[names.get(column, column)] = lambda v: format_fixed(v, ".1%")
    for column, digits in (decimals or {}).items():
        formatters[names.get(column, column)] = lambda v, d=digits: format_fixed(v, f".{d}f")
    key, style = left_aligned_text(frame)
    return style + frame.to_html(
        index=False,
        escape=True,
        formatters=formatters,
        na_rep="–",
        border=0,
        classes=f"dataframe mlwb-table {key}".strip(),
        justify="left",
    )


def link(href: str, text: str) -> str:
    """An escaped hyperlink."""
    return f'<a href="{escape(href)}">{escape(text)}</a>'


# --- the index of every pipeline run ---------------------------------------------------------


def format_figure(value: float, name: str = "") -> str:
    """A key figure as people read it: shares (`*_share`) as percentages, the monitoring
    `status_level` in words (OK, WARN, ALERT), `promoted` and `awaiting_signoff` as yes or no,
    other numbers as `format_number` writes them (48,842; 32,220.5; 0.0123)."""
    if name.endswith("_share"):
        return format_fixed(value, ".1%")
    if name == "status_level":
        return status_word(value) or format_number(value)
    if name in ("promoted", "awaiting_signoff") and value in (0, 1):
        return "yes" if value else "no"
    return format_number(value)


def key_figure_labels() -> Mapping[str, str]:
    """Readable names for the key figures stages log."""
    return {
        "rows": "rows",
        "columns": "columns",
        "missing_share": "missing cells",
        "duplicate_rows": "duplicated rows",
        "quality_findings": "quality findings",
        "fairness_gates_passed": "fairness gates passed",
        "fairness_gates_failed": "fairness gates failed",
        "checklist_pass": "checklist PASS",
        "checklist_fail": "FAIL",
        "checklist_missing": "MISSING",
        "promoted": "promoted",
        "awaiting_signoff": "awaiting sign-off",
        "rows_per_second": "rows per second",
        "status_level": "monitoring status",
        "max_psi": "largest PSI",
    }
