"""The layers keep to their places: the engine imports no web framework, no web code and no
migrations; no two services import each other, however indirectly; the pages import nothing of
the API (what both use lives in `accord.web.errors`).

Imports are read from the source with `ast` (every import, including those inside functions),
so a module that imports another only when called is caught as well."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest


def modules_of(package: str) -> dict[str, Path]:
    """Every module of a package and its subpackages, by dotted name, with its source file."""
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package} is not a package"
    found = {}
    for root in map(Path, spec.submodule_search_locations):
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imported_modules(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """The dotted names a module's source imports: `from a import b` names both `a` and `a.b`
    (b may be a submodule); relative imports are resolved against the module's package."""
    package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(package: str) -> dict[str, set[str]]:
    """Which modules of `package` each of its modules imports."""
    modules = modules_of(package)
    return {
        name: imported_modules(name, path.read_text(), is_package=path.name == "__init__.py") & modules.keys()
        for name, path in modules.items()
    }


def test_the_import_reader_resolves_relative_imports_and_submodules():
    source = "from ..api.errors import STATUS\nfrom .. import api\ndef late():\n    from .auth import x\n"
    found = imported_modules("accord.web.pages.admin", source)
    assert {"accord.web.api.errors", "accord.web.api", "accord.web.pages.auth"} <= found


def test_the_engine_imports_no_flask_no_web_code_and_no_migrations():
    # A fresh interpreter: this one has imported Flask and the web layer for other tests.
    probe = (
        "import importlib, pkgutil, sys, accord.workflow as w\n"
        "for m in pkgutil.walk_packages(w.__path__, 'accord.workflow.'): importlib.import_module(m.name)\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert "accord.workflow.services.admin" in loaded  # every module of the engine was imported
    offending = [
        name for name in loaded
        if name.split(".")[0] in {"flask", "werkzeug", "flask_login", "flask_wtf", "flask_babel"}
        or name.startswith(("accord.web", "accord.migrations", "alembic"))
    ]
    assert offending == []


def test_no_service_imports_another_in_a_cycle():
    # The package itself is a node: it imports every service, so none may import it back.
    graph = import_graph("accord.workflow.services")
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as cycle:
        pytest.fail(f"services import each other in a cycle: {' -> '.join(cycle.args[1])}")


def test_the_pages_import_nothing_of_the_api():
    pages = {name: path for name, path in modules_of("accord.web").items() if name.startswith("accord.web.pages")}
    offending = {
        name: sorted(i for i in imported_modules(name, path.read_text(), is_package=path.name == "__init__.py")
                     if i == "accord.web.api" or i.startswith("accord.web.api."))
        for name, path in pages.items()
    }
    assert {name: found for name, found in offending.items() if found} == {}
