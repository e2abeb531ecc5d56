"""Shared benchmark plumbing: data location, timing with peak memory, machine facts, tables."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def data_dir() -> Path:
    """The shared datasets folder: $MLWB_BENCH_DATA, else ../shared/data beside the repo."""
    folder = Path(os.environ.get("MLWB_BENCH_DATA", REPO.parent / "shared" / "data")).resolve()
    if not (folder / "adult.csv").is_file():
        sys.exit(
            f"bench: {folder / 'adult.csv'} not found. Set MLWB_BENCH_DATA to the folder "
            "holding the shared datasets (adult.csv, ...)."
        )
    return folder


@dataclass
class Measurement:
    """One timed command: wall seconds and the peak memory of its whole process tree."""

    name: str
    seconds: float
    peak_mb: float
    returncode: int


def measure(name: str, command: list[str], cwd: Path, env: dict | None = None) -> Measurement:
    """Run `command`, sampling the summed RSS of it and its children every 50 ms."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(process.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
    return Measurement(name, seconds, peak / 2**20, process.returncode)


def machine() -> dict[str, str]:
    """The facts that make a benchmark table comparable."""
    from importlib.metadata import version

    packages = (
        "mlworkbench",
        "mlflow",
        "papermill",
        "fg-data-profiling",
        "pandas",
        "nbconvert",
        "xgboost",
        "shap",
        "pdpbox",
        "fairlearn",
    )
    return {
        "date": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": platform.processor() or platform.machine(),
        "cores": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        **{p: version(p) for p in packages},
    }


def write_results(name: str, title: str, rows: list[dict], notes: list[str]) -> str:
    """Write `bench/results/<name>.md` and `.json`; return the markdown."""
    facts = machine()
    columns = list(rows[0])
    lines = [f"# {title}", ""]
    lines += [f"| {' | '.join(columns)} |", f"|{'|'.join('---' for _ in columns)}|"]
    lines += [f"| {' | '.join(str(r[c]) for c in columns)} |" for r in rows]
    lines += ["", *notes, "", "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items())]
    markdown = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.md").write_text(markdown, encoding="utf-8")
    (RESULTS / f"{name}.json").write_text(
        json.dumps({"title": title, "rows": rows, "notes": notes, "machine": facts}, indent=2),
        encoding="utf-8",
    )
    return markdown


def bench_project(folder: Path) -> Path:
    """A project in `folder` with the repo's notebooks and an initialised MLflow store."""
    import shutil

    import mlflow

    shutil.copytree(REPO / "notebooks", folder / "notebooks")
    (folder / "papermill_configs").mkdir()
    mlflow.MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").search_experiments()
    return folder


def trained_project(folder: Path, config_text: str, purpose: str) -> tuple[Path, Path]:
    """A benchmark project in `folder` whose config (adult.yaml) has been trained once."""
    root = bench_project(folder)
    config = root / "papermill_configs" / "adult.yaml"
    config.write_text(config_text, "utf-8")
    print(f"  training the model to {purpose}", flush=True)
    subprocess.run([*mlwb_run(config, root), "--stage", "train"], cwd=root, check=True)
    return root, config


def mlwb_run(config: Path, root: Path, force: bool = True) -> list[str]:
    """The `mlwb run` command of a benchmark; `force` executes every stage, so a repeat
    measures the computation rather than the reuse of an unchanged stage."""
    mlwb = Path(sys.executable).with_name("mlwb")
    command = [str(mlwb), "run", str(config), "--project-dir", str(root), "--no-progress"]
    return [*command, "--force"] if force else command


@dataclass
class Side:
    """One side of a comparison: its name, command and extra environment variables."""

    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)


def alternate_sides(
    label: str, sides: list[Side], root: Path, repeats: int
) -> list[list[Measurement]]:
    """Time every side in turn, `repeats` rounds; one list of measurements per side, in the
    order of `sides`. Stop on any failure."""
    runs: list[list[Measurement]] = [[] for _ in sides]
    for i in range(repeats):
        print(f"  {label} repeat {i + 1}/{repeats}", flush=True)
        for side, measured in zip(sides, runs, strict=True):
            env = {"MLFLOW_TRACKING_URI": "", **side.env}
            measured.append(measure(side.name, side.command, root, env))
    failed = [asdict(m) for measured in runs for m in measured if m.returncode != 0]
    if failed:
        raise SystemExit(f"bench: a command failed ({label}): {failed}")
    return runs


