"""The house's layering: the core imports no room; rooms meet through public modules.

``portal/`` is the core (factory, configuration, database, users, auth, admin of the
core's tables, the generic outbox). It never imports ``cases``, ``citizens`` or
``search`` — at module level, under ``TYPE_CHECKING`` or inside a function — except in
the factory functions of ``portal/__init__.py`` that register the rooms. A room lends
the core its parts (admin pages, message texts, inbox links, template globals,
commands) from its own ``init_app``. The checks read the source with ``ast``, so an
import that only runs on some path is caught too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("cases", "citizens", "search")
# The factory functions that may name a room: they register the rooms on the app.
FACTORY = {"portal/__init__.py": {"register_rooms", "register_hooks"}}


def python_files(package: str) -> Iterator[Path]:
    """Every module under ``package`` (a folder path such as ``search/engine`` too)."""
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def imports(path: Path) -> Iterator[tuple[str, int, str | None]]:
    """``(module, line, enclosing function)`` of every import in ``path``, at any depth;
    ``importlib.import_module("...")`` and ``__import__("...")`` with a literal count too."""

    def walk(node: ast.AST, function: str | None) -> Iterator[tuple[str, int, str | None]]:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = function or child.name  # the outermost function names the place
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, function
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                yield child.module, child.lineno, function
            elif isinstance(child, ast.Call) and child.args:
                name = getattr(child.func, "attr", None) or getattr(child.func, "id", None)
                first = child.args[0]
                if (
                    name in ("import_module", "__import__")
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    yield first.value, child.lineno, function
            yield from walk(child, inner)

    yield from walk(ast.parse(path.read_text(encoding="utf-8"), str(path)), None)


def room_of(module: str) -> str:
    return module.split(".", 1)[0]


def test_the_core_imports_no_room():
    found = []
    for path in python_files("portal"):
        relative = path.relative_to(ROOT).as_posix()
        allowed = FACTORY.get(relative, set())
        for module, line, function in imports(path):
            if room_of(module) in ROOMS and function not in allowed:
                found.append(f"{relative}:{line} imports {module} (in {function or 'module'})")
    assert not found, "the core reaches into a room:\n" + "\n".join(found)


def test_the_scan_sees_imports_inside_functions_and_type_checking(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from citizens.models import Client\n"
        "def f():\n    import cases.models\n"
        "    def g():\n        from search import query\n"
        "importlib.import_module('cases.views')\n"
    )
    seen = {(module, function) for module, _line, function in imports(sample)}
    assert {
        ("citizens.models", None),
        ("cases.models", "f"),
        ("search", "f"),
        ("cases.views", None),
    } <= seen


def test_rooms_never_import_another_rooms_views():
    """Rooms meet through models, services and queries; pages stay in their own room."""
    found = []
    for room in ROOMS:
        for path in python_files(room):
            for module, line, _function in imports(path):
                other = room_of(module)
                last = module.rsplit(".", 1)[-1]
                if other in ROOMS and other != room and last.endswith("views"):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not found, "\n".join(found)


def test_the_factory_registers_every_room(app: Flask):
    assert {"main", "auth", "admin", "notifications", "cases", "catalogue", "citizens"} <= set(
        app.blueprints
    )
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    # Pages that moved between rooms keep their addresses.
    assert {
        str(rule): rule.endpoint
        for rule in app.url_map.iter_rules()
        if str(rule) in ("/register", "/reset", "/account/password", "/admin/categories")
    } == {
        "/register": "citizens.register",
        "/reset": "auth.reset_request",
        "/account/password": "auth.change_password",
        "/admin/categories": "catalogue.categories",
    }
    assert "catalogue.calendar" in endpoints
    assert {"cases", "demo", "users", "changes", "notifications"} <= set(app.cli.commands)
    assert "event_label" in app.jinja_env.globals


def test_the_search_rooms_layers():
    """``search.engine`` imports only ``portal`` (so any room may call it); ``cases`` and
    ``citizens`` reach search only through ``search.engine``; the rooms' rows become
    documents in ``search.sources``, which with ``search.views`` and ``search.cli`` may
    import ``cases`` and ``citizens``."""
    found = []
    for path in python_files("search/engine"):
        for module, line, _function in imports(path):
            room = room_of(module)
            if room in ("cases", "citizens") or (
                room == "search" and not module.startswith("search.engine")
            ):
                found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    for room in ("cases", "citizens"):
        for path in python_files(room):
            for module, line, _function in imports(path):
                if room_of(module) == "search" and not module.startswith("search.engine"):
                    found.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert not found, "search's layers are crossed:\n" + "\n".join(found)
