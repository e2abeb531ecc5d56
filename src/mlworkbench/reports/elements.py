"""HTML reports: executed notebooks rendered without code, and the index of every run.

Reports are generated, never edited. Each is one self-contained file (images inline, no
scripts from the network) that opens from disk and inside the MLflow UI's artifact view.
Every string that came from data is escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.reports.formatting import (
    format_fixed,
    format_number,
    left_aligned_text,
    status_word,
    store_label,
)
from mlworkbench.reports.notes import add_note as add_note  # notebooks call reports.add_note
from mlworkbench.reports.notes import notes_html as notes_html
from mlworkbench.tracking.tags import (
    TAG_ATTEMPTS,
    TAG_CARD_RUN,
    TAG_CONFIG,
    TAG_KEY_FIGURES,
    TAG_LAST_AT,
    TAG_LAST_DECISION,
    TAG_LAST_VERSION,
    TAG_NOTEBOOK,
    TAG_PIPELINE,
    TAG_REPORT,
    TAG_RETRY_OF,
    TAG_REUSED_FROM,
)

INDEX_FILE = "index.html"
_REMOTE_SCRIPT = re.compile(r'<script[^>]+src="https?://[^"]*"[^>]*>\s*</script>', re.I)


def preload_exporter() -> None:
    """Import nbconvert in a background thread, so rendering starts at once when a stage ends.

    The runner calls this as a notebook starts: its own thread then mostly waits on the
    kernel, so the import costs no wall time.
    """
    import threading

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
    import os
    import threading

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path


def stage_output_dir(report_dir: str, run_id: str) -> Path:
    """Where a stage writes pages beside its report: the runner's run folder, or, for a
    notebook run on its own, `reports/interactive/<run id>` in the project."""
    from mlworkbench.tracking.store import find_project_root

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
    notebook shows them last with `notes_html()`), and sets a plain plotting style.
    """
    import logging
    import os
    import warnings

    import matplotlib

    from mlworkbench.reports import notes

    notes.install()
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=r"IProgress not found")
    warnings.filterwarnings("ignore", message=r"Hint: Inferred schema contains integer")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.bbox": "tight"})


