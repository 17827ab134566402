"""Configuration: defaults here, then ``instance/portal.cfg``, then ``PORTAL_*`` variables.

Environment variables drop the prefix: ``PORTAL_DATABASE_URL`` sets ``DATABASE_URL``.
Values that parse as JSON (``true``, ``5``) are taken as such.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


class DefaultConfig:
    """Settings a fresh checkout runs with."""

    DATABASE_URL: str | None = None  # default: SQLite file in the instance folder
    SECRET_KEY: str | None = None  # default: generated once into the instance folder
    MAIL_BACKEND = "smtp"  # or "log": e-mails are written to the log (make run's demo)
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_DEFAULT_SENDER = "portal@localhost"
    SEARCH_BACKEND = "whoosh"  # or "postgresql"
    # Search (search/engine): the Whoosh index folder (default <instance>/search-index; a
    # relative path is taken relative to the instance folder); how long a process waits
    # for another's index writer before leaving the change to the next catch-up (s);
    # how a commit that changed searchable rows catches the index up: "thread" (a
    # background thread per process, the request does not wait), "inline" (right after
    # the commit, in the request) or "off" (only the catch-up loop below); None: "thread",
    # or "inline" when TESTING; SEARCH_CATCH_UP_AFTER_COMMIT = False also means "off";
    # how often `flask search catch-up --every` and `make run` catch up what was left (s).
    SEARCH_INDEX_DIR: str | None = None
    SEARCH_LOCK_TIMEOUT = 5.0
    SEARCH_CATCH_UP: str | None = None
    SEARCH_CATCH_UP_AFTER_COMMIT = True
    SEARCH_CATCH_UP_INTERVAL = 5
    # Processes analysing documents in a full reindex (None: the cores, at most 4).
    SEARCH_REINDEX_PROCS: int | None = None
    # The public statistics page (/stats) is computed at most once per this many seconds.
    REPORTS_STATS_CACHE_SECONDS = 600
    # The figures of /reports and /reports/workload are kept per process (rendered HTML,
    # per reader scope and language) while no case changes, at most this many seconds and
    # never past the minute (cases/reports/page_cache.py). 0: off; None: 60, off when TESTING.
    REPORTS_CACHE_SECONDS: int | None = None
    REDIS_URL: str | None = None
    TIMEZONE = "Asia/Shanghai"

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "中文", "en": "English"}

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "portal_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024  # five attachments of 10 MiB and the form
    PREFERRED_URL_SCHEME = "http"

    # Werkzeug's default (scrypt); tests set a cheap method to stay fast.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)
    # Lookup codes are random (40 bits) and guessing is rate-limited: a lighter hash keeps
    # /track and filing fast while a leaked table still resists brute force.
    TRACKING_CODE_HASH_METHOD = "pbkdf2:sha256:20000"
    PASSWORD_MIN_LENGTH = 8
    LOGIN_RATE_LIMIT = "10 per minute"
    REGISTER_RATE_LIMIT = "5 per hour"
    FILING_RATE_LIMIT = "20 per hour"
    TRACK_RATE_LIMIT = "10 per minute"
    RATING_RATE_LIMIT = "20 per minute"  # ratings posted, per address (per account signed in)
    PHONE_CODE_RATE_LIMIT = "5 per hour"
    PHONE_GUESS_RATE_LIMIT = "20 per hour"  # codes entered, per account
    LOGIN_LOCKOUT_THRESHOLD = 5
    LOGIN_LOCKOUT_MINUTES = 15
    RATELIMIT_ENABLED = True
    # Shared by every worker: the database (portal/ratelimit.py), or Redis when REDIS_URL
    # is set. "memory://" counts per process: tests only.
    RATELIMIT_STORAGE_URI = "db://"
    RATELIMIT_HEADERS_ENABLED = True
    PAGE_SIZE = 20

    # The working day deadlines count in, and when a running deadline counts as near.
    WORKDAY_START = "09:00"
    WORKDAY_END = "17:00"
    DUE_SOON_HOURS = 24
    # How often `flask cases sweep --every` and `make run` mark deadlines (seconds).
    SWEEP_INTERVAL = 300

    # Files attached to cases: checked by their content, stored on disk (not in the
    # database). ATTACHMENT_DIR defaults to <instance>/attachments; a relative path is
    # taken relative to the instance folder.
    ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    ATTACHMENT_MAX_FILES = 5
    ATTACHMENT_DIR: str | None = None

    # Notifications (portal/notifications). The outbox is delivered right after the
    # commit (inline), or by RQ workers on the queue "notifications" when REDIS_URL is
    # set; `flask cases sweep --every` / `flask notifications deliver` send retries.
    NOTIFY_INLINE = True  # without Redis: deliver after the commit (False: wait for a sweep)
    NOTIFY_MAX_ATTEMPTS = 8  # then the message is marked failed
    NOTIFY_RETRY_BASE_SECONDS = 60  # backoff: 1, 2, 4 ... minutes
    NOTIFY_RETRY_MAX_SECONDS = 3600  # ... at most an hour between attempts
    NOTIFY_LEASE_SECONDS = 300  # a "sending" claim older than this is taken over
    # The portal's external address: every link in every message starts with it, whether
    # the message is made in a request or by the sweep (`make run` sets it from PORT).
    # The former name PUBLIC_BASE_URL is still read when BASE_URL is not set.
    BASE_URL: str | None = None  # default: http://127.0.0.1:5000
    MAIL_USE_TLS = False  # STARTTLS
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_TIMEOUT = 10  # seconds
    SMS_GATEWAY: str | None = None  # "package.module.Class"; default: log (phone masked)

    # Clients' self-service (citizens/account_views.py): password reset by e-mail and
    # e-mail verification links, signed with SECRET_KEY and valid for so many seconds.
    RESET_RATE_LIMIT = "5 per hour"
    PASSWORD_RESET_MAX_AGE = 3600
    EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600


def load_config(app: Flask, config: dict | None) -> None:
    """Fill ``app.config`` in the documented order; ``config`` (tests) wins last."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("portal.cfg", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if config:
        app.config.update(config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'portal.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["DATABASE_URL"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # SQLite is shared by threads of the dev server and the browser tests, and by the
        # processes `make run` starts (two workers, the sweep, the search catch-up): a
        # writer waits up to 30 s for another's lock instead of failing after 5 s.
        app.config.setdefault(
            "SQLALCHEMY_ENGINE_OPTIONS",
            {"connect_args": {"check_same_thread": False, "timeout": 30}},
        )
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    attachment_dir = app.config.get("ATTACHMENT_DIR") or "attachments"
    app.config["ATTACHMENT_DIR"] = str(instance / attachment_dir)  # absolute paths stay
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(instance)
    app.config["BASE_URL"] = (
        app.config.get("BASE_URL") or app.config.get("PUBLIC_BASE_URL") or DEFAULT_BASE_URL
    ).rstrip("/")
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "db://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance: Path) -> str:
    """Read the instance's secret key, creating it (mode 0600) the first time."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
