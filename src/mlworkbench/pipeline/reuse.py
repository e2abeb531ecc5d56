"""Incremental reruns: a stage whose inputs are unchanged is reused, not executed again.

A stage's inputs are its notebook's cells, the parameters it receives (without the run id and
report folder of this execution), the data digest, the runs it depends on, the versions of the
packages that decide results and the workbench's own code. Their digest is the cache key.
Every executed stage run carries the key (`mlwb.cache_key`) and the inputs it was made from
(`mlwb.cache_inputs`, JSON), so a reader can see why a later run reused it. A reused stage
gets a run of its own under the new pipeline run, with `mlwb.reused_from` naming the run
whose results and report it stands for; it carries no `mlwb.stage` tag, so every search for
a stage's results finds the original.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mlworkbench.tracking.tags import TAG_CACHE_KEY, TAG_REUSED_FROM

VOLATILE_PARAMETERS = frozenset({"mlflow_run_id", "report_dir", "config_file"})
"""Parameters that name this execution rather than say what it computes."""


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def notebook_digest(path: Path) -> str:
    """Digest of a notebook's cell types and sources and its kernel (outputs and execution
    counts do not count, so opening and saving it in JupyterLab changes nothing)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = [
        (c.get("cell_type"), "".join(c.get("source", "")), c.get("metadata", {}).get("tags", []))
        for c in nb.get("cells", [])
    ]
    kernel = nb.get("metadata", {}).get("kernelspec", {}).get("name", "")
    return _digest([kernel, cells])


@functools.cache
def code_digest() -> str:
    """Digest of the workbench package's own source and templates: an edit to the code a
    stage calls invalidates the cache even when the version number stays the same."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(p for p in package.rglob("*") if p.suffix in {".py", ".j2"} and p.is_file())
    sha = hashlib.sha256()
    for path in files:
        sha.update(path.relative_to(package).as_posix().encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()


def model_references(client: Any, parameters: Mapping[str, Any]) -> dict[str, str]:
    """The version each `models:/<name>@<alias>` parameter points at now: an alias moves,
    so the same text can mean another model (empty when the alias does not exist)."""
    found = {}
    for key, value in parameters.items():
        if isinstance(value, str) and value.startswith("models:/") and "@" in value:
            name, alias = value.removeprefix("models:/").rsplit("@", 1)
            try:
                found[key] = str(client.get_model_version_by_alias(name, alias).version)
            except Exception:  # no such model or alias: the stage will say so itself
                found[key] = ""
    return found


def stage_inputs(
    notebook: Path,
    parameters: Mapping[str, Any],
    data_digest: str,
    upstream: Mapping[str, str],
    packages: Mapping[str, str],
    models: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Everything that decides a stage's results, in a form a reader can compare.

    `models` holds the versions that model-alias parameters resolve to (`model_references`).
    """
    kept = {k: v for k, v in parameters.items() if k not in VOLATILE_PARAMETERS}
    return {
        "notebook": notebook_digest(notebook)[:16],
        "parameters": _digest(kept)[:16],
        "model_versions": dict(sorted((models or {}).items())),
        "data_digest": data_digest,
        "upstream_runs": dict(sorted(upstream.items())),
        "packages": dict(sorted(packages.items())),
        "mlworkbench_code": code_digest()[:16],
    }


def cache_key(inputs: Mapping[str, Any]) -> str:
    """The cache key of a stage's inputs."""
    return _digest(inputs)[:32]


def find_reusable(client: Any, experiment_id: str, key: str) -> Any | None:
    """The newest finished, executed (not itself reused) stage run with `key`, or None."""
    runs = client.search_runs(
        [experiment_id],
        f"tags.`{TAG_CACHE_KEY}` = '{key}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=20,
    )
    return next((r for r in runs if TAG_REUSED_FROM not in r.data.tags), None)


def original_run_id(run: Any) -> str:
    """The run whose results `run` holds: itself, or the one it reused."""
    return run.data.tags.get(TAG_REUSED_FROM) or run.info.run_id


def _forced_names(force: str | None) -> set[str]:
    return {n.strip() for n in (force or "").split(",") if n.strip()}


def forced(force: str | None, stage: str) -> bool:
    """Whether `--force` (None: not given; "" or "all": every stage; "a,b": those) covers
    `stage`."""
    if force is None:
        return False
    names = _forced_names(force)
    return not names or "all" in names or stage in names


def unknown_forced(force: str | None, stages: list[str]) -> list[str]:
    """Names in `--force` that are not among `stages` (a typo would force nothing)."""
    return sorted(_forced_names(force) - {"all"} - set(stages))


class Claims:
    """Cache keys being computed right now, so parallel pipelines of one sweep compute a
    shared stage once: the first claims the key, the others wait for it and then reuse."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy: dict[str, threading.Event] = {}

    @contextmanager
    def claim(self, key: str) -> Iterator[None]:
        """Hold `key` while the body runs; wait first while another thread holds it."""
        while True:
            with self._lock:
                event = self._busy.get(key)
                if event is None:
                    self._busy[key] = threading.Event()
                    break
            event.wait()
        try:
            yield
        finally:
            with self._lock:
                self._busy.pop(key).set()
