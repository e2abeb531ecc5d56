"""The error-analysis tree: leaves recounted from their readable rules, planted error pockets
found, degenerate inputs handled, and the figure drawn without overlapping labels."""

from __future__ import annotations

import itertools
import re
import time

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from helpers import fit_small
from messy import messy_frame

from mlworkbench.analysis import screening
from mlworkbench.analysis.explain import explanation
from mlworkbench.analysis.explain.error_tree import (
    ErrorTree,
    encode,
    fit_error_tree,
    wrong_predictions,
)
from mlworkbench.exceptions import ConfigError, DataError

# --- an independent reading of the rules: text in, boolean mask out ----------------------------


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _column(text: str, frame: pd.DataFrame) -> str:
    """The column a condition starts with (the longest name that fits)."""
    names = sorted((str(c) for c in frame.columns), key=len, reverse=True)
    return next(name for name in names if text.startswith(name))


def _condition_mask(condition: str, frame: pd.DataFrame) -> pd.Series:
    """The rows one condition of a rule holds for, read from its words."""
    if condition.startswith("(") and condition.endswith(" or missing)"):
        inner = condition[1 : -len(" or missing)")]
        name = _column(re.sub(r"^-?[\d,.]+ < ", "", inner), frame)
        return _condition_mask(inner, frame) | frame[name].isna()
    between = re.fullmatch(r"(-?[\d,.]+) < (.+) ≤ (-?[\d,.]+)", condition)
    if between:
        low, name, high = between.groups()
        values = frame[name].replace([np.inf, -np.inf], np.nan)
        return (values > _number(low)) & (values <= _number(high))
    name = _column(condition, frame)
    rest = condition[len(name) :]
    values = frame[name]
    text = values.astype(str).where(values.notna(), "(missing)")
    numbers = values.replace([np.inf, -np.inf], np.nan) if rest[:3] in (" ≤ ", " > ") else None
    checks = {
        " is missing": lambda: values.isna(),
        " is not missing": lambda: values.notna(),
    }
    if rest in checks:
        return checks[rest]()
    operator, operand = rest[1], rest[3:]
    assert operand != "(other)", "the test frames have at most 20 values per column"
    if operator == "≤":
        return numbers <= _number(operand)
    if operator == ">":
        return numbers > _number(operand)
    if operator == "=":
        return text == operand
    if operator == "≠":
        return text != operand
    assert rest.startswith(" not in {") and rest.endswith("}"), condition
    return ~text.isin(rest[len(" not in {") : -1].split(", "))


def rule_mask(rule: str, frame: pd.DataFrame) -> pd.Series:
    """The rows a leaf's readable rule holds for."""
    mask = pd.Series(True, index=frame.index)
    if rule == "all rows":
        return mask
    for condition in rule.split(" and "):
        mask &= _condition_mask(condition, frame)
    return mask


def assert_leaves_recount(tree: ErrorTree, frame: pd.DataFrame, wrong: np.ndarray) -> None:
    """Every leaf's rows and wrong rows, recounted from its rule, match; the leaves cover
    every row exactly once."""
    covered = np.zeros(len(frame), dtype=int)
    for leaf in tree.leaves.itertuples():
        mask = rule_mask(leaf.rule, frame).to_numpy()
        covered += mask
        assert (mask.sum(), wrong[mask].sum()) == (leaf.rows, leaf.wrong), leaf.rule
        assert leaf.error_rate == pytest.approx(wrong[mask].mean())
    assert (covered == 1).all()


def assert_tree_shape(tree: ErrorTree, min_group_size: int = 30, max_depth: int = 4) -> None:
    assert (tree.leaves["rows"] >= min_group_size).all()
    assert tree.nodes["depth"].max() <= max_depth
    assert tree.leaves["rows"].sum() == tree.rows
    assert list(tree.leaves["error_rate"]) == sorted(tree.leaves["error_rate"], reverse=True)


