"""Migrations: one head, upgrade from empty, models match, downgrade works.

Each backend gets a database of its own, made empty for this test.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from portal import create_app
from portal.db import db

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")


def fresh_postgres_database() -> Iterator[str]:
    url = make_url(PG_URL)
    name = f"portal_migrations_{uuid.uuid4().hex[:8]}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite"] + (["postgresql"] if PG_URL else []))
def empty_app(request, tmp_path) -> Iterator[Flask]:
    if request.param == "postgresql":
        urls = fresh_postgres_database()
        url = next(urls)
    else:
        urls, url = None, f"sqlite:///{tmp_path / 'migrations.db'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": url,
            "SECRET_KEY": "x",
            "LOG_LEVEL": "WARNING",
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    if urls is not None:
        next(urls, None)


def test_one_head(empty_app):
    with empty_app.app_context():
        script = ScriptDirectory.from_config(empty_app.extensions["migrate"].migrate.get_config())
        assert len(script.get_heads()) == 1


def test_upgrade_matches_models_and_downgrade_empties(empty_app):
    with empty_app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "clients", "cases", "case_events", "departments"} <= tables
        with db.engine.connect() as conn, warnings.catch_warnings():
            # SQLite cannot reflect the PostgreSQL-only expression index of search_documents
            # (it is not made there); alembic says so and skips it.
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified "
                                    "expression-based index", UserWarning)
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

        upgrade()  # and back up again, as a deploy after a rollback would
        assert "cases" in inspect(db.engine).get_table_names()
