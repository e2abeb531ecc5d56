"""`migrate`: a real copy of one SQLite store into another (runs with their nesting, params,
metric histories, tags and artifacts, the logged model, the registry with its alias), run
twice to show it copies nothing new, and the refusals that copy nothing at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from mlworkbench.exceptions import MigrationError
from mlworkbench.tracking.migrate import migrate
from mlworkbench.tracking.migrate_runs import ID_PATTERN, Counts, Migration, pages
from mlworkbench.tracking.tags import TAG_MIGRATED_AT, TAG_MIGRATED_FROM, TAG_PIPELINE, TAG_STAGE

EXPERIMENT = "migrate-test"
MODEL = "tiny-model"
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1], [0.1, 0.8], [0.8, 0.3]])
Y = np.array([0, 1, 0, 1, 0, 1])


def new_store(empty_store: Path, folder: Path) -> str:
    folder.mkdir(parents=True)
    shutil.copy(empty_store, folder / "mlflow.db")
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture
def stores(empty_store, tmp_path, monkeypatch):
    """(source URI, destination URI, what the source holds): an experiment with a parent run
    and a nested child, a metric history, tags, an artifact and a registered sklearn model
    with a `champion` alias. The destination is an empty store."""
    monkeypatch.chdir(tmp_path)  # a store's default artifact root is ./mlruns
    source = new_store(empty_store, tmp_path / "source")
    destination = new_store(empty_store, tmp_path / "destination")
    use_tracking(monkeypatch, source)
    client = mlflow.MlflowClient(source)
    experiment_id = client.create_experiment(
        EXPERIMENT,
        artifact_location=(tmp_path / "source" / "mlruns").as_uri(),
        tags={"team": "credit"},
    )
    note = tmp_path / "note.txt"
    note.write_text("findings of the parent run\n", encoding="utf-8")
    with mlflow.start_run(experiment_id=experiment_id, run_name="pipeline") as parent:
        mlflow.set_tags({TAG_PIPELINE: "true", "owner": "ana"})
        mlflow.log_params({"seed": "42", "model": "linear"})
        mlflow.log_artifact(str(note), "notes")
        fitted = LogisticRegression().fit(X, Y)
        info = mlflow.sklearn.log_model(fitted, name="model", pip_requirements=["scikit-learn"])
        with mlflow.start_run(experiment_id=experiment_id, run_name="train", nested=True) as child:
            mlflow.set_tag(TAG_STAGE, "train")
            mlflow.log_param("test_size", "0.25")
            for step, loss in enumerate([0.9, 0.5, 0.3]):
                mlflow.log_metric("loss", loss, step=step)
            mlflow.log_metric("roc_auc", 0.8)
    version = mlflow.register_model(info.model_uri, MODEL)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    client.set_model_version_tag(MODEL, version.version, "run_id", parent.info.run_id)
    # as `mlwb migrate` without --to runs: MLFLOW_TRACKING_URI names the destination
    use_tracking(monkeypatch, destination)
    yield source, destination, {"parent": parent.info.run_id, "child": child.info.run_id}
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def use_tracking(monkeypatch, uri: str) -> None:
    """Point this process's MLflow (environment and fluent API) at `uri`."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)


def migrated_runs(client) -> dict[str, object]:
    """Destination runs by the source run id they were copied from."""
    experiment = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([experiment.experiment_id])
    return {run.data.tags[TAG_MIGRATED_FROM]: run for run in runs}


def test_migration_copies_runs_nesting_histories_artifacts_and_registry(stores, tmp_path):
    source, destination, ids = stores
    lines: list[str] = []
    counts = migrate(source, destination, echo=lines.append)

    assert (counts.experiments, counts.runs, counts.runs_skipped) == (1, 2, 0)
    assert (counts.logged_models, counts.versions, counts.versions_skipped) == (1, 1, 0)
    assert counts.aliases == 1
    assert counts.artifact_files == 1  # notes/note.txt; the model's files belong to the model
    assert (
        f"experiment '{EXPERIMENT}': 2 runs copied, 0 skipped (already there), 1 artifact "
        "files, 1 logged models" in lines
    )
    assert lines[-1] == counts.summary()
    assert lines[-1].startswith("Migrated: 1 experiments created, 2 runs (0 already there")

    src, dst = mlflow.MlflowClient(source), mlflow.MlflowClient(destination)
    experiment = dst.get_experiment_by_name(EXPERIMENT)
    assert experiment.tags["team"] == "credit"
    copies = migrated_runs(dst)
    assert set(copies) == {ids["parent"], ids["child"]}
    new_parent, new_child = copies[ids["parent"]], copies[ids["child"]]
    assert new_parent.info.run_id != ids["parent"] and new_child.info.run_id != ids["child"]

    for old_id, copy in copies.items():
        run = src.get_run(old_id)
        assert copy.info.run_name == run.info.run_name
        assert copy.info.status == run.info.status == "FINISHED"
        assert (copy.info.start_time, copy.info.end_time) == (
            run.info.start_time,
            run.info.end_time,
        )
        assert copy.data.params == run.data.params
        assert copy.data.metrics == run.data.metrics
        assert TAG_MIGRATED_AT in copy.data.tags
        expected = {k: v for k, v in run.data.tags.items() if k != "mlflow.parentRunId"}
        assert {k: copy.data.tags.get(k) for k in expected} == expected

    assert new_child.data.tags["mlflow.parentRunId"] == new_parent.info.run_id
    assert "mlflow.parentRunId" not in new_parent.data.tags
    history = dst.get_metric_history(new_child.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.3)]
    assert [m.timestamp for m in history] == [
        m.timestamp for m in src.get_metric_history(ids["child"], "loss")
    ]
    assert new_child.data.params == {"test_size": "0.25"}
    assert new_parent.data.tags["owner"] == "ana"

    folder = mlflow.artifacts.download_artifacts(
        run_id=new_parent.info.run_id,
        artifact_path="notes/note.txt",
        dst_path=str(tmp_path / "check"),
        tracking_uri=destination,
    )
    assert Path(folder).read_text(encoding="utf-8") == "findings of the parent run\n"

    (version,) = dst.search_model_versions(f"name = '{MODEL}'")
    assert str(version.version) == "1"
    assert version.tags[TAG_MIGRATED_FROM] == f"{MODEL}/1"
    assert version.tags["run_id"] == new_parent.info.run_id, "a tag naming a run is remapped"
    assert version.run_id == new_parent.info.run_id
    (logged,) = dst.search_logged_models([experiment.experiment_id])
    assert version.source == f"models:/{logged.model_id}"
    assert logged.source_run_id == new_parent.info.run_id
    assert str(dst.get_model_version_by_alias(MODEL, "champion").version) == "1"

    loaded = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
    assert loaded.metadata.run_id == new_parent.info.run_id
    assert list(loaded.predict(X)) == list(LogisticRegression().fit(X, Y).predict(X))