# --- frames --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pocket() -> tuple[pd.DataFrame, np.ndarray]:
    """1,200 rows where the model is wrong mostly when x > 5 and colour is red."""
    rng = np.random.default_rng(3)
    n = 1200
    frame = pd.DataFrame(
        {
            "x": rng.uniform(0, 10, n).round(2),
            "colour": rng.choice(["red", "green", "blue"], n),
            "noise": rng.normal(0, 1, n),
            "size": rng.integers(1, 100, n),
        }
    )
    in_pocket = (frame["x"] > 5) & (frame["colour"] == "red")
    wrong = rng.random(n) < np.where(in_pocket, 0.8, 0.08)
    return frame, wrong


@pytest.fixture(scope="module")
def german_tree(subject):
    _, view = screening.model_view(subject.pipeline, subject.rows)
    sensitive = subject.rows[["sex", "age"]].drop(columns=view.columns, errors="ignore")
    features = pd.concat([view, sensitive], axis=1)
    wrong = wrong_predictions(subject.kind, subject.y, explanation.predictions(subject)[1])
    started = time.perf_counter()
    tree = fit_error_tree(features, wrong, min_group_size=30)
    return tree, features, wrong, time.perf_counter() - started


# --- what counts as wrong ------------------------------------------------------------------------


def test_classification_wrong_is_a_different_label():
    wrong = wrong_predictions("binary", np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1.0]))
    assert wrong.tolist() == [False, True, False, True]
    assert wrong_predictions("multiclass", [2, 1], [2, 0]).tolist() == [False, True]


def test_regression_wrong_is_an_error_above_the_median_error():
    y = np.arange(10.0)
    wrong = wrong_predictions("regression", y, np.zeros(10))  # errors 0..9, median 4.5
    assert wrong.tolist() == [False] * 5 + [True] * 5
    exact = wrong_predictions("regression", y, y)
    assert not exact.any()  # no error is above a median of zero


def test_wrong_predictions_refuses_mismatched_lengths_missing_values_and_unknown_kinds():
    with pytest.raises(DataError, match="3 true values but 2 predictions"):
        wrong_predictions("binary", [0, 1, 1], [0, 1])
    with pytest.raises(DataError, match="Missing or infinite"):
        wrong_predictions("regression", [1.0, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="Unknown kind 'ranking'"):
        wrong_predictions("ranking", [1], [1])


# --- the tree ------------------------------------------------------------------------------------


def test_planted_error_pocket_is_the_worst_leaf(pocket):
    frame, wrong = pocket
    tree = fit_error_tree(frame, wrong, min_group_size=30)
    assert_tree_shape(tree)
    assert_leaves_recount(tree, frame, wrong)
    worst = tree.leaves.iloc[0]
    assert "colour = red" in worst["rule"]
    low = re.search(r"x > ([\d.]+)", worst["rule"]) or re.search(r"([\d.]+) < x", worst["rule"])
    assert low and 4.5 <= float(low.group(1)) <= 5.5
    in_pocket = (frame["x"] > 5) & (frame["colour"] == "red")
    assert in_pocket[rule_mask(worst["rule"], frame)].mean() > 0.95
    assert worst["error_rate"] > 0.7 and worst["rows"] >= 60
    assert worst["times_overall"] == pytest.approx(worst["error_rate"] / wrong.mean())
    sentence = tree.sentences()[0]
    assert sentence.startswith(f"The model is wrong on {wrong.mean():.0%} of the 1,200 rows")
    assert f"worst leaf: {worst['rule']}: {worst['error_rate']:.0%} wrong" in sentence


def test_conditions_on_one_column_merge_into_one_interval():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"duration": rng.integers(1, 73, 1500)})
    wrong = rng.random(1500) < np.where(frame["duration"].between(25, 36), 0.9, 0.05)
    tree = fit_error_tree(frame, wrong, max_depth=2)
    assert_leaves_recount(tree, frame, wrong)
    worst = tree.leaves.iloc[0]["rule"]
    assert re.fullmatch(r"\d+ < duration ≤ \d+", worst), worst
    low, high = map(int, re.findall(r"\d+", worst))
    assert (low, high) == (24, 36)  # integer cuts read as integers
    assert all(rule.count("duration") == 1 for rule in tree.nodes["rule"].iloc[1:])


