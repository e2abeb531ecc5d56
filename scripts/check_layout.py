"""Size and import checks of the package, run by `make lint` and the test suite.

- every module at most 400 lines, every function at most 60 (from `def` to its last line);
- an import inside a function only in a module that says why, in a comment starting with
  `# Deferred imports:` (heavy libraries, or workbench modules that load them, kept off the
  import path of the CLI or of a notebook's first cell).

Exit code 1 with one line per problem, 0 when everything passes.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
DEFERRED_NOTE = "# Deferred imports:"
PACKAGE = Path(__file__).resolve().parents[1] / "src" / "mlworkbench"


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _inner_imports(function: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(function):
        if isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or ""
        elif isinstance(node, ast.Import):
            yield node.lineno, node.names[0].name


def module_problems(path: Path, package: Path = PACKAGE) -> list[str]:
    """Every size and import problem of one module."""
    text = path.read_text()
    name = path.relative_to(package.parent).as_posix()
    problems = []
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > MAX_MODULE_LINES:
        problems.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES}); split it by concern")
    tree = ast.parse(text)
    noted = any(line.startswith(DEFERRED_NOTE) for line in text.splitlines())
    for function in _functions(tree):
        length = function.end_lineno - function.lineno + 1
        if length > MAX_FUNCTION_LINES:
            problems.append(
                f"{name}:{function.lineno}: {function.name} has {length} lines "
                f"(at most {MAX_FUNCTION_LINES})"
            )
        for line, module in _inner_imports(function):
            if not noted:
                problems.append(
                    f"{name}:{line}: import of {module} inside a function without a "
                    f"'{DEFERRED_NOTE}' comment saying why"
                )
    return problems


def main() -> int:
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in module_problems(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
