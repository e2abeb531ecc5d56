"""The explain report's sentences, generated from a small real analysis."""

from __future__ import annotations

from mlworkbench.analysis.explain import fairness, summary


def test_the_explained_output_is_named_by_its_positive_class(analysis):
    assert summary.output_phrase(analysis) == "the predicted chance of '1'"


def test_reading_sentences_give_units_explainer_and_rows(analysis):
    assert summary.reading_sentences(analysis) == [
        "Values are in log-odds of the predicted chance of '1'.",
        "Explainer: tree; 120 rows explained.",
    ]


def test_waterfall_titles_give_the_row_and_why_it_was_picked(analysis):
    assert summary.local_title(analysis, 0) == "Row 703: row 703 (requested)"
    highest = analysis.local.attributions.rows.index[1]
    assert summary.local_title(analysis, 1) == f"Row {highest}: highest score"


def test_the_summary_names_the_drivers_the_gates_the_weakest_cohort_and_the_sampling(analysis):
    sentences = summary.summary_sentences(analysis)
    top = ", ".join(analysis.top)
    assert sentences[0] == (
        f"Predictions are driven most by {top} "
        "(average effect on the predicted chance of '1', by SHAP)."
    )
    assert [s.split(":")[0] for s in sentences[1:3]] == analysis.top
    counts = fairness.gate_counts(analysis.gates)
    assert (
        f"Fairness: {counts['fairness_gates_passed']} of 9 gates pass, "
        f"{counts['fairness_gates_failed']} fail (limits from the config)."
    ) in sentences
    worst = analysis.cohorts.iloc[0]
    assert any(
        s.startswith(f"The model is weakest where {worst['feature']} is {worst['cohort']}")
        for s in sentences
    )
    assert sentences[-4:] == analysis.sampling
