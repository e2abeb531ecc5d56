"""What an export of a model card reads from MLflow: the registered version a `models:/` URI
names, the card run that judged it (tag `mlwb.card_run`, set by `promotion.attach_card`), the
train and explain runs the card describes, and what those runs logged.

`card_json` and `card_bom` turn a `CardRecord` into documents; neither reads the store.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import card_evidence, promotion
from mlworkbench.governance.signoff import signoff_state
from mlworkbench.tracking.store import safe_name
from mlworkbench.tracking.tags import TAG_CARD_RUN, TAG_PACKAGES

MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/@]+)|@(?P<alias>[^/@]+))$")
"""`models:/<name>/<version>` or `models:/<name>@<alias>`."""

GATES = "fairness/gates.json"
"""Artifact of the explain run: its fairness gates."""

GROUPS_PREFIX = "fairness/groups_"
"""Artifacts of the explain run: the rates of every group of one sensitive feature."""


@dataclass
class CardRecord:
    """Everything a card export shows, read from the store.

    Attributes:
        version: the registered model version (an MLflow `ModelVersion`).
        card_run: the card run that judged the version.
        train_run: the run that trained and registered it.
        explain_run: the run that explained it, or None.
        answers: the governance answers the card used (`card/governance.json`).
        features: the columns the model uses, as `{"name", "kind"}` (the training screening).
        gates: the fairness gates of the explain run (`fairness/gates.json`).
        groups: per sensitive feature (and intersection), the rates of each group.
        packages: the versions of the packages the training ran with.
    """

    version: Any
    card_run: Any
    train_run: Any
    explain_run: Any | None
    answers: dict[str, Any] = field(default_factory=dict)
    features: list[dict[str, str]] = field(default_factory=list)
    gates: list[dict[str, Any]] = field(default_factory=list)
    groups: dict[str, pd.DataFrame] = field(default_factory=dict)
    packages: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.version.name

    @property
    def number(self) -> str:
        return str(self.version.version)

    @property
    def signoff(self) -> str:
        """The version's sign-off as people read it (`awaiting sign-off`, `signed off by ana
        (authenticated) on 2026-11-30 10:12 UTC: reason`), from its tags as the registry held
        them when the record was read; empty when none is needed or recorded."""
        return signoff_state(self.version.tags)


def parse_model_uri(uri: str) -> tuple[str, str, str]:
    """(name, version, alias) of a `models:/` URI; one of version and alias is empty.

    Raises:
        CardExportError: not a `models:/<name>/<version>` or `models:/<name>@<alias>` URI.
    """
    match = MODEL_URI.match(uri.strip())
    if not match or (match["version"] is not None and not match["version"].isdigit()):
        raise CardExportError(
            f"'{uri}' is not a model URI: use models:/<name>/<version> (models:/credit/3) or "
            "models:/<name>@<alias> (models:/credit@champion)."
        )
    return match["name"], match["version"] or "", match["alias"] or ""


def resolve_version(client: Any, uri: str) -> Any:
    """The model version `uri` names, the alias resolved with the registry.

    Raises:
        CardExportError: bad URI, unknown model, version or alias.
        RegistryError: the registry could not answer.
    """
    name, version, alias = parse_model_uri(uri)
    try:
        if alias:
            return client.get_model_version_by_alias(name, alias)
        return client.get_model_version(name, version)
    except Exception as exc:
        missing = getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST"
        if missing or (alias and promotion.is_missing_alias(exc, alias)):
            raise CardExportError(f"The model registry has no {uri}: {exc}") from exc
        raise promotion.registry_error(name, f"read {uri}", exc) from exc


def card_run(client: Any, version: Any) -> Any:
    """The card run that judged `version`.

    Raises:
        CardExportError: no card stage has judged the version yet.
    """
    run_id = version.tags.get(TAG_CARD_RUN, "")
    if not run_id:
        raise CardExportError(
            f"Version {version.version} of '{version.name}' has no model card yet: run the card "
            "stage of its pipeline (mlwb run CONFIG --stage card)."
        )
    return client.get_run(run_id)


def artifact_text(client: Any, run_id: str, path: str) -> str | None:
    """The text of an artifact of a run, read through `client` (whichever store it points at,
    not the process's tracking URI); None when the run did not log it."""
    folder = PurePosixPath(path).parent.as_posix()
    listed = {a.path for a in client.list_artifacts(run_id, None if folder == "." else folder)}
    if path not in listed:
        return None
    with tempfile.TemporaryDirectory() as destination:
        return Path(client.download_artifacts(run_id, path, destination)).read_text("utf-8")


def artifact_json(client: Any, run_id: str, path: str) -> Any:
    """A JSON artifact of a run, parsed; None when the run did not log it."""
    text = artifact_text(client, run_id, path)
    return None if text is None else json.loads(text)


def used_features(client: Any, train_run: Any) -> list[dict[str, str]]:
    """The columns the training screening kept (none for runs that logged no screening)."""
    logged = artifact_json(client, train_run.info.run_id, "screening/columns.json") or {}
    return [
        {"name": str(c["column"]), "kind": str(c.get("kind", ""))}
        for c in logged.get("columns", [])
        if c.get("action") == "use"
    ]


def group_tables(client: Any, explain_run: Any, gates: list[dict[str, Any]]) -> dict[str, Any]:
    """The explain run's `fairness/groups_<feature>.csv` tables by feature name (the gates
    give the names the file names were made from)."""
    if explain_run is None:
        return {}
    run_id = explain_run.info.run_id
    names = {safe_name(g["feature"]): g["feature"] for g in gates}
    tables = {}
    for artifact in client.list_artifacts(run_id, "fairness"):
        stem = PurePosixPath(artifact.path).stem
        if artifact.path.startswith(GROUPS_PREFIX) and artifact.path.endswith(".csv"):
            text = artifact_text(client, run_id, artifact.path) or ""
            key = stem.removeprefix(PurePosixPath(GROUPS_PREFIX).name)
            tables[names.get(key, key)] = pd.read_csv(io.StringIO(text))
    return tables


def packages(train_run: Any) -> dict[str, str]:
    """The package versions the training run recorded (tag `mlwb.packages`)."""
    try:
        return dict(json.loads(train_run.data.tags.get(TAG_PACKAGES, "{}")))
    except (ValueError, TypeError):
        return {}


def load_record(client: Any, version: Any) -> CardRecord:
    """Read everything the exports of `version`'s card show.

    Raises:
        CardExportError: no card stage has judged the version.
    """
    judged_by = card_run(client, version)
    train = client.get_run(version.run_id)
    experiment = client.get_experiment(train.info.experiment_id).name
    runs = card_evidence.stage_runs(client, experiment, {"train": train.info.run_id})
    explained = runs["explain"]
    governance = artifact_json(client, judged_by.info.run_id, "card/governance.json") or {}
    gates = artifact_json(client, explained.info.run_id, GATES) if explained else None
    return CardRecord(
        version=version,
        card_run=judged_by,
        train_run=train,
        explain_run=explained,
        answers=dict(governance.get("governance") or {}),
        features=used_features(client, train),
        gates=gates or [],
        groups=group_tables(client, explained, gates),
        packages=packages(train),
    )
