"""Error-analysis tree: a shallow decision tree fitted to "the model was wrong" on the
explained rows, so the groups where the model fails most read as plain rules.

Numbers stay as they are (missing values included); other columns are one-hot on their
`MAX_CATEGORIES` most frequent values, the rest as `(other)`. Each cut is moved to the roundest
number that sends the same rows the same way (`duration ≤ 24` is exact for the rows counted),
conditions on one column along a path merge (`24 < duration ≤ 36`), and leaves are counted
from the rows that fall in them, never from the tree's internal values.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain.cohorts import MISSING, OTHER
from mlworkbench.analysis.explain.shapley import is_numeric
from mlworkbench.exceptions import ConfigError, DataError

# Deferred imports: scikit-learn's tree and matplotlib load inside the functions that use
# them, so that importing this module stays fast.

MAX_CATEGORIES = 20
"""Most frequent values of a categorical column the tree can split on, one-hot."""
CLASSIFICATION = ("binary", "multiclass", "classification")
FLOAT32_MAX = float(np.finfo(np.float32).max)
ALL_ROWS = "all rows"


@dataclass(frozen=True)
class _Range:
    """What a path says about a numeric column: low < value ≤ high, or missing if allowed."""

    low: float = -math.inf
    high: float = math.inf
    missing: bool = True


@dataclass(frozen=True)
class _Choice:
    """What a path says about a categorical column (of `options`): equal to one value, or
    none of some."""

    options: tuple[str, ...] = ()
    equals: str | None = None
    excluded: tuple[str, ...] = ()


def wrong_predictions(kind: str, y: Any, predicted: Any) -> np.ndarray:
    """Which rows the model got wrong: a different label (classification), or an absolute
    error above the median absolute error (regression)."""
    y, predicted = np.asarray(y), np.asarray(predicted)
    if y.shape[0] != predicted.shape[0]:
        raise DataError(f"{y.shape[0]:,} true values but {predicted.shape[0]:,} predictions.")
    if kind == "regression":
        error = np.abs(y.astype(float) - predicted.astype(float))
        if not np.isfinite(error).all():
            raise DataError("Missing or infinite values among the targets or predictions.")
        return error > np.median(error) if error.size else error.astype(bool)
    if kind not in CLASSIFICATION:
        raise DataError(f"Unknown kind {kind!r}: expected binary, multiclass or regression.")
    return np.asarray(y != predicted, dtype=bool)


def _categories(values: pd.Series) -> pd.Series:
    """Category labels: the most frequent values as text, `(other)`, `(missing)`."""
    labels = values.astype(str)
    common = labels[values.notna()].value_counts().index[:MAX_CATEGORIES]
    labels = labels.where(labels.isin(common), OTHER)
    return labels.where(values.notna(), MISSING)


def _numbers(values: pd.Series) -> np.ndarray:
    """A numeric column as floats the tree accepts: infinite values count as missing."""
    numbers = values.to_numpy(dtype=float, na_value=np.nan)
    numbers[np.isinf(numbers)] = np.nan
    return np.clip(numbers, -FLOAT32_MAX, FLOAT32_MAX)


def encode(features: pd.DataFrame) -> tuple[np.ndarray, list[tuple[str, str | None]]]:
    """The tree's matrix and what each of its columns is: (feature, None) for a number,
    (feature, value) for one value of a categorical. Columns with a single state (constant,
    or missing in every row) are left out, as no split could use them."""
    blocks, columns = [], []
    for name in features.columns:
        values = features[name]
        if is_numeric(values):
            numbers = _numbers(values)
            if pd.Series(numbers).nunique(dropna=False) > 1:
                blocks.append(numbers[:, None])
                columns.append((str(name), None))
            continue
        labels = _categories(values)
        kept = list(labels.value_counts().index) if labels.nunique() > 1 else []
        blocks += [(labels.to_numpy() == value).astype(float)[:, None] for value in kept]
        columns += [(str(name), value) for value in kept]
    matrix = np.hstack(blocks) if blocks else np.empty((len(features), 0))
    return matrix, columns


def _round_between(low: float, high: float) -> float:
    """The roundest c with low ≤ c < high: the tree's cut, as people would write it."""
    top = math.floor(math.log10(max(abs(low), abs(high), 1e-12))) + 1
    for k in range(top, top - 18, -1):
        cut = round(math.ceil(low / 10.0**k) * 10.0**k, max(0, -k)) + 0.0
        if low <= cut < high:
            return cut
    return low


def _number(value: float) -> str:
    """A cut as people write it: 24, 3,913, 0.13."""
    if value == int(value) and abs(value) < 1e15:
        return f"{value:,.0f}"
    return np.format_float_positional(value, trim="-")


