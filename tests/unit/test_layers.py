"""The import directions of the house style, checked on the source: a layer that imports one
it must not (outside ``if TYPE_CHECKING:``) fails here, not in review."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "resolvers", "schema", "services", "store", "domain")

#: package -> the project packages it may import at run time
ALLOWED: dict[str, set[str]] = {
    "domain": {"domain"},
    "store": {"store", "domain"},
    # api.auth: the principal becomes a domain type with the claims model (issue 11)
    "schema": {"schema", "domain", "api"},
    "resolvers": {"resolvers", "schema", "services", "domain", "api"},
    "services": {"services", "domain", "store"},
}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level package) of every import that runs, skipping TYPE_CHECKING blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module.split(".")[0]))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, imported in runtime_imports(ast.parse(path.read_text())):
            if imported in PACKAGES and imported not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_forbidden_import_and_skips_type_only_ones() -> None:
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                     "    from resolvers import x\nimport store.rollups\n"
                     "def f():\n    from services import y\n")
    assert [name for _, name in runtime_imports(tree)] == ["typing", "store", "services"]


#: what the request context's ``services`` may be asked for in resolvers/ and schema/: use
#: cases (their methods), never a repository
_REPOSITORY_REACH = re.compile(
    r"services\.(rollups|ledger|configuration|aggregates|queue|locks|workers|dead_letters|store)"
    r"\b|services\.segments\.(segments|risk|rollups|configuration)\b")


@pytest.mark.parametrize("package", ["resolvers", "schema"])
def test_resolvers_and_types_reach_use_cases_never_repositories(package: str) -> None:
    wrong = [f"{path.relative_to(ROOT)}: {match.group(0)}"
             for path in sorted((ROOT / package).rglob("*.py"))
             for match in _REPOSITORY_REACH.finditer(path.read_text())]
    assert not wrong, "\n".join(wrong)


_WIRED = {"Ingestion", "SegmentService", "DiscoveryService", "InsightsService", "JobRunner"}


def test_only_the_composition_root_builds_the_pipeline_use_cases() -> None:
    builders = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in _WIRED):
                    builders.add(str(path.relative_to(ROOT)))
    assert builders == {"api/bootstrap.py"}
