"""Parameter sweeps: every combination of some stage parameters as its own pipeline run.

```yaml
sweep:
  grid:                                  # every combination (here 2 x 2 = 4 runs)
    train.model: [xgboost, random_forest]
    train.hyperparameters.max_depth: [3, 6]
# or
  list:                                  # exactly these runs
    - {train.model: linear}
    - {train.model: xgboost, train.hyperparameters.n_estimators: 100}
```

A key is `<stage>.<parameter>`, optionally followed by keys inside a mapping parameter; the
value replaces the config's. Each combination's full config is written under
`reports/<experiment>/sweeps/<sweep>/` and validated before anything runs. The pipelines run
up to `--jobs` at a time and share unchanged stages through the cache (`pipeline.reuse`),
so EDA, which no combination changes, runs once. The sweep's id is a digest of the config, so
starting the same sweep again runs only the combinations that have no finished pipeline run.
"""

from __future__ import annotations

import concurrent.futures as cf
import copy
import hashlib
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlworkbench.exceptions import ConfigError, MlwbError, PipelineInterrupted
from mlworkbench.pipeline import reuse
from mlworkbench.pipeline.config import PipelineConfig, load_config
from mlworkbench.pipeline.interrupts import interruptible
from mlworkbench.pipeline.results import relative_label
from mlworkbench.pipeline.runner import PipelineRunner
from mlworkbench.reports import comparison, elements
from mlworkbench.reports.index import rebuild_index
from mlworkbench.tracking import store
from mlworkbench.tracking.tags import TAG_COMBINATION, TAG_LABEL, TAG_SWEEP


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def expand(section: Any, where: str = "sweep") -> list[dict[str, Any]]:
    """The combinations a `sweep:` section describes, each a mapping of dotted key to value.

    Raises:
        ConfigError: not exactly one of `grid` and `list`, a grid value that is not a
            non-empty list, or a list entry that is not a mapping.
    """
    if not isinstance(section, dict) or set(section) - {"grid", "list"} or len(section) != 1:
        raise ConfigError(f"{where}: give exactly one of 'grid' (a mapping) or 'list'.")
    if "grid" in section:
        grid = section["grid"]
        if not isinstance(grid, dict) or not grid:
            raise ConfigError(f"{where}.grid: a mapping of '<stage>.<parameter>' to values.")
        bad = [k for k, v in grid.items() if not isinstance(v, list) or not v]
        if bad:
            raise ConfigError(f"{where}.grid: {', '.join(bad)}: give a non-empty list of values.")
        return [
            dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())
        ]
    entries = section["list"]
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        raise ConfigError(f"{where}.list: a non-empty list of mappings of key to value.")
    return [dict(e) for e in entries]


def apply(raw: dict[str, Any], overrides: dict[str, Any], where: str = "sweep") -> dict[str, Any]:
    """A copy of the config `raw` (without its sweep) with `overrides` set in its stages.

    Raises:
        ConfigError: a key that does not name a configured stage and a parameter.
    """
    result = copy.deepcopy({k: v for k, v in raw.items() if k != "sweep"})
    for key, value in overrides.items():
        path = str(key).split(".")
        if len(path) < 2 or path[0] not in (result.get("stages") or {}):
            configured = ", ".join(result.get("stages") or {})
            raise ConfigError(
                f"{where}: '{key}' must be '<stage>.<parameter>' of a configured stage "
                f"({configured})."
            )
        node = result["stages"].setdefault(path[0], {}) or {}
        result["stages"][path[0]] = node
        for part in path[1:-1]:
            if not isinstance(node.get(part, {}), dict):
                raise ConfigError(f"{where}: '{key}': '{part}' is not a mapping in the config.")
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return result


def label(overrides: dict[str, Any]) -> str:
    """`train.model=linear, train.hyperparameters.C=0.1`: a combination for people."""
    return ", ".join(
        f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in overrides.items()
    )


@dataclass
class Combination:
    """One pipeline of a sweep: its overrides and validated config."""

    number: int
    overrides: dict[str, Any]
    config: PipelineConfig

    @property
    def id(self) -> str:
        return _digest(self.overrides)

    @property
    def label(self) -> str:
        return label(self.overrides)


@dataclass
class SweepResult:
    """What a sweep did: combinations run now, finished earlier, and failed."""

    sweep_id: str
    experiment: str
    ran: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    report: Path | None = None
    index: Path | None = None


def plan(config: PipelineConfig, root: Path) -> tuple[str, list[Combination]]:
    """The sweep's id and its validated combinations; their configs are written under
    `reports/<experiment>/sweeps/<id>/`.

    Raises:
        ConfigError: the config has no `sweep:` section, or a combination is invalid (every
            problem of every combination is listed).
    """
    if "sweep" not in config.raw:
        raise ConfigError(f"{config.path}: no 'sweep:' section; `mlwb run` runs a plain config.")
    where = f"{config.path}: sweep"
    sweep_id = _digest(config.raw)
    folder = elements.experiment_dir(root / "reports", config.experiment) / "sweeps" / sweep_id
    folder.mkdir(parents=True, exist_ok=True)
    combinations, problems = [], []
    for number, overrides in enumerate(expand(config.raw["sweep"], where), start=1):
        path = folder / f"{number:02d}.yaml"
        path.write_text(
            f"# Combination {number} of sweep {sweep_id} ({config.path.name}): "
            f"{label(overrides)}\n"
            + yaml.safe_dump(apply(config.raw, overrides, where), sort_keys=False),
            encoding="utf-8",
        )
        try:
            combo = load_config(path, check_data=False, base_dir=config.path.parent)
        except ConfigError as exc:
            problems += [f"combination {number} ({label(overrides)}): {p}" for p in exc.problems]
            continue
        combo.data_shape, combo._digest = config.data_shape, config.data_digest  # same data
        combinations.append(Combination(number, overrides, combo))
    if problems:
        raise ConfigError(problems)
    return sweep_id, combinations


