"""The model card as a CycloneDX 1.6 ML-BOM: the model (a `machine-learning-model` component
with its model card), the training and test rows (`data` components with their digests and row
counts as properties) and the packages the training ran with (`library` components), the model
depending on all of them.

cyclonedx-python-lib builds and serializes the BOM; it has no model for the `modelCard` object
of CycloneDX 1.6 yet, so the card (made from the JSON document of `card_json`) is added to the
model component of the serialized BOM, and the whole is then checked with the library's strict
CycloneDX 1.6 JSON validator.
"""

from __future__ import annotations

import json
from typing import Any

from mlworkbench.exceptions import CardExportError
from mlworkbench.governance.card_record import CardRecord

# Deferred imports: cyclonedx and packageurl load inside the functions that use them, so that
# importing this module stays fast.

MODEL_REF = "model"
"""bom-ref of the model component."""

PROPERTY_PREFIX = "mlwb:"
"""Namespace of the workbench's CycloneDX properties."""


def properties(values: dict[str, Any]) -> list[Any]:
    """CycloneDX properties `mlwb:<name>` of the values that are not empty."""
    from cyclonedx.model import Property

    return [
        Property(name=f"{PROPERTY_PREFIX}{k}", value=str(v))
        for k, v in values.items()
        if v not in ("", None)
    ]


def dataset_ref(dataset: dict[str, Any]) -> str:
    """bom-ref of a dataset component."""
    return f"data-{dataset['name']}"


def dataset_component(dataset: dict[str, Any], model_name: str) -> Any:
    """A `data` component for the rows the model was trained or tested on."""
    from cyclonedx.model.component import Component, ComponentType

    return Component(
        type=ComponentType.DATA,
        name=f"{model_name} {dataset['name']} rows",
        version=dataset["digest"],
        bom_ref=dataset_ref(dataset),
        description=f"{dataset['rows']:,} rows of {dataset['source']} ({dataset['context']}).",
        properties=properties(
            {
                "dataset:digest": dataset["digest"],
                "dataset:rows": dataset["rows"],
                "dataset:columns": dataset["columns"],
                "dataset:context": dataset["context"],
                "dataset:source": dataset["source"],
            }
        ),
    )


def library_component(name: str, version: str) -> Any:
    """A `library` component of a Python package, with its package URL."""
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        bom_ref=f"pypi-{name}",
        purl=PackageURL(type="pypi", name=name, version=version),
    )


def model_component(document: dict[str, Any]) -> Any:
    """The `machine-learning-model` component (its model card is added after serializing), with
    the decision and the human sign-off as properties (`mlwb:signoff:state`, `:by`, ...)."""
    from cyclonedx.model.component import Component, ComponentType

    details, parameters = document["model_details"], document["model_parameters"]
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=details["name"],
        version=details["version"]["name"],
        bom_ref=MODEL_REF,
        description=details["overview"],
        properties=properties(
            {
                "model:uri": details["references"][0]["reference"],
                "model:decision": document["decision"]["label"],
                "model:fairness": document["quantitative_analysis"]["fairness_status"],
                "model:target": parameters["target"],
                "model:card": details["references"][1]["reference"],
                **{f"signoff:{k}": v for k, v in document["signoff"].items()},
            }
        ),
    )


def model_card(document: dict[str, Any]) -> dict[str, Any]:
    """The CycloneDX 1.6 `modelCard` of the model component, from the JSON document."""
    parameters = document["model_parameters"]
    analysis, notes = document["quantitative_analysis"], document["considerations"]
    oversight = next((e["mitigation_strategy"] for e in notes["ethical_considerations"]), "")
    settings = ", ".join(f"{k}={v}" for k, v in parameters["hyperparameters"].items())
    return {
        "modelParameters": {
            "approach": {"type": "supervised"},
            "task": parameters["task"],
            "architectureFamily": parameters["model_architecture"],
            "modelArchitecture": f"{parameters['model_architecture']} ({settings or 'defaults'})",
            "datasets": [{"ref": dataset_ref(d)} for d in parameters["data"]],
            "inputs": [{"format": f"table of {len(parameters['input_features'])} columns"}],
            "outputs": [{"format": f"{parameters['task']} of {parameters['target']}"}],
        },
        "quantitativeAnalysis": {
            "performanceMetrics": [
                {"type": m["type"], "value": f"{m['value']:.6g}", "slice": m["slice"]}
                for m in analysis["performance_metrics"]
                if m["value"] is not None
            ]
        },
        "considerations": {
            "users": [u["description"] for u in notes["users"]],
            "useCases": [u["description"] for u in notes["use_cases"]],
            "technicalLimitations": [u["description"] for u in notes["limitations"]],
            "ethicalConsiderations": [
                {"name": e["name"], "mitigationStrategy": e["mitigation_strategy"]}
                for e in notes["ethical_considerations"]
            ],
            "fairnessAssessments": [
                {
                    "groupAtRisk": f"{f['feature']}: {f['group_at_risk']}",
                    "harms": f"{f['status']}: {f['description']}",
                    "mitigationStrategy": oversight,
                }
                for f in notes["fairness_assessment"]
            ],
        },
    }


def build_bom(record: CardRecord, document: dict[str, Any]) -> Any:
    """The BOM of the model, its datasets and its packages (without the model card)."""
    from cyclonedx.model.bom import Bom

    model = model_component(document)
    datasets = [dataset_component(d, record.name) for d in document["model_parameters"]["data"]]
    libraries = [library_component(n, v) for n, v in sorted(record.packages.items())]
    bom = Bom(components=[model, *datasets, *libraries])
    bom.register_dependency(model, [*datasets, *libraries])
    return bom


def card_bom(record: CardRecord, document: dict[str, Any]) -> str:
    """The ML-BOM of `record` as CycloneDX 1.6 JSON, with the model card, validated.

    Args:
        record: what the store holds about the version (its packages).
        document: the card as `card_json.card_document` made it.

    Raises:
        CardExportError: the BOM does not validate as CycloneDX 1.6.
    """
    from cyclonedx.output.json import JsonV1Dot6

    serialized = json.loads(JsonV1Dot6(build_bom(record, document)).output_as_string())
    for component in serialized["components"]:
        if component.get("bom-ref") == MODEL_REF:
            component["modelCard"] = model_card(document)
    text = json.dumps(serialized, indent=2, ensure_ascii=False) + "\n"
    validate(text)
    return text


def validate(text: str) -> None:
    """Check a BOM against the CycloneDX 1.6 JSON schema (the library's strict validator).

    Raises:
        CardExportError: naming the first problem.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise CardExportError(f"The CycloneDX ML-BOM does not validate as CycloneDX 1.6: {error}")
