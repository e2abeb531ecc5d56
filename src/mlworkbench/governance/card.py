"""The model card: evidence gathered from the pipeline's runs in MLflow, the Responsible-AI
checklist, the comparison with the current champion and the promotion decision, as sections
that render to the HTML report and to Markdown alike."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlworkbench.analysis import evaluation, leakage
from mlworkbench.analysis.explain import explanation, fairness, shapley
from mlworkbench.analysis.profiling import source_label
from mlworkbench.exceptions import ExplainInputError
from mlworkbench.governance import checklist, privacy, promotion
from mlworkbench.governance.checklist import Evidence, Item, run_item
from mlworkbench.governance.readiness import readiness
from mlworkbench.reports.card_page import Section
from mlworkbench.tracking import store as tr
from mlworkbench.tracking.tags import (
    TAG_CONFIG,
    TAG_FAIRNESS,
    TAG_GIT,
    TAG_PACKAGES,
    TAG_PRIMARY_METRIC,
    TAG_REPORT,
)

STAGES = ("eda", "train", "explain")


@dataclass(frozen=True)
class CardSettings:
    """The card stage's parameters (see notebooks/04-model-card.ipynb)."""

    quality_thresholds: dict[str, float] = field(default_factory=dict)
    missing_blocks: bool = True
    champion_margin: float = 0.0
    comparison_rows: int = 500
    seed: int = 42
    production_thresholds: dict[str, float] = field(default_factory=lambda: {"p95_ms": 50.0})


def stage_runs(client: Any, experiment: str, run_ids: dict[str, str]) -> dict[str, Any]:
    """The eda, train and explain runs the card describes: those of this pipeline run when
    given, else the newest finished ones in the experiment, the explain run being one that
    explained this training run (None where there is none)."""
    runs = {s: client.get_run(run_ids[s]) if run_ids.get(s) else None for s in STAGES}
    if runs["train"] is None:
        train_id = tr.latest_stage_run(client, experiment, "train")
        if not train_id:
            raise ExplainInputError(
                f"Experiment '{experiment}' has no finished training run to describe: run the "
                "train stage first."
            )
        runs["train"] = client.get_run(train_id)
    if runs["eda"] is None:
        eda_id = tr.latest_stage_run(client, experiment, "eda")
        runs["eda"] = client.get_run(eda_id) if eda_id else None
    if runs["explain"] is None:
        explain_id = tr.latest_stage_run(
            client, experiment, "explain", f"tags.`mlwb.train_run` = '{runs['train'].info.run_id}'"
        )
        runs["explain"] = client.get_run(explain_id) if explain_id else None
    return runs


def model_version(client: Any, train_run: Any) -> Any:
    """The registered model version the training run created."""
    (version,) = client.search_model_versions(f"run_id = '{train_run.info.run_id}'")
    return version


def evidence(run: Any, path: str, report_dir: Path) -> Evidence | None:
    """An artifact of `run` as evidence, with a link to the run's report relative to the
    card's own report folder; None when there is no run."""
    if run is None:
        return None
    report = run.data.tags.get(TAG_REPORT, "")
    href = os.path.relpath(report_dir.parents[1] / report, report_dir) if report else ""
    return Evidence(f"runs:/{run.info.run_id}/{path}", Path(href).as_posix() if href else "")


def report_artifact(run: Any) -> str:
    """The path of a run's HTML report among its artifacts."""
    return f"report/{Path(run.data.tags.get(TAG_REPORT, 'report.html')).name}"


def eda_findings(client: Any, run: Any) -> list[str]:
    """The data-quality findings the EDA run logged (older runs logged only their count)."""
    logged = tr.artifact_dict(run.info.run_id, "eda/findings.json")
    if logged is not None:
        return logged["findings"]
    count = int(run.data.metrics.get("quality_findings", 0))
    return [f"{count} finding(s); see the EDA report"] if count else []


