"""The model card as JSON: the Model Card Toolkit layout, values read from a real store,
metrics per group, NaN as null, the version's sign-off, and the schema that every document is
checked against."""

from __future__ import annotations

import copy
import math
import re

import jsonschema
import mlflow
import pytest
from card_store import log_judged_version, new_store

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance import card_json, card_record, promotion
from mlworkbench.governance.signoff import signoff_tags
from mlworkbench.tracking.tags import TAG_SIGNOFF_AT


@pytest.fixture(scope="module")
def judged(tmp_path_factory, empty_store):
    folder = tmp_path_factory.mktemp("project")
    client, experiment_id = new_store(folder, empty_store)
    first = log_judged_version(client, experiment_id, folder)
    yield first, card_record.load_record(client, first.version)
    mlflow.set_tracking_uri(None)


@pytest.fixture
def document(judged):
    return card_json.card_document(judged[1])


def test_the_document_validates_against_the_shipped_schema(document):
    jsonschema.Draft202012Validator(card_json.schema()).validate(document)
    assert set(document) == {
        "schema_version",
        "model_details",
        "model_parameters",
        "quantitative_analysis",
        "considerations",
        "decision",
        "signoff",
    }
    assert (
        document["schema_version"]
        == "1.1"
        == card_json.schema()["properties"]["schema_version"]["const"]
    )


def test_model_details_name_the_version_its_owner_and_references(judged, document):
    first, _ = judged
    details = document["model_details"]
    assert details["name"] == "credit-model" and details["version"]["name"] == "1"
    assert details["owners"] == [{"name": "Risk team", "contact": "risk@example.org"}]
    assert details["regulatory_requirements"] == "EU AI Act risk category: high"
    assert details["overview"] == (
        "xgboost classification model predicting 'risk' from 2 columns of credit.csv. "
        "Intended use: Prioritise manual review of loan applications."
    )
    assert {"reference": f"runs:/{first.card_id}/card/model_card.md"} in details["references"]


def test_model_parameters_hold_the_data_with_digests_and_row_counts(judged, document):
    first, _ = judged
    parameters = document["model_parameters"]
    assert parameters["model_architecture"] == "xgboost"
    assert parameters["hyperparameters"] == {"max_depth": "3"}
    assert parameters["decision_threshold"] == pytest.approx(0.42)
    assert [f["name"] for f in parameters["input_features"]] == ["age", "duration"]
    by_name = {d["name"]: d for d in parameters["data"]}
    assert by_name["train"]["digest"] == first.digests["train"]
    assert by_name["test"]["digest"] == first.digests["test"]
    assert (by_name["train"]["rows"], by_name["test"]["rows"]) == (300, 100)
    assert by_name["train"]["source"] == "credit.csv"  # the file's name, not its path


def test_metrics_are_given_overall_and_for_every_group_of_every_sensitive_feature(judged, document):
    first, _ = judged
    metrics = document["quantitative_analysis"]["performance_metrics"]
    overall = {m["type"]: m for m in metrics if m["slice"] == "overall"}
    assert set(overall) == {"roc_auc"}  # f1 has no baseline logged
    assert overall["roc_auc"]["value"] == 0.75 and overall["roc_auc"]["baseline"] == 0.5
    sliced = {(m["slice"], m["type"]): m for m in metrics if m["slice"] != "overall"}
    for feature, table in first.tables.items():
        for row in table.to_dict("records"):
            for rate in card_json.GROUP_RATES:
                exported = sliced[(f"{feature} = {row['group']}", rate)]
                if math.isnan(row[rate]):
                    assert exported["value"] is None
                else:
                    assert exported["value"] == pytest.approx(row[rate])
                assert exported["rows"] == row["rows"]