def _describe(feature: str, said: _Range | _Choice) -> str:
    """One column's merged condition in words."""
    if isinstance(said, _Choice):
        values = said.excluded if said.equals is None else (said.equals,)
        if values == (MISSING,):
            return f"{feature} is {'' if said.equals else 'not '}missing"
        if len(values) == 1:
            return f"{feature} {'=' if said.equals else '≠'} {values[0]}"
        return f"{feature} not in {{{', '.join(values)}}}"
    if said.low >= said.high:
        return f"{feature} is missing"
    if said.low > -math.inf and said.high < math.inf:
        text = f"{_number(said.low)} < {feature} ≤ {_number(said.high)}"
    elif said.high < math.inf:
        text = f"{feature} ≤ {_number(said.high)}"
    elif said.low > -math.inf:
        text = f"{feature} > {_number(said.low)}"
    else:
        return feature if said.missing else f"{feature} is not missing"
    return f"({text} or missing)" if said.missing else text


def _sides(value: str | None, x: np.ndarray, at: np.ndarray, left: np.ndarray, said: Any) -> Any:
    """What the left and right children add to `said` about the split column (`value` for a
    category, None for numbers `x`), derived from the rows of the node `at` that the tree
    sent `left` and the rest right: the cut is the roundest number between the two sides."""
    if value is not None:  # none of the values but one reads as that one
        excluded = (*said.excluded, value)
        rest = [option for option in said.options if option not in excluded]
        equals = rest[0] if len(rest) == 1 else said.equals
        return replace(said, excluded=excluded, equals=equals), replace(said, equals=value)
    present = ~np.isnan(x)
    low, high = x[at & left & present], x[at & ~left & present]
    cut = _round_between(low.max(), high.min()) if low.size and high.size else -math.inf
    cut = math.inf if low.size and not high.size else cut
    missing = (at & ~present & left).any(), (at & ~present & ~left).any()
    return (
        replace(said, high=min(said.high, cut), missing=said.missing and bool(missing[0])),
        replace(said, low=max(said.low, cut), missing=said.missing and bool(missing[1])),
    )


def _walk(model: Any, matrix: np.ndarray, columns: list, member: np.ndarray) -> list[dict]:
    """Every node of the fitted tree: parent, depth, the condition that leads to it (the
    split column, merged along the path) and the full rule of its path (its conditions as one
    conjunction, in the order they were first met)."""
    tree, records, stack = model.tree_, [], [(0, -1, 0, ALL_ROWS, {})]
    while stack:
        node, parent, depth, condition, path = stack.pop()
        records.append(
            {"node": node, "parent": parent, "depth": depth, "condition": condition}
            | {"rule": " and ".join(_describe(f, said) for f, said in path.items()) or ALL_ROWS}
            | {"is_leaf": tree.children_left[node] == -1}
        )
        if tree.children_left[node] == -1:
            continue
        j, children = tree.feature[node], (tree.children_left[node], tree.children_right[node])
        feature, value = columns[j]
        at, left = member[:, node], member[:, children[0]]
        fresh = _Range() if value is None else _Choice(tuple(v for f, v in columns if f == feature))
        sides = _sides(value, matrix[:, j], at, left, path.get(feature, fresh))
        for child, said in zip(children[::-1], sides[::-1], strict=True):
            stack.append((child, node, depth + 1, _describe(feature, said), path | {feature: said}))
    return sorted(records, key=lambda r: r["node"])


@dataclass
class ErrorTree:
    """Where the model is wrong, as a shallow tree over the explained rows.

    `nodes`: node, parent, depth, condition (the split rule leading to the node), rule (its
    whole path), is_leaf, rows, wrong, error_rate. `leaves`: node, rule, rows, wrong,
    error_rate, times_overall (error rate / overall), worst first. `note` says why the tree
    has no split, when it has none.
    """

    rows: int
    wrong: int
    error_rate: float
    nodes: pd.DataFrame
    leaves: pd.DataFrame
    min_group_size: int
    max_depth: int
    note: str = ""

    def sentences(self, kind: str = "classification") -> list[str]:
        """The overall error, the worst leaf, and how the tree was grown, in words."""
        lead, share = _words(kind)
        first = f"{lead} on {self.error_rate:.0%} of the {self.rows:,} rows"
        if len(self.leaves) < 2:
            return [f"{first}.", self.note]
        worst = self.leaves.iloc[0]
        first += (
            f"; worst leaf: {worst['rule']}: {worst['error_rate']:.0%} {share}, "
            f"{int(worst['rows']):,} rows ({worst['times_overall']:.1f} times overall)."
        )
        depth, leaves = int(self.nodes["depth"].max()), len(self.leaves)
        return [
            first,
            f"A decision tree of depth {depth} (at most {self.max_depth}) splits the "
            f"rows into {leaves} leaves of at least {self.min_group_size} rows each.",
        ]

    def figure(self, kind: str = "classification") -> Any:
        """The tree drawn left to right, each node a box with its rule, error rate and rows,
        coloured by error rate; the worst leaf outlined."""
        return _draw(self, kind)