def leakage_item(train: Any, eda: Any, features: list[str], report_dir: Path) -> Item:
    """No suspected leakage: no feature predicts the target alone, the test result is
    plausible, and no column the EDA called a probable leak is a feature."""
    record = tr.artifact_dict(train.info.run_id, "leakage/check.json")
    logged = tr.artifact_dict(eda.info.run_id, "eda/findings.json") if eda else None
    eda_leaks = [c for c in (logged or {}).get("probable_leaks", []) if c in features]
    if record is None:
        return run_item("no_leakage", "integrity", "No suspected leakage", "MISSING",
                        "the training run logged no leakage check", None)  # fmt: skip
    detail = leakage.summary(record)
    if eda_leaks:
        detail += f"; probable leaks in the EDA used as features: {', '.join(eda_leaks)}"
    failed = bool(record["suspects"] or record["too_good"] or eda_leaks)
    return run_item(
        "no_leakage",
        "integrity",
        "No suspected leakage",
        "FAIL" if failed else "PASS",
        detail,
        evidence(train, "leakage/check.json", report_dir),
    )


def run_checklist(
    client: Any,
    runs: dict[str, Any],
    report_dir: Path,
    features: list[str],
    sensitive_used: list[str],
    quality: list[promotion.Check],
) -> list[Item]:
    """The checklist items judged from the runs' evidence."""
    train, eda, explained = runs["train"], runs["eda"], runs["explain"]
    primary = train.data.tags.get(TAG_PRIMARY_METRIC) or _primary(train)
    lift = train.data.metrics.get(f"lift_{primary}")
    commit = train.data.tags.get(TAG_GIT, "")
    findings = eda_findings(client, eda) if eda else []
    fairness_status = explained.data.tags.get(TAG_FAIRNESS, "") if explained else ""
    return [
        run_item(
            "fairness_gates",
            "discrimination",
            "Fairness gates pass for every sensitive feature and their intersection",
            {"PASS": "PASS", "FAIL": "FAIL"}.get(fairness_status, "MISSING"),
            f"explain stage: {fairness_status or 'no gate judged'}",
            evidence(explained, "fairness/gates.json", report_dir),
        ),
        run_item(
            "sensitive_features_unused",
            "discrimination",
            "Sensitive attributes are not used as model features",
            "FAIL" if sensitive_used else "PASS",
            f"used as features: {', '.join(sensitive_used)}" if sensitive_used else "none used",
            evidence(train, "model/MLmodel", report_dir),
        ),
        run_item(
            "beats_baseline",
            "integrity",
            "The model beats the naive baseline on the test rows",
            "PASS" if lift is not None and lift > 0 else "FAIL",
            f"lift on {primary}: {lift:+.4f}" if lift is not None else "no lift logged",
            evidence(train, report_artifact(train), report_dir),
        ),
        run_item(
            "quality_thresholds",
            "integrity",
            "Quality thresholds are met",
            "MISSING" if not quality else "PASS" if all(c.passed for c in quality) else "FAIL",
            "; ".join(c.detail for c in quality) or "no quality_thresholds set in the config",
            evidence(train, report_artifact(train), report_dir),
        ),
        run_item(
            "data_checked",
            "integrity",
            "The data were checked before training (EDA)",
            "PASS",
            "; ".join(findings) or "no data-quality findings",
            evidence(eda, "eda/quality.csv", report_dir),
        ),
        leakage_item(train, eda, features, report_dir),
        run_item(
            "reproducible",
            "integrity",
            "Training is reproducible: committed code, recorded data digest",
            "PASS" if commit and commit != "unknown" and not commit.endswith("-dirty") else "FAIL",
            f"git commit {commit or 'unknown'}; test rows and data digest recorded",
            evidence(train, "split/test_rows.json", report_dir),
        ),
        run_item(
            "explained",
            "transparency",
            "Predictions are explained (SHAP, PDP/ICE) in a report",
            "PASS",
            f"explain run {explained.info.run_id[:8]}" if explained else "",
            evidence(explained, "tables/shap_importance.csv", report_dir),
        ),
    ]


def _primary(run: Any) -> str:
    return next((m for m in ("roc_auc", "roc_auc_ovr", "rmse") if m in run.data.metrics), "")


def privacy_item(findings: list[privacy.Finding], card_run_id: str) -> Item:
    """The personal-data check as a checklist item."""
    detail = "; ".join(f"{f.column}: {f.kind} ({f.evidence})" for f in findings)
    return Item(
        "privacy",
        "No columns that look like personal data",
        "FAIL" if findings else "PASS",
        detail or "no column looks like personal data by name or content",
        Evidence(f"runs:/{card_run_id}/card/privacy.json", "#privacy"),
        "no_personal_data",
    )


