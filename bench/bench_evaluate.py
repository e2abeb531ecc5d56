"""MLflow's own `mlflow.models.evaluate` (default evaluator, SHAP explainability on) against
the workbench's train and explain stages, on the same model and data, in the same run.

Dataset: ../shared/data/adult.csv (48,842 x 16, target income, sensitive features sex, race
and age). Every side fits the train stage's default model (xgboost, 300 trees, seed 42, the
same stratified split and out-of-fold threshold), so all evaluate the same 12,211 test rows:

- (a) bench/mlflow_evaluate.py `encoded`: the fit, then `mlflow.models.evaluate` of the fitted
  xgboost step (logged with `mlflow.xgboost.log_model`) on the preprocessed (one-hot) test
  rows with 0/1 labels: the form MLflow's SHAP explainer accepts.
- (a') bench/mlflow_evaluate.py `pipeline`: the fit, then `mlflow.models.evaluate` of the
  workbench's logged pyfunc model (the whole pipeline) on the raw test rows.
- (b) `mlwb run CONFIG --stage train --stage explain --force`.

Training is part of every side because MLflow's evaluate yields what the two stages yield
together: test metrics and curves (the train stage) and SHAP (the explain stage). The sides
run as fresh processes, alternately; the table reports median wall time, every run's time
and the largest peak memory of the process tree. An untimed probe first records how
`evaluate` handles the logged model as it is. Afterwards the benchmark lists what each side
logged (artifacts, metrics, models, registry versions, dataset inputs, HTML reports) from the
tracking store, so the second table comes from the store, not from documentation.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlparse

from common import (
    REPO,
    bench_project,
    comparison_rows,
    data_dir,
    measure,
    mlwb_run,
    write_results,
)

EXPERIMENT = "bench-evaluate-adult"
MLFLOW_EXPERIMENT = "bench-evaluate-mlflow"
TARGET = "income"
CONFIG = f"""\
experiment: {EXPERIMENT}
data:
  source: {{source}}
  target: {TARGET}
  task: classification
  sensitive_features: [sex, race, age]
  csv: {{{{na_values: ["?"]}}}}
stages:
  train: {{{{registered_model: {EXPERIMENT}}}}}
  explain: {{{{}}}}
