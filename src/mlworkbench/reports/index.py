"""The index of every pipeline run (`reports/index.html`), and of every stage notebook run on its
own (JupyterLab, `mlwb open`), rebuilt from the tracking store, with the registered models and the
monitoring dashboard beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.governance import promotion
from mlworkbench.governance.signoff import signoff_state
from mlworkbench.reports import dashboard
from mlworkbench.reports.elements import experiment_dir, format_figure, key_figure_labels
from mlworkbench.reports.formatting import (
    store_label,
)
from mlworkbench.reports.rendering import write_page
from mlworkbench.tracking.tags import (
    TAG_ATTEMPTS,
    TAG_CARD_RUN,
    TAG_CONFIG,
    TAG_INTERACTIVE,
    TAG_KEY_FIGURES,
    TAG_LAST_AT,
    TAG_LAST_DECISION,
    TAG_LAST_VERSION,
    TAG_NOTEBOOK,
    TAG_PIPELINE,
    TAG_REPORT,
    TAG_RETRY_OF,
    TAG_REUSED_FROM,
    TAG_STAGE,
)

# Deferred imports: jinja2 loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

INDEX_FILE = "index.html"


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
    """One pipeline run, or one stage notebook run on its own, as the index shows it."""

    experiment: str
    run_id: str
    run_name: str
    status: str
    start: datetime
    duration_s: float | None
    config_file: str
    stages: list[StageEntry]
    interactive: bool = False
    """A stage run its notebook started itself (tag `mlwb.interactive`), outside `mlwb run`: no
    config file, one stage (the run itself), its report written by `mlwb export`."""


def _duration(info: Any) -> float | None:
    if info.end_time and info.start_time:
        return (info.end_time - info.start_time) / 1000.0
    return None


def collect_runs(client: Any, reports_dir: Path) -> list[RunEntry]:
    """Every pipeline run in the tracking store with its stages, and every interactive stage run
    (tag `mlwb.interactive`) as a run of one stage, newest first."""

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
        stages = [
            _stage_entry(child, child.info.run_name, reports_dir, by_id)
            for child in sorted(by_parent.get(run.info.run_id, []), key=_pipeline_order)
            if not _superseded(child)
        ]
        entries.append(_run_entry(run, names, stages))
    for run in _search_all(client, ids, f"tags.`{TAG_INTERACTIVE}` = 'true'"):
        if TAG_PIPELINE in run.data.tags:
            continue  # a pipeline's own run, listed above
        name = run.data.tags.get(TAG_STAGE) or run.info.run_name
        stage = _stage_entry(run, name, reports_dir, by_id)
        entries.append(_run_entry(run, names, [stage], interactive=True))
    return sorted(entries, key=lambda e: e.start, reverse=True)


def _stage_entry(run: Any, name: str, reports_dir: Path, by_id: dict[str, Any]) -> StageEntry:
    """A stage run as the index shows it; a reused stage with the figures of the run it
    reused (from `by_id`, the stage runs by id)."""
    tags = run.data.tags
    report = tags.get(TAG_REPORT)
    wanted = [k for k in tags.get(TAG_KEY_FIGURES, "").split(",") if k]
    metrics = by_id.get(tags.get(TAG_REUSED_FROM, ""), run).data.metrics
    return StageEntry(
        name=name,
        status=run.info.status,
        report=report,
        report_exists=bool(report) and (reports_dir / report).is_file(),
        key_figures={k: metrics[k] for k in wanted if k in metrics},
        reused=TAG_REUSED_FROM in tags,
        retried=TAG_RETRY_OF in tags,
    )


def _run_entry(
    run: Any, names: dict[str, str], stages: list[StageEntry], interactive: bool = False
) -> RunEntry:
    return RunEntry(
        experiment=names.get(run.info.experiment_id, run.info.experiment_id),
        run_id=run.info.run_id,
        run_name=run.info.run_name,
        status=run.info.status,
        start=datetime.fromtimestamp(run.info.start_time / 1000, tz=UTC),
        duration_s=_duration(run.info),
        config_file=run.data.tags.get(TAG_CONFIG, ""),
        stages=stages,
        interactive=interactive,
    )


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
    signoff: str = ""
    """The champion's sign-off (`signoff.signoff_state`): empty when none is recorded."""
    candidate: str = ""
    """The version alias `candidate` names, approved and awaiting a reviewer's sign-off."""


def collect_models(client: Any, reports_dir: Path) -> list[ModelEntry]:
    """Every registered model with its champion (and the champion's sign-off), challenger,
    candidate awaiting sign-off and last decision, linked to the model card that made the
    decision (when its report is on this disk)."""
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
        champion = str(aliases.get(promotion.CHAMPION, ""))
        entries.append(
            ModelEntry(
                model.name,
                champion,
                str(aliases.get(promotion.CHALLENGER, "")),
                f"version {decided}: {tags.get(TAG_LAST_DECISION, '')}" if decided else "",
                tags.get(TAG_LAST_AT, ""),
                card,
                champion_signoff(client, model.name, champion),
                str(aliases.get(promotion.CANDIDATE, "")),
            )
        )
    return entries


def champion_signoff(client: Any, name: str, champion: str) -> str:
    """The sign-off of version `champion` of `name` as people read it; empty without a
    champion or a recorded sign-off."""
    if not champion:
        return ""
    return signoff_state(client.get_model_version(name, champion).tags)


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
    env.globals["promote_command"] = dashboard.promote_command
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
    dashboard.rebuild(client, reports_dir)
    return render_index(
        collect_runs(client, reports_dir),
        store_label(client.tracking_uri),
        reports_dir / INDEX_FILE,
        collect_models(client, reports_dir),
    )
