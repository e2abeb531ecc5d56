"""`ColumnScreen`, the scikit-learn step that applies a `screening.Screening` to raw rows.

Kept apart from `screening` so that deciding on columns (what the command line does when it
validates a config) does not import scikit-learn. Pickled models name the class
`mlworkbench.analysis.screening.ColumnScreen`, as before: `screening` answers that name with
this class.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mlworkbench.analysis.text_values import OTHER, decimal_years, parse_numbers
from mlworkbench.exceptions import UnknownColumnError


class ColumnScreen(TransformerMixin, BaseEstimator):
    """Applies a `Screening` to raw rows: drops, parses and caps columns, as decided.

    The output has the used columns in table order, numeric ones as floats (infinite values
    as missing), categorical ones as they were or capped. Rows keep their index. Columns
    that are already in their screened form pass through unchanged.
    """

    def __init__(self, screening: Any = None):  # a screening.Screening
        self.screening = screening

    def fit(self, rows: pd.DataFrame, y: Any = None) -> ColumnScreen:
        """Nothing to learn: the decisions were taken on the whole table."""
        self.n_features_in_ = rows.shape[1]
        return self

    def transform(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The columns the model receives, screened."""
        used = self.screening.used()
        missing = [d.column for d in used if d.column not in rows.columns]
        if missing:
            raise UnknownColumnError(
                f"The rows lack column(s) the model needs: {', '.join(missing)}."
            )
        return pd.DataFrame({d.column: _apply(d, rows[d.column]) for d in used}, index=rows.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the used columns."""
        return np.asarray([d.column for d in self.screening.used()], dtype=object)


def _apply(decision: Any, values: pd.Series) -> pd.Series:  # a screening.ColumnDecision
    if decision.action == "number":
        values = parse_numbers(values, decision.number_format)
    elif decision.action == "date":
        values = decimal_years(values)
    elif decision.action == "cap":
        kept = set(decision.categories)
        text = values.astype(str)
        return text.where(text.isin(kept), OTHER).where(values.notna(), np.nan)
    if decision.kind == "numeric":
        numbers = pd.to_numeric(values, errors="coerce").astype(float)
        return numbers.replace([np.inf, -np.inf], np.nan)
    return values


ColumnScreen.__module__ = "mlworkbench.analysis.screening"  # where pickles name it