def _words(kind: str) -> tuple[str, str]:
    """How the error is named: in a sentence's lead, and after a share."""
    if kind == "regression":
        return "The model's error is above the median", "above the median error"
    return "The model is wrong", "wrong"


def _no_split_reason(wrong: np.ndarray, columns: list, min_group_size: int) -> str:
    """Why no tree can be grown (it is then a single leaf), or '' when one can."""
    if not wrong.any() or wrong.all():
        return f"No split: the rows are {'all' if wrong.all() else 'never'} wrong, one leaf."
    if len(wrong) < 2 * min_group_size:
        return (
            f"No split: {len(wrong):,} rows are fewer than twice the smallest group "
            f"(min_group_size={min_group_size}), so the tree is a single leaf."
        )
    return "" if columns else "No split: no column has two different values, one leaf."


def _grow(
    features: pd.DataFrame, wrong: np.ndarray, min_group_size: int, max_depth: int, seed: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, str]:
    """Fit the tree; its nodes, the row-by-node membership, each row's leaf, and a note."""
    from sklearn.tree import DecisionTreeClassifier

    matrix, columns = encode(features)
    reason = _no_split_reason(wrong, columns, min_group_size)
    if reason:
        root = {"node": 0, "parent": -1, "depth": 0, "condition": ALL_ROWS, "rule": ALL_ROWS}
        nodes = pd.DataFrame([root | {"is_leaf": True}])
        return nodes, np.ones((len(wrong), 1), dtype=bool), np.zeros(len(wrong), int), reason
    model = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=min_group_size, random_state=seed
    ).fit(matrix, wrong)
    member = model.decision_path(matrix).toarray().astype(bool)
    nodes = pd.DataFrame(_walk(model, matrix, columns, member))
    note = "" if len(nodes) > 1 else "No split separates the wrong rows better: one leaf."
    return nodes, member, model.apply(matrix), note


def fit_error_tree(
    features: pd.DataFrame,
    wrong: np.ndarray,
    min_group_size: int = 30,
    max_depth: int = 4,
    seed: int = 42,
) -> ErrorTree:
    """A decision tree of at most `max_depth` levels, leaves of at least `min_group_size`
    rows, fitted to `wrong` (see `wrong_predictions`) over `features`, the explained rows as
    the model sees them plus the sensitive columns."""
    wrong = np.asarray(wrong, dtype=bool)
    _check(features, wrong, min_group_size, max_depth)
    nodes, member, leaf, note = _grow(features, wrong, min_group_size, max_depth, seed)
    rows, counts = member.sum(axis=0), wrong.astype(int) @ member.astype(int)
    nodes = nodes.assign(rows=rows, wrong=counts, error_rate=counts / np.maximum(rows, 1))
    overall = float(wrong.mean())
    leaves = _leaves(leaf, wrong, nodes.set_index("node")["rule"], overall)
    sizes = (min_group_size, max_depth)
    return ErrorTree(len(wrong), int(wrong.sum()), overall, nodes, leaves, *sizes, note)


def _check(features: pd.DataFrame, wrong: np.ndarray, min_group_size: int, max_depth: int) -> None:
    """Refuse settings and inputs the tree cannot be grown on, saying why."""
    if min_group_size < 1 or max_depth < 1:
        raise ConfigError(
            f"min_group_size ({min_group_size}) and max_depth ({max_depth}) must be at least 1."
        )
    if len(features) == 0 or len(features) != len(wrong):
        raise DataError(
            f"The error tree needs one 'wrong' flag per row: {len(features):,} rows, "
            f"{len(wrong):,} flags."
        )
    if features.columns.duplicated().any():
        repeated = sorted({str(c) for c in features.columns[features.columns.duplicated()]})
        raise DataError(f"Columns named more than once: {', '.join(repeated)}.")


