"""Partial dependence (PDP) and individual conditional expectation (ICE) plots.

Drawn with pdpbox (0.3 API) on the raw rows the pipeline takes. pdpbox grids numeric columns
itself but cannot subtract strings, so a categorical feature is handed to it the way its API
expects one: as one-hot indicator columns, which a `data_transformer` turns back into the raw
column before the pipeline predicts. When pdpbox still fails on a case, scikit-learn's partial
dependence draws the plot instead and the result says so.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis.explain.shapley import is_numeric

# Deferred imports: matplotlib, pdpbox and scikit-learn's inspection load inside the functions
# that use them, so that importing this module stays fast.


@dataclass
class DependencePlot:
    """One PDP/ICE (or interaction) plot and how it was made."""

    features: tuple[str, ...]
    figure: Any
    engine: str
    note: str = ""


def _slant_tick_labels(figure: Any) -> None:
    """Category names side by side overlap; slant them."""
    for ax in figure.axes:
        for label in ax.get_xticklabels():
            label.set_rotation(30)
            label.set_horizontalalignment("right")


def _detached(figure: Any) -> Any:
    """The figure, no longer managed by pyplot: shown where the report displays it, not also
    at the end of the cell that computed it."""
    import matplotlib.pyplot as plt

    plt.close(figure)
    return figure


def _indicator_names(feature: str, categories: list[str], taken: set[str]) -> list[str]:
    """Column names for a feature's indicator columns: the category itself (pdpbox prints
    them as tick labels), qualified by the feature only where that name is taken."""
    names = []
    for category in categories:
        name = category[:24]
        if name in taken or name in names:
            name = f"{feature}={category}"
        names.append(name)
    return names


@dataclass
class _OneHotView:
    """Rows with chosen categorical features as indicator columns, and the way back."""

    frame: pd.DataFrame
    columns: dict[str, list[str]]
    categories: dict[str, list[str]]
    raw_columns: list[str]

    def pdpbox_feature(self, feature: str) -> str | list[str]:
        return self.columns.get(feature, feature)

    def to_raw(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for feature, columns in self.columns.items():
            chosen = frame[columns].to_numpy().argmax(axis=1)
            out[feature] = np.asarray(self.categories[feature], dtype=object)[chosen]
        return out[self.raw_columns]


def _one_hot_view(rows: pd.DataFrame, features: Sequence[str], top: int = 15) -> _OneHotView:
    frame = rows.copy()
    columns: dict[str, list[str]] = {}
    categories: dict[str, list[str]] = {}
    for feature in features:
        if is_numeric(rows[feature]):
            continue
        text = rows[feature].astype(str).where(rows[feature].notna(), "(missing)")
        counts = text.value_counts()
        if len(counts) > top:  # pdpbox needs exactly one indicator per row
            text = text.where(text.isin(counts.index[: top - 1]), "(other)")
            counts = text.value_counts()
        kept = [str(c) for c in counts.index]
        names = _indicator_names(feature, kept, set(frame.columns))
        for category, name in zip(kept, names, strict=True):
            frame[name] = (text == category).astype(int)
        frame = frame.drop(columns=[feature])
        columns[feature], categories[feature] = names, kept
    return _OneHotView(frame, columns, categories, list(rows.columns))


@contextlib.contextmanager
def _quiet() -> Any:
    """pdpbox prints notices and progress bars; the report shows neither."""
    font_logger = logging.getLogger("matplotlib.font_manager")
    level = font_logger.level
    font_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        font_logger.setLevel(level)


def _n_classes(kind: str, classes: Sequence[Any] | None) -> int:
    return 0 if kind == "regression" else len(classes or [])


def pdp_ice(
    pipeline: Any,
    rows: pd.DataFrame,
    feature: str,
    kind: str,
    classes: Sequence[Any] | None,
    grid_points: int = 10,
    ice_lines: int = 100,
) -> DependencePlot:
    """Centred PDP with `ice_lines` sampled ICE lines for one feature, averaged over `rows`."""
    try:
        view = _one_hot_view(rows, [feature])
        with _quiet():
            from pdpbox import pdp

            isolate = pdp.PDPIsolate(
                model=pipeline,
                df=view.frame,
                model_features=list(view.frame.columns),
                feature=view.pdpbox_feature(feature),
                feature_name=feature,
                n_classes=_n_classes(kind, classes),
                num_grid_points=grid_points,
                data_transformer=view.to_raw,
            )
            figure, _ = isolate.plot(
                center=True,
                plot_lines=True,
                frac_to_plot=min(ice_lines, len(rows)),
                engine="matplotlib",
                dpi=100,
                figsize=(10, 4.5 if kind != "multiclass" else 8),
            )
        if feature in view.columns:
            _slant_tick_labels(figure)
        return DependencePlot((feature,), _detached(figure), "pdpbox")
    except Exception as exc:  # pdpbox cannot handle every column; say so and fall back
        return _fallback(pipeline, rows, [feature], kind, classes, grid_points, ice_lines, exc)


def interaction_plot(
    pipeline: Any,
    rows: pd.DataFrame,
    pair: tuple[str, str],
    kind: str,
    classes: Sequence[Any] | None,
    grid_points: int = 10,
) -> DependencePlot:
    """Two-feature partial dependence of the pair, averaged over `rows`."""
    try:
        view = _one_hot_view(rows, pair)
        categorical = any(f in view.columns for f in pair)
        with _quiet():
            from pdpbox import pdp

            interact = pdp.PDPInteract(
                model=pipeline,
                df=view.frame,
                model_features=list(view.frame.columns),
                features=[view.pdpbox_feature(f) for f in pair],
                feature_names=list(pair),
                n_classes=_n_classes(kind, classes),
                num_grid_points=grid_points,
                data_transformer=view.to_raw,
            )
            figure, _ = interact.plot(
                plot_type="grid" if categorical else "contour",
                engine="matplotlib",
                dpi=100,
                figsize=(10, 6 if kind != "multiclass" else 10),
            )
        return DependencePlot(pair, _detached(figure), "pdpbox")
    except Exception as exc:
        return _fallback(pipeline, rows, [pair], kind, classes, grid_points, 0, exc)


def _fallback(
    pipeline: Any,
    rows: pd.DataFrame,
    features: list[Any],
    kind: str,
    classes: Sequence[Any] | None,
    grid_points: int,
    ice_lines: int,
    error: Exception,
) -> DependencePlot:
    """scikit-learn's plot where pdpbox failed; an empty panel that says why where both did."""
    try:
        return _sklearn_plot(pipeline, rows, features, kind, classes, grid_points, ice_lines, error)
    except Exception as second:  # a report with a note beats a failed stage
        import matplotlib.pyplot as plt

        wanted = features[0] if isinstance(features[0], tuple) else (features[0],)
        figure, ax = plt.subplots(figsize=(6, 1.2))
        ax.axis("off")
        note = (
            f"Neither pdpbox ({type(error).__name__}) nor scikit-learn "
            f"({type(second).__name__}: {str(second)[:160]}) could draw the partial dependence "
            f"of {' x '.join(wanted)}."
        )
        ax.text(0, 0.5, f"No partial dependence plot for {' x '.join(wanted)}.", va="center")
        return DependencePlot(tuple(wanted), _detached(figure), "none", note)


