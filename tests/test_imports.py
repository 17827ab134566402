"""Every module of the portal imports on its own, in a fresh interpreter.

An import cycle that only works because the factory happens to import one room first
breaks the first script, worker or test that imports a module directly. Which module is
imported first can matter only inside a cycle of module-level imports: a module outside
every cycle sees each cycle entered at one of its members, completely, before it goes on.
So the test reads the module-level imports of every module (``ast``), finds the cycles
(strongly connected components, packages and their submodules included), and imports
each member of a cycle alone in a child process (forked from an interpreter that has
loaded the third-party libraries and none of ours); one more child imports every module,
so a module outside the cycles that cannot be imported at all fails too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("portal", "cases", "citizens", "search")

CHILD = r"""
import importlib, os, sys, traceback
# Third-party libraries only: what the project imports is loaded by each child alone.
import flask, flask_babel, flask_limiter, flask_login, flask_migrate, flask_sqlalchemy  # noqa
import flask_wtf, sqlalchemy, wtforms  # noqa
import babel.dates, cryptography.fernet, email_validator, holidays, limits, phonenumbers  # noqa
import psycopg, redis, rq, sqlalchemy.dialects.postgresql, sqlalchemy.dialects.sqlite  # noqa
import jieba, openpyxl, pydantic, pypinyin, spectree, whoosh.index, zhconv, zxcvbn  # noqa
import spectree.plugins.flask_plugin  # noqa
# Each argument is one child's job: modules imported in that order, comma-separated.
failed, running, todo = [], {}, list(sys.argv[1:])
while todo or running:
    while todo and len(running) < (os.cpu_count() or 2):  # one child per core at a time
        job = todo.pop(0)
        pid = os.fork()
        if pid == 0:
            try:
                for name in job.split(","):
                    importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running[pid] = job
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid] if "," not in running[pid] else "(all modules in turn)")
    del running[pid]
print("FAILED:" + ",".join(failed))
"""


def project_modules() -> dict[str, Path]:
    """Every module of the four rooms, by dotted name."""
    names = {}
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # Alembic loads these itself, inside a migration context
            names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (not those under TYPE_CHECKING or
    inside functions)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.append(node)
            elif isinstance(node, ast.If):
                test = node.test
                name = getattr(test, "id", None) or getattr(test, "attr", None)
                if name != "TYPE_CHECKING":
                    walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                walk(node.body)
                for handler in node.handlers:
                    walk(handler.body)
                walk(node.orelse)
                walk(node.finalbody)
            elif isinstance(node, ast.ClassDef | ast.With):
                walk(node.body)

    walk(tree.body)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which project modules each module imports at module level (a submodule also
    imports its parent packages)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: list[str] = []
        for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
                continue
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            targets += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        parts = name.split(".")
        targets += [".".join(parts[:i]) for i in range(1, len(parts))]
        deps = set()
        for target in targets:
            pieces = target.split(".")
            for i in range(1, len(pieces) + 1):
                prefix = ".".join(pieces[:i])
                if prefix in modules and prefix != name:
                    deps.add(prefix)
        graph[name] = deps
    return graph


def modules_in_cycles(graph: dict[str, set[str]]) -> list[str]:
    """Members of every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cyclic: list[str] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in on_stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cyclic.extend(component)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cyclic)


def test_the_graph_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert modules_in_cycles(graph) == ["a", "b", "c"]
    modules = project_modules()
    found = import_graph(modules)
    # A package and the submodule it imports at its top are one cycle (the submodule
    # imports its package first).
    assert "cases.services" in modules_in_cycles(found)
    assert "cases" in found["cases.services.filing"]


def test_every_module_imports_on_its_own():
    modules = project_modules()
    assert len(modules) > 50
    cyclic = modules_in_cycles(import_graph(modules))
    assert cyclic, "the import graph lost every cycle: the analysis is broken"
    jobs = [",".join(sorted(modules)), *cyclic]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *jobs],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    failed = result.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert result.returncode == 0 and failed == "", (
        f"modules that do not import on their own: {failed}\n{result.stderr[-4000:]}"
    )