def checklist_table(items: list[Item]) -> pd.DataFrame:
    """The checklist as a table, by theme."""
    order = {t: i for i, t in enumerate(checklist.THEMES)}
    rows = [
        {
            "theme": i.theme,
            "check": i.check,
            "status": i.status,
            "detail": i.detail,
            "waiver": i.waiver,
            "evidence": i.evidence.uri,
            "report": i.evidence.href,
        }
        for i in sorted(items, key=lambda i: order[i.theme])
    ]
    return pd.DataFrame(rows)


# --- champion against challenger ---------------------------------------------------------------


def subject_metrics(subject: explanation.Subject) -> dict[str, float]:
    """Test metrics of a subject's model on its rows."""
    scores, _ = explanation.predictions(subject)
    if subject.kind == "regression":
        return evaluation.regression_metrics(subject.y, scores)
    cut = subject.threshold if subject.threshold is not None else 0.5
    return evaluation.classification_metrics(subject.y, scores, cut)


def _gaps(subject: explanation.Subject, sensitive: list[str], thresholds: dict) -> dict[str, float]:
    _, predicted = explanation.predictions(subject)
    groups = fairness.sensitive_groups(subject.rows, [f for f in sensitive if f in subject.rows])
    tables = {
        name: fairness.group_table(subject.y, predicted, None, groups[name], subject.kind)
        for name in groups.columns
    }
    gates = fairness.evaluate_gates(tables, subject.kind, thresholds)
    return {f"{g['feature']}: {g['gate']}": g["value"] for g in gates}


def _top_features(subject: explanation.Subject, rows: int, seed: int) -> list[str]:
    sample = explanation.sample(subject.rows, rows, seed)
    attributions = shapley.compute(
        subject.pipeline, sample, subject.kind, subject.classes, sample.head(100)
    )
    return list(attributions.importance().index[:5])


def compare_with_champion(
    challenger: explanation.Subject,
    champion_uri: str,
    sensitive: list[str],
    thresholds: dict[str, float],
    settings: CardSettings,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Champion and challenger on the same test rows: metrics, fairness gaps and top features
    side by side, and the champion's metrics."""
    model, _ = explanation.load_workbench_model(champion_uri)
    champion = replace(
        challenger, pipeline=model.pipeline, classes=model.classes, threshold=model.threshold
    )
    rows = []
    champion_metrics = subject_metrics(champion)
    for label, pair in (
        ("metric", (subject_metrics(challenger), champion_metrics)),
        (
            "fairness gap",
            (_gaps(challenger, sensitive, thresholds), _gaps(champion, sensitive, thresholds)),
        ),
    ):
        for name in pair[0]:
            rows.append(
                {
                    "measure": f"{label}: {name}",
                    "challenger": _fmt(pair[0].get(name)),
                    "champion": _fmt(pair[1].get(name)),
                }
            )
    tops = [
        _top_features(s, settings.comparison_rows, settings.seed) for s in (challenger, champion)
    ]
    for rank, (a, b) in enumerate(zip(*tops, strict=False), start=1):
        rows.append({"measure": f"top feature {rank} (SHAP)", "challenger": a, "champion": b})
    return pd.DataFrame(rows), champion_metrics


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:.4f}"


# --- the whole card ----------------------------------------------------------------------------


@dataclass
class ModelCard:
    """Everything the card shows, and the decision."""

    name: str
    version: str
    sections: list[Section]
    items: list[Item]
    decision: promotion.Decision
    privacy_findings: list[privacy.Finding]


def _answers(section: dict[str, Any], keys: list[str]) -> list[str]:
    questions = {**checklist.QUESTIONS, **checklist.RISK_QUESTIONS}
    return [
        f"{questions[key]}: {checklist.answer(section, key).rstrip('.') or 'MISSING'}."
        for key in keys
    ]


def _gates(client: Any, explained: Any) -> list[dict[str, Any]]:
    import mlflow

    if explained is None:
        return []
    return mlflow.artifacts.load_dict(f"runs:/{explained.info.run_id}/fairness/gates.json")