def _sklearn_plot(
    pipeline: Any,
    rows: pd.DataFrame,
    features: list[Any],
    kind: str,
    classes: Sequence[Any] | None,
    grid_points: int,
    ice_lines: int,
    error: Exception,
) -> DependencePlot:
    import matplotlib.pyplot as plt
    from sklearn.inspection import PartialDependenceDisplay

    wanted = features[0] if isinstance(features[0], tuple) else (features[0],)
    targets = list(range(len(classes))) if kind == "multiclass" else [None]
    figure, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 4), squeeze=False)
    categorical = [f for f in wanted if not is_numeric(rows[f])]
    rows = rows.astype({f: float for f in wanted if f not in categorical})  # sklearn: no ints
    rows = rows.assign(  # sklearn sorts the categories: no missing values among the text
        **{f: rows[f].astype(str).where(rows[f].notna(), "(missing)") for f in categorical}
    )
    for ax, target in zip(axes[0], targets, strict=True):
        PartialDependenceDisplay.from_estimator(
            pipeline,
            rows,
            features,
            kind="both" if ice_lines and len(wanted) == 1 and not categorical else "average",
            centered=bool(ice_lines) and not categorical,
            subsample=min(ice_lines, len(rows)) if ice_lines else None,
            grid_resolution=max([grid_points, *(rows[f].nunique() + 1 for f in categorical)]),
            categorical_features=categorical or None,
            target=target,
            ax=ax,
            random_state=0,
        )
        if target is not None:
            ax.set_title(f"class {classes[target]}")
    reason = f"{type(error).__name__}: {str(error)[:200]}"
    note = (
        f"pdpbox could not draw {' x '.join(wanted)} ({reason}); "
        "this plot is scikit-learn's partial dependence instead."
    )
    return DependencePlot(tuple(wanted), _detached(figure), "scikit-learn", note)