def test_gates_and_the_fairness_assessment_come_from_the_explain_run(judged, document):
    first, _ = judged
    analysis = document["quantitative_analysis"]
    assert [(g["feature"], g["status"]) for g in analysis["fairness_gates"]] == [
        (g["feature"], g["status"]) for g in first.gates
    ]
    failing = {g["feature"] for g in first.gates if g["status"] == "FAIL"}
    assert analysis["fairness_status"] == ("FAIL" if failing else "PASS")
    assessment = {a["feature"]: a for a in document["considerations"]["fairness_assessment"]}
    assert {f for f, a in assessment.items() if a["status"] == "FAIL"} == failing
    limitations = [x["description"] for x in document["considerations"]["limitations"]]
    assert limitations[0] == "Not fit for: Automatic rejection."
    assert len(limitations) == 1 + len([g for g in first.gates if g["status"] == "FAIL"])


def test_considerations_come_from_the_governance_answers(document):
    notes = document["considerations"]
    assert notes["users"] == [{"description": "Credit officers."}]
    assert notes["use_cases"] == [{"description": "Prioritise manual review of loan applications."}]
    assert notes["ethical_considerations"] == [
        {
            "name": "What is the worst that could happen: Systematic denial of credit to a "
            "protected group.",
            "mitigation_strategy": "A credit officer decides.",
        }
    ]
    assert document["decision"]["label"] == "promoted"


def test_a_card_without_answers_or_explain_run_is_still_a_valid_document(judged):
    _, record = judged
    bare = copy.copy(record)
    bare.answers, bare.explain_run, bare.gates, bare.groups = {}, None, [], {}
    document = card_json.card_document(bare)
    assert document["model_details"]["owners"] == []
    assert document["considerations"]["users"] == []
    assert document["quantitative_analysis"]["fairness_status"] == ""
    assert {m["slice"] for m in document["quantitative_analysis"]["performance_metrics"]} == {
        "overall"
    }


def test_a_document_that_breaks_the_schema_is_refused_naming_the_place(document):
    document["model_parameters"]["data"][0]["rows"] = -1
    del document["considerations"]["users"]
    with pytest.raises(CardExportError) as raised:
        card_json.validate(document)
    message = str(raised.value)
    assert "considerations: 'users' is a required property" in message
    assert "model_parameters/data/0/rows: -1 is less than the minimum of 0" in message


def reread(record):
    """`record` with its version as the registry holds it now."""
    fresh = copy.copy(record)
    fresh.version = mlflow.MlflowClient().get_model_version(record.name, record.number)
    return fresh


def test_a_version_nobody_needs_to_sign_off_says_so(document):
    assert document["signoff"] == {
        "state": "none",
        "by": "",
        "identity": "",
        "at": "",
        "reason": "",
    }


def test_the_signoff_is_exported_awaiting_then_signed_off_with_who_when_and_why(judged):
    _, record = judged
    client = mlflow.MlflowClient()
    promotion.await_signoff(client, record.name, record.number)
    awaiting = card_json.card_document(reread(record))["signoff"]
    assert awaiting == {"state": "awaiting", "by": "", "identity": "", "at": "", "reason": ""}

    for key, value in signoff_tags("bo", False, "Fairness gates reviewed by hand.").items():
        client.set_model_version_tag(record.name, record.number, key, value)
    signed = reread(record)
    document = card_json.card_document(signed)  # validated against the schema
    assert document["signoff"] == {
        "state": "signed off",
        "by": "bo",
        "identity": "unauthenticated",
        "at": signed.version.tags[TAG_SIGNOFF_AT],
        "reason": "Fairness gates reviewed by hand.",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", document["signoff"]["at"])


def test_a_signoff_the_schema_does_not_know_is_refused(document):
    document["signoff"]["state"] = "maybe"
    del document["signoff"]["reason"]
    with pytest.raises(CardExportError) as raised:
        card_json.validate(document)
    message = str(raised.value)
    assert "signoff: 'reason' is a required property" in message
    assert "signoff/state: 'maybe' is not one of ['awaiting', 'signed off', 'none']" in message
