"""The import direction of ARCHITECTURE.md, read from each module's source with ast."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "typology", "storage", "sandbox", "web")

# Top-level names each package must not import. `bot` is added for every package but bot below.
FORBIDDEN: dict[str, frozenset[str]] = {
    "typology": frozenset(
        {"telegram", "sqlmodel", "sqlalchemy", "aiohttp", "alembic"}
        | {"storage", "handlers", "bot", "sandbox", "web"}
    ),
    "storage": frozenset({"telegram", "aiohttp", "handlers", "bot", "sandbox", "web"}),
    "handlers": frozenset({"bot", "sandbox", "web"}),
    "sandbox": frozenset({"bot", "handlers", "typology", "storage", "web"}),
    # The web pages sit beside handlers/: storage, typology and the handlers' shared helpers.
    "web": frozenset({"bot", "sandbox"}),
    "bot": frozenset(),
}
NEVER_IMPORTED = frozenset({"bench", "tests"})


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in source, relative ones resolved."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                # In a package's __init__, level 1 is the package itself.
                drop = node.level - 1 if is_package else node.level
                base = base[: len(base) - drop] if drop else base
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in {"import_module", "__import__"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def violations(package: str, source: str, module: str, *, is_package: bool) -> list[str]:
    forbidden = FORBIDDEN[package] | NEVER_IMPORTED | ({"bot"} if package != "bot" else set())
    return [
        f"line {line}: {package}/ must not import {target}"
        for line, target in imported_modules(source, module, is_package=is_package)
        if target.split(".")[0] in forbidden
    ]


def project_modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def test_every_package_is_scanned() -> None:
    scanned = {path.relative_to(ROOT).parts[0] for path in project_modules()}
    assert scanned == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_import_direction(package: str) -> None:
    problems: list[str] = []
    for path in project_modules():
        if path.relative_to(ROOT).parts[0] != package:
            continue
        source = path.read_text(encoding="utf-8")
        found = violations(
            package, source, module_name(path), is_package=path.name == "__init__.py"
        )
        problems.extend(f"{path.relative_to(ROOT)}:{problem}" for problem in found)
    assert not problems, "imports against ARCHITECTURE.md:\n" + "\n".join(problems)


def test_no_module_shadows_stdlib_logging() -> None:
    shadows = [
        str(path.relative_to(ROOT))
        for folder in (*PACKAGES, "bench", "tests", "scripts")
        for path in (ROOT / folder).rglob("logging.py")
    ]
    assert not shadows, f"modules named logging.py shadow the stdlib: {shadows}"


@pytest.mark.parametrize(
    ("package", "module", "is_package", "source", "expected"),
    [
        ("typology", "typology.scoring", False, "import sqlalchemy.orm", "sqlalchemy.orm"),
        ("typology", "typology.scoring", False, "from ..storage import x", "storage"),
        ("typology", "typology.charts", False, "import web.pages", "web.pages"),
        ("typology", "typology", True, "from ..bot import settings", "bot"),
        ("storage", "storage.models", False, "from telegram import Update", "telegram"),
        ("storage", "storage.models", False, "from tests import helpers", "tests"),
        ("handlers", "handlers.journey.start", False, "from bot.cli import main", "bot.cli"),
        ("handlers", "handlers.journey.start", False, "from sandbox import server", "sandbox"),
        ("sandbox", "sandbox.server", False, "import typology", "typology"),
        ("sandbox", "sandbox.server", False, "import_module('storage.db')", "storage.db"),
        ("sandbox", "sandbox.webapp", False, "from web.initdata import verify", "web.initdata"),
        ("web", "web.routes", False, "from bot.settings import Settings", "bot.settings"),
        ("web", "web.routes", False, "from sandbox.server import X", "sandbox.server"),
        ("handlers", "handlers.start", False, "from web.routes import app_url", "web.routes"),
        ("bot", "bot.cli", False, "import bench.run", "bench.run"),
    ],
)
def test_checker_catches(
    package: str, module: str, is_package: bool, source: str, expected: str
) -> None:
    found = violations(package, source, module, is_package=is_package)
    assert len(found) == 1
    assert found[0].endswith(f"must not import {expected}")


@pytest.mark.parametrize(
    ("package", "module", "source"),
    [
        ("handlers", "handlers.journey.start", "from telegram.ext import CommandHandler"),
        ("handlers", "handlers.journey.start", "from storage.queries import record_answer"),
        ("handlers", "handlers.journey.start", "from . import keyboards"),
        ("storage", "storage.models", "from typology.types import TypeId"),
        ("typology", "typology.group", "import pandas as pd"),
        ("bot", "bot.app", "from handlers import start\nfrom .settings import Settings"),
        ("sandbox", "sandbox.server", "from aiohttp import web\nfrom .state import State"),
        ("web", "web.routes", "from handlers.context import Services\nfrom storage import taps"),
        ("web", "web.api", "from typology.scoring import Classifier\nfrom . import initdata"),
        ("bot", "bot.monitor", "from web.routes import add_web_routes"),
    ],
)
def test_checker_allows(package: str, module: str, source: str) -> None:
    assert violations(package, source, module, is_package=False) == []


# Inside handlers/: features import the shared core, never each other; the timeline alone may
# use the web session (it posts its summary at the automatic close). The core imports no feature.
FEATURE_IMPORTS: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "journey": frozenset({"core", "journey"}),
    "websession": frozenset({"core", "websession"}),
    "timeline": frozenset({"core", "timeline", "websession"}),
}
# Pure modules: planning and rendering that need no Telegram, no database and no I/O.
PURE_MODULES = ("handlers/timeline/plan.py", "handlers/websession/summary_text.py")


def feature_violations(feature: str, source: str, module: str, *, is_package: bool) -> list[str]:
    """Imports of another handlers feature than FEATURE_IMPORTS allows for `feature`."""
    problems: list[str] = []
    for line, target in imported_modules(source, module, is_package=is_package):
        parts = target.split(".")
        if parts[0] != "handlers" or len(parts) < 2:
            continue
        if parts[1] not in FEATURE_IMPORTS[feature]:
            problems.append(f"line {line}: handlers.{feature} must not import {target}")
    return problems


def test_handlers_are_grouped_by_feature() -> None:
    loose = sorted(
        path.name for path in (ROOT / "handlers").glob("*.py") if path.name != "__init__.py"
    )
    assert not loose, f"modules outside a feature package: {loose}"
    assert {p.name for p in (ROOT / "handlers").iterdir() if (p / "__init__.py").exists()} == set(
        FEATURE_IMPORTS
    )


@pytest.mark.parametrize("feature", sorted(FEATURE_IMPORTS))
def test_feature_import_direction(feature: str) -> None:
    problems: list[str] = []
    for path in sorted((ROOT / "handlers" / feature).rglob("*.py")):
        found = feature_violations(
            feature,
            path.read_text(encoding="utf-8"),
            module_name(path),
            is_package=path.name == "__init__.py",
        )
        problems.extend(f"{path.relative_to(ROOT)}:{problem}" for problem in found)
    assert not problems, "imports between features:\n" + "\n".join(problems)


@pytest.mark.parametrize("relative", PURE_MODULES)
def test_pure_modules_need_no_telegram(relative: str) -> None:
    path = ROOT / relative
    banned = {"telegram", "sqlmodel", "sqlalchemy", "aiohttp", "storage"}
    found = [
        f"line {line}: {target}"
        for line, target in imported_modules(
            path.read_text(encoding="utf-8"), module_name(path), is_package=False
        )
        if target.split(".")[0] in banned
    ]
    assert not found, f"{relative} must stay pure:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("feature", "source", "allowed"),
    [
        ("journey", "from handlers.websession import live", False),
        ("core", "from handlers.journey.start import on_start", False),
        ("websession", "from handlers.timeline import plan", False),
        ("timeline", "from handlers.websession import summary", True),
        ("journey", "from handlers.core.flow import transaction", True),
    ],
)
def test_feature_checker(feature: str, source: str, allowed: bool) -> None:
    found = feature_violations(feature, source, f"handlers.{feature}.x", is_package=False)
    assert (found == []) is allowed


def test_web_uses_only_the_handlers_core() -> None:
    # The pages share the handlers' core (services, texts, flow helpers); what a feature does
    # for them (the result message) is wired in by bot/, so no feature depends on the web.
    problems = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        found = [
            f"{path.relative_to(ROOT)}: line {line}: {target}"
            for line, target in imported_modules(
                path.read_text(encoding="utf-8"),
                module_name(path),
                is_package=path.name == "__init__.py",
            )
            if target.split(".")[0] == "handlers" and target.split(".")[:2] != ["handlers", "core"]
        ]
        problems.extend(found)
    assert not problems, "web/ imports a handlers feature:\n" + "\n".join(problems)
