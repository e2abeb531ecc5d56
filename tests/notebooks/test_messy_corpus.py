"""The guardrails on messy tables: every stage of eda, train, explain and card, in real
kernels, on tables built by the tests and on every file of ../shared/data. The shared files run
with the configs `mlwb init` writes, so `mlwb init` followed by `mlwb run` is tested on each
(only the sample sizes are made small, to keep the suite fast).

Each table either runs with every stage FINISHED or is refused before any kernel starts with
an error that names the column. The reports show what screening did, flag leaks, escape
column names and carry no machine path or raw library warning.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from helpers import NOTEBOOKS, REPO, mlwb, sqlite_uri, write_config
from messy import leaky_frame, messy_frame, rare_class_frame, write_duplicate_headers
from published import leaks, planted_values, published_texts

from mlworkbench.cli.main import main

pytestmark = pytest.mark.notebook

SHARED = REPO.parent / "shared" / "data"
FAST = {
    "eda": {"profile_sample_rows": 3000},
    "train": {"hyperparameters": {"n_estimators": 80, "max_depth": 3}},
    "explain": {
        "explain_rows": 200, "background_rows": 50, "pdp_rows": 200, "ice_lines": 20,
        "grid_points": 5, "top_features": 3,
    },
    "card": {"comparison_rows": 100},
}  # fmt: skip
"""Sample sizes and a small model that keep the suite fast; the only settings a test changes."""
TABLES = {
    # name: (file, target, sensitive features): tables built by the tests, with
    # hand-written configs (the leak must reach training, so nothing is proposed for dropping)
    "messy": ("messy.csv", "outcome", ["age"]),
    "leaky": ("leaky.csv", "outcome", ["age"]),
    "rare": ("rare.csv", "outcome", ["age"]),
}
SHARED_TABLES = {
    # name: (file, target): every file of ../shared/data, with the config `mlwb init` writes
    "titanic": ("titanic_kaggle.csv", "Survived"),
    "statlog": ("german_credit_statlog.csv", "credit"),
    "adult": ("adult.csv", "income"),
    "taiwan": ("default_credit_card_clients_taiwan.csv", "default payment"),
}


PRIVACY = {"messy": {"personal_columns": ["nickname"]}}
"""The messy table's nickname is personal, but nothing in its name or values says so."""


def config_text(name: str) -> str:
    source, target, sensitive = TABLES[name]
    stages = {stage: dict(values) for stage, values in FAST.items()}
    privacy = {"privacy": PRIVACY[name]} if name in PRIVACY else {}
    return (
        f"experiment: corpus-{name}\nnotebooks: {NOTEBOOKS}\n"
        f"data: {{source: {json.dumps(source)}, target: {json.dumps(target)}, "
        f"task: classification, sensitive_features: {json.dumps(sensitive)}}}\n"
        + yaml.safe_dump({**privacy, "stages": stages}, sort_keys=False)
    )


def init_config(root: Path, name: str):
    """`mlwb init` on a shared file, then the fast sample sizes (nothing else is edited: the
    data section, drop_columns and the empty governance answers stay as written)."""
    file, target = SHARED_TABLES[name]
    result = CliRunner().invoke(  # the command itself, without a new interpreter's start-up
        main,
        ["init", str(SHARED / file), "--target", target, "--name", f"corpus-{name}",
         "--project-dir", str(root), "--notebooks", str(NOTEBOOKS)],
    )  # fmt: skip
    path = root / "papermill_configs" / f"corpus-{name}.yaml"
    if result.exit_code == 0:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        for stage, values in FAST.items():
            raw["stages"][stage].update(values)
        path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path, result


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every table run once through eda, train, explain and card in one project (two
    pipelines at a time, on one store): the shared files with the configs `mlwb init`
    writes."""
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} is missing: the shared datasets must lie beside the project")
    root = tmp_path_factory.mktemp("corpus")
    write_duplicate_headers(root / "messy.csv", personal=True)
    leaky_frame().to_csv(root / "leaky.csv", index=False)
    rare_class_frame().to_csv(root / "rare.csv", index=False)
    configs = {
        name: (write_config(root, f"{name}.yaml", config_text(name)), None) for name in TABLES
    }
    configs.update({name: init_config(root, name) for name in SHARED_TABLES})
    store = {"MLFLOW_TRACKING_URI": sqlite_uri(root)}  # whatever other tests left set
    runnable = [name for name, (_, init) in configs.items() if init is None or init.exit_code == 0]

    def run(name: str):  # the test of a table whose init failed reports init's error
        return mlwb(
            "run", str(configs[name][0]), "--project-dir", str(root), "--no-progress",
            "--jobs", "2", env=store,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=2) as lanes:  # two pipelines at a time, as teams do
        results = dict(zip(runnable, lanes.map(run, runnable), strict=True))
    return root, results, mlflow.MlflowClient(store["MLFLOW_TRACKING_URI"]), configs


def artifact(client, run, path: str) -> Path:
    """A local copy of an artifact of `run` from the corpus's own store."""
    return Path(client.download_artifacts(run.info.run_id, path))


