"""Counterfactuals found by DiCE on real models: scored again by the pipeline they get the
other decision, frozen features never change, the time cap stops the search, and rows without
counterfactuals or with a model DiCE cannot handle are reported, never raised."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from helpers import fit_small
from messy import messy_frame

from mlworkbench.analysis import data, screening, training
from mlworkbench.analysis.explain import counterfactuals, explanation
from mlworkbench.exceptions import DataError


def make_subject(frame, target: str, task: str, model: str = "xgboost") -> explanation.Subject:
    """A subject fitted on the first two thirds of `frame`, explained on the rest."""
    cut = len(frame) * 2 // 3
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    trained = fit_small(train, model, target, task)
    y, _ = training.encode_target(test[target], task, trained.classes)
    kind = (
        "regression" if task == "regression" else ("binary", "multiclass")[len(trained.classes) > 2]
    )
    return explanation.Subject(
        trained.pipeline,
        trained.classes,
        trained.threshold,
        kind,
        test.drop(columns=[target]),
        y,
        "runs:/abc/model",
        "abc",
        "test rows",
    )


def rescored(subject, row_id, cf=None):
    """The raw row with a counterfactual's changes (none: the row itself) scored by the
    pipeline: the score (probability of class 1, of the predicted class, or the value) and the
    decision."""
    changes = {f: [cf.values[f]] for f in cf.changed} if cf else {}
    raw = subject.rows.loc[[row_id]].assign(**changes)
    if subject.kind == "regression":
        value = float(subject.pipeline.predict(raw)[0])
        return value, value
    proba = subject.pipeline.predict_proba(raw)[0]
    if subject.kind == "binary":
        return float(proba[1]), int(proba[1] >= (subject.threshold or 0.5))
    return float(proba.max()), int(proba.argmax())


@pytest.fixture(scope="module")
def german_result(subject):
    return counterfactuals.explain(
        subject, [703, 716], ["row 703 (requested)", "highest score"], ["sex", "age", "job"]
    )


def test_every_counterfactual_gets_the_other_decision_when_the_pipeline_scores_it(
    subject, german_result
):
    assert [r.status for r in german_result.rows] == ["found", "found"]
    for row in german_result.rows:
        original_score, original = rescored(subject, row.row_id)
        assert row.score == pytest.approx(original_score)
        assert 1 <= len(row.counterfactuals) <= 3
        for cf in row.counterfactuals:
            score, decision = rescored(subject, row.row_id, cf)
            assert decision != original and score == pytest.approx(cf.score)
            assert cf.prediction == str(subject.classes[decision])
            unchanged = [f for f in row.original if f not in cf.changed]
            assert all(cf.values[f] == row.original[f] for f in unchanged)
        assert row.sentence == row.counterfactuals[0].sentence
        assert row.sentence.startswith(f"Predicted {row.prediction} (probability of 1 ")


def test_frozen_features_never_change_and_are_recorded(german_result):
    assert german_result.frozen == ["sex", "age", "job"]
    assert german_result.frozen_sentence() == "sex, age and job never change."
    changed = {f for row in german_result.rows for cf in row.counterfactuals for f in cf.changed}
    assert changed and not changed & {"sex", "age", "job"}


def test_the_long_table_has_one_line_per_changed_cell(german_result):
    table = german_result.table
    assert list(table.columns) == counterfactuals.TABLE_COLUMNS
    cells = sum(len(cf.changed) for row in german_result.rows for cf in row.counterfactuals)
    assert len(table) == cells
    first = german_result.rows[0]
    lines = table[(table.row_id == 703) & (table.counterfactual == 1)]
    assert list(lines.feature) == first.counterfactuals[0].changed
    assert set(lines.original_score) == {first.score}
    metrics = german_result.metrics()
    assert metrics["counterfactuals.rows_with_counterfactual"] == 2
    assert metrics["counterfactuals.found"] == sum(
        len(r.counterfactuals) for r in german_result.rows
    )
    assert "counterfactuals.seconds" not in metrics and german_result.seconds_used > 0
    assert german_result.notes == []


def test_the_time_cap_stops_the_search_says_so_and_restores_the_timer(subject):
    previous = signal.getsignal(signal.SIGALRM)
    result = counterfactuals.explain(
        subject, [703, 716, 951], ["a", "b", "c"], ["sex"], seconds=0.01
    )
    assert result.rows[0].status == "cut"
    assert [r.status for r in result.rows[1:]] == ["skipped", "skipped"]
    assert result.notes[0] == "The 0.01-second cap cut the search short for row 703 (a)."
    assert result.notes[1] == "The 0.01-second cap was used up before row 716 (b) and row 951 (c)."
    assert result.metrics()["counterfactuals.rows_cut_short"] == 1
    assert result.rows[0].sentence.endswith("the time cap cut the search short.")
    assert signal.getsignal(signal.SIGALRM) is previous
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_outside_the_main_thread_only_the_clock_between_rows_applies(subject):
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(
            counterfactuals.explain, subject, [716, 951], ["a", "b"], [], 0.01, 1
        ).result()
    assert threading.current_thread() is threading.main_thread()
    assert result.rows[0].status in ("found", "none") and result.rows[1].status == "skipped"


def test_a_cap_of_zero_switches_counterfactuals_off(subject):
    result = counterfactuals.explain(subject, [703], ["a"], ["sex"], seconds=0)
    assert result.rows == [] and result.table.empty
    assert result.notes == ["Counterfactuals are switched off (a time cap of 0 seconds)."]


def test_unknown_rows_are_a_data_error(subject):
    with pytest.raises(DataError, match=r"\[5\] are not among the explained rows"):
        counterfactuals.explain(subject, [5], ["a"], [])


@pytest.fixture(scope="module")
def diabetes():
    return make_subject(data.read_source("sklearn:diabetes"), "target", "regression")


def test_regression_counterfactuals_move_the_prediction_by_one_standard_deviation(diabetes):
    predicted = diabetes.pipeline.predict(diabetes.rows)
    low, high = diabetes.rows.index[predicted.argmin()], diabetes.rows.index[predicted.argmax()]
    result = counterfactuals.explain(diabetes, [low, high], ["low", "high"], ["sex", "age"])
    assert result.score_name == "prediction"
    step = float(np.std(predicted))
    up, down = result.rows
    assert up.counterfactuals and down.counterfactuals
    for cf in up.counterfactuals:
        assert rescored(diabetes, low, cf)[0] == pytest.approx(cf.score)
        assert cf.score >= up.score + step
    assert all(cf.score <= down.score - step for cf in down.counterfactuals)
    assert up.sentence.startswith(f"Predicted {up.prediction}; ")


def test_rows_without_counterfactual_are_reported(diabetes):
    row_id = diabetes.rows.index[0]
    result = counterfactuals.explain(diabetes, [row_id], ["first"], [], change=1e6)
    (row,) = result.rows
    assert row.status == "none" and row.counterfactuals == []
    assert row.sentence == f"Predicted {row.prediction}: no counterfactual within the cap."
    assert result.notes == [f"No counterfactual was found within the cap for row {row_id} (first)."]
    assert result.metrics()["counterfactuals.rows_with_counterfactual"] == 0


def test_multiclass_counterfactuals_reach_another_class():
    subject = make_subject(
        data.read_source("sklearn:wine").sample(frac=1, random_state=0), "target", "classification"
    )
    assert subject.kind == "multiclass"
    row_id = subject.rows.index[0]
    result = counterfactuals.explain(subject, [row_id], ["first"], [], per_row=2)
    (row,) = result.rows
    assert row.status == "found"
    for cf in row.counterfactuals:
        assert cf.prediction != row.prediction
        assert rescored(subject, row_id, cf)[1] == subject.classes.index(int(cf.prediction))


def test_a_model_dice_cannot_handle_is_reported_not_raised(german):
    from sklearn.svm import SVC

    train, test = german.iloc[:200], german.iloc[900:]
    pipeline = training.make_pipeline(
        screening.screen_columns(train, "risk"), "linear", "classification", {}, seed=0
    )
    pipeline.set_params(model=SVC()).fit(train.drop(columns=["risk"]), train["risk"])
    subject = explanation.Subject(
        pipeline,
        [0, 1],
        0.5,
        "binary",
        test.drop(columns=["risk"]),
        test["risk"].to_numpy(),
        "runs:/x/model",
        "x",
        "rows",
    )
    result = counterfactuals.explain(subject, [900], ["row 900 (requested)"], [])
    (row,) = result.rows
    assert row.status == "failed" and "predict_proba" in row.message
    assert result.notes == [
        f"DiCE could not handle the model for row 900 (requested): {row.message}"
    ]
    assert result.metrics()["counterfactuals.rows_failed"] == 1


@pytest.fixture(scope="module")
def messy_result():
    frame = messy_frame(300)
    frame.loc[frame.index[250], ["income (€)", "région"]] = [None, None]
    subject = make_subject(frame, "outcome", "classification")
    rows = list(frame.index[[250, 260]])
    return subject, counterfactuals.explain(subject, rows, ["a", "b"], ["age"], per_row=2)


def test_messy_tables_vary_only_model_features_and_keep_missing_cells(messy_result):
    subject, result = messy_result
    _, view = screening.model_view(subject.pipeline, subject.rows)
    assert "Name" not in view.columns and "customer_id" not in view.columns
    for row in result.rows:
        assert set(row.original) == set(view.columns)
        assert row.status == "found"
        for cf in row.counterfactuals:
            assert set(cf.changed) <= set(view.columns) - {"age"}
            assert rescored(subject, row.row_id, cf)[1] != rescored(subject, row.row_id)[1]
    first = result.rows[0]
    assert np.isnan(first.original["income (€)"]) and first.original["région"] is None
    assert result.notes[-1].startswith("Row 250 (a) has missing values in features that may")
    for cf in first.counterfactuals:
        kept = [f for f in ("income (€)", "région") if f not in cf.changed]
        assert all(cf.values[f] is first.original[f] for f in kept)


def test_value_text_writes_numbers_as_people_read_them():
    texts = [counterfactuals.value_text(v) for v in (12.0, 32220.5, 0.000123, np.nan, "car", True)]
    assert texts == ["12", "32,220.5", "0.000123", "missing", "car", "True"]
