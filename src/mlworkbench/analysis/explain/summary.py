"""The explain report's sentences: the summary for domain experts (attributions, fairness,
weakest cohort, then the lead of the error tree, calibration, conformal and counterfactual
sections), how to read the SHAP values, and the titles of the waterfall charts, all
generated from an `Analysis`."""

from __future__ import annotations

from mlworkbench.analysis.explain import cohorts, fairness, shapley
from mlworkbench.analysis.explain.assessment import Analysis


def output_phrase(analysis: Analysis) -> str:
    """What the explained output is, in words."""
    subject = analysis.subject
    if subject.kind == "binary":
        return f"the predicted chance of '{subject.classes[1]}'"
    if subject.kind == "multiclass":
        return "the predicted class"
    return "the prediction"


def reading_sentences(analysis: Analysis) -> list[str]:
    """How to read the SHAP values: their units and output, and which explainer on how many
    rows."""
    attributions = analysis.attributions
    return [
        f"Values are in {attributions.units} of {output_phrase(analysis)}.",
        f"Explainer: {attributions.explainer}; {len(attributions.rows):,} rows explained.",
    ]


def local_title(analysis: Analysis, position: int) -> str:
    """Title of a waterfall chart: the row id, why it was chosen and, for multiclass, the
    class explained."""
    local = analysis.local
    title = f"Row {local.attributions.rows.index[position]}: {local.reasons[position]}"
    if analysis.subject.kind == "multiclass":
        title += f" (class {local.attributions.outputs[local.outputs[position]]})"
    return title


def summary_sentences(analysis: Analysis) -> list[str]:
    """The report's summary for domain experts, generated from the numbers."""
    attributions = analysis.attributions
    sentences = [
        f"Predictions are driven most by {', '.join(analysis.top[:3])} "
        f"(average effect on {output_phrase(analysis)}, by SHAP)."
    ]
    if analysis.subject.kind != "multiclass":
        words = shapley.directions(attributions)
        sentences += [f"{feature}: {words[feature]}." for feature in analysis.top[:3]]
    if analysis.gates:
        counts = fairness.gate_counts(analysis.gates)
        sentences.append(
            f"Fairness: {counts['fairness_gates_passed']} of {len(analysis.gates)} gates pass, "
            f"{counts['fairness_gates_failed']} fail (limits from the config)."
        )
        sentences += fairness.feature_sentences(analysis.gates, analysis.groups)
    elif analysis.sensitive_features:
        sentences.append("Fairness: no gate applies to this kind of model.")
    else:
        sentences.append("Fairness: the config names no sensitive features, so none was judged.")
    sentences.append(cohorts.worst_sentence(analysis.cohorts, analysis.subject.kind))
    return sentences + diagnostic_sentences(analysis) + analysis.sampling


def diagnostic_sentences(analysis: Analysis) -> list[str]:
    """The lead sentence of the error tree, calibration, conformal and counterfactual
    sections, for the summary."""
    diagnostics, kind = analysis.diagnostics, analysis.subject.kind
    parts = [
        diagnostics.error_tree.sentences(kind),
        diagnostics.calibration.sentences(),
        diagnostics.uncertainty.sentences(),
        diagnostics.counterfactuals.sentences(),
    ]
    return [part[0] for part in parts if part]