def artifact_dict(client, run, path: str) -> dict:
    return json.loads(artifact(client, run, path).read_text(encoding="utf-8"))


def stage_run(client, name: str, stage: str):
    experiment = client.get_experiment_by_name(f"corpus-{name}")
    (run,) = client.search_runs(
        [experiment.experiment_id], f"tags.`mlwb.stage` = '{stage}'", max_results=1
    )
    return run


def screening_actions(client, name: str) -> tuple[object, dict[str, str]]:
    """A table's training run and the screening's action per column."""
    run = stage_run(client, name, "train")
    screened = artifact_dict(client, run, "screening/columns.json")
    assert all(c["reason"] for c in screened["columns"])
    return run, {c["column"]: c["action"] for c in screened["columns"]}


def report(root: Path, run) -> str:
    return (root / "reports" / run.data.tags["mlwb.report"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*TABLES, *SHARED_TABLES])
def test_every_stage_finishes_on_every_table(corpus, name):
    _, results, client, configs = corpus
    init = configs[name][1]
    if init is not None:  # `mlwb init` wrote a config that validates, and `mlwb run` runs it
        assert init.exit_code == 0, (init.stdout[-3000:], init.stderr[-3000:], init.exception)
        assert f"corpus-{name}.yaml: valid" in init.stdout
    result = results[name]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for stage in ("eda", "train", "explain", "card"):
        assert re.search(rf"^\s+{stage}\s+FINISHED", result.stdout, re.M), (stage, result.stdout)
        assert stage_run(client, name, stage).info.status == "FINISHED"


def test_screening_decides_every_messy_column_with_a_reason(corpus):
    _, _, client, _ = corpus
    run, actions = screening_actions(client, "messy")
    assert actions["customer_id"] == "drop" and actions["Name"] == "drop"
    assert actions["notes"] == "drop" and actions["empty"] == "drop"
    assert actions["country"] == "drop"
    assert actions["signup date"] == "date"
    assert actions["income (€)"] == "number"
    assert actions["discount"] == "number"
    assert actions["discount.1"] == "use"  # the second 'discount' header, renamed by pandas
    assert actions["mixed"] == "number"
    assert actions["<script>alert(1)</script>"] == "use"
    assert run.data.metrics["roc_auc"] > 0.75  # the signal is in income, age and région


def test_reports_escape_names_and_show_no_machine_path(corpus):
    root, _, client, _ = corpus
    for name in ("messy", "titanic"):
        for stage in ("eda", "train", "explain", "card"):
            page = report(root, stage_run(client, name, stage))
            assert "<script>alert(1)</script>" not in page, (name, stage)
            assert "site-packages" not in page, (name, stage)
            assert str(root) not in page, (name, stage)
    train = report(root, stage_run(client, "messy", "train"))
    assert "Columns used and why" in train
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in train


def test_a_leaky_column_is_flagged_everywhere_and_blocks_promotion(corpus):
    root, results, client, _ = corpus
    eda = artifact_dict(client, stage_run(client, "leaky", "eda"), "eda/findings.json")
    assert eda["probable_leaks"] == ["closing_status"]
    train = stage_run(client, "leaky", "train")
    check = artifact_dict(client, train, "leakage/check.json")
    assert check["suspects"] == ["closing_status"]
    assert check["too_good"]["roc_auc"] >= 0.99
    page = report(root, train)
    assert page.index(">Too good to be true?<") < page.index(">Summary (only if no column")
    assert "closing_status" in page
    assert "version 1 rejected" in results["leaky"].stdout
    assert "No suspected leakage" in results["leaky"].stdout
    clean = artifact_dict(client, stage_run(client, "messy", "train"), "leakage/check.json")
    assert clean["suspects"] == [] and clean["too_good"] == {}


def test_explain_lists_proxies_of_sensitive_features(corpus):
    _, _, client, configs = corpus
    run = stage_run(client, "statlog", "explain")
    table = pd.read_csv(artifact(client, run, "fairness/proxies.csv"))
    written = yaml.safe_load(configs["statlog"][0].read_text(encoding="utf-8"))
    sensitive = set(written["data"]["sensitive_features"])  # as `mlwb init` proposed them
    assert {"personal_status", "age"} <= sensitive
    assert set(table["sensitive"]) == sensitive
    assert table["association"].between(0, 1).all()
    assert (table["proxy"] == (table["association"] >= 0.5)).all()


