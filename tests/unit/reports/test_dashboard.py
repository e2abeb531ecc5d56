"""The monitoring dashboard rebuilt from a real SQLite store: each registered model with its
champion (and its sign-off, and a candidate awaiting one), last scoring, latest monitoring
status (from the monitor runs the version's tags point to), most drifted features, trend chart
and reports, those needing attention first."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pytest

from mlworkbench.governance import promotion
from mlworkbench.reports import dashboard
from mlworkbench.tracking.tags import (
    TAG_BATCH_DATE,
    TAG_MONITOR_BATCH_DATE,
    TAG_MONITOR_RUN,
    TAG_MONITOR_STATUS,
    TAG_REPORT,
    TAG_SIGNOFF,
    TAG_SIGNOFF_AT,
    TAG_SIGNOFF_BY,
    TAG_SIGNOFF_IDENTITY,
    TAG_SIGNOFF_REASON,
    TAG_STAGE,
)

T0 = int(datetime(2026, 3, 1, 9, 30, tzinfo=UTC).timestamp() * 1000)
HOUR = 3_600_000


@pytest.fixture
def client(empty_store, tmp_path):
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    return mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")


@pytest.fixture
def reports_dir(tmp_path) -> Path:
    folder = tmp_path / "reports"
    (folder / "monitoring-alpha").mkdir(parents=True)
    for day in ("2026-03-01", "2026-03-02"):
        (folder / "monitoring-alpha" / f"{day}.html").write_text("<html></html>")
    return folder


def experiment(client, name: str, tmp_path: Path) -> str:
    return client.create_experiment(name, artifact_location=(tmp_path / name).as_uri())


def finished(client, experiment_id, start, tags, metrics=None, status="FINISHED") -> str:
    run = client.create_run(experiment_id, start_time=start, tags=tags)
    for key, value in (metrics or {}).items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id, status, end_time=start + 1000)
    return run.info.run_id


def registered(client, name: str, train_id: str, tmp_path: Path) -> None:
    client.create_registered_model(name)
    client.create_model_version(name, (tmp_path / name).as_uri(), run_id=train_id)
    client.set_registered_model_alias(name, "champion", "1")


def monitor(client, model, experiment_id, start, status, date, metrics, report=""):
    """A monitor run as `mlwb monitor` records it, and its status on the model version."""
    tags = {TAG_STAGE: "monitor", TAG_MONITOR_STATUS: status, TAG_BATCH_DATE: date}
    if report:
        tags[TAG_REPORT] = report
    run_id = finished(client, experiment_id, start, tags, metrics)
    for key, value in ((TAG_MONITOR_STATUS, status), (TAG_MONITOR_BATCH_DATE, date)):
        client.set_model_version_tag(model, "1", key, value)
    client.set_model_version_tag(model, "1", TAG_MONITOR_RUN, run_id)
    return run_id


@pytest.fixture(scope="module")
def monitored(empty_store, tmp_path_factory):
    """A store, filled once for the tests that only read it: alpha: champion, scored,
    monitored twice (OK, then ALERT); beta: monitored once, WARN known only from its
    `status_level` metric; gamma: registered, never monitored."""
    tmp_path = tmp_path_factory.mktemp("dashboard")
    shutil.copy(empty_store, tmp_path / "mlflow.db")
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    training = experiment(client, "credit", tmp_path)
    train_id = finished(client, training, T0 - 24 * HOUR, {TAG_STAGE: "train"})
    for name in ("gamma", "beta", "alpha"):
        registered(client, name, train_id, tmp_path)

    scoring = experiment(client, "scoring-alpha", tmp_path)
    finished(client, scoring, T0, {TAG_STAGE: "score"}, {"rows": 900})
    finished(client, scoring, T0 + HOUR, {TAG_STAGE: "score"}, {"rows": 1234})
    finished(client, scoring, T0 + 2 * HOUR, {TAG_STAGE: "score"}, {"rows": 5}, status="FAILED")

    watching = experiment(client, "monitoring-alpha", tmp_path)
    monitor(
        client, "alpha", watching, T0, "OK", "2026-03-01",
        {"max_psi": 0.05, "psi.age": 0.05, "batch_roc_auc": 0.8},
        "monitoring-alpha/2026-03-01.html",
    )  # fmt: skip
    monitor(
        client, "alpha", watching, T0 + HOUR, "ALERT", "2026-03-02",
        {"max_psi": 0.4, "psi.age": 0.4, "psi.amount": 0.3, "psi.job": 0.12, "psi.sex": 0.01,
         "batch_roc_auc": 0.7},
        "monitoring-alpha/2026-03-02.html",
    )  # fmt: skip
    beta = experiment(client, "monitoring-beta", tmp_path)
    run_id = finished(
        client, beta, T0, {TAG_STAGE: "monitor", TAG_BATCH_DATE: "2026-02-20"},
        {"status_level": 1, "max_psi": 0.15, "psi.income": 0.15},
    )  # fmt: skip
    client.set_model_version_tag("beta", "1", TAG_MONITOR_STATUS, "WARN")
    client.set_model_version_tag("beta", "1", TAG_MONITOR_RUN, run_id)
    return client


def test_models_needing_attention_come_first(monitored, reports_dir):
    models = dashboard.collect(monitored, reports_dir)
    assert [(m.name, m.status) for m in models] == [
        ("alpha", "ALERT"),
        ("beta", "WARN"),
        ("gamma", ""),
    ]


def test_a_model_shows_its_champion_last_scoring_and_latest_monitoring(monitored, reports_dir):
    alpha = dashboard.collect(monitored, reports_dir)[0]
    assert alpha.champion == "1"
    assert alpha.trained == "2026-02-28 09:30"
    assert (alpha.last_scored, alpha.scored_rows) == ("2026-03-01 10:30", 1234)
    assert (alpha.status, alpha.batch_date) == ("ALERT", "2026-03-02")
    assert alpha.drifted == ["age (0.40)", "amount (0.30)", "job (0.12)"]
    assert alpha.chart.startswith("data:image/png;base64,")
    assert alpha.reports == [
        ("monitoring-alpha/2026-03-02.html", "2026-03-02", "ALERT"),
        ("monitoring-alpha/2026-03-01.html", "2026-03-01", "OK"),
    ]


def test_a_status_logged_only_as_a_level_is_read_in_words(monitored, reports_dir):
    beta = dashboard.collect(monitored, reports_dir)[1]
    assert (beta.status, beta.batch_date, beta.drifted) == ("WARN", "2026-02-20", ["income (0.15)"])
    assert beta.reports == [] and beta.scored_rows == 0 and beta.last_scored == ""


def test_the_monitoring_page_lists_every_model_with_its_status(monitored, reports_dir):
    page = dashboard.rebuild(monitored, reports_dir)
    assert page == reports_dir / dashboard.DASHBOARD_FILE
    text = page.read_text(encoding="utf-8")
    rows = re.findall(r"<tr>\s*<td><strong>(.*?)</strong></td>(.*?)</tr>", text, re.S)
    assert [name for name, _ in rows] == ["alpha", "beta", "gamma"]
    alpha, beta, gamma = (row for _, row in rows)
    assert '<span class="badge ALERT">ALERT</span><br><span class="muted">batch 2026-03-02' in alpha
    assert (
        'version 1<br><span class="muted">trained 2026-02-28 09:30</span><br>'
        '<span class="muted">no sign-off recorded</span></td>'
    ) in alpha
    assert "candidate" not in alpha
    assert "1,234 rows" in alpha
    assert "age (0.40), amount (0.30), job (0.12)" in alpha
    assert '<img src="data:image/png;base64,' in alpha
    assert (
        '<a href="monitoring-alpha/2026-03-02.html">2026-03-02</a> <span class="badge ALERT">'
        in alpha
    )
    assert '<span class="badge WARN">WARN</span>' in beta
    assert "not monitored yet" in gamma and "never" in gamma
    assert "mlflow.db (SQLite)" in text


def test_the_model_version_carries_the_status_the_page_shows(monitored, reports_dir):
    version = monitored.get_model_version("alpha", "1")
    text = dashboard.rebuild(monitored, reports_dir).read_text(encoding="utf-8")
    status = version.tags[TAG_MONITOR_STATUS]
    assert status == "ALERT"
    assert (
        f'<span class="badge {status}">{status}</span><br><span class="muted">batch '
        f"{version.tags[TAG_MONITOR_BATCH_DATE]}" in text
    )
    assert monitored.get_run(version.tags[TAG_MONITOR_RUN]).data.tags[TAG_MONITOR_STATUS] == status


def test_a_report_not_on_this_disk_is_not_linked(monitored, reports_dir):
    (reports_dir / "monitoring-alpha" / "2026-03-01.html").unlink()
    alpha = dashboard.collect(monitored, reports_dir)[0]
    assert [date for _, date, _ in alpha.reports] == ["2026-03-02"]


def test_an_empty_registry_says_so(client, tmp_path):
    text = dashboard.rebuild(client, tmp_path / "reports").read_text(encoding="utf-8")
    assert "No registered models yet" in text


@pytest.mark.parametrize(
    ("tags", "metrics", "status"),
    [
        ({TAG_MONITOR_STATUS: "WARN"}, {"status_level": 2.0}, "WARN"),
        ({}, {"status_level": 0.0}, "OK"),
        ({}, {"status_level": 2.0}, "ALERT"),
        ({}, {}, ""),
    ],
)
def test_run_status_prefers_the_tag_then_the_level(client, tmp_path, tags, metrics, status):
    experiment_id = experiment(client, "m", tmp_path)
    run_id = finished(client, experiment_id, T0, tags, metrics)
    assert dashboard.run_status(client.get_run(run_id)) == status


def test_a_champion_registered_without_a_run_is_listed_without_a_trained_date(client, tmp_path):
    client.create_registered_model("by-hand")
    client.create_model_version("by-hand", (tmp_path / "model").as_uri())
    client.set_registered_model_alias("by-hand", "champion", "1")
    (model,) = dashboard.collect(client, tmp_path / "reports")
    assert (model.name, model.champion, model.trained) == ("by-hand", "1", "")


@pytest.fixture
def signed(client, tmp_path):
    """credit: champion version 1 signed off by an OS user, version 2 awaiting sign-off
    (alias `candidate`); new: only a candidate, no champion yet."""
    train_id = finished(client, experiment(client, "credit", tmp_path), T0, {TAG_STAGE: "train"})
    registered(client, "credit", train_id, tmp_path)
    for key, value in (
        (TAG_SIGNOFF_BY, "bo"),
        (TAG_SIGNOFF_IDENTITY, "unauthenticated"),
        (TAG_SIGNOFF_AT, "2026-03-02 08:00 UTC"),
        (TAG_SIGNOFF_REASON, "reviewed <all> gates"),
        (TAG_SIGNOFF, "signed off"),
    ):
        client.set_model_version_tag("credit", "1", key, value)
    client.create_model_version("credit", (tmp_path / "credit").as_uri(), run_id=train_id)
    promotion.await_signoff(client, "credit", "2")
    client.create_registered_model("new")
    client.create_model_version("new", (tmp_path / "new").as_uri())
    promotion.await_signoff(client, "new", "1")
    return client


def test_a_champion_shows_its_signoff_and_a_candidate_awaits_one(signed, tmp_path):
    credit, new = dashboard.collect(signed, tmp_path / "reports")
    assert (credit.name, credit.champion, credit.candidate) == ("credit", "1", "2")
    assert credit.signoff == (
        "signed off by bo (unauthenticated OS user) on 2026-03-02 08:00 UTC: reviewed <all> gates"
    )
    assert (new.name, new.champion, new.signoff, new.candidate) == ("new", "", "", "1")


def test_the_champion_cell_shows_the_signoff_and_the_candidate_with_the_command(signed, tmp_path):
    text = dashboard.rebuild(signed, tmp_path / "reports").read_text(encoding="utf-8")
    cells = dict(
        re.findall(r"<td><strong>(.*?)</strong></td>\s*<td>.*?</td>\s*<td>(.*?)</td>", text)
    )
    assert cells["credit"] == (
        'version 1<br><span class="muted">trained 2026-03-01 09:30</span><br>'
        '<span class="muted">signed off by bo (unauthenticated OS user) on 2026-03-02 08:00 UTC: '
        "reviewed &lt;all&gt; gates</span><br>"
        '<span class="badge WARN">candidate</span> version 2 awaiting sign-off: '
        "<code>mlwb promote credit 2 --reason &#39;...&#39;</code>"
    )
    assert cells["new"] == (
        '<span class="muted">none</span><br><span class="badge WARN">candidate</span> version 1 '
        "awaiting sign-off: <code>mlwb promote new 1 --reason &#39;...&#39;</code>"
    )


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("credit", "mlwb promote credit 3 --reason '...'"),
        ("credit risk", "mlwb promote 'credit risk' 3 --reason '...'"),
    ],
)
def test_the_promote_command_quotes_the_model_name_for_the_shell(name, command):
    assert dashboard.promote_command(name, "3") == command
