"""SHAP attributions of a fitted pipeline, shown in the original feature space.

The explainer matches the model: shap's exact tree explainer for tree ensembles (xgboost and
scikit-learn forests and boosting), the linear explainer for linear models, and the
model-agnostic permutation explainer with a sampled background otherwise. Attributions are
computed on the encoded columns the model sees and then summed back to the source feature
each column came from (one-hot columns of `purpose` add up to one value for `purpose`), which
keeps them additive: base value + sum of a row's values = the model's raw output for the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.screening import model_view

# Deferred imports: shap and matplotlib load inside the functions that use them, so that importing
# this module stays fast.

UNITS = {
    "log_odds": "log-odds",
    "probability": "probability",
    "raw_value": "predicted value",
}


@dataclass
class Attributions:
    """SHAP values of explained rows, per source feature and model output.

    Attributes:
        values: array (rows, features, outputs).
        base: expected model output per output (the value every explanation starts from).
        rows: the raw rows explained; their index holds the row ids.
        features: source feature names, in the model's input order.
        outputs: what each output is: the positive class (binary), each class (multiclass)
            or the target (regression).
        units: unit of the values: log-odds, probability or predicted value.
        explainer: `tree`, `linear` or `permutation`.
    """

    values: np.ndarray
    base: np.ndarray
    rows: pd.DataFrame
    features: list[str]
    outputs: list[str]
    units: str
    explainer: str

    def colour_values(self, output: int = 0) -> np.ndarray:
        """Feature values for colouring plots: numbers as they are; categories ranked by
        their average attribution (so colour runs from the lowest to the highest effect)."""
        columns = []
        for j, feature in enumerate(self.features):
            column = self.rows[feature]
            if is_numeric(column):
                columns.append(column.to_numpy(dtype=float))
                continue
            text = column.astype(str).where(column.notna(), "(missing)")
            order = pd.Series(self.values[:, j, output]).groupby(text.to_numpy()).mean()
            rank = {c: i for i, c in enumerate(order.sort_values().index)}
            columns.append(text.map(rank).to_numpy(dtype=float))
        return np.column_stack(columns)

    def explanation(self, output: int = 0) -> Any:
        """One output's values as a `shap.Explanation` for shap's own plots."""
        import shap

        return shap.Explanation(
            values=self.values[:, :, output],
            base_values=np.full(len(self.rows), self.base[output]),
            data=self.colour_values(output),
            display_data=display_values(self.rows[self.features]),
            feature_names=self.features,
        )

    def importance(self) -> pd.DataFrame:
        """Mean |SHAP| per feature and output, most important first (column `overall` sums
        the outputs)."""
        table = pd.DataFrame(
            np.abs(self.values).mean(axis=0), index=self.features, columns=self.outputs
        )
        table["overall"] = table.sum(axis=1)
        return table.sort_values("overall", ascending=False)


def display_values(rows: pd.DataFrame) -> np.ndarray:
    """Feature values as shap's charts print them: a missing value as `(missing)`, columns
    without one as they are (so an all-numeric frame stays numeric)."""
    shown = {
        name: column.astype(object).where(column.notna(), "(missing)")
        if column.isna().any()
        else column
        for name, column in rows.items()
    }
    return pd.DataFrame(shown, index=rows.index).to_numpy()


def is_numeric(values: pd.Series) -> bool:
    """Numbers (not booleans) count as numeric; everything else is categorical."""
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def encoded_sources(preprocess: Any) -> list[str]:
    """The source feature of each column the fitted ColumnTransformer produces."""
    sources: list[str] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        encoder = transformer[-1] if hasattr(transformer, "steps") else transformer
        if hasattr(encoder, "categories_"):
            infrequent = getattr(encoder, "infrequent_categories_", [None] * len(columns))
            for column, categories, rare in zip(
                columns, encoder.categories_, infrequent, strict=True
            ):
                rare_count = 0 if rare is None else len(rare)
                sources += [column] * (len(categories) - rare_count + (1 if rare_count else 0))
        else:
            sources += list(columns)
    return sources


def to_source_features(values: np.ndarray, sources: list[str], features: list[str]) -> np.ndarray:
    """Sum encoded-column attributions (rows, columns, outputs) into source features."""
    if len(sources) != values.shape[1]:
        raise ValueError(
            f"{values.shape[1]} encoded columns but {len(sources)} known sources; the "
            "preprocessing is not one the workbench built."
        )
    matrix = np.zeros((len(sources), len(features)))
    for i, source in enumerate(sources):
        matrix[i, features.index(source)] = 1.0
    return np.einsum("rco,cf->rfo", values, matrix)


def explainer_kind(estimator: Any) -> str:
    """`tree`, `linear` or `permutation` for a fitted estimator."""
    module, name = type(estimator).__module__, type(estimator).__name__
    if module.startswith("xgboost") or any(
        key in name for key in ("Forest", "Trees", "GradientBoosting", "DecisionTree")
    ):
        return "tree"
    if module.startswith("sklearn.linear_model"):
        return "linear"
    return "permutation"


def _as_3d(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array[:, :, None] if array.ndim == 2 else array


def _select_outputs(values: np.ndarray, base: np.ndarray, kind: str) -> tuple:
    """Binary models may explain both classes; keep the positive one only."""
    if kind == "binary" and values.shape[2] == 2:
        return values[:, :, 1:], base[1:]
    return values, base


def compute(
    pipeline: Any,
    rows: pd.DataFrame,
    kind: str,
    classes: list[Any] | None,
    background: pd.DataFrame | None = None,
) -> Attributions:
    """SHAP values of `rows` for a fitted preprocessing + model pipeline.

    Args:
        pipeline: the fitted scikit-learn Pipeline (steps `preprocess` and `model`).
        rows: raw rows to explain; the attributions hold them as the model sees them (after
            the pipeline's column screening).
        kind: `binary`, `multiclass` or `regression`.
        classes: the class labels (classification).
        background: raw rows standing for "typical" data (linear and permutation explainers);
            defaults to `rows`.
    """
    import shap

    if background is not None:
        background = model_view(pipeline, background)[1]
    pipeline, rows = model_view(pipeline, rows)
    preprocess, model = pipeline[:-1], pipeline[-1]
    features = [str(c) for c in preprocess[-1].feature_names_in_]
    encoded = np.asarray(preprocess.transform(rows), dtype=float)
    reference = encoded if background is None else np.asarray(preprocess.transform(background))
    explainer_name = explainer_kind(model)
    if explainer_name == "tree":
        explainer = shap.TreeExplainer(model)
        # xgboost's multiclass trees report no output type: their values are class logits
        units = UNITS.get(explainer.model.tree_output or "log_odds")
        raw = explainer.shap_values(encoded, check_additivity=False)
        base = np.atleast_1d(explainer.expected_value).astype(float)
    elif explainer_name == "linear":
        explainer = shap.LinearExplainer(model, reference)
        units = "log-odds" if kind != "regression" else "predicted value"
        raw = explainer.shap_values(encoded)
        base = np.atleast_1d(explainer.expected_value).astype(float)
    else:
        function = model.predict if kind == "regression" else model.predict_proba
        explainer = shap.PermutationExplainer(
            function, shap.maskers.Independent(reference, max_samples=len(reference))
        )
        units = "probability" if kind != "regression" else "predicted value"
        result = explainer(encoded, max_evals=max(500, 2 * encoded.shape[1] + 1), silent=True)
        raw = result.values
        base = np.atleast_1d(np.asarray(result.base_values, dtype=float)[0])
    values, base = _select_outputs(_as_3d(raw), base, kind)
    values = to_source_features(values, encoded_sources(preprocess[-1]), features)
    outputs = (
        [str(classes[1])]
        if kind == "binary"
        else [str(c) for c in classes]
        if kind == "multiclass"
        else ["prediction"]
    )
    return Attributions(values, base, rows, features, outputs, units, explainer_name)


def raw_output(pipeline: Any, rows: pd.DataFrame, attributions: Attributions) -> np.ndarray:
    """The model output the attributions explain, (rows, outputs): log-odds, probabilities
    or predicted values. Base value plus a row's attributions equals it (additivity)."""
    model = pipeline[-1]
    encoded = pipeline[:-1].transform(rows)
    if attributions.units == "log-odds":
        output = (
            model.predict(encoded, output_margin=True)
            if type(model).__module__.startswith("xgboost")
            else model.decision_function(encoded)
        )
    elif attributions.units == "probability":
        output = model.predict_proba(encoded)
        if len(attributions.outputs) == 1:
            output = output[:, 1]
    else:
        output = model.predict(encoded)
    output = np.asarray(output, dtype=float)
    return output[:, None] if output.ndim == 1 else output


# --- reading and plotting ---------------------------------------------------------------


def directions(attributions: Attributions, output: int = 0) -> dict[str, str]:
    """In words, how each feature moves the output: for numbers, whether higher values raise
    or lower it; for categories, which category raises it most and which lowers it most."""
    words: dict[str, str] = {}
    for j, feature in enumerate(attributions.features):
        column = attributions.rows[feature]
        values = attributions.values[:, j, output]
        if is_numeric(column):
            present = column.notna().to_numpy()
            if present.sum() < 3 or column[present].nunique() < 2:
                words[feature] = "has little effect"
                continue
            rho = pd.Series(column[present].to_numpy()).corr(
                pd.Series(values[present]), method="spearman"
            )
            words[feature] = (
                "higher values raise it"
                if rho > 0.3
                else "higher values lower it"
                if rho < -0.3
                else "its effect is mixed (not simply up or down)"
            )
        else:
            text = column.astype(str).where(column.notna(), "(missing)")
            means = pd.Series(values).groupby(text.to_numpy()).mean().sort_values()
            words[feature] = (
                f"'{means.index[-1]}' raises it most and '{means.index[0]}' lowers it most"
            )
    return words


def plot_importance(attributions: Attributions, top: int = 15) -> Any:
    """Mean |SHAP| per feature as horizontal bars (stacked by class for multiclass)."""
    import matplotlib.pyplot as plt

    table = attributions.importance().head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(table) + 1.2))
    left = np.zeros(len(table))
    for output in attributions.outputs:
        label = output if len(attributions.outputs) > 1 else None
        ax.barh(table.index, table[output], left=left, label=label)
        left += table[output].to_numpy()
    ax.set_xlabel(f"mean |SHAP value| ({attributions.units})")
    ax.set_title("How much each feature moves predictions, on average")
    if len(attributions.outputs) > 1:
        ax.legend(title="class", loc="lower right")
    fig.tight_layout()
    return fig


