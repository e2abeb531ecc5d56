"""Finding what a card export reads: the version a model URI names, its card run, the train
and explain runs and their tables, and the version's sign-off, in a real SQLite store."""

from __future__ import annotations

import mlflow
import pytest
from card_store import PACKAGES, log_judged_version, new_store

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import card_record, promotion
from mlworkbench.governance.signoff import signoff_tags
from mlworkbench.tracking.tags import TAG_SIGNOFF_AT


@pytest.fixture(scope="module")
def judged(tmp_path_factory, empty_store):
    folder = tmp_path_factory.mktemp("project")
    client, experiment_id = new_store(folder, empty_store)
    versions = [log_judged_version(client, experiment_id, folder) for _ in range(2)]
    client.create_model_version("credit-model", "runs:/unknown/model")  # never judged
    yield client, versions
    mlflow.set_tracking_uri(None)


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("models:/credit/3", ("credit", "3", "")),
        ("models:/credit@champion", ("credit", "", "champion")),
        (" models:/my-model.v2/12 ", ("my-model.v2", "12", "")),
    ],
)
def test_model_uris_name_a_version_or_an_alias(uri, expected):
    assert card_record.parse_model_uri(uri) == expected


@pytest.mark.parametrize(
    "uri", ["credit", "models:/credit", "models:/credit/latest", "runs:/abc/model", ""]
)
def test_anything_else_is_refused_with_the_two_forms(uri):
    with pytest.raises(CardExportError, match=r"models:/<name>/<version>.*models:/<name>@<alias>"):
        card_record.parse_model_uri(uri)


def test_an_alias_resolves_to_its_version(judged):
    client, _ = judged
    assert card_record.resolve_version(client, "models:/credit-model@champion").version == 2
    assert card_record.resolve_version(client, "models:/credit-model/1").version == 1


@pytest.mark.parametrize(
    "uri", ["models:/credit-model/9", "models:/nobody/1", "models:/credit-model@nothing"]
)
def test_unknown_versions_models_and_aliases_are_clear_errors(judged, uri):
    with pytest.raises(CardExportError, match=f"The model registry has no {uri}"):
        card_record.resolve_version(judged[0], uri)


def test_a_version_no_card_stage_judged_has_no_card(judged):
    client, _ = judged
    never = client.get_model_version("credit-model", "3")
    with pytest.raises(CardExportError, match="Version 3 of 'credit-model' has no model card"):
        card_record.load_record(client, never)


def test_the_record_holds_the_runs_answers_tables_and_packages_of_its_version(judged):
    client, versions = judged
    first = versions[0]
    record = card_record.load_record(client, first.version)
    assert (record.name, record.number) == ("credit-model", "1")
    assert record.card_run.info.run_id == first.card_id
    assert record.train_run.info.run_id == first.train_id
    assert record.explain_run.info.run_id == first.explain_id  # not the second version's
    assert record.answers["owner"] == "Risk team"
    assert record.features == [
        {"name": "age", "kind": "numeric"},
        {"name": "duration", "kind": "numeric"},
    ]
    assert record.gates == first.gates
    assert set(record.groups) == {"sex", "age", "sex & age"}
    logged = first.tables["sex & age"].set_index("group")
    read = record.groups["sex & age"].set_index("group")
    assert read["selection_rate"].to_dict() == pytest.approx(logged["selection_rate"].to_dict())
    assert record.packages == PACKAGES


def test_the_record_carries_the_versions_signoff_as_the_registry_holds_it(judged):
    client, versions = judged
    assert card_record.load_record(client, versions[0].version).signoff == ""
    for key, value in signoff_tags("ana", True, "Gates and checklist reviewed.").items():
        client.set_model_version_tag("credit-model", "1", key, value)
    promotion.await_signoff(client, "credit-model", "2")

    signed = card_record.resolve_version(client, "models:/credit-model/1")
    at = signed.tags[TAG_SIGNOFF_AT]
    assert card_record.load_record(client, signed).signoff == (
        f"signed off by ana (authenticated) on {at}: Gates and checklist reviewed."
    )
    awaiting = card_record.resolve_version(client, "models:/credit-model@candidate")
    assert awaiting.version == 2
    assert card_record.load_record(client, awaiting).signoff == "awaiting sign-off"
