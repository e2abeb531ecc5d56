"""Notebook parameter contracts.

Every pipeline notebook has one cell tagged `parameters` whose lines read
`name: type = default  # what it controls`. That cell is the notebook's contract: the runner
refuses unknown keys and values of the wrong type before any kernel starts, because Papermill
alone only warns and a typo would otherwise yield a "successful" run with the default value.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import nbformat

from mlworkbench.exceptions import NotebookContractError

# Deferred imports: papermill loads inside the functions that use them, so that importing this
# module (from the command line or a notebook) stays fast.

SIMPLE_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "list": (list,),
    "dict": (dict,),
}
"""Annotation names a parameter may use, with the Python types its values may have."""


@dataclass(frozen=True)
class Parameter:
    """One declared notebook parameter."""

    name: str
    type_name: str
    default: str
    help: str

    def accepts(self, value: Any) -> bool:
        """True when `value` fits this parameter's declared type."""
        return value_matches_type(value, self.type_name)


def value_matches_type(value: Any, type_name: str) -> bool:
    """Check `value` against an annotation such as `int`, `list[str]` or `dict`."""
    base, _, inner = type_name.partition("[")
    allowed = SIMPLE_TYPES.get(base)
    if allowed is None:
        return True  # an annotation we do not model; papermill passes it through unchecked
    if isinstance(value, bool) and bool not in allowed:
        return False  # True is an int in Python, but never a sensible count or ratio
    if not isinstance(value, allowed):
        return False
    if base == "list" and inner:
        item_type = inner.rstrip("]")
        return all(value_matches_type(item, item_type) for item in value)
    return True


def _parameters_cell(nb: nbformat.NotebookNode, path: Path) -> str:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise NotebookContractError(
            f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}."
        )
    return cells[0].source


def _declared_names(source: str, path: Path) -> list[str]:
    """Every name the parameters cell assigns, checked to be in the annotated form."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise NotebookContractError(f"{path}: parameters cell is not valid Python: {exc}") from exc
    names, problems = [], []
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
            if node.value is None:
                problems.append(f"{path}: parameter '{node.target.id}' has no default value.")
        else:
            problems.append(
                f"{path}: line {node.lineno} of the parameters cell is not of the form "
                "`name: type = default  # help`."
            )
    if problems:
        raise NotebookContractError(problems)
    return names


@lru_cache(maxsize=64)
def _read_contract(path: Path, mtime: float) -> dict[str, Parameter]:
    import papermill

    if not path.is_file():
        raise NotebookContractError(f"Notebook '{path}' does not exist.")
    nb = nbformat.read(path, as_version=4)
    names = _declared_names(_parameters_cell(nb, path), path)
    inspected = papermill.inspect_notebook(str(path))
    unreadable = [n for n in names if n not in inspected]
    if unreadable:
        raise NotebookContractError(
            f"{path}: Papermill cannot read the declaration of {', '.join(unreadable)}; write "
            "each as `name: type = default  # help` with one of the types "
            f"{', '.join(SIMPLE_TYPES)} (or list[str] and the like) and no '=' in the help."
        )
    return {
        name: Parameter(
            name=name,
            type_name=inspected[name]["inferred_type_name"],
            default=inspected[name]["default"],
            help=inspected[name]["help"],
        )
        for name in names
    }


def read_contract(notebook: str | Path) -> dict[str, Parameter]:
    """The parameters a notebook declares, by name, in the order of its parameters cell."""
    path = Path(notebook).resolve()
    mtime = path.stat().st_mtime if path.exists() else 0.0
    return _read_contract(path, mtime)


def check_parameters(notebook: str | Path, values: Mapping[str, Any], where: str = "") -> list[str]:
    """Every problem with `values` as parameters of `notebook`, as readable sentences.

    Args:
        notebook: the notebook whose contract applies.
        values: the parameters about to be passed.
        where: prefix naming the source of the values (config file and stage).
    """
    contract = read_contract(notebook)
    prefix = f"{where}: " if where else ""
    problems = []
    for key, value in values.items():
        if key not in contract:
            problems.append(
                f"{prefix}unknown parameter '{key}' for notebook {Path(notebook).name}. "
                f"Allowed: {', '.join(contract)}."
            )
        elif not contract[key].accepts(value):
            problems.append(
                f"{prefix}parameter '{key}' must be {contract[key].type_name}, "
                f"got {type(value).__name__} {value!r}."
            )
    return problems
