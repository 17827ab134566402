"""The citizen-relationship portal: application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from portal.config import load_config
from portal.logmask import install_log_masking
from portal.params import register_params

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal: configuration, extensions, blueprints, CLI and error pages."""
    from portal.transactions import PortalFlask  # each request commits or rolls back once

    app = PortalFlask(
        "portal",
        root_path=str(ROOT / "portal"),
        instance_path=(config or {}).get("INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_relative_config=True,
    )
    load_config(app, config)
    register_params(app)  # bounded URL converters, before any route is added
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    install_log_masking()  # no full phone, ID number or e-mail in any log line

    register_extensions(app)
    register_blueprints(app)
    register_hooks()

    from portal.cli import register_commands
    from portal.errors import register_error_handlers
    from portal.security import register_security
    from portal.templating import register_templating

    register_error_handlers(app)
    register_security(app)
    register_templating(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from portal.db import render_migration_type
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.i18n import install_fast_translations, select_parsed_locale

    db.init_app(app)
    # Batch mode lets ALTER TABLE work on SQLite too.
    migrate.init_app(
        app,
        db,
        directory=str(ROOT / "portal" / "migrations"),
        render_as_batch=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_parsed_locale,
        default_translation_directories=str(ROOT / "portal" / "translations"),
    )
    install_fast_translations(app)
    import portal.changes  # noqa: F401  (every flush records tracked rows in the change feed)
    import portal.ratelimit  # noqa: F401  (registers the limiter's "db://" storage)
    import portal.refdata  # noqa: F401  (a reference row's change refreshes every process's copy)

    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    from flask import request
    from flask_login import current_user

    from portal.auth.sessions import CookieSessionInterface, user_for_token
    from portal.models import User

    app.session_interface = CookieSessionInterface()

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        """The user of a live server-side session; signed out, revoked, expired or
        disabled sessions open nothing (the cookie carries the session's token)."""
        return user_for_token(token)

    @app.before_request
    def load_user_first() -> None:
        # Before the view writes anything: the loader records activity in its own short
        # transaction, which on SQLite must not wait for the request's.
        if request.endpoint != "static":
            current_user._get_current_object()


def register_blueprints(app: Flask) -> None:
    """The core's blueprints, then every room's (``register_rooms``)."""
    from portal import main
    from portal.admin import bp as admin_bp
    from portal.auth import bp as auth_bp
    from portal.notifications import bp as notifications_bp
    from portal.notifications import views as _notification_views  # noqa: F401

    app.register_blueprint(main.bp)
    app.register_blueprint(auth_bp)
    register_rooms(app)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(notifications_bp)


def register_rooms(app: Flask) -> None:
    """Each feature room registers its blueprints, template globals, commands and the
    parts it lends the core (admin pages, message texts, inbox links) in ``init_app``.

    The only place the core names a room (``tests/test_layering.py``).
    """
    import cases
    import citizens
    import search

    cases.init_app(app)
    citizens.init_app(app)
    search.init_app(app)


def register_hooks() -> None:
    """Connect each room's receivers of the core's signals (``portal.signals``).

    Receivers connect when their module is imported; blinker connects each once.
    """
    import cases.hooks  # noqa: F401
    import cases.satisfaction.hooks  # noqa: F401
    import portal.auth.hooks  # noqa: F401
    import portal.notifications.hooks  # noqa: F401
