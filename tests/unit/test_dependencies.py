"""Every library Accord imports is declared in pyproject.toml, bounded above, and pinned in
requirements.lock: an import that works only because another package happens to pull its
library in (as `click` did through Flask) breaks on the day that package stops doing so."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPLICATION = ("workflow", "web", "config", "migrations")
FIRST_PARTY = {"accord", "tests"}

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*([^;]*)")


def normalized(name: str) -> str:
    """A distribution's name as PEP 503 compares them (Flask-WTF, flask_wtf: flask-wtf)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> dict[str, str]:
    """Each requirement's distribution name and its version specifier."""
    parsed = (_REQUIREMENT.match(line) for line in requirements)
    return {normalized(m[1]): m[2].strip() for m in parsed if m}


RUNTIME = declared(PROJECT["dependencies"])
TEST = declared(PROJECT["optional-dependencies"]["test"])


def imported_modules(*folders: str) -> dict[str, str]:
    """The top-level modules imported anywhere under `folders` (absolute imports only), each
    with one place that imports it."""
    found: dict[str, str] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def undeclared(modules: dict[str, str], allowed: set[str]) -> list[str]:
    """Third-party modules whose installed distribution is not among `allowed`."""
    distributions = packages_distributions()
    problems = []
    for module, where in sorted(modules.items()):
        if module in FIRST_PARTY or module in sys.stdlib_module_names:
            continue
        providers = {normalized(name) for name in distributions.get(module, [])}
        if not providers & allowed:
            problems.append(f"{module} ({where}) comes from {sorted(providers) or 'nothing installed'}")
    return problems


def test_every_library_the_application_imports_is_a_declared_dependency():
    assert undeclared(imported_modules(*APPLICATION), set(RUNTIME)) == []


def test_every_library_the_tests_import_is_declared_for_them():
    assert undeclared(imported_modules("tests"), set(RUNTIME) | set(TEST)) == []


def test_the_scan_finds_an_undeclared_library():
    # click is installed (Flask needs it), so only the declaration can make this pass.
    assert undeclared({"click": "web/cli.py:1"}, set(RUNTIME) - {"click"}) == [
        "click (web/cli.py:1) comes from ['click']"
    ]


def test_every_dependency_has_an_upper_bound():
    unbounded = [name for name, spec in {**RUNTIME, **TEST}.items() if "<" not in spec]
    assert unbounded == []


def test_the_lock_pins_every_declared_dependency():
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pinned = {normalized(name) for name in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", lock, re.MULTILINE)}
    # Regenerate it as the README says (uv pip compile ...) after changing pyproject.toml.
    assert sorted((set(RUNTIME) | set(TEST)) - pinned) == []
