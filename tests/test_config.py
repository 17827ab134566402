"""Configuration order: defaults, instance file, PORTAL_* variables, then the caller's dict."""

from __future__ import annotations

import stat

from portal import create_app


def test_defaults_and_generated_secret_key(tmp_path, monkeypatch):
    for name in ("PORTAL_DATABASE_URL", "PORTAL_SECRET_KEY", "PORTAL_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.db'}"
    key_file = tmp_path / "secret_key"
    assert app.config["SECRET_KEY"] == key_file.read_text() and len(app.config["SECRET_KEY"]) == 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The key survives a restart, so sessions do too.
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["SECRET_KEY"] == app.config[
        "SECRET_KEY"
    ]
    assert app.config["SEARCH_BACKEND"] == "whoosh" and app.config["REDIS_URL"] is None


def test_instance_file_then_environment(tmp_path, monkeypatch):
    (tmp_path / "portal.cfg").write_text(
        'MAIL_SERVER = "mail.instance.example"\nSEARCH_BACKEND = "postgresql"\n'
    )
    monkeypatch.setenv("PORTAL_MAIL_SERVER", "mail.env.example")
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://u@db.example/portal")
    monkeypatch.setenv("PORTAL_REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-env")
    monkeypatch.setenv("PORTAL_SESSION_COOKIE_SECURE", "false")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["MAIL_SERVER"] == "mail.env.example"
    assert app.config["SEARCH_BACKEND"] == "postgresql"  # from the instance file
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/portal"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert not (tmp_path / "secret_key").exists()
