"""The full pipeline with the model card and the promotion gate, in real kernels."""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

import mlflow
import pandas as pd
import pytest
from helpers import CONFIGS, NOTEBOOKS, mlwb, sqlite_uri, write_config

pytestmark = pytest.mark.notebook

MODEL = "test-card-german"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The card pipeline run twice in one project (warm kernels, then cold ones), each approved
    version of this high-risk model signed off by hand, then a weaker, unfair, half-documented
    challenger."""
    root = tmp_path_factory.mktemp("card")
    config = CONFIGS / "test_card_german.yaml"
    results, signoffs = [], []
    for force in ((), ("--force",)):  # the second run executes every stage again: a new version
        cold = {"MLWB_WARM_KERNELS": "0" if force else "1"}  # and starts its kernels cold
        results.append(
            mlwb("run", str(config), "--project-dir", str(root), "--no-progress", *force, env=cold)
        )
        reason = f"card {len(results)} reviewed"
        signoffs.append(
            mlwb("promote", MODEL, "candidate", "--reason", reason, "--project-dir", str(root))
        )
    text = config.read_text()
    weak = text.replace(
        "model: xgboost, hyperparameters: {n_estimators: 100, max_depth: 3},",
        "model: linear, hyperparameters: {C: 0.001},",
    ).replace(
        "drop_columns: [sex]", "drop_columns: [sex, checking_account, duration, credit_amount]"
    )
    weak = weak.replace("demographic_parity_ratio: 0.8", "demographic_parity_ratio: 1.01")
    weak = weak.replace("  owner: Test team\n", "") + f"notebooks: {NOTEBOOKS}\n"
    weak_config = write_config(root, "weak.yaml", weak)
    stages = ("--stage", "train", "--stage", "explain", "--stage", "card")
    results.append(
        mlwb("run", str(weak_config), *stages, "--project-dir", str(root), "--no-progress")
    )
    mlflow.set_tracking_uri(sqlite_uri(root))
    yield root, results + signoffs, mlflow.MlflowClient()
    mlflow.set_tracking_uri(None)


def card_runs(client):
    experiment = client.get_experiment_by_name(MODEL)
    return client.search_runs(
        [experiment.experiment_id],
        "tags.`mlwb.stage` = 'card'",
        order_by=["attributes.start_time ASC"],
    )


def test_approved_versions_await_sign_off_and_the_second_is_compared_with_the_first(runs):
    _, results, client = runs
    for result in results[:2] + results[3:]:
        assert result.returncode == 0, result.stderr[-3000:]
    assert (
        f"Decision: '{MODEL}' version 1 awaiting sign-off (alias 'candidate'); champion "
        "unchanged until a reviewer signs it off."
    ) in results[0].stdout
    assert "SIGN-OFF: required for EU AI Act risk category 'high'" in results[0].stdout
    assert f"mlwb promote {MODEL} 1 --reason" in results[0].stdout
    assert "PASS: champion: no champion yet" in results[0].stdout
    assert results[3].stdout.startswith(f"'{MODEL}' version 1 is now the champion, signed off by")
    assert f"Decision: '{MODEL}' version 2 awaiting sign-off" in results[1].stdout
    assert re.search(r"roc_auc 0\.\d+ against 0\.\d+ of champion version 1", results[1].stdout)
    second = card_runs(client)[1]
    card = mlflow.artifacts.load_text(f"runs:/{second.info.run_id}/card/model_card.md")
    assert "## Champion versus challenger" in card
    assert "Challenger version 2 against champion version 1" in card
    version = client.get_model_version(MODEL, "2")
    signed, card_text = version.description.split("\n\n", 1)  # the sign-off on top of the card
    assert signed.startswith("**Sign-off:** Signed off by ")
    assert signed.endswith(": card 2 reviewed")
    assert card_text.startswith(f"# Model card: {MODEL} version 2")
    assert version.tags["mlwb.decision"] == "signed off"
    assert version.tags["mlwb.signoff"] == "signed off"
    assert version.tags["mlwb.signoff_reason"] == "card 2 reviewed"
    assert version.tags["mlwb.signoff_identity"] == "unauthenticated"
    assert version.tags["mlwb.model_card"] == f"runs:/{second.info.run_id}/card/model_card.md"


def test_every_checklist_item_links_to_evidence_that_exists(runs):
    root, _, client = runs
    second = card_runs(client)[1]
    checklist = pd.read_csv(
        mlflow.artifacts.download_artifacts(f"runs:/{second.info.run_id}/card/checklist.csv")
    ).fillna("")
    assert set(checklist["theme"]) == {
        "discrimination",
        "integrity",
        "transparency",
        "privacy",
        "accountability",
    }
    assert set(checklist["status"]) <= {"PASS", "FAIL", "MISSING"}
    assert (checklist["status"] != "MISSING").all()
    report_dir = (root / "reports" / second.data.tags["mlwb.report"]).parent
    for item in checklist.itertuples():
        run_id, path = item.evidence.removeprefix("runs:/").split("/", 1)
        listed = {a.path for a in client.list_artifacts(run_id, os.path.dirname(path))}
        assert path in listed, item.check
        if item.report.endswith(".html"):
            assert (report_dir / item.report).is_file(), item.check
    used = checklist.set_index("check").loc["Sensitive attributes are not used as model features"]
    assert used["status"] == "FAIL" and "age" in used["detail"]


def test_a_worse_unfair_half_documented_challenger_is_rejected(runs):
    _, results, client = runs
    weak = results[2]
    assert weak.returncode == 0, weak.stderr[-3000:]
    assert f"Decision: '{MODEL}' version 3 rejected; champion unchanged." in weak.stdout
    assert "BLOCKS: fairness gates: failing:" in weak.stdout
    assert "1 item(s) MISSING: An owner and a contact are named" in weak.stdout
    assert "BLOCKS: champion: roc_auc" in weak.stdout
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "2"
    assert str(client.get_model_version_by_alias(MODEL, "challenger").version) == "3"
    assert client.get_model_version(MODEL, "3").tags["mlwb.decision"] == "rejected"


def test_index_shows_the_champion_and_links_the_card(runs):
    root, _, _ = runs
    index = (root / "reports" / "index.html").read_text()
    assert "Registered models" in index and MODEL in index
    assert "version 3: rejected" in index
    card_link = re.search(r'<a href="([^"]+04-model-card\.html)">model card</a>', index).group(1)
    assert (root / "reports" / card_link).is_file()
    assert Path(root / "reports" / card_link).read_text().count("Responsible-AI checklist") >= 1


def test_the_card_stage_exports_the_promoted_card_as_pdf_json_and_cyclonedx(runs):
    import hashlib
    import json

    import jsonschema
    from pdf_pages import body_rows_split, elements, page_count, used_pages

    from mlworkbench.governance.card_json import schema

    root, _, client = runs
    second = card_runs(client)[1]  # promoted version 2
    folder = (root / "reports" / second.data.tags["mlwb.report"]).parent
    files = {f: folder / name for f, name in (
        ("pdf", "model_card.pdf"), ("json", "model_card.json"), ("cyclonedx", "model_card.cdx.json")
    )}  # fmt: skip
    logged = {a.path for a in client.list_artifacts(second.info.run_id, "card")}
    assert {f"card/{p.name}" for p in files.values()} <= logged
    tags = client.get_model_version(MODEL, "2").tags
    for fmt, path in files.items():
        assert tags[f"mlwb.card_export.{fmt}"] == hashlib.sha256(path.read_bytes()).hexdigest()
    document = json.loads(files["json"].read_text())
    jsonschema.Draft202012Validator(schema()).validate(document)
    slices = {m["slice"] for m in document["quantitative_analysis"]["performance_metrics"]}
    assert {"overall", "sex = female", "sex = male"} <= slices
    bom = json.loads(files["cyclonedx"].read_text())  # validated as 1.6 when written
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    kinds = [(c["type"], c["name"]) for c in bom["components"]]
    assert ("machine-learning-model", MODEL) in kinds
    assert {n for t, n in kinds if t == "data"} == {f"{MODEL} train rows", f"{MODEL} test rows"}
    pdf = files["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF")
    assert 3 <= page_count(pdf) == len(used_pages(pdf)) <= 8  # the card, no blank page
    tables = [pages for _, pages in elements(pdf, b"Table")]
    assert len(tables) == 4  # metrics, fairness gates, checklist, champion against challenger
    assert sum(len(pages) > 1 for pages in tables) <= 1  # only the long checklist spans pages
    assert body_rows_split(pdf) == 0  # and it is cut between rows only
    rejected = client.get_model_version(MODEL, "3").tags
    assert not any(key.startswith("mlwb.card_export.") for key in rejected)


def test_a_champion_that_cannot_be_read_blocks_the_challenger(runs):
    """Fails closed in real kernels: a champion whose model cannot be loaded blocks the next
    version, the card still renders, and `champion` stays where it was. Last in this module:
    it breaks the champion of the project the tests above read."""
    root, _, client = runs
    artifacts = Path(urlparse(client.get_model_version_download_uri(MODEL, "2")).path)
    artifacts.rename(artifacts.with_name("gone"))  # the champion's model can no longer be loaded
    stages = ("--stage", "train", "--stage", "explain", "--stage", "card", "--force")
    config = CONFIGS / "test_card_german.yaml"
    again = mlwb("run", str(config), *stages, "--project-dir", str(root), "--no-progress")
    assert again.returncode == 0, again.stderr[-3000:]
    blocked = (
        "BLOCKS: champion: cannot be compared with the champion: "
        f"Cannot load model 'models:/{MODEL}/2'"
    )
    assert f"Decision: '{MODEL}' version 4 rejected; champion unchanged." in again.stdout
    assert blocked in again.stdout
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "2"
    version = client.get_model_version(MODEL, "4")
    assert version.tags["mlwb.decision"] == "rejected"
    assert blocked in version.tags["mlwb.decision_reasons"]
    card = mlflow.artifacts.load_text(version.tags["mlwb.model_card"])
    champion_section = card.split("## Champion versus challenger", 1)[1]
    assert blocked in champion_section.split("##", 1)[0]


def visible_text(page: Path) -> tuple[int, str]:
    """A report's images and visible text, with what differs between two runs of the same
    inputs (run ids, dates, version numbers, seconds measured) replaced by placeholders."""
    html = page.read_text(encoding="utf-8")
    images = html.count("data:image/png;base64")
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    for pattern, placeholder in (
        (r"\b[0-9a-f]{32}\b|\b[0-9a-f]{8}\b", "ID"),
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?(\.\d+)?", "DATE"),
        (r"\d{8}-\d{6}", "STAMP"),
        (r"[Vv]ersion \d+", "version N"),
        (r"found in [\d.]+ seconds", "found in S seconds"),
    ):
        text = re.sub(pattern, placeholder, text)
    return images, " ".join(text.split())


def test_warm_and_cold_kernels_give_the_same_reports_and_metrics(runs):
    root, _, client = runs
    experiment = client.get_experiment_by_name(MODEL)
    for stage in ("eda", "train", "explain"):
        warm, cold = client.search_runs(
            [experiment.experiment_id],
            f"tags.`mlwb.stage` = '{stage}'",
            order_by=["attributes.start_time ASC"],
        )[:2]
        assert warm.data.metrics == cold.data.metrics, stage
        pages = [root / "reports" / r.data.tags["mlwb.report"] for r in (warm, cold)]
        assert visible_text(pages[0]) == visible_text(pages[1]), stage
        assert visible_text(pages[0])[0] > 0 and len(visible_text(pages[0])[1]) > 2000
