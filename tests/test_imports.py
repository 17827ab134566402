"""Every module of the portal imports on its own, in a fresh interpreter.

An import cycle that only works because the factory happens to import one room first
breaks the first script, worker or test that imports a module directly. One child
process per module (forked from an interpreter that has loaded the third-party libraries
and none of ours) imports it alone and reports what failed.
"""

from __future__ import annotations

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
failed, running, todo = [], {}, list(sys.argv[1:])
while todo or running:
    while todo and len(running) < (os.cpu_count() or 2):  # one child per core at a time
        name = todo.pop(0)
        pid = os.fork()
        if pid == 0:
            try:
                importlib.import_module(name)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        running[pid] = name
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]
print("FAILED:" + ",".join(failed))
"""


def project_modules() -> list[str]:
    names = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue  # Alembic loads these itself, inside a migration context
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_on_its_own():
    modules = project_modules()
    assert len(modules) > 50
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    failed = result.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert result.returncode == 0 and failed == "", (
        f"modules that do not import on their own: {failed}\n{result.stderr[-4000:]}"
    )