def _leaves(leaf: np.ndarray, wrong: np.ndarray, rules: pd.Series, overall: float) -> pd.DataFrame:
    """One row per leaf, counted from the rows that fall in it, worst first."""
    counts = pd.DataFrame({"node": leaf, "wrong": wrong.astype(int)}).groupby("node")["wrong"]
    leaves = pd.DataFrame({"rows": counts.size(), "wrong": counts.sum()}).reset_index()
    leaves = leaves.assign(rule=leaves["node"].map(rules))
    leaves["error_rate"] = leaves["wrong"] / leaves["rows"]
    leaves["times_overall"] = leaves["error_rate"] / overall if overall > 0 else np.nan
    leaves = leaves.sort_values(["error_rate", "rows"], ascending=False, ignore_index=True)
    return leaves[["node", "rule", "rows", "wrong", "error_rate", "times_overall"]]


WIDTH = 10.0  # inches: 1,000 pixels at the reports' 100 dpi
SLOT = 0.8  # inches of height per leaf
BOX = (0.86, 0.8)  # a box's share of its column's width and its leaf slot's height
FONT = 8


def _layout(nodes: pd.DataFrame) -> dict[int, tuple[float, float]]:
    """(column, row) of every node: leaves one per row, top to bottom in tree order, each
    parent beside the middle of its children."""
    children = nodes.groupby("parent")["node"].apply(sorted).to_dict()
    places: dict[int, tuple[float, float]] = {}

    def place(node: int, depth: int) -> float:
        below = [place(child, depth + 1) for child in children.get(node, [])]
        row = float(np.mean(below)) if below else float(sum(1 for n in places if n not in children))
        places[node] = (depth, row)
        return row

    place(0, 0)
    return places


def _label(condition: str, rate: float, rows: int, kind: str, chars: int) -> str:
    """A box's text: its condition over its error rate and rows, two lines each at most."""
    lines = textwrap.wrap(condition, chars, break_on_hyphens=False) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), chars, placeholder=" …")]
    share = "above median" if kind == "regression" else "wrong"
    stats = f"{rate:.0%} {share} · {rows:,} rows"
    return "\n".join([*lines, stats if len(stats) <= chars else stats.replace(" · ", "\n")])


def _draw(tree: ErrorTree, kind: str) -> Any:
    """Draw the tree (see `ErrorTree.figure`)."""
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.ticker import PercentFormatter

    nodes, places = tree.nodes, _layout(tree.nodes)
    leaves, columns = int(nodes["is_leaf"].sum()), max(int(nodes["depth"].max()) + 1, 3)
    height = SLOT * leaves + 1.0
    figure = plt.figure(figsize=(WIDTH, height))
    ax = figure.add_axes((0.01, 0.35 / height, 0.88, (height - 1.0) / height))
    ax.set(xlim=(0, columns - (1 - BOX[0])), ylim=(leaves - 0.5, -0.5))
    ax.axis("off")
    chars = int(BOX[0] * 0.88 * WIDTH / (columns - 0.14) * 72 / (FONT * 0.6))
    norm, cmap = Normalize(0, max(float(nodes["error_rate"].max()), 0.01)), colormaps["YlOrRd"]
    worst = tree.leaves["node"].iloc[0] if len(tree.leaves) > 1 else -1
    for node in nodes.itertuples():
        text = _label(node.condition, node.error_rate, node.rows, kind, chars)
        _box(ax, places, node, text, cmap(norm(node.error_rate)), node.node == worst)
    share = "share with an error above the median" if kind == "regression" else "share wrong"
    title = f"Where the model goes wrong: each box is a group of rows ({share}, rows)"
    ax.set_title(title, loc="left", fontsize=9, parse_math=False)
    size = min(2.5, height - 1.0) / height
    bar = figure.colorbar(
        plt.cm.ScalarMappable(norm=norm, cmap=cmap),
        cax=figure.add_axes((0.915, (height - 0.65) / height - size, 0.015, size)),
    )
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    bar.ax.tick_params(labelsize=FONT)
    bar.set_label(share, fontsize=FONT)
    return figure


def _box(ax: Any, places: dict, node: Any, text: str, colour: Any, worst: bool) -> None:
    """One node: a box coloured by its error rate (the worst leaf outlined), its text, and
    the elbow line from its parent."""
    from matplotlib.patches import Rectangle

    x, y = places[node.node]
    edge = {"edgecolor": "#333333", "linewidth": 2.2 if worst else 0.6}
    ax.add_patch(Rectangle((x, y - BOX[1] / 2), BOX[0], BOX[1], facecolor=colour, **edge))
    dark = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] < 0.5
    style = {"ha": "center", "va": "center", "linespacing": 1.2, "parse_math": False}
    ax.text(x + BOX[0] / 2, y, text, fontsize=FONT, color="white" if dark else "black", **style)
    if node.parent >= 0:
        px, py = places[node.parent]
        middle = px + BOX[0] + (1 - BOX[0]) / 2
        ax.plot([px + BOX[0], middle, middle, x], [py, py, y, y], color="#888", lw=0.8, zorder=0)
