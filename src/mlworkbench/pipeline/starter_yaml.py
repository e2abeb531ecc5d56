"""The starter config of `mlwb init` as commented YAML.

Every key carries a comment: what it controls (for a stage parameter, the help of its notebook's
parameters cell, so the two never disagree), or why a column was proposed. `governance:` lists
every question of the checklist with nothing answered, so the card shows each as MISSING.
"""

from __future__ import annotations

import ast
from typing import Any

import yaml

from mlworkbench.analysis import sniffing
from mlworkbench.analysis.profiling import source_label
from mlworkbench.governance.checklist import QUESTIONS, RISK_CATEGORIES, RISK_QUESTIONS
from mlworkbench.pipeline.config import Stage
from mlworkbench.pipeline.contracts import Parameter, read_contract
from mlworkbench.pipeline.starter import Starter

STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "eda": ("profile_sample_rows", "high_cardinality"),
    "train": (
        "model", "hyperparameters", "drop_columns", "keep_columns", "split", "test_size",
        "cv_folds", "threshold_rule", "registered_model",
    ),
    "explain": (
        "explain_rows", "top_features", "local_rows", "continuous_bins", "min_group_size",
        "fairness_thresholds", "counterfactual_seconds",
    ),
    "card": ("quality_thresholds", "missing_blocks", "champion_margin"),
}  # fmt: skip
"""Parameters written for each stage: those a user most often changes (all of a stage's
parameters: `mlwb params NOTEBOOK`)."""
DATA_HELP = {
    "source": "bundled dataset, or a .csv / .parquet path (relative: to this file)",
    "target": "the column to predict",
    "csv": "pandas.read_csv options that read the file (found by sniffing it)",
}
COMMENT_COLUMN = 34


