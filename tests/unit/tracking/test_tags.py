"""Every `mlwb.*` tag name is defined once in `tracking/tags.py`, documented there, and
written nowhere else as a literal (the source is read with `ast`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from mlworkbench.tracking import tags

PACKAGE = Path(tags.__file__).resolve().parents[1]
TAGS_FILE = Path(tags.__file__).resolve()
LITERAL_TAG = re.compile(r"^mlwb\.[A-Za-z]")


def tag_constants() -> dict[str, str]:
    return {name: value for name, value in vars(tags).items() if name.startswith("TAG_")}


def test_there_are_tag_constants_and_every_one_is_an_mlwb_string():
    constants = tag_constants()
    assert len(constants) >= 40
    for name, value in constants.items():
        assert isinstance(value, str), name
        assert LITERAL_TAG.match(value), f"{name} = {value!r} does not start with 'mlwb.'"
        assert value == value.strip() and " " not in value, name


def test_tag_values_are_distinct():
    by_value: dict[str, list[str]] = {}
    for name, value in tag_constants().items():
        by_value.setdefault(value, []).append(name)
    assert {v: n for v, n in by_value.items() if len(n) > 1} == {}


def test_only_the_prefix_constants_end_with_a_dot():
    constants = tag_constants()
    prefixes = {n: v for n, v in constants.items() if v.endswith(".")}
    assert set(prefixes) == {"TAG_GATE_PREFIX", "TAG_LOADTEST_PREFIX"}
    assert all(name.endswith("_PREFIX") for name in prefixes)


def test_every_tag_constant_has_a_docstring_right_after_it():
    tree = ast.parse(TAGS_FILE.read_text(encoding="utf-8"))
    body = tree.body
    seen = []
    for position, node in enumerate(body):
        if not isinstance(node, ast.Assign):
            continue
        (target,) = node.targets
        assert isinstance(target, ast.Name)
        if not target.id.startswith("TAG_"):
            continue
        seen.append(target.id)
        following = body[position + 1] if position + 1 < len(body) else None
        assert isinstance(following, ast.Expr), f"{target.id} has no docstring after it"
        assert isinstance(following.value, ast.Constant), target.id
        assert isinstance(following.value.value, str), target.id
        assert following.value.value.strip(), f"{target.id} has an empty docstring"
    assert sorted(seen) == sorted(tag_constants()), "every constant is a plain assignment"


def docstring_nodes(tree: ast.AST) -> set[int]:
    """Ids of the string constants that are docstrings: module, class and function
    docstrings and the attribute docstrings written after an assignment (any string that
    stands alone as a statement)."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def literal_tags(path: Path) -> list[str]:
    """`file:line: 'mlwb.…'` for every string constant of `path` (not a docstring) that
    starts with `mlwb.` and a letter; f-string parts are constants too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = docstring_nodes(tree)
    return [
        f"{path.name}:{node.lineno}: {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and LITERAL_TAG.match(node.value)
    ]


def test_the_scan_finds_a_literal_tag_and_ignores_docstrings_and_tag_constants(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(
        '"""Writes `mlwb.stage`."""\n'
        "from mlworkbench.tracking.tags import TAG_LOADTEST_PREFIX\n"
        'X = 1\n"""mlwb.attribute docstring"""\n'
        "def f(k):\n"
        '    """mlwb.function docstring"""\n'
        '    return {"mlwb.stage": "eda", f"{TAG_LOADTEST_PREFIX}{k}": 1, f"mlwb.gate.{k}": 2}\n',
        encoding="utf-8",
    )
    assert literal_tags(module) == ["example.py:7: 'mlwb.stage'", "example.py:7: 'mlwb.gate.'"]


def source_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.resolve() != TAGS_FILE)


def test_the_package_has_modules_to_scan():
    modules = source_modules()
    assert len(modules) > 50
    assert PACKAGE / "reports" / "index.py" in modules


@pytest.mark.parametrize("module", source_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_but_tags_writes_an_mlwb_tag_as_a_literal(module):
    assert literal_tags(module) == []