def test_german_credit_tree_is_fast_readable_and_recounts(german_tree):
    tree, features, wrong, seconds = german_tree
    assert seconds < 1.0
    assert_tree_shape(tree)
    assert_leaves_recount(tree, features, wrong)
    assert tree.rows == 300 and tree.wrong == wrong.sum()
    assert tree.error_rate == pytest.approx(wrong.mean())
    cuts = re.findall(
        r"(?:age|duration|credit_amount|job) [≤>] ([\d,.]+)", " ".join(tree.leaves.rule)
    )
    assert cuts and all("." not in cut for cut in cuts)  # whole-number columns, whole cuts
    root = tree.nodes.iloc[0]
    assert (root["rule"], root["rows"], root["depth"]) == ("all rows", 300, 0)
    inner = tree.nodes[~tree.nodes["is_leaf"]]
    for node in inner.itertuples():  # a node's rows are its children's
        children = tree.nodes[tree.nodes["parent"] == node.node]
        assert children["rows"].sum() == node.rows and children["wrong"].sum() == node.wrong


def test_missing_values_can_be_the_pocket():
    rng = np.random.default_rng(1)
    income = rng.normal(50, 10, 800)
    income[rng.random(800) < 0.25] = np.nan
    frame = pd.DataFrame({"income": income, "region": rng.choice(["a", "b", None], 800)})
    wrong = rng.random(800) < np.where(np.isnan(income), 0.7, 0.1)
    tree = fit_error_tree(frame, wrong)
    assert_tree_shape(tree)
    assert_leaves_recount(tree, frame, wrong)
    assert "income is missing" in tree.leaves.iloc[0]["rule"]


def test_messy_frame_as_the_model_sees_it(tmp_path):
    frame = messy_frame()
    trained = fit_small(frame, "xgboost", target="outcome")
    rows = frame.drop(columns="outcome")
    _, view = screening.model_view(trained.pipeline, rows)
    y = (frame["outcome"] == trained.classes[1]).astype(int).to_numpy()
    wrong = wrong_predictions("binary", y, trained.pipeline.predict(rows))
    wrong[::4] = ~wrong[::4]  # a model this good on its own training rows makes few mistakes
    tree = fit_error_tree(view, wrong, min_group_size=30)
    assert_tree_shape(tree)
    assert_leaves_recount(tree, view, wrong)
    text = " ".join(tree.nodes["rule"])
    assert "customer_id" not in text and "Name" not in text and "100001" not in text
    figure = tree.figure()
    figure.savefig(tmp_path / "messy.png")
    plt.close(figure)


@pytest.mark.parametrize(
    ("wrong", "note"),
    [
        (np.zeros(200, bool), "never wrong"),
        (np.ones(200, bool), "all wrong"),
        (np.arange(50) % 3 == 0, "fewer than twice the smallest group"),
    ],
)
def test_degenerate_cases_give_one_leaf_and_say_why(wrong, note):
    frame = pd.DataFrame({"x": np.arange(len(wrong)) % 7})
    tree = fit_error_tree(frame, wrong)
    assert len(tree.leaves) == 1 and len(tree.nodes) == 1
    assert tree.leaves.iloc[0]["rows"] == len(wrong)
    assert tree.leaves.iloc[0]["error_rate"] == pytest.approx(wrong.mean())
    assert note in tree.note and tree.note in tree.sentences()
    plt.close(tree.figure())


def test_constant_and_empty_columns_are_never_split_on():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {"empty": np.full(400, np.nan), "country": "NL", "flag": True, "none": [None] * 400}
    )
    wrong = rng.random(400) < 0.3
    tree = fit_error_tree(frame, wrong)
    assert len(tree.leaves) == 1 and "no column has two different values" in tree.note
    frame["score"] = np.where(wrong, rng.normal(3, 1, 400), rng.normal(0, 1, 400))
    tree = fit_error_tree(frame, wrong)
    assert len(tree.leaves) > 1
    assert set(re.findall(r"[a-z]+", " ".join(tree.leaves.rule))) <= {"score", "and"}
    assert_leaves_recount(tree, frame, wrong)