def alternate(
    label: str, plain_cmd: list[str], runner_cmd: list[str], root: Path, repeats: int
) -> tuple[list[Measurement], list[Measurement]]:
    """Time the plain command and `mlwb run` alternately; stop on any failure."""
    plain, runner = alternate_sides(
        label, [Side("plain", plain_cmd), Side("mlwb run", runner_cmd)], root, repeats
    )
    return plain, runner


def side_rows(sides: list[tuple[str, list[Measurement]]], **columns: str) -> list[dict]:
    """One table row per (label, measurements) side with its median, every run, peak memory
    and the ratio of its median to the first side's."""
    import statistics

    base = statistics.median(m.seconds for m in sides[0][1])
    rows = []
    for what, values in sides:
        seconds = statistics.median(m.seconds for m in values)
        rows.append(
            {
                **columns,
                "what": what,
                "median wall s": f"{seconds:.1f}",
                "runs s": ", ".join(f"{m.seconds:.1f}" for m in values),
                "peak memory MB": f"{max(m.peak_mb for m in values):.0f}",
                "ratio": f"{seconds / base:.2f}",
            }
        )
    return rows


def median_ratio(values: list[Measurement], base: list[Measurement]) -> float:
    """Median wall time of `values` over that of `base`."""
    import statistics

    return statistics.median(m.seconds for m in values) / statistics.median(m.seconds for m in base)


FIXED_COST_TARGET = 3.0
"""Seconds a stage may cost beyond its plain computation (warm kernels)."""


def fixed_cost_note(label: str, plain: list[Measurement], runner: list[Measurement]) -> str:
    """The stage's fixed cost: the median wall time of `mlwb run --stage X` minus that of the
    plain computation, against `FIXED_COST_TARGET`."""
    import statistics

    cost = statistics.median(m.seconds for m in runner) - statistics.median(
        m.seconds for m in plain
    )
    verdict = "met" if cost <= FIXED_COST_TARGET else "NOT met"
    return (
        f"{label}: fixed cost of the stage (median mlwb run - median plain) {cost:.1f} s "
        f"(target <= {FIXED_COST_TARGET:.0f} s: {verdict})."
    )


def comparison_rows(
    plain: list[Measurement],
    runner: list[Measurement],
    runner_label: str = "mlwb run (Papermill + kernel + MLflow + HTML)",
    **columns: str,
) -> tuple[list[dict], float]:
    """Two table rows (plain first) with medians, every run, peak memory and the ratio."""
    rows = side_rows(
        [("plain Python process (baseline)", plain), (runner_label, runner)], **columns
    )
    return rows, median_ratio(runner, plain)


def extract_commit(commit: str, folder: Path, purpose: str) -> Path:
    """`src/` and `notebooks/` of `commit` extracted into `folder`; exit when the repository
    does not hold that commit (`purpose`: the benchmark that compares against it)."""
    import io
    import tarfile

    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "src", "notebooks"],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        sys.exit(
            f"bench: cannot read commit {commit} from {REPO} "
            f"({archive.stderr.decode(errors='replace').strip()}). The {purpose} benchmark "
            "compares against that commit: fetch the full history (`git fetch --unshallow`, "
            "or clone without --depth) and run it again."
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def commit_env(tree: Path) -> dict[str, str]:
    """The environment that makes a Python process (and the kernels it starts) import the
    package of `tree`; exits if the installed package would be imported instead."""
    env = {"PYTHONPATH": str(tree / "src")}
    probe = [sys.executable, "-c", "import mlworkbench; print(mlworkbench.__file__)"]
    found = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
    if not Path(found.stdout.strip()).is_relative_to(tree / "src"):
        sys.exit(f"bench: PYTHONPATH={env['PYTHONPATH']} imports {found.stdout.strip()}.")
    return env


def commit_config(config: Path, tree: Path, commit: str, folder: Path | None = None) -> Path:
    """A copy of `config` (in `folder`, by default beside it) whose stages are the notebooks
    of `tree`."""
    copy = (folder or config.parent) / f"{config.stem}-{commit}.yaml"
    notebooks = json.dumps(str(tree / "notebooks"))
    copy.write_text(f"notebooks: {notebooks}\n" + config.read_text("utf-8"), "utf-8")
    return copy
