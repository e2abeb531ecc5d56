"""Copy a tracking store into another one, typically a personal SQLite file into the team server.

Copied through MLflow's public client API: active experiments and runs (name, times, status,
parameters, full metric histories, tags, dataset and model inputs and outputs, artifacts),
MLflow 3 logged models with their files. The registry is copied by `migrate_registry`, and
`migrate` runs both. Runs are copied oldest first across experiments, and every tag and
parameter value naming a copied run or logged model gets the new id: `mlflow.parentRunId` nests
a child under the new parent.

Every copied run, logged model and model version carries `mlwb.migrated_from` (the source's id,
or `name/version`); a run gets `mlwb.migrated_at` once complete. Run again, the migration skips
what is complete and redoes a run a failure left half copied: it resumes after any failure. Not
copied: deleted experiments and runs, traces, prompts, evaluation datasets.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mlworkbench.exceptions import MigrationError, MigrationFailed
from mlworkbench.tracking.store import default_artifact_location, store_problem
from mlworkbench.tracking.tags import TAG_MIGRATED_AT, TAG_MIGRATED_FROM

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.

SKIPPED_MODEL_TAGS = ("mlflow.modelVersions",)
"""Logged-model tags the destination's registry writes itself."""
ID_PATTERN = re.compile(r"m-[0-9a-f]{32}|[0-9a-f]{32}")
_TERMINAL = ("FINISHED", "FAILED", "KILLED")


@dataclass
class Counts:
    """What one migration copied and skipped."""

    experiments: int = 0
    runs: int = 0
    runs_skipped: int = 0
    artifact_files: int = 0
    logged_models: int = 0
    versions: int = 0
    versions_skipped: int = 0
    aliases: int = 0

    def summary(self) -> str:
        return (
            f"Migrated: {self.experiments} experiments created, {self.runs} runs "
            f"({self.runs_skipped} already there, skipped), {self.artifact_files} artifact "
            f"files, {self.logged_models} logged models, {self.versions} model versions "
            f"({self.versions_skipped} already there, skipped), {self.aliases} aliases."
        )


def pages(fetch: Callable[[str | None], Any]) -> Iterator[Any]:
    """Every item of a paged MLflow search; `fetch(page_token)` returns one page."""
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = page.token
        if not token:
            return


def check_store(uri: str, what: str) -> None:
    """Refuse a store that is missing or does not answer (`tracking.store_problem`), before
    anything is copied."""

    if problem := store_problem(uri):
        raise MigrationError(f"the {what}: {problem}.")