def plot_beeswarm(attributions: Attributions, output: int = 0, top: int = 12) -> Any:
    """shap's beeswarm: one dot per row and feature, coloured by the feature's value."""
    import matplotlib.pyplot as plt
    import shap

    plt.figure()  # shap draws on the current figure
    shap.plots.beeswarm(
        attributions.explanation(output), max_display=top, show=False, plot_size=(8, 5)
    )
    fig = plt.gcf()
    fig.axes[0].set_xlabel(f"SHAP value ({attributions.units} of {attributions.outputs[output]})")
    return fig


def plot_dependence(attributions: Attributions, features: list[str]) -> Any:
    """Feature value against its SHAP value for each of `features` (per class for
    multiclass, one row of panels per feature); categories as box plots."""
    import matplotlib.pyplot as plt

    n_out = len(attributions.outputs)
    panels = [(f, k) for f in features for k in range(n_out)]
    columns = n_out if n_out > 1 else min(2, len(features))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.2 * rows), squeeze=False)
    for ax, (feature, k) in zip(axes.flat, panels, strict=False):
        column = attributions.rows[feature]
        values = attributions.values[:, attributions.features.index(feature), k]
        if is_numeric(column):
            ax.scatter(column, values, s=6, alpha=0.4)
        else:
            text = column.astype(str).where(column.notna(), "(missing)")
            groups = pd.Series(values).groupby(text.to_numpy())
            top = text.value_counts().index[:12]
            ax.boxplot([groups.get_group(c) for c in top], showfliers=False)
            ax.set_xticks(range(1, len(top) + 1), [str(c)[:14] for c in top], rotation=40)
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.set_xlabel(feature)
        ax.set_ylabel(f"SHAP ({attributions.units})")
        if n_out > 1:
            ax.set_title(f"class {attributions.outputs[k]}")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_waterfall(attributions: Attributions, position: int, output: int, title: str) -> Any:
    """shap's waterfall chart of one explained row: from the base value to its output."""
    import matplotlib.pyplot as plt
    import shap

    plt.figure()  # shap draws on the current figure
    shap.plots.waterfall(attributions.explanation(output)[position], max_display=10, show=False)
    fig = plt.gcf()
    fig.set_size_inches(8, 4.8)
    fig.axes[0].set_title(title, fontsize=11)
    return fig