def _thresholds(explained: Any) -> dict[str, float]:
    """The fairness thresholds the explain run used (logged flattened as parameters)."""
    prefix = "fairness_thresholds."
    params = explained.data.params if explained else {}
    logged = {k[len(prefix) :]: float(v) for k, v in params.items() if k.startswith(prefix)}
    return logged or dict(fairness.DEFAULT_THRESHOLDS)


def _top_features_logged(explained: Any) -> list[str]:
    import mlflow

    if explained is None:
        return []
    path = mlflow.artifacts.download_artifacts(
        f"runs:/{explained.info.run_id}/tables/shap_importance.csv"
    )
    return pd.read_csv(path)["feature"].head(5).tolist()


def _hyperparameters(params: dict[str, str]) -> str:
    chosen = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith("hyperparameters.")}
    return ", ".join(f"{k}={v}" for k, v in sorted(chosen.items())) or "the defaults"


def _metrics_table(metrics: dict[str, float]) -> pd.DataFrame:
    names = [k for k in metrics if f"baseline_{k}" in metrics]
    return pd.DataFrame(
        [
            {
                "metric": k,
                "model": f"{metrics[k]:.4f}",
                "baseline": f"{metrics[f'baseline_{k}']:.4f}",
                "lift": f"{metrics.get(f'lift_{k}', np.nan):+.4f}",
            }
            for k in names
        ]
    )


