"""typology/ is pure domain: it imports no Telegram, database, web or sibling app package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORBIDDEN = {"telegram", "sqlmodel", "sqlalchemy", "aiohttp", "storage", "handlers", "bot"}
PACKAGE = Path(__file__).resolve().parent.parent / "typology"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_modules_to_check() -> None:
    assert len(MODULES) >= 8


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_typology_imports_no_forbidden_package(path: Path) -> None:
    assert not _imports(path) & FORBIDDEN
