"""The report index rebuilt from a real SQLite store: pipeline runs with their stages,
statuses, reports and key figures, stage notebooks run on their own (interactive runs), the
registered models with champion (and its sign-off), candidate awaiting sign-off and last
decision, and every string from the store escaped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import pytest

from mlworkbench.governance import promotion
from mlworkbench.reports.index import (
    INDEX_FILE,
    collect_models,
    collect_runs,
    rebuild_index,
    render_index,
)
from mlworkbench.tracking.tags import (
    TAG_ATTEMPTS,
    TAG_CARD_RUN,
    TAG_CONFIG,
    TAG_INTERACTIVE,
    TAG_KEY_FIGURES,
    TAG_LAST_AT,
    TAG_LAST_DECISION,
    TAG_LAST_VERSION,
    TAG_NOTEBOOK,
    TAG_PIPELINE,
    TAG_REPORT,
    TAG_RETRY_OF,
    TAG_REUSED_FROM,
    TAG_SIGNOFF,
    TAG_SIGNOFF_AT,
    TAG_SIGNOFF_BY,
    TAG_SIGNOFF_IDENTITY,
    TAG_SIGNOFF_REASON,
    TAG_STAGE,
)

EXPERIMENT = "<b>credit</b>"
MODEL = "credit-risk"


@pytest.fixture
def client(empty_store, tmp_path):
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    return mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def reports_dir(tmp_path) -> Path:
    folder = tmp_path / "reports"
    (folder / "credit" / "run1").mkdir(parents=True)
    for page in ("01-eda.html", "04-model-card.html"):
        (folder / "credit" / "run1" / page).write_text("<html></html>", encoding="utf-8")
    return folder


def stage_run(client, experiment_id, parent_id, name, notebook, status, tags=None, metrics=None):
    run = client.create_run(
        experiment_id,
        run_name=name,
        tags={
            TAG_PIPELINE: "stage",
            "mlflow.parentRunId": parent_id,
            TAG_STAGE: name,
            TAG_NOTEBOOK: notebook,
            **(tags or {}),
        },
    )
    for key, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id, status)
    return run.info.run_id


@pytest.fixture
def store(client, tmp_path):
    """A pipeline run (eda, a failed train, a card) and an older one, a run that is no
    pipeline run, and a registered model with champion, challenger and last decision."""
    experiment_id = client.create_experiment(
        EXPERIMENT, artifact_location=(tmp_path / "artifacts").as_uri()
    )
    older = client.create_run(experiment_id, run_name="older", tags={TAG_PIPELINE: "true"})
    client.set_terminated(older.info.run_id, "KILLED")
    client.create_run(experiment_id, run_name="notebook on its own")  # not listed

    parent = client.create_run(
        experiment_id,
        run_name="pipeline <run>",
        start_time=older.info.start_time + 60_000,
        tags={TAG_PIPELINE: "true", TAG_CONFIG: "papermill_configs/<credit>.yaml"},
    )
    parent_id = parent.info.run_id
    ids = {"parent": parent_id, "older": older.info.run_id}
    ids["card"] = stage_run(
        client, experiment_id, parent_id, "card", "04-model-card.ipynb", "FINISHED",
        {TAG_REPORT: "credit/run1/04-model-card.html", TAG_KEY_FIGURES: "promoted,checklist_fail"},
        {"promoted": 1, "checklist_fail": 0},
    )  # fmt: skip
    ids["eda"] = stage_run(
        client, experiment_id, parent_id, "eda", "01-eda.ipynb", "FINISHED",
        {TAG_REPORT: "credit/run1/01-eda.html", TAG_KEY_FIGURES: "rows,missing_share"},
        {"rows": 48842, "missing_share": 0.025, "not_a_key_figure": 3},
    )  # fmt: skip
    ids["train"] = stage_run(
        client, experiment_id, parent_id, "train", "02-train.ipynb", "FAILED",
        {TAG_REPORT: "credit/run1/02-train.html", TAG_KEY_FIGURES: "roc_auc"},
        {"roc_auc": 0.8123},
    )  # fmt: skip
    client.set_terminated(parent_id, "FAILED", end_time=parent.info.start_time + 95_000)

    client.create_registered_model(MODEL)
    for _ in range(2):
        client.create_model_version(MODEL, (tmp_path / "model").as_uri(), run_id=ids["train"])
    client.set_registered_model_alias(MODEL, "champion", "1")
    client.set_registered_model_alias(MODEL, "challenger", "2")
    client.set_registered_model_tag(MODEL, TAG_LAST_VERSION, "1")
    client.set_registered_model_tag(MODEL, TAG_LAST_DECISION, "promoted <now>")
    client.set_registered_model_tag(MODEL, TAG_LAST_AT, "2026-01-02 10:00 UTC")
    client.set_model_version_tag(MODEL, "1", TAG_CARD_RUN, ids["card"])
    return ids


def test_collect_runs_lists_pipeline_runs_newest_first_with_stages_in_notebook_order(
    client, store, reports_dir
):
    entries = collect_runs(client, reports_dir)
    assert [e.run_id for e in entries] == [store["parent"], store["older"]]
    newest, older = entries
    assert newest.experiment == EXPERIMENT
    assert (newest.run_name, newest.status) == ("pipeline <run>", "FAILED")
    assert newest.duration_s == 95.0
    assert newest.config_file == "papermill_configs/<credit>.yaml"
    assert [(s.name, s.status) for s in newest.stages] == [
        ("eda", "FINISHED"),
        ("train", "FAILED"),
        ("card", "FINISHED"),
    ]
    eda, train, card = newest.stages
    assert eda.key_figures == {"rows": 48842, "missing_share": 0.025}
    assert (eda.report, eda.report_exists) == ("credit/run1/01-eda.html", True)
    assert (train.report_exists, train.key_figures) == (False, {"roc_auc": 0.8123})
    assert card.key_figures == {"promoted": 1, "checklist_fail": 0}
    assert older.stages == [] and older.status == "KILLED"


def test_a_reused_stage_shows_the_figures_of_the_run_it_reused_and_a_retry_only_once(
    client, store, reports_dir
):
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    parent = client.create_run(experiment_id, tags={TAG_PIPELINE: "true"}).info.run_id
    stage_run(
        client, experiment_id, parent, "eda", "01-eda.ipynb", "FINISHED",
        {TAG_REUSED_FROM: store["eda"], TAG_KEY_FIGURES: "rows"},
    )  # fmt: skip
    first = stage_run(client, experiment_id, parent, "train", "02-train.ipynb", "FAILED")
    retry = stage_run(
        client, experiment_id, parent, "train", "02-train.ipynb", "FINISHED",
        {TAG_RETRY_OF: first},
    )  # fmt: skip
    attempts = json.dumps([["worker-1", first], ["worker-2", retry]])
    for run_id in (first, retry):
        client.set_tag(run_id, TAG_ATTEMPTS, attempts)
    (entry,) = [e for e in collect_runs(client, reports_dir) if e.run_id == parent]
    assert [(s.name, s.status, s.reused, s.retried) for s in entry.stages] == [
        ("eda", "FINISHED", True, False),
        ("train", "FINISHED", False, True),
    ]
    assert entry.stages[0].key_figures == {"rows": 48842}


def test_collect_models_names_champion_challenger_decision_and_card(client, store, reports_dir):
    (model,) = collect_models(client, reports_dir)
    assert (model.name, model.champion, model.challenger) == (MODEL, "1", "2")
    assert model.last_decision == "version 1: promoted <now>"
    assert model.decided_at == "2026-01-02 10:00 UTC"
    assert model.card == "credit/run1/04-model-card.html"
    (reports_dir / "credit" / "run1" / "04-model-card.html").unlink()
    assert collect_models(client, reports_dir)[0].card == "", "no link to a page not on disk"


def test_the_index_page_lists_runs_stages_figures_and_models_escaped(client, store, reports_dir):
    index = rebuild_index(client, reports_dir)
    assert index == reports_dir / INDEX_FILE
    page = index.read_text(encoding="utf-8")

    assert "<b>credit</b>" not in page and "&lt;b&gt;credit&lt;/b&gt;" in page
    assert "papermill_configs/&lt;credit&gt;.yaml" in page
    assert "<now>" not in page and "version 1: promoted &lt;now&gt;" in page
    assert f"<code>{store['parent'][:8]}</code>" in page
    assert f"<code>{store['older'][:8]}</code>" in page
    assert page.index(store["parent"][:8]) < page.index(store["older"][:8]), "newest first"
    assert "95 s" in page
    assert '<span class="badge FAILED">FAILED</span>' in page
    assert '<span class="badge KILLED">KILLED</span>' in page
    assert '<a href="credit/run1/01-eda.html">eda</a>' in page
    assert 'train <span class="muted">(report not on this disk)</span>' in page
    assert "rows: 48,842 · missing cells: 2.5%" in page
    assert "roc_auc: 0.812" in page
    assert "promoted: yes · FAIL: 0" in page
    assert "not_a_key_figure" not in page
    assert "no stage started" in page  # the older run
    assert "notebook on its own" not in page
    assert "mlflow.db (SQLite)" in page and str(reports_dir.parent) not in page

    assert "<h2>Registered models</h2>" in page
    model_row = page[page.index(f"<td>{MODEL}</td>") :].split("</tr>")[0]
    assert '<td>version 1<br><span class="muted">no sign-off recorded</span></td>' in model_row
    assert "<td>version 2</td>" in model_row
    assert model_row.count('<td><span class="muted">-</span></td>') == 1, "no candidate"
    assert '<a href="credit/run1/04-model-card.html">model card</a>' in model_row
    assert (reports_dir / "monitoring.html").is_file(), "the dashboard is rebuilt beside it"


@pytest.fixture
def signed(client, store, tmp_path):
    """Beside `store`: champion version 1 signed off by a reviewer, and version 3 approved by
    the card stage and left awaiting sign-off (alias `candidate`)."""
    for key, value in (
        (TAG_SIGNOFF_BY, "ana"),
        (TAG_SIGNOFF_IDENTITY, "authenticated"),
        (TAG_SIGNOFF_AT, "2026-11-30 10:12 UTC"),
        (TAG_SIGNOFF_REASON, "fair & <checked>"),
        (TAG_SIGNOFF, "signed off"),
    ):
        client.set_model_version_tag(MODEL, "1", key, value)
    client.create_model_version(MODEL, (tmp_path / "model").as_uri(), run_id=store["train"])
    promotion.await_signoff(client, MODEL, "3")


def test_collect_models_names_the_champions_signoff_and_the_candidate(
    client, store, signed, reports_dir
):
    (model,) = collect_models(client, reports_dir)
    assert (model.champion, model.challenger, model.candidate) == ("1", "2", "3")
    assert model.signoff == (
        "signed off by ana (authenticated) on 2026-11-30 10:12 UTC: fair & <checked>"
    )


def test_collect_models_without_signoff_or_candidate_leaves_both_empty(client, store, reports_dir):
    (model,) = collect_models(client, reports_dir)
    assert (model.champion, model.signoff, model.candidate) == ("1", "", "")


def test_a_model_awaiting_its_first_signoff_has_a_candidate_and_no_champion(
    client, tmp_path, reports_dir
):
    client.create_registered_model("high risk")
    client.create_model_version("high risk", (tmp_path / "model").as_uri())
    promotion.await_signoff(client, "high risk", "1")
    (model,) = collect_models(client, reports_dir)
    assert (model.champion, model.signoff, model.candidate) == ("", "", "1")
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    row = page[page.index("<td>high risk</td>") :].split("</tr>")[0]
    assert '<td><span class="muted">none yet</span></td>' in row
    assert "<code>mlwb promote &#39;high risk&#39; 1 --reason &#39;...&#39;</code>" in row


def test_the_index_page_shows_the_champions_signoff_and_the_candidate_with_the_command(
    client, store, signed, reports_dir
):
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    assert "<th>Champion and its sign-off</th>" in page and "<th>Awaiting sign-off</th>" in page
    row = page[page.index(f"<td>{MODEL}</td>") :].split("</tr>")[0]
    assert (
        '<td>version 1<br><span class="muted">signed off by ana (authenticated) on '
        "2026-11-30 10:12 UTC: fair &amp; &lt;checked&gt;</span></td>"
    ) in row
    assert (
        '<td><span class="badge WARN">candidate</span> version 3 awaiting sign-off<br>'
        '<span class="muted">a reviewer signs it off: '
        "<code>mlwb promote credit-risk 3 --reason &#39;...&#39;</code></span></td>"
    ) in row
    assert "<checked>" not in page


def test_a_card_runs_awaiting_signoff_figure_reads_yes_or_no(client, store, reports_dir):
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    parent = client.create_run(experiment_id, tags={TAG_PIPELINE: "true"}).info.run_id
    stage_run(
        client, experiment_id, parent, "card", "04-model-card.ipynb", "FINISHED",
        {TAG_KEY_FIGURES: "promoted,awaiting_signoff"}, {"promoted": 0, "awaiting_signoff": 1},
    )  # fmt: skip
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    assert "promoted: no · awaiting sign-off: yes" in run_row(page, parent)


def test_a_monitoring_status_level_is_shown_as_a_word_badge(client, store, reports_dir):
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    parent = client.create_run(experiment_id, tags={TAG_PIPELINE: "true"}).info.run_id
    stage_run(
        client, experiment_id, parent, "monitor", "06-monitor.ipynb", "FINISHED",
        {TAG_KEY_FIGURES: "status_level,max_psi"}, {"status_level": 2, "max_psi": 0.31},
    )  # fmt: skip
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    assert 'monitoring status: <span class="badge ALERT">ALERT</span> · largest PSI: 0.31' in page


def test_compare_pages_on_disk_are_linked_per_experiment(client, store, reports_dir):
    (reports_dir / "b-credit--b").mkdir()
    (reports_dir / "b-credit--b" / "compare.html").write_text("<html></html>", encoding="utf-8")
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    assert '<a href="b-credit--b/compare.html">compare training runs</a>' in page


def test_an_empty_store_gives_an_index_without_runs_or_models(client, tmp_path):
    page = rebuild_index(client, tmp_path / "reports").read_text(encoding="utf-8")
    assert "No pipeline runs yet" in page
    assert "Registered models" not in page
    assert collect_runs(client, tmp_path) == [] and collect_models(client, tmp_path) == []


def test_render_index_writes_the_page_where_asked(tmp_path):
    output = tmp_path / "deep" / "folder" / INDEX_FILE
    assert render_index([], "store <x>", output) == output
    page = output.read_text(encoding="utf-8")
    assert "store &lt;x&gt;" in page and "No pipeline runs yet" in page
    assert not list(output.parent.glob(".*.partial")), "no temporary file left behind"


@pytest.fixture
def interactive(client, store, reports_dir):
    """Beside the pipeline runs of `store`: an interactive eda run, exported, started between
    the two pipeline runs, and a newer interactive run still open, not exported, without a
    stage tag."""
    experiment_id = client.get_experiment_by_name(EXPERIMENT).experiment_id
    older_start = client.get_run(store["older"]).info.start_time
    exported = client.create_run(
        experiment_id,
        run_name="eda",
        start_time=older_start + 30_000,
        tags={
            TAG_INTERACTIVE: "true",
            TAG_STAGE: "eda <own>",
            TAG_NOTEBOOK: "01-eda.ipynb",
            TAG_CONFIG: "",
            TAG_KEY_FIGURES: "rows",
        },
    ).info.run_id
    client.log_metric(exported, "rows", 1000)
    client.log_metric(exported, "not_a_key_figure", 7)
    report = f"interactive/{exported[:8]}/01-eda.html"
    (reports_dir / report).parent.mkdir(parents=True)
    (reports_dir / report).write_text("<html></html>", encoding="utf-8")
    client.set_tag(exported, TAG_REPORT, report)
    client.set_terminated(exported, "FINISHED", end_time=older_start + 42_000)
    unexported = client.create_run(
        experiment_id,
        run_name="train <x>",
        start_time=older_start + 120_000,
        tags={TAG_INTERACTIVE: "true", TAG_NOTEBOOK: "exploratory/02-train.ipynb"},
    ).info.run_id
    return {"exported": exported, "unexported": unexported, "report": report}


def test_interactive_runs_are_listed_newest_first_with_pipeline_runs_as_one_stage(
    client, store, interactive, reports_dir
):
    entries = collect_runs(client, reports_dir)
    assert [(e.run_id, e.interactive) for e in entries] == [
        (interactive["unexported"], True),
        (store["parent"], False),
        (interactive["exported"], True),
        (store["older"], False),
    ]
    unexported, parent, exported, older = entries
    assert [s.name for s in parent.stages] == ["eda", "train", "card"], "pipeline runs as before"
    assert parent.config_file == "papermill_configs/<credit>.yaml" and older.stages == []

    assert (exported.experiment, exported.status, exported.duration_s) == (
        EXPERIMENT,
        "FINISHED",
        12.0,
    )
    (stage,) = exported.stages
    assert (stage.name, stage.status) == ("eda <own>", "FINISHED"), "named by its stage tag"
    assert (stage.report, stage.report_exists) == (interactive["report"], True)
    assert stage.key_figures == {"rows": 1000}
    assert not stage.reused and not stage.retried

    (stage,) = unexported.stages
    assert (stage.name, stage.status) == ("train <x>", "RUNNING"), "no stage tag: the run name"
    assert (stage.report, stage.report_exists, stage.key_figures) == (None, False, {})
    assert unexported.duration_s is None


def run_row(page: str, run_id: str) -> str:
    """The table row of the run `run_id` in the index page."""
    start = page.rindex("<tr>", 0, page.index(f"<code>{run_id[:8]}</code>"))
    return page[start : page.index("</tr>", start)]


def test_the_index_page_marks_interactive_runs_links_their_report_and_hints_at_export(
    client, store, interactive, reports_dir
):
    page = rebuild_index(client, reports_dir).read_text(encoding="utf-8")
    badge = (
        '<span class="badge interactive">interactive</span> '
        '<span class="muted">notebook run outside mlwb run</span>'
    )

    exported = run_row(page, interactive["exported"])
    assert badge in exported
    assert f'<a href="{interactive["report"]}">eda &lt;own&gt;</a>' in exported
    assert "rows: 1,000" in exported and "not_a_key_figure" not in exported
    assert '<span class="badge FINISHED">FINISHED</span>' in exported
    assert "not exported" not in exported

    unexported = run_row(page, interactive["unexported"])
    assert badge in unexported
    assert (
        'train &lt;x&gt; <span class="muted">(report not exported: '
        "<code>mlwb export NOTEBOOK</code>)</span>"
    ) in unexported
    assert '<span class="muted">running</span>' in unexported

    assert "<own>" not in page and "<x>" not in page, "names from the store are escaped"
    pipeline = run_row(page, store["parent"])
    assert badge not in pipeline and "papermill_configs/&lt;credit&gt;.yaml" in pipeline
    assert 'train <span class="muted">(report not on this disk)</span>' in pipeline
    ids = [interactive["unexported"], store["parent"], interactive["exported"], store["older"]]
    positions = [page.index(f"<code>{run_id[:8]}</code>") for run_id in ids]
    assert positions == sorted(positions), "newest first, interactive and pipeline runs mixed"


def test_an_interactive_report_exported_elsewhere_is_not_linked(
    client, store, interactive, reports_dir
):
    (reports_dir / interactive["report"]).unlink()
    (entry,) = [e for e in collect_runs(client, reports_dir) if e.run_id == interactive["exported"]]
    assert (entry.stages[0].report, entry.stages[0].report_exists) == (interactive["report"], False)
    row = run_row(rebuild_index(client, reports_dir).read_text(encoding="utf-8"), entry.run_id)
    assert 'eda &lt;own&gt; <span class="muted">(report not on this disk)</span>' in row