class Migration:
    """One copy from `source` to `destination` (tracking URIs); `run()` does it."""

    def __init__(self, source: str, destination: str, echo: Callable[[str], Any] = print):
        import mlflow

        if source.rstrip("/") == destination.rstrip("/"):
            raise MigrationError(f"source and destination are the same store: {source}")
        check_store(source, "source")
        check_store(destination, "destination")
        self.source_uri = source
        self.destination_uri = destination
        self.src = mlflow.MlflowClient(source)
        self.dst = mlflow.MlflowClient(destination)
        self.echo = echo
        self.counts = Counts()
        self.ids: dict[str, str] = {}  # source run / logged model id -> destination id
        self.versions: dict[tuple[str, str], str] = {}  # (model name, source version) -> new

    def remap(self, text: str) -> str:
        """`text` with every id of a copied run or logged model replaced by its new id."""
        return ID_PATTERN.sub(lambda found: self.ids.get(found.group(0), found.group(0)), text)

    def _unresolved(self, text: str) -> bool:
        return any(found.group(0) not in self.ids for found in ID_PATTERN.finditer(text))

    def run(self) -> Counts:
        """Copy everything; print one line per experiment and return the counts."""
        experiments = list(pages(lambda token: self.src.search_experiments(page_token=token)))
        targets = {e.experiment_id: self._experiment(e) for e in experiments}
        self._load_done(list(targets.values()))
        runs = self._source_runs(list(targets))
        models = self._source_models(list(targets))
        left = defaultdict(int)
        for run in runs:
            left[run.info.experiment_id] += 1
        names = {e.experiment_id: e.name for e in experiments}
        per_experiment: dict[str, Counts] = defaultdict(Counts)
        fix_later = []
        for run in runs:
            source_id, experiment_id = run.info.run_id, run.info.experiment_id
            before = Counts(**vars(self.counts))
            if source_id in self.ids:
                self.counts.runs_skipped += 1
            else:
                self._copy_run(run, targets[experiment_id], models.get(source_id, []))
                if any(self._unresolved(v) for v in run.data.tags.values()):
                    fix_later.append(run)
            _add(per_experiment[experiment_id], before, self.counts)
            left[experiment_id] -= 1
            if not left[experiment_id]:
                self._report(names[experiment_id], per_experiment[experiment_id])
        for experiment in experiments:
            if experiment.experiment_id not in left:  # no runs
                self._report(experiment.name, Counts())
        for run in fix_later:  # tags naming runs that started later (a parent's, say)
            self._retag(run)
        for model in models.get("", []):
            self._copy_logged_model(model, targets[model.experiment_id], None)
        return self.counts

    def _report(self, name: str, counts: Counts) -> None:
        self.echo(
            f"experiment '{name}': {counts.runs} runs copied, {counts.runs_skipped} skipped "
            f"(already there), {counts.artifact_files} artifact files, "
            f"{counts.logged_models} logged models"
        )

    def _experiment(self, experiment: Any) -> str:
        """The destination experiment of the same name, created when missing."""
        found = self.dst.get_experiment_by_name(experiment.name)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                self.dst.restore_experiment(found.experiment_id)
            return found.experiment_id
        self.counts.experiments += 1
        return self.dst.create_experiment(
            experiment.name,
            artifact_location=default_artifact_location(self.destination_uri, experiment.name),
            tags=dict(experiment.tags),
        )

    def _load_done(self, experiment_ids: list[str]) -> None:
        """Learn what an earlier migration copied; remove runs a failure left half copied."""
        if not experiment_ids:
            return
        done = _runs(self.dst, experiment_ids, f"tags.`{TAG_MIGRATED_FROM}` LIKE '%'")
        broken = set()
        for run in done:
            if TAG_MIGRATED_AT in run.data.tags:
                self.ids[run.data.tags[TAG_MIGRATED_FROM]] = run.info.run_id
            else:
                broken.add(run.info.run_id)
        for model in pages(
            lambda token: self.dst.search_logged_models(experiment_ids, page_token=token)
        ):
            if TAG_MIGRATED_FROM not in model.tags:
                continue
            if model.source_run_id in broken:
                self.dst.delete_logged_model(model.model_id)
            else:
                self.ids[model.tags[TAG_MIGRATED_FROM]] = model.model_id
        for run_id in broken:
            self.echo(f"removing run {run_id}, left half copied by an earlier migration")
            self.dst.delete_run(run_id)

    def _source_runs(self, experiment_ids: list[str]) -> list[Any]:
        """Every active source run, oldest first, a parent before its children."""
        runs = _runs(self.src, experiment_ids) if experiment_ids else []
        return sorted(
            runs, key=lambda r: (r.info.start_time or 0, "mlflow.parentRunId" in r.data.tags)
        )

    def _source_models(self, experiment_ids: list[str]) -> dict[str, list[Any]]:
        """Source logged models by the id of the run that logged them ('' for none)."""
        found: dict[str, list[Any]] = defaultdict(list)
        if experiment_ids:
            for model in pages(
                lambda token: self.src.search_logged_models(experiment_ids, page_token=token)
            ):
                found[model.source_run_id or ""].append(model)
        return found

    def _copy_run(self, run: Any, experiment_id: str, models: list[Any]) -> None:
        source_id = run.info.run_id
        tags = {k: self.remap(v) for k, v in run.data.tags.items()}
        created = self.dst.create_run(
            experiment_id,
            start_time=run.info.start_time,
            tags={**tags, TAG_MIGRATED_FROM: source_id},
            run_name=run.info.run_name,
        )
        new_id = created.info.run_id
        new_models: list[str] = []
        try:
            for model in models:
                new_models.append(self._copy_logged_model(model, experiment_id, new_id))
            self.ids[source_id] = new_id
            self._copy_data(run, new_id)
            self._copy_artifacts(source_id, new_id)
            if run.info.status in _TERMINAL:
                self.dst.set_terminated(new_id, run.info.status, run.info.end_time)
            else:
                self.dst.update_run(new_id, status=run.info.status)
            self.dst.set_tag(
                new_id, TAG_MIGRATED_AT, datetime.now(tz=UTC).isoformat(timespec="seconds")
            )
        except Exception as exc:
            for old in [source_id, *(m.model_id for m in models)]:
                self.ids.pop(old, None)
            for model_id in new_models:
                _forget(self.dst.delete_logged_model, model_id)
            _forget(self.dst.delete_run, new_id)
            raise MigrationFailed(
                f"copying run {source_id} ({run.info.run_name}) failed: {exc}. What was copied "
                "before stays; run the same command again to resume."
            ) from exc
        self.counts.runs += 1

    def _copy_data(self, run: Any, new_id: str) -> None:
        """Parameters, full metric histories, dataset and model inputs, model outputs."""
        from mlflow.entities import LoggedModelInput, LoggedModelOutput, Metric, Param

        params = [Param(k, self.remap(v)) for k, v in run.data.params.items()]
        for start in range(0, len(params), 100):
            self.dst.log_batch(new_id, params=params[start : start + 100])
        metrics = [
            Metric(
                m.key,
                m.value,
                m.timestamp,
                m.step,
                model_id=self.ids.get(m.model_id or ""),
                dataset_name=m.dataset_name,
                dataset_digest=m.dataset_digest,
            )
            for key in run.data.metrics
            for m in self.src.get_metric_history(run.info.run_id, key)
        ]
        for start in range(0, len(metrics), 1000):
            self.dst.log_batch(new_id, metrics=metrics[start : start + 1000])
        inputs = run.inputs
        datasets = list(inputs.dataset_inputs) if inputs else []
        models = [
            LoggedModelInput(self.ids[m.model_id])
            for m in (inputs.model_inputs if inputs else [])
            if m.model_id in self.ids
        ]
        if datasets or models:
            self.dst.log_inputs(new_id, datasets=datasets or None, models=models or None)
        have = {o.model_id for o in (self.dst.get_run(new_id).outputs.model_outputs or [])}
        outputs = [
            LoggedModelOutput(self.ids[o.model_id], o.step)
            for o in (run.outputs.model_outputs if run.outputs else [])
            if o.model_id in self.ids and self.ids[o.model_id] not in have
        ]
        if outputs:
            self.dst.log_outputs(new_id, outputs)

    def _copy_artifacts(self, source_id: str, new_id: str) -> None:
        import mlflow

        if not self.src.list_artifacts(source_id):
            return
        with tempfile.TemporaryDirectory() as folder:
            local = mlflow.artifacts.download_artifacts(
                run_id=source_id, dst_path=folder, tracking_uri=self.source_uri
            )
            self.dst.log_artifacts(new_id, local)
            self.counts.artifact_files += sum(1 for p in Path(local).rglob("*") if p.is_file())

    def _copy_logged_model(self, model: Any, experiment_id: str, run_id: str | None) -> str:
        """Recreate a logged model with its files (its MLmodel names the new ids); returns
        the new model id."""
        import mlflow

        if model.model_id in self.ids:
            return self.ids[model.model_id]
        tags = {k: self.remap(v) for k, v in model.tags.items() if k not in SKIPPED_MODEL_TAGS}
        new = self.dst.create_logged_model(
            experiment_id,
            name=model.name,
            source_run_id=run_id,
            tags={**tags, TAG_MIGRATED_FROM: model.model_id},
            params=dict(model.params or {}),
            model_type=model.model_type,
        )
        with tempfile.TemporaryDirectory() as folder:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=model.artifact_location, dst_path=folder, tracking_uri=self.source_uri
            )
            renamed = [(model.artifact_location, new.artifact_location)]
            renamed += [(model.model_id, new.model_id), (model.source_run_id, run_id)]
            _rewrite(Path(local) / "MLmodel", renamed)
            self.dst.log_model_artifacts(new.model_id, local)
        status = str(getattr(model.status, "value", model.status))
        if status in ("READY", "FAILED"):
            self.dst.finalize_logged_model(new.model_id, status)
        self.ids[model.model_id] = new.model_id
        self.counts.logged_models += 1
        return new.model_id

    def _retag(self, run: Any) -> None:
        new_id = self.ids.get(run.info.run_id)
        if new_id:
            for key, value in run.data.tags.items():
                if self.remap(value) != value:
                    self.dst.set_tag(new_id, key, self.remap(value))


def _rewrite(path: Path, renamed: list[tuple[str | None, str | None]]) -> None:
    """Replace old ids and locations by new ones in a text file, when it exists."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    for old, fresh in renamed:
        if old and fresh:
            text = text.replace(old, fresh)
    path.write_text(text, encoding="utf-8")


def _runs(client: Any, experiment_ids: list[str], condition: str = "") -> list[Any]:
    search = client.search_runs
    return list(pages(lambda token: search(experiment_ids, condition, 1, 1000, page_token=token)))


def _add(target: Counts, before: Counts, after: Counts) -> None:
    for key, value in vars(after).items():
        setattr(target, key, getattr(target, key) + value - getattr(before, key))


def _forget(action: Callable[[str], Any], item: str) -> None:
    """Clean up after a failure, best effort: the failure itself is what gets reported."""
    with contextlib.suppress(Exception):
        action(item)