def test_a_single_categorical_column_with_many_values_keeps_the_most_frequent():
    rng = np.random.default_rng(4)
    shares = np.r_[[0.06] * 10, [0.4 / 30] * 30]
    codes = pd.Series(rng.choice([f"c{i}" for i in range(40)], 2000, p=shares / shares.sum()))
    _, columns = encode(codes.to_frame("code"))
    assert len(columns) == 21 and ("code", "(other)") in columns  # 20 values and the rest
    wrong = rng.random(2000) < np.where(codes == "c3", 0.9, 0.1)
    tree = fit_error_tree(codes.to_frame("code"), wrong)
    assert tree.leaves.iloc[0]["rule"] == "code = c3"
    assert tree.leaves.iloc[0]["rows"] == (codes == "c3").sum()


def test_bad_settings_and_inputs_are_refused():
    frame = pd.DataFrame({"x": range(100)})
    with pytest.raises(ConfigError, match="min_group_size"):
        fit_error_tree(frame, np.zeros(100, bool), min_group_size=0)
    with pytest.raises(DataError, match="100 rows, 99 flags"):
        fit_error_tree(frame, np.zeros(99, bool))
    with pytest.raises(DataError, match="0 rows"):
        fit_error_tree(frame.iloc[:0], np.zeros(0, bool))
    twice = pd.concat([frame, frame], axis=1)
    with pytest.raises(DataError, match="more than once: x"):
        fit_error_tree(twice, np.zeros(100, bool))


def test_regression_sentences_speak_of_errors_above_the_median(pocket):
    frame, wrong = pocket
    lines = fit_error_tree(frame, wrong).sentences("regression")
    assert lines[0].startswith("The model's error is above the median on")
    assert "above the median error, " in lines[0] and " wrong" not in lines[0]


# --- the figure ----------------------------------------------------------------------------------


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def assert_labels_inside_separate_boxes(figure, nodes: int) -> None:
    """Each node's label lies inside its own box, and no two boxes overlap."""
    ax, renderer = figure.axes[0], figure.canvas.get_renderer()
    texts = [t.get_window_extent(renderer) for t in ax.texts]
    boxes = [p.get_window_extent(renderer) for p in ax.patches]
    assert len(texts) == len(boxes) == nodes
    for text, box in zip(texts, boxes, strict=True):
        assert box.x0 <= text.x0 and text.x1 <= box.x1 and box.y0 <= text.y0 and text.y1 <= box.y1
    assert not any(_overlaps(a, b) for a, b in itertools.combinations(boxes, 2))


def test_figure_renders_every_node_readably_without_overlaps(german_tree, tmp_path):
    tree = german_tree[0]
    figure = tree.figure()
    path = tmp_path / "error_tree.png"
    figure.savefig(path, dpi=100)
    assert path.stat().st_size > 10_000
    assert 950 <= figure.get_figwidth() * 100 <= 1050
    assert_labels_inside_separate_boxes(figure, len(tree.nodes))
    labels = [t.get_text() for t in figure.axes[0].texts]
    assert labels[0].startswith("all rows\n")
    assert all(re.search(r"\d+% wrong · [\d,]+ rows$", label) for label in labels)
    assert len(figure.axes) == 2  # the tree and its colour bar
    plt.close(figure)


def test_figure_of_a_full_depth_tree_keeps_long_labels_in_their_boxes(pocket, tmp_path):
    rng = np.random.default_rng(3)
    frame = pocket[0].assign(label=rng.choice(["a_$x$", "b_long_value_name_here", "c"], 1200))
    income = rng.normal(50, 10, 1200)
    income[rng.random(1200) < 0.25] = np.nan
    frame["income (€)"] = income
    chance = 0.1 + 0.3 * (frame["noise"] > 0) + 0.3 * np.isnan(income) + 0.2 * (frame.label == "c")
    wrong = rng.random(1200) < chance
    tree = fit_error_tree(frame, wrong, min_group_size=20)
    assert tree.nodes["depth"].max() == 4 and len(tree.leaves) >= 12
    figure = tree.figure("regression")
    figure.savefig(tmp_path / "deep.png")
    assert_labels_inside_separate_boxes(figure, len(tree.nodes))
    labels = " ".join(t.get_text() for t in figure.axes[0].texts)
    assert "above median" in labels and "wrong" not in labels
    plt.close(figure)
