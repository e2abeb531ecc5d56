"""The card's evidence: the eda, train and explain runs it describes, the registered version
their training created, and what those runs logged (findings, fairness gates, SHAP ranking,
personal columns) or published (every text artifact, param and tag, searched for personal
values)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from mlworkbench.analysis.explain import fairness
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance import privacy
from mlworkbench.governance.checklist import Evidence
from mlworkbench.tracking import store as tr
from mlworkbench.tracking.tags import TAG_REPORT, TAG_TRAIN_RUN

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

STAGES = ("eda", "train", "explain")

TEXT_SUFFIXES = frozenset(
    {".html", ".htm", ".json", ".csv", ".tsv", ".ipynb", ".txt", ".md", ".yaml", ".yml",
     ".svg", ".xml", ".log"}
)  # fmt: skip
"""Artifacts searched for personal values by their suffix (besides `TEXT_NAMES`)."""
TEXT_NAMES = ("MLmodel", "input_example", "serving_input_example")
"""Artifacts searched whatever their suffix: an MLflow model's description and examples."""
MAX_TEXT_BYTES = 50 * 1024 * 1024
"""Larger artifacts are not searched."""


def stage_runs(client: Any, experiment: str, run_ids: dict[str, str]) -> dict[str, Any]:
    """The eda, train and explain runs the card describes: those of this pipeline run when
    given, else the newest finished ones in the experiment, the explain run being one that
    explained this training run (None where there is none)."""
    runs = {s: client.get_run(run_ids[s]) if run_ids.get(s) else None for s in STAGES}
    if runs["train"] is None:
        train_id = tr.latest_stage_run(client, experiment, "train")
        if not train_id:
            raise ExplainInputError(
                f"Experiment '{experiment}' has no finished training run to describe: run the "
                "train stage first."
            )
        runs["train"] = client.get_run(train_id)
    if runs["eda"] is None:
        eda_id = tr.latest_stage_run(client, experiment, "eda")
        runs["eda"] = client.get_run(eda_id) if eda_id else None
    if runs["explain"] is None:
        explain_id = tr.latest_stage_run(
            client, experiment, "explain", f"tags.`{TAG_TRAIN_RUN}` = '{runs['train'].info.run_id}'"
        )
        runs["explain"] = client.get_run(explain_id) if explain_id else None
    return runs


def model_version(client: Any, train_run: Any) -> Any:
    """The registered model version the training run created."""
    (version,) = client.search_model_versions(f"run_id = '{train_run.info.run_id}'")
    return version


def evidence(run: Any, path: str, report_dir: Path) -> Evidence | None:
    """An artifact of `run` as evidence, with a link to the run's report relative to the
    card's own report folder; None when there is no run."""
    if run is None:
        return None
    report = run.data.tags.get(TAG_REPORT, "")
    href = os.path.relpath(report_dir.parents[1] / report, report_dir) if report else ""
    return Evidence(f"runs:/{run.info.run_id}/{path}", Path(href).as_posix() if href else "")


def report_artifact(run: Any) -> str:
    """The path of a run's HTML report among its artifacts."""
    return f"report/{Path(run.data.tags.get(TAG_REPORT, 'report.html')).name}"


def eda_findings(run: Any) -> list[str]:
    """The data-quality findings the EDA run logged (older runs logged only their count)."""
    logged = tr.artifact_dict(run.info.run_id, "eda/findings.json")
    if logged is not None:
        return logged["findings"]
    count = int(run.data.metrics.get("quality_findings", 0))
    return [f"{count} finding(s); see the EDA report"] if count else []


def primary_metric(run: Any) -> str:
    """The metric a training run is judged by, for runs that did not tag it: the first of
    roc_auc, roc_auc_ovr and rmse it logged (empty when none)."""
    return next((m for m in ("roc_auc", "roc_auc_ovr", "rmse") if m in run.data.metrics), "")


def fairness_gates(explained: Any) -> list[dict[str, Any]]:
    """The fairness gates the explain run judged (none without an explain run)."""
    import mlflow  # deferred: importing mlflow takes seconds

    if explained is None:
        return []
    return mlflow.artifacts.load_dict(f"runs:/{explained.info.run_id}/fairness/gates.json")


