"""Batch scoring as the score stage does it (`scoring.score_batch`, `scoring.log_run`), with a
small Titanic model in a real MLflow store."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from mlworkbench.analysis import personal_data
from mlworkbench.exceptions import ScoringInputError
from mlworkbench.production import scoring
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_KEY_FIGURES, TAG_MODEL, TAG_OUTPUT

MODEL = "titanic"  # as the `trained_titanic` fixture registers it
COLUMNS = [
    "row_key",
    "model_name",
    "model_version",
    "scored_at",
    "prediction",
    "probability_0",
    "probability_1",
]


def write_batch(trained, folder, rows: int = 40):
    """The first `rows` held-out rows without their label, with a passenger id, as CSV."""
    batch = trained.test.drop(columns=[trained.target]).head(rows)
    batch.insert(0, "passenger", [f"P{i:04d}" for i in range(rows)])
    path = folder / "batch.csv"
    batch.to_csv(path, index=False)
    return path, batch


def score(source, output, reference=f"models:/{MODEL}@challenger", id_column="passenger"):
    return scoring.score_batch(mlflow.MlflowClient(), reference, str(source), output, id_column)


def test_score_batch_writes_the_models_predictions_under_their_row_keys(tracked, tmp_path):
    source, batch = write_batch(tracked, tmp_path)
    output = tmp_path / "scored.parquet"
    scored = score(source, output)
    written = pd.read_parquet(output)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{tracked.version}")
    expected = model.predict(batch.drop(columns=["passenger"]))
    assert list(written.columns) == COLUMNS
    assert list(written["row_key"]) == list(batch["passenger"])
    assert set(written["model_name"]) == {MODEL}
    assert set(written["model_version"]) == {tracked.version}
    assert list(written["prediction"]) == list(expected["prediction"])
    np.testing.assert_allclose(written["probability_1"], expected["probability_1"], rtol=1e-12)
    pd.testing.assert_frame_equal(written, scored.predictions)
    assert scored.output == output.resolve() and scored.resolved.version == tracked.version
    survivors = int((expected["prediction"] == 1).sum())
    assert 0 < survivors < 40
    assert scored.shares == pytest.approx(
        {"share predicted 0": (40 - survivors) / 40, "share predicted 1": survivors / 40}
    )
    assert scored.rows == 40 and scored.seconds > 0
    assert scored.rows_per_second == pytest.approx(40 / scored.seconds)


def test_the_summary_names_the_batch_the_version_and_the_speed(tracked, tmp_path):
    source, _ = write_batch(tracked, tmp_path, rows=25)
    scored = score(source, tmp_path / "out.csv")
    asked = scoring.summary_sentences(scored, f"{MODEL}@challenger")
    assert asked == [
        f"Scored 25 rows of batch.csv with '{MODEL}' version {tracked.version} "
        f"(asked for: {MODEL}@challenger).",
        f"Took {scored.seconds:.2f} s including loading the model: "
        f"{25 / scored.seconds:,.0f} rows per second.",
        "Wrote out.csv (7 columns).",
        "The copy of the batch kept with this run shows pseudonyms in passenger (personal data "
        "or the row id); out.csv keeps their values.",
    ]
    default = scoring.summary_sentences(scored)[0]
    assert default.endswith(f"(asked for: models:/{MODEL}@challenger).")


def test_a_batch_that_does_not_fit_is_refused_before_anything_is_written(tracked, tmp_path):
    source, batch = write_batch(tracked, tmp_path, rows=10)
    batch.drop(columns=["age"]).assign(parch="two", extra=1).to_csv(source, index=False)
    output = tmp_path / "never.csv"
    with pytest.raises(ScoringInputError) as refused:
        score(source, output)
    message = str(refused.value)
    assert message.startswith("The batch does not fit the model: missing column 'age' (double)")
    assert "extra column 'extra' (the model does not take it)" in message
    assert "column 'parch' holds string values, the model expects long" in message
    assert refused.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]


def test_an_unknown_model_or_a_bad_output_path_is_refused(tracked, tmp_path):
    source, _ = write_batch(tracked, tmp_path, rows=5)
    with pytest.raises(ScoringInputError, match="Model 'nobody@champion' not found"):
        score(source, tmp_path / "out.csv", reference="nobody@champion")
    with pytest.raises(ScoringInputError, match=r"must end in \.csv or \.parquet"):
        score(source, tmp_path / "out.txt")
    with pytest.raises(ScoringInputError, match="does not exist"):
        score(source, tmp_path / "missing" / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch.csv"]


def test_log_run_records_the_figures_tags_and_the_scored_batch(tracked, tmp_path):
    source, batch = write_batch(tracked, tmp_path)
    scored = score(source, tmp_path / "scored.csv")
    client = mlflow.MlflowClient()
    experiment = store.get_or_create_experiment(client, "scoring")
    with mlflow.start_run(experiment_id=experiment) as run:
        scoring.log_run(scored)
    logged = client.get_run(run.info.run_id).data
    assert logged.metrics == pytest.approx(
        {
            "rows": 40.0,
            "rows_per_second": scored.rows_per_second,
            "seconds": scored.seconds,
            "share_predicted_0": scored.shares["share predicted 0"],
            "share_predicted_1": scored.shares["share predicted 1"],
        }
    )
    assert logged.tags[TAG_MODEL] == f"{MODEL}/{tracked.version}"
    assert logged.tags[TAG_OUTPUT] == str((tmp_path / "scored.csv").resolve())
    assert logged.tags[TAG_KEY_FIGURES] == "rows,rows_per_second"
    kept = pd.read_parquet(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id,
            artifact_path=scoring.SCORED_BATCH_ARTIFACT,
            dst_path=str(tmp_path / "download"),
        )
    )
    predictions = scored.predictions.drop(columns=["row_key"])
    as_before = scored.batch.join(predictions.set_index(scored.batch.index))  # the old notebook
    masked = [personal_data.pseudonym(v, b"test-key") for v in batch["passenger"]]
    pd.testing.assert_frame_equal(kept, as_before.assign(passenger=masked))
    assert list(kept.columns) == [*batch.columns, *COLUMNS[1:]]


def test_scored_batch_puts_the_predictions_beside_the_rows_keeping_the_batch_columns():
    batch = pd.DataFrame({"age": [30.0, 41.0], "prediction": [1, 1]}, index=[7, 9])
    predictions = pd.DataFrame(
        {
            "row_key": [0, 1],
            "model_name": ["m", "m"],
            "prediction": [0, 1],
            "probability_1": [0.2, 0.9],
        }
    )
    kept = scoring.scored_batch(batch, predictions)
    expected = pd.DataFrame(
        {
            "age": [30.0, 41.0],
            "prediction": [1, 1],
            "model_name": ["m", "m"],
            "probability_1": [0.2, 0.9],
        },
        index=[7, 9],
    )
    pd.testing.assert_frame_equal(kept, expected)


def published_text(client, run_id: str, folder) -> str:
    """Everything a run published as text: its params, tags, metric names and every artifact
    (a Parquet artifact as its values, which compression would hide)."""
    run = client.get_run(run_id).data
    parts = [*run.params.items(), *run.tags.items(), *run.metrics]
    downloaded = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(folder)))
    for path in sorted(p for p in downloaded.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            parts.append(pd.read_parquet(path).to_csv())
        else:
            parts.append(path.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(map(str, parts))


def test_personal_and_id_columns_are_pseudonyms_in_the_kept_batch_only(
    personal_titanic, tracked, tmp_path, planted
):
    _, values_of, columns = planted
    batch = personal_titanic.test.drop(columns=[personal_titanic.target]).head(60)
    source = tmp_path / "batch.csv"
    batch.to_csv(source, index=False)
    model = f"models:/{personal_titanic.name}@challenger"
    scored = score(source, tmp_path / "scored.csv", reference=model, id_column="case_ref")
    assert scored.id_column == "case_ref" and scored.personal == columns[:-1]
    assert scored.masked == columns
    written = pd.read_csv(tmp_path / "scored.csv")
    assert list(written["row_key"]) == list(batch["case_ref"])  # the user's file: as it was
    client = mlflow.MlflowClient()
    with mlflow.start_run(experiment_id=store.get_or_create_experiment(client, "scoring")) as run:
        scoring.log_run(scored)
        store.set_note(scoring.summary_sentences(scored))
    kept = pd.read_parquet(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id,
            artifact_path=scoring.SCORED_BATCH_ARTIFACT,
            dst_path=str(tmp_path / "kept"),
        )
    )
    for column in columns:
        expected = [personal_data.pseudonym(v, b"test-key") for v in scored.batch[column]]
        assert list(kept[column]) == expected
    features = [c for c in batch.columns if c not in columns]
    pd.testing.assert_frame_equal(kept[features], scored.batch[features])
    assert scoring.pseudonymised(kept) == columns
    values = values_of(batch, columns)
    assert len(values) > 5 * 60
    text = published_text(client, run.info.run_id, tmp_path / "all")
    assert "anon-" in text and not [v for v in values if v in text]
    assert not [v for v in values if v in " ".join(scoring.summary_sentences(scored))]