def flow(value: Any) -> str:
    """`value` as one line of YAML: `xgboost`, `[sex, age]`, `{max_depth: 3}`, `''`."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, width=10**9, sort_keys=False
    )
    return text.strip().removesuffix("...").strip()


def commented(text: str, comment: str) -> str:
    """`text  # comment`, the comment aligned at `COMMENT_COLUMN` when the text leaves room."""
    if not comment:
        return text
    return f"{text.ljust(COMMENT_COLUMN - 2)}  # {comment}"


def key_line(indent: int, key: str, value: Any = None, comment: str = "") -> str:
    """One `key: value  # comment` line (`key:` alone when `value` is None)."""
    text = f"{' ' * indent}{flow(key)}:" + ("" if value is None else f" {flow(value)}")
    return commented(text, comment)


def column_list(
    indent: int, key: str, proposals: list[sniffing.Proposal], comment: str, empty: str
) -> list[str]:
    """A list of columns, one per line with the reason it is proposed (`[]` and `empty`
    when there is none)."""
    if not proposals:
        return [key_line(indent, key, [], f"{comment}; {empty}")]
    items = [commented(f"{' ' * (indent + 2)}- {flow(p.column)}", p.why) for p in proposals]
    return [key_line(indent, key, None, comment), *items]


CSV_HELP = {
    "sep": "the character between fields",
    "encoding": "the file's text encoding (it is not UTF-8)",
    "decimal": "the decimal mark of numbers",
    "thousands": "the character that groups thousands",
    "skipinitialspace": "fields start with a space after the separator",
    "na_values": "values that mean 'missing'",
}


def render(starter: Starter) -> str:
    """The starter config as commented YAML."""
    lines = [
        *_header(starter),
        *_data_section(starter),
        *_stages_section(starter),
        *_privacy_section(starter),
        *_governance_section(),
    ]
    return "\n".join(lines) + "\n"


def _header(starter: Starter) -> list[str]:
    """The opening comment, the experiment and, where needed, the notebooks folder."""
    lines = [
        f"# Pipeline config written by `mlwb init` for {source_label(starter.source)}. Check every",
        "# proposal (each comment says why it was made), answer the governance questions at the",
        "# end, then: mlwb validate THIS_FILE && mlwb run THIS_FILE",
        key_line(0, "experiment", starter.name, "MLflow experiment the runs are filed under"),
    ]
    if starter.notebooks:
        lines.append(
            key_line(
                0, "notebooks", starter.notebooks, "folder of the stage notebooks (NN-stage.ipynb)"
            )
        )
    return lines


def _data_section(starter: Starter) -> list[str]:
    """`data:` with a comment on every key and on every proposed column."""
    lines = [
        "data:",
        key_line(2, "source", starter.source, DATA_HELP["source"]),
        key_line(2, "target", starter.target, DATA_HELP["target"]),
        key_line(2, "task", starter.task, f"classification or regression; {starter.task_reason}"),
        *column_list(
            2,
            "sensitive_features",
            starter.sensitive,
            "columns that describe people: fairness is measured per group of each",
            "none named like one: add them",
        ),
    ]
    if starter.associated:
        lines.append(
            "  # Associated with a sensitive feature, so they can stand in for it (add one"
        )
        lines.append(
            "  # above if it describes people too; the explain report lists such proxies):"
        )
        lines += [f"  #   {p.column}: {p.why}" for p in starter.associated]
    if starter.csv == {}:
        lines.append(key_line(2, "csv", {}, "the file reads with pandas' defaults"))
    elif starter.csv:
        lines.append(key_line(2, "csv", None, DATA_HELP["csv"]))
        lines += [key_line(4, k, v, CSV_HELP.get(k, "")) for k, v in starter.csv.items()]
    return lines


def _stage_values(starter: Starter, stage: Stage) -> dict[str, tuple[Any, Parameter]]:
    """The parameters written for `stage`: their defaults, with the decisions `mlwb init`
    takes for this data (the registered model's name); the columns to drop are listed apart."""
    contract = read_contract(stage.notebook)
    values = {}
    for key in STAGE_KEYS.get(stage.name, ()):
        if key not in contract or key == "drop_columns":
            continue
        try:
            values[key] = (ast.literal_eval(contract[key].default), contract[key])
        except (ValueError, SyntaxError):
            continue
    if "registered_model" in values:
        values["registered_model"] = (starter.name, values["registered_model"][1])
    return values


def _stages_section(starter: Starter) -> list[str]:
    """`stages:`, every pipeline stage with its most used parameters, each commented."""
    lines = ["stages:"]
    for name, stage in starter.stages.items():
        notebook = f"notebooks/{stage.notebook.name}"
        values = _stage_values(starter, stage)
        contract = read_contract(stage.notebook)
        if not values and "drop_columns" not in contract:
            lines.append(key_line(2, name, {}, f"`mlwb params {notebook}` lists its parameters"))
            continue
        lines.append(key_line(2, name, None, f"`mlwb params {notebook}` lists every parameter"))
        for key, (value, parameter) in values.items():
            if isinstance(value, dict) and len(value) > 2:  # one line each, for readability
                lines.append(key_line(4, key, None, parameter.help))
                lines += [key_line(6, k, v) for k, v in value.items()]
            else:
                lines.append(key_line(4, key, value, parameter.help))
            if key == "hyperparameters" and "drop_columns" in contract:
                lines += column_list(
                    4,
                    "drop_columns",
                    starter.drop,
                    contract["drop_columns"].help,
                    "no identifier or probable leak found",
                )
                lines += [
                    f"      # not dropped, as no feature would be left: {p.column}: {p.why}"
                    for p in starter.leaks_kept
                ]
    return lines


def _privacy_section(starter: Starter) -> list[str]:
    """`privacy:` with both lists empty and, as comments, what the privacy check found."""
    found = [f"  #   {p.column}: {p.why}" for p in starter.personal]
    return [
        "",
        "# Personal data is never a feature, and no report or artifact shows its values.",
        "privacy:",
        key_line(2, "personal_columns", [], "personal columns the check below does not see"),
        key_line(2, "not_personal", [], "columns the check found that are not personal"),
        *(["  # Found by the privacy check:", *found] if found else ["  # The check found none."]),
    ]


def _governance_section() -> list[str]:
    """`governance:` with every question empty: each is MISSING in the card until answered."""
    top = [k for k in QUESTIONS if k != "eu_ai_act_risk_category"]
    return [
        "",
        "# The team's answers for the model card and the Responsible-AI checklist. An empty",
        "# answer is shown as MISSING in the card and blocks promotion (card: missing_blocks).",
        "governance:",
        *(key_line(2, k, None, QUESTIONS[k]) for k in top),
        key_line(2, "risk_assessment", None, "the risks the team has assessed"),
        *(key_line(4, k, None, text) for k, text in RISK_QUESTIONS.items()),
        key_line(
            2,
            "eu_ai_act_risk_category",
            None,
            f"{QUESTIONS['eu_ai_act_risk_category']}: {', '.join(RISK_CATEGORIES)}",
        ),
        key_line(2, "waivers", {}, "checklist item id: written reason its FAIL does not block"),
    ]