def fairness_thresholds(explained: Any) -> dict[str, float]:
    """The fairness thresholds the explain run used (logged flattened as parameters), or the
    defaults when it logged none."""
    prefix = "fairness_thresholds."
    params = explained.data.params if explained else {}
    logged = {k[len(prefix) :]: float(v) for k, v in params.items() if k.startswith(prefix)}
    return logged or dict(fairness.DEFAULT_THRESHOLDS)


def logged_top_features(explained: Any) -> list[str]:
    """The five most important features by SHAP that the explain run logged (none without
    an explain run)."""
    import mlflow  # deferred: importing mlflow takes seconds

    if explained is None:
        return []
    path = mlflow.artifacts.download_artifacts(
        f"runs:/{explained.info.run_id}/tables/shap_importance.csv"
    )
    return pd.read_csv(path)["feature"].head(5).tolist()


def personal_columns(
    client: Any, train: Any, frame: pd.DataFrame, target: str, settings: dict[str, Any]
) -> tuple[privacy.PersonalData, bool]:
    """The personal columns of the training run's record (`privacy.PRIVACY_ARTIFACT`) and
    True; for runs older than that record, those the check finds in `frame` with the config's
    `privacy` `settings`, and False."""
    run_id = train.info.run_id
    folder = PurePosixPath(privacy.PRIVACY_ARTIFACT).parent.as_posix()
    if any(a.path == privacy.PRIVACY_ARTIFACT for a in client.list_artifacts(run_id, folder)):
        with tempfile.TemporaryDirectory() as destination:
            local = client.download_artifacts(run_id, privacy.PRIVACY_ARTIFACT, destination)
            record = json.loads(Path(local).read_text("utf-8"))
        return privacy.PersonalData.from_dict(record), True
    return privacy.find_personal(frame, target, settings), False


def artifact_files(client: Any, run_id: str, folder: str | None = None) -> list[Any]:
    """Every artifact file of a run (MLflow `FileInfo`s), in every folder."""
    files = []
    for info in client.list_artifacts(run_id, folder):
        files.extend(artifact_files(client, run_id, info.path) if info.is_dir else [info])
    return files


def is_text_artifact(path: str, size: int | None) -> bool:
    """A text artifact worth searching: by suffix or name, at most `MAX_TEXT_BYTES`."""
    name = PurePosixPath(path)
    texty = name.suffix.lower() in TEXT_SUFFIXES or name.stem in TEXT_NAMES
    return texty and (size is None or size <= MAX_TEXT_BYTES)


def read_text(local: Path) -> str | None:
    """A downloaded artifact's text; None when it is binary or too large."""
    if local.stat().st_size > MAX_TEXT_BYTES:
        return None
    data = local.read_bytes()
    return None if b"\x00" in data[:8192] else data.decode("utf-8", errors="replace")


def run_texts(client: Any, stage: str, run: Any) -> Iterator[tuple[str, str]]:
    """What one run published, as (source, text): its params, its tags, the names of its
    artifacts and each text artifact (downloaded one at a time)."""
    data, run_id = run.data, run.info.run_id
    files = artifact_files(client, run_id)
    yield f"params of {stage} run", "\n".join(f"{k}={v}" for k, v in data.params.items())
    yield f"tags of {stage} run", "\n".join(f"{k}={v}" for k, v in data.tags.items())
    yield f"artifact names of {stage} run", "\n".join(f.path for f in files)
    with tempfile.TemporaryDirectory() as destination:
        for info in files:
            if not is_text_artifact(info.path, info.file_size):
                continue
            local = Path(client.download_artifacts(run_id, info.path, destination))
            text = read_text(local)
            local.unlink()
            if text is not None:
                yield f"{stage} run {info.path}", text


def published_texts(client: Any, runs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Everything the eda, train and explain runs published, as (source, text), read lazily:
    nothing is downloaded unless the texts are consumed."""
    for stage, run in runs.items():
        if run is not None:
            yield from run_texts(client, stage, run)