def publish_figure(figure: Any, artifact_file: str) -> None:
    """Render a matplotlib figure once, store it as an image artifact of the active run and
    display the same image in the notebook (then close it)."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    from mlworkbench.tracking.store import log_png

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
    from mlworkbench.tracking.store import safe_name

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


@dataclass
class StageEntry:
    """One stage of a pipeline run as the index shows it."""

    name: str
    status: str
    report: str | None
    report_exists: bool
    key_figures: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    retried: bool = False
    """Run again on another Dask worker after the worker running it died."""


@dataclass
class RunEntry:
    """One pipeline run as the index shows it."""

    experiment: str
    run_id: str
    run_name: str
    status: str
    start: datetime
    duration_s: float | None
    config_file: str
    stages: list[StageEntry]


def _duration(info: Any) -> float | None:
    if info.end_time and info.start_time:
        return (info.end_time - info.start_time) / 1000.0
    return None


def collect_runs(client: Any, reports_dir: Path) -> list[RunEntry]:
    """Every pipeline run in the tracking store, newest first, with its stages."""

    experiments = client.search_experiments()
    if not experiments:
        return []
    ids = [e.experiment_id for e in experiments]
    names = {e.experiment_id: e.name for e in experiments}
    parents = _search_all(client, ids, f"tags.`{TAG_PIPELINE}` = 'true'")
    children = _search_all(client, ids, f"tags.`{TAG_PIPELINE}` = 'stage'")
    by_parent: dict[str, list[Any]] = {}
    for child in children:
        by_parent.setdefault(child.data.tags.get("mlflow.parentRunId", ""), []).append(child)
    by_id = {child.info.run_id: child for child in children}
    entries = []
    for run in parents:
        stages = []
        for child in sorted(by_parent.get(run.info.run_id, []), key=_pipeline_order):
            if _superseded(child):
                continue
            tags = child.data.tags
            report = tags.get(TAG_REPORT)
            wanted = [k for k in tags.get(TAG_KEY_FIGURES, "").split(",") if k]
            metrics = by_id.get(tags.get(TAG_REUSED_FROM, ""), child).data.metrics
            stages.append(
                StageEntry(
                    name=child.info.run_name,
                    status=child.info.status,
                    report=report,
                    report_exists=bool(report) and (reports_dir / report).is_file(),
                    key_figures={k: metrics[k] for k in wanted if k in metrics},
                    reused=TAG_REUSED_FROM in tags,
                    retried=TAG_RETRY_OF in tags,
                )
            )
        entries.append(
            RunEntry(
                experiment=names.get(run.info.experiment_id, run.info.experiment_id),
                run_id=run.info.run_id,
                run_name=run.info.run_name,
                status=run.info.status,
                start=datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC),
                duration_s=_duration(run.info),
                config_file=run.data.tags.get(TAG_CONFIG, ""),
                stages=stages,
            )
        )
    return sorted(entries, key=lambda e: e.start, reverse=True)


def _superseded(child: Any) -> bool:
    """True for a stage run whose worker died and which a later attempt replaced: the index
    shows the attempt that counts."""

    attempts = json.loads(child.data.tags.get(TAG_ATTEMPTS, "[]"))
    return bool(attempts) and attempts[-1][1] != child.info.run_id


def _pipeline_order(child: Any) -> tuple[str, int]:
    """Stage runs in the order of their notebooks (`01-eda` before `02-train`, also when they
    ran side by side), then by start."""
    return child.data.tags.get(TAG_NOTEBOOK, ""), child.info.start_time


def _search_all(client: Any, experiment_ids: list[str], filter_string: str) -> list[Any]:
    runs, token = [], None
    while True:
        page = client.search_runs(experiment_ids, filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


@dataclass
class ModelEntry:
    """A registered model as the index shows it."""

    name: str
    champion: str
    challenger: str
    last_decision: str
    decided_at: str
    card: str


def collect_models(client: Any, reports_dir: Path) -> list[ModelEntry]:
    """Every registered model with its champion, challenger and last decision, linked to the
    model card that made the decision (when its report is on this disk)."""
    from mlworkbench.governance import promotion

    entries = []
    for model in client.search_registered_models():
        aliases = model.aliases or {}
        tags = model.tags or {}
        decided = tags.get(TAG_LAST_VERSION, "")
        card = ""
        if decided:
            card_run = client.get_model_version(model.name, decided).tags.get(TAG_CARD_RUN, "")
            report = client.get_run(card_run).data.tags.get(TAG_REPORT, "") if card_run else ""
            card = report if report and (reports_dir / report).is_file() else ""
        entries.append(
            ModelEntry(
                model.name,
                str(aliases.get(promotion.CHAMPION, "")),
                str(aliases.get(promotion.CHALLENGER, "")),
                f"version {decided}: {tags.get(TAG_LAST_DECISION, '')}" if decided else "",
                tags.get(TAG_LAST_AT, ""),
                card,
            )
        )
    return entries


def format_figure(value: float, name: str = "") -> str:
    """A key figure as people read it: shares (`*_share`) as percentages, the monitoring
    `status_level` in words (OK, WARN, ALERT), `promoted` as yes or no, other numbers as
    `format_number` writes them (48,842; 32,220.5; 0.0123)."""
    if name.endswith("_share"):
        return format_fixed(value, ".1%")
    if name == "status_level":
        return status_word(value) or format_number(value)
    if name == "promoted" and value in (0, 1):
        return "yes" if value else "no"
    return format_number(value)


def render_index(
    entries: list[RunEntry],
    tracking_uri: str,
    output: Path,
    models: list[ModelEntry] | None = None,
) -> Path:
    """Write `reports/index.html` listing `entries`."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlworkbench.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["figure"] = format_figure
    experiments = sorted({e.experiment for e in entries})
    compare = {
        name: experiment_dir(output.parent, name).relative_to(output.parent).as_posix()
        + "/compare.html"
        for name in experiments
        if (experiment_dir(output.parent, name) / "compare.html").is_file()
    }
    page = env.get_template("index.html.j2").render(
        entries=entries,
        models=models or [],
        compare=compare,
        tracking_uri=tracking_uri,
        labels=key_figure_labels(),
        generated=datetime.now(tz=UTC),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_page(output, page)


def rebuild_index(client: Any, reports_dir: Path) -> Path:
    """Rebuild `reports/index.html` and the monitoring dashboard from the store behind
    `client`."""
    from mlworkbench.reports import dashboard

    dashboard.rebuild(client, reports_dir)
    return render_index(
        collect_runs(client, reports_dir),
        store_label(client.tracking_uri),
        reports_dir / INDEX_FILE,
        collect_models(client, reports_dir),
    )


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
        "rows_per_second": "rows per second",
        "status_level": "monitoring status",
        "max_psi": "largest PSI",
    }
