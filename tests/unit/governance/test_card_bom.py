"""The model card as a CycloneDX 1.6 ML-BOM, built with cyclonedx-python-lib from a real store
and read back with the library's own 1.6 validator and JSON parser."""

from __future__ import annotations

import json

import mlflow
import pytest
from card_store import PACKAGES, log_judged_version, new_store
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import ComponentType
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import card_bom, card_json, card_record
from mlworkbench.governance.signoff import signoff_tags
from mlworkbench.tracking.tags import TAG_SIGNOFF_AT


@pytest.fixture(scope="module")
def judged(tmp_path_factory, empty_store):
    folder = tmp_path_factory.mktemp("project")
    client, experiment_id = new_store(folder, empty_store)
    first = log_judged_version(client, experiment_id, folder)
    record = card_record.load_record(client, first.version)
    document = card_json.card_document(record)
    yield first, document, card_bom.card_bom(record, document)
    mlflow.set_tracking_uri(None)


def test_the_bom_is_valid_cyclonedx_1_6(judged):
    _, _, text = judged
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")


def test_the_model_and_both_datasets_are_components_with_their_digests(judged):
    first, _, text = judged
    bom = Bom.from_json(json.loads(text))  # the library reads it back
    by_type = {}
    for component in bom.components:
        by_type.setdefault(component.type, []).append(component)
    (model,) = by_type[ComponentType.MACHINE_LEARNING_MODEL]
    assert (model.name, model.version) == ("credit-model", "1")
    data = {c.name: {p.name: p.value for p in c.properties} for c in by_type[ComponentType.DATA]}
    assert data["credit-model train rows"]["mlwb:dataset:digest"] == first.digests["train"]
    assert data["credit-model test rows"]["mlwb:dataset:digest"] == first.digests["test"]
    assert data["credit-model train rows"]["mlwb:dataset:rows"] == "300"
    libraries = {c.name: c.version for c in by_type[ComponentType.LIBRARY]}
    assert libraries == PACKAGES
    assert str(next(c.purl for c in by_type[ComponentType.LIBRARY] if c.name == "pandas")) == (
        "pkg:pypi/pandas@2.3.3"
    )


def test_the_model_depends_on_its_data_and_packages(judged):
    _, _, text = judged
    dependencies = {d["ref"]: d.get("dependsOn", []) for d in json.loads(text)["dependencies"]}
    assert set(dependencies["model"]) == {"data-train", "data-test"} | {
        f"pypi-{name}" for name in PACKAGES
    }


def test_the_model_card_carries_parameters_metrics_per_group_and_considerations(judged):
    _, document, text = judged
    (model,) = [c for c in json.loads(text)["components"] if c["bom-ref"] == "model"]
    card = model["modelCard"]
    assert card["modelParameters"]["datasets"] == [{"ref": "data-train"}, {"ref": "data-test"}]
    assert card["modelParameters"]["architectureFamily"] == "xgboost"
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    assert {"type": "roc_auc", "value": "0.75", "slice": "overall"} in metrics
    defined = [m for m in document["quantitative_analysis"]["performance_metrics"] if m["value"]]
    assert len(metrics) == len(defined)
    assert {m["slice"].split(" = ")[0] for m in metrics} == {"overall", "sex", "age", "sex & age"}
    considerations = card["considerations"]
    assert considerations["users"] == ["Credit officers."]
    assert [f["groupAtRisk"].split(":")[0] for f in considerations["fairnessAssessments"]] == [
        "sex",
        "age",
        "sex & age",
    ]


def model_properties(text: str) -> dict[str, str]:
    """The properties of the model component of a serialized BOM, read back by the library."""
    bom = Bom.from_json(json.loads(text))
    (model,) = [c for c in bom.components if c.type == ComponentType.MACHINE_LEARNING_MODEL]
    return {p.name: p.value for p in model.properties}


def test_a_version_without_signoff_says_none(judged):
    _, _, text = judged
    found = {k: v for k, v in model_properties(text).items() if k.startswith("mlwb:signoff:")}
    assert found == {"mlwb:signoff:state": "none"}, "empty fields are left out"


def test_the_model_carries_its_signoff_as_properties(judged):  # judged: fills the store
    client = mlflow.MlflowClient()
    for key, value in signoff_tags("ana", True, "Approved after review.").items():
        client.set_model_version_tag("credit-model", "1", key, value)
    record = card_record.load_record(client, client.get_model_version("credit-model", "1"))
    text = card_bom.card_bom(record, card_json.card_document(record))  # validated as 1.6
    found = model_properties(text)
    assert found["mlwb:signoff:state"] == "signed off"
    assert found["mlwb:signoff:by"] == "ana"
    assert found["mlwb:signoff:identity"] == "authenticated"
    assert found["mlwb:signoff:at"] == record.version.tags[TAG_SIGNOFF_AT]
    assert found["mlwb:signoff:reason"] == "Approved after review."
    assert found["mlwb:model:decision"] == "promoted"


def test_a_bom_that_breaks_the_1_6_schema_is_refused(judged):
    _, _, text = judged
    bom = json.loads(text)
    bom["components"][0]["type"] = "spaceship"
    with pytest.raises(CardExportError, match="does not validate as CycloneDX 1.6"):
        card_bom.validate(json.dumps(bom))