def finished_combinations(client: Any, experiment: str, sweep_id: str) -> dict[str, str]:
    """Combination id -> pipeline run id of the sweep's pipelines that finished earlier."""
    found = client.get_experiment_by_name(experiment)
    if found is None:
        return {}
    runs = client.search_runs(
        [found.experiment_id],
        f"tags.`{TAG_SWEEP}` = '{sweep_id}' and attributes.status = 'FINISHED'",
        max_results=5000,
    )
    return {r.data.tags[TAG_COMBINATION]: r.info.run_id for r in runs}


def training_runs(client: Any, experiment_id: str, parents: list[str]) -> list[str]:
    """The training run behind each pipeline run of `parents` (the original when reused)."""
    ids = []
    for parent in parents:
        children = client.search_runs(
            [experiment_id],
            f"tags.`mlflow.parentRunId` = '{parent}' and attributes.run_name = 'train'",
        )
        ids += [reuse.original_run_id(c) for c in children]
    return ids


def run_sweep(
    config: PipelineConfig,
    root: Path,
    jobs: int = 1,
    force: str | None = None,
    echo: Callable[[str], None] = print,
    config_label: str = "",
    executor: Any = None,
) -> SweepResult:
    """Run every combination not finished earlier, `jobs` pipelines at a time, then write the
    sweep's comparison report. A failing combination does not stop the others.

    Raises:
        ConfigError: as `plan`.
        PipelineInterrupted: Ctrl-C; running pipelines are marked KILLED, and starting the
            sweep again finishes what is missing.
    """
    sweep_id, combinations = plan(config, root)
    uri = store.tracking_uri(root)
    client = store.open_client(uri)
    if executor is not None:
        executor.check(uri, config.data_files)
    done = finished_combinations(client, config.experiment, sweep_id)
    result = SweepResult(sweep_id, config.experiment)
    result.already_done = [c.label for c in combinations if c.id in done]
    todo = [c for c in combinations if c.id not in done]
    echo(
        f"Sweep {sweep_id}: {len(combinations)} combination(s); {len(result.already_done)} "
        f"finished earlier, {len(todo)} to run, {jobs} at a time."
    )
    settings = {
        "project_root": root,
        "progress": False,
        "config_label": config_label or relative_label(config.path, root),
        "force": force,
        "claims": reuse.Claims(),
        "client": client,
        "threads": max(1, (os.cpu_count() or 1) // max(1, jobs)),
        "executor": executor,
    }
    _run_combinations(todo, sweep_id, settings, jobs, result, done, echo)
    result.report = _sweep_report(client, config.experiment, sweep_id, combinations, done, root)
    result.index = rebuild_index(client, root / "reports")
    return result


def _run_combinations(
    todo: list[Combination],
    sweep_id: str,
    settings: dict[str, Any],
    jobs: int,
    result: SweepResult,
    done: dict[str, str],
    echo: Callable[[str], None],
) -> None:
    """Run the pipelines of `todo`, `jobs` at a time; Ctrl-C marks the running ones KILLED."""
    runners: dict[int, PipelineRunner] = {}

    def execute(combo: Combination) -> str:
        runner = PipelineRunner(
            combo.config,
            echo=lambda line: echo(f"  #{combo.number:02d} {line}"),
            run_tags={TAG_SWEEP: sweep_id, TAG_COMBINATION: combo.id, TAG_LABEL: combo.label},
            **settings,
        )
        runners[combo.number] = runner
        echo(f"  #{combo.number:02d} {combo.label}")
        return runner.run().run_id

    with cf.ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="sweep") as pool:
        futures = {pool.submit(execute, c): c for c in todo}
        try:
            with interruptible():
                pending = set(futures)
                while pending:
                    finished, pending = cf.wait(pending, timeout=0.25)
                    for future in finished:
                        _settle(future, futures[future], result, done, echo)
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            for runner in list(runners.values()):
                runner.cancel()
            cf.wait(futures)
            raise PipelineInterrupted(
                "Sweep interrupted; running pipelines are marked KILLED. Start it again to "
                "finish the combinations that are missing."
            ) from None


def _sweep_report(
    client: Any,
    experiment: str,
    sweep_id: str,
    combinations: list[Combination],
    done: dict[str, str],
    root: Path,
) -> Path | None:
    """The comparison page of the sweep's training runs, or None when none trained."""
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    trained = training_runs(
        client, experiment_id, [done[c.id] for c in combinations if c.id in done]
    )
    if not trained:
        return None
    found = comparison.collect(client, experiment, trained)
    found.title = f"sweep {sweep_id} ({len(combinations)} combinations)"
    return comparison.render(found, root / "reports", f"sweep-{sweep_id}.html")


def _settle(
    future: cf.Future, combo: Combination, result: SweepResult, done: dict, echo: Callable
) -> None:
    """Record how one combination's pipeline ended."""
    try:
        done[combo.id] = future.result()
        result.ran.append(combo.label)
        echo(f"  #{combo.number:02d} finished")
    except MlwbError as exc:
        result.failed[combo.label] = str(exc)
        echo(f"  #{combo.number:02d} FAILED: {exc}")