"""
ENV = {"MLFLOW_TRACKING_URI": ""}
SIDES = {
    "encoded": "(a) fit + mlflow.models.evaluate: xgboost step on one-hot columns, 0/1 labels",
    "pipeline": "(a') fit + mlflow.models.evaluate: workbench pyfunc pipeline on raw rows",
    "mlwb": "(b) mlwb run --stage train --stage explain",
}
KINDS = (
    ("SHAP plots", r"shap.*\.png$|waterfall.*\.png$"),
    ("SHAP tables", r"shap.*\.csv$"),
    ("PDP/ICE plots", r"pdp.*\.png$"),
    ("fairness artifacts", r"fairness"),
    ("other plots", r"\.png$"),
    ("other tables", r"\.csv$"),
    ("HTML report (artifact)", r"\.html$"),
    ("other artifacts", r"."),
)


def run(repeats: int = 3) -> str:
    """Run the benchmark and return its markdown table."""
    source = data_dir() / "adult.csv"
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-") as tmp:
        root = bench_project(Path(tmp))
        config = root / "papermill_configs" / "adult.yaml"
        config.write_text(CONFIG.format(source=source), "utf-8")
        script = REPO / "bench" / "mlflow_evaluate.py"

        def plain(variant: str) -> list[str]:
            report = root / f"{variant}.json"
            return [sys.executable, str(script), str(source), TARGET, MLFLOW_EXPERIMENT, variant,
                    str(report)]  # fmt: skip

        print("  probing mlflow.models.evaluate on the logged pyfunc model (untimed)", flush=True)
        subprocess.run(
            plain("probe"),
            cwd=root,
            env={**os.environ, **ENV},
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        commands = {
            "encoded": plain("encoded"),
            "pipeline": plain("pipeline"),
            "mlwb": [*mlwb_run(config, root), "--stage", "train", "--stage", "explain"],
        }
        timings: dict[str, list] = {name: [] for name in commands}
        for i in range(repeats):
            print(f"  adult repeat {i + 1}/{repeats}", flush=True)
            for name, command in commands.items():
                timings[name].append(measure(name, command, root, ENV))
        failed = [asdict(m) for ms in timings.values() for m in ms if m.returncode != 0]
        if failed:
            raise SystemExit(f"bench: a command failed (evaluate): {failed}")
        sidecars = {
            v: json.loads((root / f"{v}.json").read_text("utf-8"))
            for v in ("probe", "encoded", "pipeline")
        }
        produced, checks = inventory(root, sidecars)
    rows = timing_rows(timings)
    notes = [
        *(f"- {note}" for note in comparison_notes(repeats, sidecars, checks, load)),
        "",
        "**What each side produced** (listed from the tracking store after the last repeat: "
        "the runs' artifacts, metrics, logged models, registry versions and dataset inputs, "
        "and the HTML files on disk):",
        "",
        *markdown_table(produced),
    ]
    return write_results(
        "evaluate", "mlflow.models.evaluate (SHAP on) vs mlwb train + explain", rows, notes
    )


def timing_rows(timings: dict[str, list]) -> list[dict]:
    """(a), (a'), (b): medians, runs, peak memory; ratios against (a)."""
    pair, _ = comparison_rows(timings["encoded"], timings["mlwb"], SIDES["mlwb"], dataset="adult")
    extra, _ = comparison_rows(
        timings["encoded"], timings["pipeline"], SIDES["pipeline"], dataset="adult"
    )
    pair[0]["what"] = SIDES["encoded"]
    return [pair[0], extra[1], pair[1]]


# --- what each side logged -------------------------------------------------------------------


def artifact_paths(client, run_id: str, path: str | None = None) -> list[str]:
    """Every artifact file of a run."""
    paths = []
    for item in client.list_artifacts(run_id, path):
        paths += artifact_paths(client, run_id, item.path) if item.is_dir else [item.path]
    return paths


def latest_run(client, experiment: str, condition: str):
    """The newest run of `experiment` matching the filter `condition`."""
    found = client.get_experiment_by_name(experiment)
    runs = client.search_runs(
        [found.experiment_id], condition, order_by=["attributes.start_time DESC"], max_results=1
    )
    if not runs:
        raise SystemExit(f"bench: no run of {experiment} matches {condition}")
    return runs[0]


def metric_names(names: list[str]) -> str:
    """Metric names, families with a common prefix folded (`fairness.sex.* (5)`)."""
    families: dict[str, list[str]] = {}
    for name in sorted(names):
        match = re.match(r"(fairness\.[^.]+\.|baseline_|lift_)", name)
        families.setdefault(match.group(1) + "*" if match else name, []).append(name)
    parts = [k if len(v) == 1 and k == v[0] else f"{k} ({len(v)})" for k, v in families.items()]
    return f"{len(names)}: " + ", ".join(parts) if names else "none"


def model_flavours(client, experiment_id: str, run_ids: list[str]) -> str:
    """The logged models of the runs, with their MLflow flavours (read from MLmodel)."""
    import yaml

    models = [m for m in client.search_logged_models([experiment_id]) if m.source_run_id in run_ids]
    described = []
    for model in models:
        mlmodel = Path(urlparse(model.artifact_location).path) / "MLmodel"
        flavours = yaml.safe_load(mlmodel.read_text("utf-8")).get("flavors", {})
        loader = flavours.get("python_function", {}).get("loader_module", "")
        described.append(f"'{model.name}' ({', '.join(flavours)}; pyfunc loader {loader})")
    return "; ".join(described) or "none"


def side_inventory(client, experiment: str, runs: list, html: list[str]) -> dict[str, str]:
    """One column of the production table: the runs' outputs by kind."""
    paths = [(run, p) for run in runs for p in artifact_paths(client, run.info.run_id)]
    cells: dict[str, str] = {}
    left = list(paths)
    for kind, pattern in KINDS:
        chosen = [p for _, p in left if re.search(pattern, p.lower())]
        left = [(r, p) for r, p in left if p not in chosen]
        cells[kind] = f"{len(chosen)}: " + ", ".join(chosen) if chosen else "none"
    fairness = [k for run in runs for k in run.data.metrics if "fairness" in k]
    cells["metrics"] = metric_names([k for run in runs for k in run.data.metrics])
    cells["fairness artifacts"] += f" (+ {len(fairness)} fairness metrics)" if fairness else ""
    cells["HTML report (on disk)"] = f"{len(html)}: " + ", ".join(html) if html else "none"
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    run_ids = [run.info.run_id for run in runs]
    cells["logged model"] = model_flavours(client, experiment_id, run_ids)
    versions = [
        f"{v.name} v{v.version}"
        for rid in run_ids
        for v in client.search_model_versions(f"run_id = '{rid}'")
    ]
    cells["registered model version"] = ", ".join(versions) or "none"
    inputs = [
        f"{d.dataset.name} ({', '.join(t.value for t in d.tags) or 'no context'})"
        for run in runs
        for d in run.inputs.dataset_inputs
    ]
    cells["dataset inputs"] = ", ".join(inputs) or "none"
    return cells


def shap_importance_rows(client, run_id: str) -> int:
    """Features in the explain run's SHAP importance table."""
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        local = client.download_artifacts(run_id, "tables/shap_importance.csv", tmp)
        return len(pd.read_csv(local))


def inventory(root: Path, sidecars: dict) -> tuple[list[dict], dict]:
    """The production table (one row per kind of output, one column per side) and checks
    that the sides evaluated the same rows with the same model."""
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    a_run = latest_run(client, MLFLOW_EXPERIMENT, "attributes.run_name = 'evaluate-encoded'")
    a2_run = latest_run(client, MLFLOW_EXPERIMENT, "attributes.run_name = 'evaluate-pipeline'")
    train = latest_run(client, EXPERIMENT, "tags.`mlwb.stage` = 'train'")
    explain = latest_run(client, EXPERIMENT, "tags.`mlwb.stage` = 'explain'")
    parent = train.data.tags.get("mlflow.parentRunId", "")[:8]
    html = sorted(
        str(p.relative_to(root))
        for p in (root / "reports").rglob("*.html")
        if p.parent.name.endswith(parent)
        or p.parent in (root / "reports", root / "reports" / EXPERIMENT)
    )
    columns = {
        SIDES["encoded"]: side_inventory(client, MLFLOW_EXPERIMENT, [a_run], []),
        SIDES["pipeline"]: side_inventory(client, MLFLOW_EXPERIMENT, [a2_run], []),
        SIDES["mlwb"]: side_inventory(client, EXPERIMENT, [train, explain], html),
    }
    encoded = sidecars["encoded"]["results"][0]
    source_columns = sidecars["encoded"]["source_columns"]
    shap_on = {
        SIDES["encoded"]: (
            f"{encoded['evaluated_columns']} one-hot/encoded columns as the model sees them; "
            f"not summed back to the {source_columns} source columns"
        ),
        SIDES["pipeline"]: "none (SHAP skipped, see notes)",
        SIDES["mlwb"]: (
            f"{shap_importance_rows(client, explain.info.run_id)} source columns "
            "(encoded columns summed back per source column)"
        ),
    }
    kinds = ["metrics", *(k for k, _ in KINDS), "HTML report (on disk)", "logged model"]
    kinds += ["registered model version", "dataset inputs"]
    produced = [{"output": "SHAP attributions over", **shap_on}]
    produced += [{"output": kind, **{side: cells[kind] for side, cells in columns.items()}}
                 for kind in kinds]  # fmt: skip
    test_rows = client.download_artifacts(train.info.run_id, "split/test_rows.json", str(root))
    recorded = json.loads(Path(test_rows).read_text("utf-8"))["row_ids"]
    checks = {
        "same_rows": all(sorted(s["test_rows"]) == sorted(recorded) for s in sidecars.values()),
        "rows": len(recorded),
        "roc_auc_a": float(encoded["metrics"]["roc_auc"]),
        "roc_auc_b": train.data.metrics["roc_auc"],
    }
    return produced, checks


def markdown_table(rows: list[dict]) -> list[str]:
    """`rows` as markdown table lines."""
    columns = list(rows[0])
    lines = [f"| {' | '.join(columns)} |", f"|{'|'.join('---' for _ in columns)}|"]
    return lines + [f"| {' | '.join(str(r[c]) for c in columns)} |" for r in rows]


# --- notes -----------------------------------------------------------------------------------


def mlflow_said(result: dict) -> str:
    """What `evaluate` raised, or the SHAP-related records it logged."""
    if "error" in result:
        return f"raised `{result['error']}`"
    said = [
        line.split(": ", 1)[1]
        for line in result["log"]
        if re.search(r"shap|explainab", line, re.IGNORECASE)
    ]
    return "; ".join(f'"{s}"' for s in said) or "logged nothing about SHAP"


def comparison_notes(repeats: int, sidecars: dict, checks: dict, load: list[float]) -> list[str]:
    """What was compared, how, and what MLflow did with each form of the model."""
    probe = {r["name"]: r for r in sidecars["probe"]["results"]}
    pipeline = sidecars["pipeline"]["results"][0]
    encoded = sidecars["encoded"]["results"][0]
    kernel = probe["probe-kernel"]
    warned = sorted(
        {
            line.split(": ", 1)[1]
            for s in sidecars.values()
            for r in s["results"]
            for line in r["log"]
            if line.startswith("WARNING") and not re.search(r"shap|explainab", line, re.I)
        }
    )
    same = "yes" if checks["same_rows"] else "NO"
    return [
        f"Fairness of the comparison: every side fits the train stage's default model in its "
        f"own fresh process ({repeats} alternating repeat{'s' * (repeats != 1)}) and "
        f"evaluates the same {checks['rows']:,} test rows (row ids of (a) and (a') equal "
        f"the train run's split/test_rows.json: {same}; ROC AUC (a) "
        f"{checks['roc_auc_a']:.6f}, train stage {checks['roc_auc_b']:.6f}). Training is "
        "included on both sides because evaluate's output spans both stages: its metrics and "
        "curves are the train stage's evaluation, its SHAP plots the explain stage's. (a) and "
        "(a') log their model into the evaluate run; (b) also registers a version, writes the "
        "HTML reports and runs PDP/ICE, fairness and error cohorts, which evaluate does not "
        "offer. Ratio: median wall time over that of (a).",
        f"SHAP settings: (a) MLflow samples `explainability_nsamples` = 2,000 test rows "
        f"(default) and passes the same rows as the background (MLflow logged "
        f"{mlflow_said(encoded)}), so shap's tree explainer runs in its interventional form "
        "against a 2,000-row background; (b) explains 2,000 sampled test "
        "rows with shap's path-dependent tree explainer (no background) and sums the "
        "attributions of the encoded columns back to their source columns. The "
        f"`mlflow.models.evaluate` call alone took {encoded['seconds']:.1f} s of (a)'s last run "
        f"and {pipeline['seconds']:.1f} s of (a')'s; the rest is start-up, loading and the fit.",
        "What `mlflow.models.evaluate` (MLflow "
        f"{_version('mlflow')}, shap {_version('shap')}) did with the workbench's logged model "
        "(untimed probe and (a')): "
        f'(1) by URI with `predictions="prediction"` (its class column): '
        f"{mlflow_said(probe['probe-uri'])} in the classifier evaluator, which ignores "
        "`predictions` for a model's multi-column output; "
        "(2) its class column as a function, string labels: "
        f"{mlflow_said(probe['probe-string-labels'])}; "
        f"(3) the same with 0/1 labels ((a'), timed): {mlflow_said(pipeline)}, so (a') logs "
        f"metrics and a confusion matrix only (no probabilities either: no ROC AUC, log loss "
        f'or curves); (4) `explainability_algorithm="kernel"`, the only algorithm MLflow '
        f"lets near string columns, with `explainability_nsamples` 20: "
        f"{mlflow_said(kernel)}; that evaluate took {kernel['seconds']:.0f} s for 20 rows "
        f"against 20 background rows ({', '.join(kernel.get('artifacts', [])) or 'no plots'}); "
        "its work grows with explained rows x background rows, 10,000 times as much at the "
        "default 2,000 (not attempted).",
        "Other MLflow warnings seen: " + ("; ".join(f'"{w}"' for w in warned) or "none") + ".",
        f"Load average (1 min) just before the first process: {load[0]:.1f} on "
        f"{os.cpu_count()} cores (above ~0.5, other processes were sharing the machine).",
    ]


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