def test_a_second_migration_copies_nothing_new(stores):
    source, destination, _ = stores
    migrate(source, destination, echo=lambda line: None)
    dst = mlflow.MlflowClient(destination)
    before = {old: run.info.run_id for old, run in migrated_runs(dst).items()}

    lines: list[str] = []
    again = migrate(source, destination, echo=lines.append)

    assert (again.experiments, again.runs, again.runs_skipped) == (0, 0, 2)
    assert (again.artifact_files, again.logged_models) == (0, 0)
    assert (again.versions, again.versions_skipped) == (0, 1)
    assert (
        f"experiment '{EXPERIMENT}': 0 runs copied, 2 skipped (already there), 0 artifact "
        "files, 0 logged models" in lines
    )
    experiment = dst.get_experiment_by_name(EXPERIMENT)
    assert len(dst.search_experiments()) == 2  # Default and the copied one
    assert {old: run.info.run_id for old, run in migrated_runs(dst).items()} == before
    assert len(dst.search_runs([experiment.experiment_id])) == 2
    assert len(dst.search_logged_models([experiment.experiment_id])) == 1
    assert len(dst.search_model_versions(f"name = '{MODEL}'")) == 1
    assert str(dst.get_model_version_by_alias(MODEL, "champion").version) == "1"


def test_a_missing_source_is_refused_and_nothing_is_created(empty_store, tmp_path):
    destination = new_store(empty_store, tmp_path / "destination")
    missing = tmp_path / "nowhere" / "mlflow.db"
    lines: list[str] = []
    with pytest.raises(MigrationError) as caught:
        migrate(f"sqlite:///{missing}", destination, echo=lines.append)
    assert str(caught.value) == f"the source: tracking store {missing} does not exist here."
    assert caught.value.exit_code == 2
    assert not missing.exists() and not missing.parent.exists()
    assert lines == []
    assert [e.name for e in mlflow.MlflowClient(destination).search_experiments()] == ["Default"]


def test_a_missing_destination_is_refused_and_not_created(stores, tmp_path):
    source, _, _ = stores
    missing = tmp_path / "team" / "mlflow.db"
    with pytest.raises(MigrationError, match=r"^the destination: tracking store .* does not exist"):
        migrate(source, f"sqlite:///{missing}", echo=lambda line: None)
    assert not missing.parent.exists()


def test_a_store_is_not_migrated_into_itself(stores):
    source, _, _ = stores
    with pytest.raises(MigrationError, match="source and destination are the same store"):
        Migration(source, source + "/", echo=lambda line: None)


def test_remap_replaces_only_the_ids_of_copied_runs_and_models(stores):
    source, destination, _ = stores
    migration = Migration(source, destination, echo=lambda line: None)
    old_run, new_run = "a" * 32, "b" * 32
    old_model, new_model = "m-" + "1" * 32, "m-" + "2" * 32
    unknown = "c" * 32
    migration.ids = {old_run: new_run, old_model: new_model}
    text = f"runs:/{old_run}/model models:/{old_model} {unknown}"
    assert migration.remap(text) == f"runs:/{new_run}/model models:/{new_model} {unknown}"
    assert ID_PATTERN.fullmatch(old_model) and not ID_PATTERN.fullmatch("m-xyz")


def test_pages_follows_page_tokens_to_the_end():
    class Page(list):
        def __init__(self, items, token):
            super().__init__(items)
            self.token = token

    served = {None: Page([1, 2], "p2"), "p2": Page([3], "p3"), "p3": Page([], None)}
    asked: list[str | None] = []

    def fetch(token):
        asked.append(token)
        return served[token]

    assert list(pages(fetch)) == [1, 2, 3]
    assert asked == [None, "p2", "p3"]


def test_counts_summary_reads_every_figure():
    counts = Counts(1, 2, 3, 4, 5, 6, 7, 8)
    assert counts.summary() == (
        "Migrated: 1 experiments created, 2 runs (3 already there, skipped), 4 artifact files, "
        "5 logged models, 6 model versions (7 already there, skipped), 8 aliases."
    )


def test_a_sqlite_destination_other_than_the_tracking_uri_gets_the_model_versions(
    stores, monkeypatch
):
    source, destination, _ = stores
    use_tracking(monkeypatch, source)  # `mlwb migrate --to sqlite:///team.db`, personal env
    counts = migrate(source, destination, echo=lambda line: None)
    assert (counts.runs, counts.versions, counts.aliases) == (2, 1, 1)
    dst = mlflow.MlflowClient(destination)
    assert str(dst.get_model_version_by_alias(MODEL, "champion").version) == "1"