def test_titanic_drops_its_identifier_and_names(corpus):
    _, _, client, _ = corpus
    run, actions = screening_actions(client, "titanic")
    assert actions["PassengerId"] == "drop" and actions["Name"] == "drop"
    assert actions["Ticket"] == "cap"
    assert 0.8 < run.data.metrics["roc_auc"] < 0.95


@pytest.mark.parametrize(
    ("train", "column"),
    [("drop_columns: [nope]", "nope"), ("keep_columns: [missing_col]", "missing_col")],
)
def test_an_unknown_column_is_refused_before_any_kernel(tmp_path, train, column):
    messy_frame(100).to_csv(tmp_path / "messy.csv", index=False)
    config = write_config(
        tmp_path,
        "bad.yaml",
        f"experiment: bad\nnotebooks: {NOTEBOOKS}\ndata: {{source: messy.csv, target: outcome}}\n"
        f"stages:\n  train: {{{train}}}\n",
    )
    result = mlwb("validate", str(config))
    assert result.returncode == 2
    assert f"'{column}'" in result.stderr and "not a feature column" in result.stderr


PUBLISHED = {
    # table: (source file, id column of scoring and monitoring, personal columns planted)
    "messy": (
        "messy.csv",
        "case_ref",
        ["Name", "notes", "email", "phone", "iban", "date_of_birth", "case_ref", "nickname"],
    ),
    "titanic": (str(SHARED / "titanic_kaggle.csv"), "PassengerId", ["Name"]),
}


@pytest.fixture(scope="module")
def published(corpus):
    """The messy table and the Titanic file after eda, train, explain and card (the corpus),
    then scored and monitored with an id column: everything the project published."""
    root, results, client, _ = corpus
    store = {"MLFLOW_TRACKING_URI": sqlite_uri(root)}
    (root / "notebooks").symlink_to(NOTEBOOKS)  # the stage notebooks of score and monitor
    (root / "out").mkdir()

    def score_and_monitor(name: str) -> list:
        source, id_column, _ = PUBLISHED[name]
        model, labelled = f"models:/corpus-{name}@challenger", root / source
        batch = root / "out" / f"{name}-batch.csv"  # the user's own files, not searched
        pd.read_csv(labelled).drop(columns=[TARGETS[name]]).to_csv(batch, index=False)
        return [
            mlwb("score", model, str(batch), "-o", str(root / "out" / f"{name}.csv"),
                 "--id-column", id_column, "--project-dir", str(root), "--no-progress", env=store),
            mlwb("monitor", model, str(labelled), "--labels", TARGETS[name], "--id-column",
                 id_column, "--project-dir", str(root), "--no-progress", env=store),
        ]  # fmt: skip

    with ThreadPoolExecutor(max_workers=2) as lanes:
        commands = dict(zip(PUBLISHED, lanes.map(score_and_monitor, PUBLISHED), strict=True))
    ran = [*results.values(), *(c for pair in commands.values() for c in pair)]
    outputs = [r.stdout + r.stderr for r in ran]
    return root, commands, published_texts(root, client, outputs)


TARGETS = {"messy": "outcome", "titanic": "Survived"}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_no_personal_value_is_published_by_any_stage(published, name):
    root, commands, texts = published
    score, monitor = commands[name]
    assert score.returncode == 0, score.stdout[-2000:] + score.stderr[-2000:]
    assert monitor.returncode in (0, 4), monitor.stdout[-2000:] + monitor.stderr[-2000:]
    source, id_column, columns = PUBLISHED[name]
    frame = pd.read_csv(root / source)
    values = planted_values(frame, columns)
    assert len(values) > 250  # every planted column is searched
    pages = [s for s in texts if s.endswith(".html")]
    assert any("profile" in s for s in pages) and any("05-score" in s for s in pages)
    assert any("06-monitor" in s for s in pages) and any("04-model-card" in s for s in pages)
    assert any(s.endswith("input_example.json") for s in texts)
    found = leaks(values, texts)
    assert not found, {source: hits[:3] for source, hits in found.items()}
    scored = pd.read_csv(root / "out" / f"{name}.csv")
    assert scored["row_key"].tolist() == frame[id_column].tolist()  # the user's own file


def test_personal_columns_are_never_features_and_the_card_says_so(published):
    root = published[0]
    client = mlflow.MlflowClient(sqlite_uri(root))
    _, actions = screening_actions(client, "messy")
    for column in PUBLISHED["messy"][2]:
        assert actions[column] == "drop", column
    eda = report(root, stage_run(client, "messy", "eda"))
    assert "Personal data" in eda and "nickname" in eda
    card = artifact_dict(client, stage_run(client, "messy", "card"), "card/privacy.json")
    assert "nickname" in json.dumps(card)
