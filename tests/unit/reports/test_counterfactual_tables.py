"""The counterfactual section of the explain report: changed cells marked, only model features
that change shown (never a name or an identifier), wide tables on their side, and callouts when
the cap cut the search short, nothing was found or DiCE failed."""

from __future__ import annotations

import re

import pytest
from helpers import fit_small
from messy import messy_frame

from mlworkbench.analysis import training
from mlworkbench.analysis.explain import counterfactuals, explanation
from mlworkbench.analysis.explain.counterfactuals import (
    Counterfactual,
    CounterfactualResult,
    RowCounterfactuals,
)
from mlworkbench.reports.counterfactual_tables import counterfactual_outputs, row_table_html


@pytest.fixture(scope="module")
def messy_outputs():
    frame = messy_frame(300)
    train, test = frame.iloc[:200], frame.iloc[200:]
    trained = fit_small(train, "xgboost", "outcome")
    y, _ = training.encode_target(test["outcome"], "classification", trained.classes)
    subject = explanation.Subject(
        trained.pipeline,
        trained.classes,
        trained.threshold,
        "binary",
        test.drop(columns=["outcome"]),
        y,
        "runs:/abc/model",
        "abc",
        "test rows",
    )
    result = counterfactuals.explain(subject, [210, 220], ["a", "b"], ["age"], per_row=2)
    return frame, result, counterfactual_outputs(result)


def test_changed_cells_are_marked_and_no_other_column_is_shown(messy_outputs):
    frame, result, outputs = messy_outputs
    page = "".join(outputs)
    assert outputs[0].startswith("<p>Counterfactuals for 2 of 2 rows explained one by one, found")
    assert "age never changes." in outputs[0]
    marked = re.findall(r'<td class="changed" style="[^"]*background:[^"]*">', page)
    changed = sum(len(cf.changed) + 1 for r in result.rows for cf in r.counterfactuals)
    assert len(marked) >= changed  # every changed feature and every new score
    for column in ("Name", "customer_id", "notes", "empty", "country"):
        assert f"<th>{column}</th>" not in page
    names = frame.loc[[210, 220], "Name"]
    assert not any(name in page for name in names)
    assert "<script>" not in page


def test_a_table_shows_the_original_and_each_counterfactual_with_only_changing_columns():
    row = RowCounterfactuals(
        7, "highest score", {"duration": 36.0, "purpose": "radio/TV", "age": 30.0}, 0.81, "bad"
    )
    row.counterfactuals = [
        Counterfactual(
            {"duration": 12.0, "purpose": "car", "age": 30.0}, ["duration", "purpose"], 0.4, "good"
        )
    ]
    result = CounterfactualResult("binary", "probability of bad", [], [row], [], 30, 1.2)
    html = row_table_html(result, row)
    assert "<th>age</th>" not in html and "<th>duration</th>" in html
    assert "<th>original</th><td>36</td><td>radio/TV</td><td>bad</td><td>0.81</td>" in html
    assert '<td class="changed" style="font-weight:700;background:#fff3b0">car</td>' in html


def test_a_wide_table_is_shown_on_its_side():
    features = [f"f{i}" for i in range(8)]
    row = RowCounterfactuals(1, "lowest score", dict.fromkeys(features, 1.0), 0.2, "no")
    row.counterfactuals = [Counterfactual(dict.fromkeys(features, 2.0), features, 0.7, "yes")]
    result = CounterfactualResult("binary", "probability of yes", [], [row], [], 30, 1.0)
    html = row_table_html(result, row)
    assert "<th></th><th>original</th><th>counterfactual 1</th>" in html
    assert html.count("<tr><th>f") == 8


def test_callouts_say_when_the_cap_cut_the_search_nothing_was_found_or_dice_failed():
    rows = [
        RowCounterfactuals(1, "a", {"x": 1.0}, 0.9, "yes", status="cut"),
        RowCounterfactuals(2, "b", {"x": 1.0}, 0.9, "yes", status="none"),
        RowCounterfactuals(3, "c", {"x": 1.0}, 0.9, "yes", status="failed", message="Boom: <b>"),
    ]
    result = CounterfactualResult("binary", "p", ["sex"], rows, ["A note."], 5, 5.1)
    outputs = counterfactual_outputs(result)
    assert len(outputs) == 5 and "sex never changes." in outputs[0]
    assert "The time cap cut the search short" in outputs[1]
    assert "All rows together had 5 seconds." in outputs[1]
    assert "No counterfactual within the cap" in outputs[2]
    assert "DiCE could not handle the model" in outputs[3] and "Boom: &lt;b&gt;" in outputs[3]
    assert "<table" not in "".join(outputs[1:4])
    assert "A note." in outputs[4]


def test_switched_off_counterfactuals_are_one_callout():
    notes = ["Counterfactuals are switched off (a time cap of 0 seconds)."]
    result = CounterfactualResult("binary", "p", [], [], notes, 0, 0)
    (output,) = counterfactual_outputs(result)
    assert "Counterfactuals switched off" in output and "time cap of 0 seconds" in output