def build(
    client: Any,
    experiment: str,
    run_ids: dict[str, str],
    frame: pd.DataFrame,
    target: str,
    task: str,
    sensitive: list[str],
    answers: dict[str, Any],
    settings: CardSettings,
    card_run_id: str,
    report_dir: Path,
) -> ModelCard:
    """Gather the evidence, judge the checklist, compare with the champion and decide."""
    runs = stage_runs(client, experiment, run_ids)
    train, explained = runs["train"], runs["explain"]
    version = model_version(client, train)
    name = version.name
    subject = explanation.load_subject(frame, target, task, train.info.run_id)
    features = sorted(set(shapley.encoded_sources(subject.pipeline.named_steps["preprocess"])))
    used = privacy.sensitive_features_used(features, sensitive)
    findings = privacy.personal_data_columns(frame.drop(columns=[target]))
    quality = promotion.quality_checks(train.data.metrics, settings.quality_thresholds)
    items = checklist.apply_waivers(
        [
            *run_checklist(client, runs, report_dir, features, used, quality),
            privacy_item(findings, card_run_id),
            *checklist.human_items(
                answers, Evidence(f"runs:/{card_run_id}/card/governance.json", "#intended")
            ),
        ],
        answers.get("waivers") or {},
    )
    gates = _gates(client, explained)
    primary = version.tags.get("primary_metric", _primary(train))
    champion, unreadable = promotion.read_champion(client, name)  # fails closed
    comparison, champion_value = None, None
    if champion is not None and champion.version != version.version:
        try:
            comparison, champion_metrics = compare_with_champion(
                subject,
                f"models:/{name}/{champion.version}",
                sensitive,
                _thresholds(explained),
                settings,
            )
        except ExplainInputError as exc:  # the champion's model cannot be loaded
            unreadable = promotion.unreadable_champion(exc)
        else:
            champion_value = champion_metrics.get(primary)
    decision = promotion.Decision(
        version.version,
        [
            *quality,
            promotion.fairness_check(
                explained.data.tags.get(TAG_FAIRNESS, "") if explained else "",
                [fairness.gate_sentence(g) for g in gates if g["status"] == "FAIL"],
            ),
            promotion.checklist_check(
                [i.check for i in items if i.status == "MISSING"],
                [i.check for i in items if i.blocks],
                settings.missing_blocks,
                [
                    f"{i.check} ({i.id}): {i.waiver}"
                    for i in items
                    if i.status == "FAIL" and i.waiver
                ],
            ),
            unreadable
            or promotion.champion_check(
                primary,
                train.data.metrics.get(primary, np.nan),
                champion_value,
                champion.version if champion is not None and comparison is not None else None,
                settings.champion_margin,
            ),
        ],
    )
    counts = checklist.counts(items)
    test_rows = len(subject.rows)
    sections = [
        Section(
            "Decision",
            [
                f"Version {version.version} of '{name}' is {decision.label}"
                + (" and is now the champion." if decision.promote else "; champion is unchanged."),
                *decision.reasons(),
            ],
            anchor="decision",
        ),
        Section(
            "Model",
            [
                f"Registered model '{name}', version {version.version} (training run "
                f"{train.info.run_id}).",
                f"Model: {train.data.params.get('model', '?')}; hyperparameters: "
                f"{_hyperparameters(train.data.params)}; decision threshold "
                f"{train.data.metrics.get('decision_threshold', float('nan')):.3f}.",
            ],
            anchor="model",
        ),
        Section(
            "Intended use",
            _answers(
                answers,
                {k: v for k, v in checklist.QUESTIONS.items() if k != "eu_ai_act_risk_category"},
            ),
            anchor="intended",
        ),
        Section(
            "Training data",
            [
                f"Source: {source_label(train.data.params.get('data.source', '?'))}; target "
                f"'{target}'; data digest {version.tags.get('data_digest', '?')}.",
                f"{len(frame):,} rows, of which {test_rows:,} held out for testing; trained "
                f"{pd.Timestamp(train.info.start_time, unit='ms'):%Y-%m-%d %H:%M} UTC.",
            ],
            anchor="data",
        ),
        Section(
            "Evaluation on the test rows", [], _metrics_table(train.data.metrics), "evaluation"
        ),
        Section(
            "Data quality (EDA)",
            (eda_findings(client, runs["eda"]) or ["No data-quality findings."])
            if runs["eda"]
            else ["MISSING: no EDA run."],
            anchor="eda",
        ),
        Section(
            "Explanations and fairness",
            [f"Top features by SHAP: {', '.join(_top_features_logged(explained)) or 'MISSING'}."],
            fairness.gates_frame(gates) if gates else None,
            "fairness",
        ),
        Section(
            "Risk assessment",
            _answers(
                answers,
                {
                    **checklist.RISK_QUESTIONS,
                    "eu_ai_act_risk_category": checklist.QUESTIONS["eu_ai_act_risk_category"],
                },
            ),
            anchor="risk",
        ),
        Section(
            "Privacy",
            [f"{f.column}: looks like {f.kind} ({f.evidence})." for f in findings]
            or ["No column looks like personal data by name or content."],
            anchor="privacy",
        ),
        Section(
            "Responsible-AI checklist",
            [f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['MISSING']} MISSING."],
            checklist_table(items),
            "checklist",
        ),
        Section(
            "Champion versus challenger",
            [unreadable.sentence() if unreadable else "No champion yet: nothing to compare with."]
            if comparison is None
            else [
                f"Challenger version {version.version} against champion version "
                f"{champion.version}, both on the challenger's {test_rows:,} test rows."
            ],
            comparison,
            "champion",
        ),
        Section(
            "Production readiness",
            readiness(version.tags, settings.production_thresholds),
            anchor="production",
        ),
        Section(
            "Lineage",
            [
                f"git commit {train.data.tags.get(TAG_GIT) or 'unknown'}; config "
                f"{Path(train.data.tags.get(TAG_CONFIG, '-')).name}.",
                "Runs: "
                + ", ".join(
                    f"{stage} {run.info.run_id}" for stage, run in runs.items() if run is not None
                )
                + f", card {card_run_id}.",
                f"Packages: {train.data.tags.get(TAG_PACKAGES, '-')}.",
            ],
            anchor="lineage",
        ),
    ]
    return ModelCard(name, version.version, sections, items, decision, findings)


def key_figures(model_card: ModelCard) -> dict[str, int]:
    """The card's figures in the report index: checklist counts and the decision."""
    counts = checklist.counts(model_card.items)
    return {
        "checklist_pass": counts["PASS"],
        "checklist_fail": counts["FAIL"],
        "checklist_missing": counts["MISSING"],
        "promoted": int(model_card.decision.promote),
    }


def summary(model_card: ModelCard) -> str:
    """The decision in a few lines, for `mlwb run` to print."""
    decision = model_card.decision
    head = f"Decision: '{model_card.name}' version {model_card.version} {decision.label}" + (
        " (now the champion)." if decision.promote else "; champion unchanged."
    )
    return "\n".join([head, *(f"  {r}" for r in decision.reasons())])
