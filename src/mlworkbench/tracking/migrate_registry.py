"""The registry part of a migration: registered models, their versions and aliases.

A version's source and run are remapped to the copies of its logged model or run; versions
are created in their source order, so their numbers stay the same on a server that has no
versions of the model yet, and aliases follow the versions wherever they land.
"""

from __future__ import annotations

import warnings
from typing import Any

from mlworkbench.tracking.migrate_runs import ID_PATTERN, Migration, pages
from mlworkbench.tracking.tags import TAG_MIGRATED_FROM

# Deferred imports: mlflow loads inside the functions that use them, so that importing this module
# (from the command line or a notebook) stays fast.


def copy_registry(migration: Migration) -> None:
    """Copy every registered model with its versions and aliases (after the runs and logged
    models, whose new ids the versions need)."""
    for model in pages(lambda token: migration.src.search_registered_models(page_token=token)):
        _copy_registered_model(migration, model)


def _copy_registered_model(migration: Migration, model: Any) -> None:
    from mlflow.exceptions import MlflowException

    name = model.name
    try:
        migration.dst.get_registered_model(name)
    except MlflowException:
        migration.dst.create_registered_model(name, description=model.description)
    for key, value in model.tags.items():
        migration.dst.set_registered_model_tag(name, key, migration.remap(value))
    quoted = name.replace("'", "\\'")
    existing = {
        v.tags.get(TAG_MIGRATED_FROM): v.version
        for v in migration.dst.search_model_versions(f"name = '{quoted}'")
    }
    versions = migration.src.search_model_versions(f"name = '{quoted}'")
    for version in sorted(versions, key=lambda v: int(v.version)):
        _copy_version(migration, version, existing)
    for alias, version in (model.aliases or {}).items():
        target = migration.versions.get((name, str(version)))
        if target is None:
            migration.echo(f"alias '{alias}' of '{name}' not set: version {version} not copied")
            continue
        migration.dst.set_registered_model_alias(name, alias, target)
        migration.counts.aliases += 1


def _copy_version(migration: Migration, version: Any, existing: dict[str | None, str]) -> None:

    name, label = version.name, f"{version.name}/{version.version}"
    if label in existing:
        migration.versions[(name, str(version.version))] = existing[label]
        migration.counts.versions_skipped += 1
        return
    source, model_id = _version_source(migration, version)
    if source is None:
        migration.echo(f"model version {label} not copied: its run or logged model was not copied")
        return
    tags = {k: migration.remap(v) for k, v in version.tags.items()}
    created = migration.dst.create_model_version(
        name,
        source,
        run_id=migration.ids.get(version.run_id or ""),
        tags={**tags, TAG_MIGRATED_FROM: label},
        description=version.description,
        model_id=model_id,
    )
    stage = version.current_stage
    if stage and stage != "None":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stages are deprecated, still kept
            migration.dst.transition_model_version_stage(name, created.version, stage)
    migration.versions[(name, str(version.version))] = str(created.version)
    migration.counts.versions += 1


def _version_source(migration: Migration, version: Any) -> tuple[str | None, str | None]:
    """The destination's source URI and logged model id of a source version."""
    source = version.source or ""
    named = source.removeprefix("models:/")
    old_model = version.model_id or (named if ID_PATTERN.fullmatch(named) else "")
    if old_model:
        new_model = migration.ids.get(old_model)
        return (f"models:/{new_model}", new_model) if new_model else (None, None)
    if source.startswith("runs:/"):
        run_id, _, path = source.removeprefix("runs:/").partition("/")
        new_run = migration.ids.get(run_id)
        return (f"runs:/{new_run}/{path}", None) if new_run else (None, None)
    new_run = migration.ids.get(version.run_id or "")
    if new_run:
        run = migration.src.get_run(version.run_id)
        if source.startswith(run.info.artifact_uri):
            path = source.removeprefix(run.info.artifact_uri).strip("/")
            return f"runs:/{new_run}/{path}", None
    return None, None