# --- which pair of features interacts most --------------------------------------------------


def _grid(values: pd.Series, points: int) -> list[Any]:
    if is_numeric(values):
        present = values.dropna()
        return list(np.unique(np.quantile(present, np.linspace(0.05, 0.95, points))))
    return list(values.dropna().value_counts().index[:points])


def _average_prediction(
    predict: Callable[[pd.DataFrame], np.ndarray],
    rows: pd.DataFrame,
    settings: list[dict[str, Any]],
) -> np.ndarray:
    """Mean prediction of `rows` with columns set as in each of `settings` (one batch)."""
    copies = []
    for setting in settings:
        copy = rows.copy()
        for column, value in setting.items():
            copy[column] = value
        copies.append(copy)
    output = np.asarray(predict(pd.concat(copies, ignore_index=True)), dtype=float)
    output = output.reshape(len(settings), len(rows), -1)
    return output.mean(axis=1)


def interaction_strength(
    predict: Callable[[pd.DataFrame], np.ndarray],
    rows: pd.DataFrame,
    pair: tuple[str, str],
    grid_points: int = 6,
) -> float:
    """Friedman's H² of a pair on a grid: the share of the pair's joint partial dependence
    that the two single-feature dependences do not explain (0 none, 1 all)."""
    first, second = (_grid(rows[f], grid_points) for f in pair)
    pd1 = _average_prediction(predict, rows, [{pair[0]: v} for v in first])
    pd2 = _average_prediction(predict, rows, [{pair[1]: v} for v in second])
    both = [{pair[0]: a, pair[1]: b} for a, b in itertools.product(first, second)]
    pd12 = _average_prediction(predict, rows, both).reshape(len(first), len(second), -1)
    pd1, pd2 = pd1 - pd1.mean(axis=0), pd2 - pd2.mean(axis=0)
    pd12 = pd12 - pd12.mean(axis=(0, 1))
    residual = pd12 - pd1[:, None, :] - pd2[None, :, :]
    total = float((pd12**2).sum())
    return float((residual**2).sum() / total) if total > 0 else 0.0


def strongest_pair(
    predict: Callable[[pd.DataFrame], np.ndarray],
    rows: pd.DataFrame,
    candidates: Sequence[str],
) -> tuple[tuple[str, str], pd.DataFrame]:
    """The pair of `candidates` with the largest interaction strength, and every pair's."""
    pairs = list(itertools.combinations(candidates, 2))
    table = pd.DataFrame(
        [
            {
                "feature_1": a,
                "feature_2": b,
                "h_squared": interaction_strength(predict, rows, (a, b)),
            }
            for a, b in pairs
        ]
    ).sort_values("h_squared", ascending=False, ignore_index=True)
    best = table.iloc[0]
    return (best["feature_1"], best["feature_2"]), table
