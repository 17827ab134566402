"""Flask extensions, created unbound and initialised in :func:`portal.create_app`."""

from flask import current_app, request, session
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_login.config import COOKIE_NAME, SESSION_KEYS
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portal.db import db


class PortalLoginManager(LoginManager):
    """Flask-Login's manager, with "strong" session protection (a session is tied to the
    address and ``User-Agent`` it signed in from) skipped where it has nothing to protect.

    A visitor's session holding no sign-in (the CSRF secret, the language) has no ``_id``,
    so the check "failed" on every page: it emptied the session of keys it did not hold and
    asked the browser to drop a remember cookie it never had, which marked the session
    changed, so its cookie was signed and sent again with every page. A session with any
    of Flask-Login's keys, or a request with a remember cookie, is checked as before."""

    def _session_protection_failed(self) -> bool:
        if not any(key in session for key in SESSION_KEYS) and (
            current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) not in request.cookies
        ):
            return False
        return super()._session_protection_failed()


babel = Babel()
csrf = CSRFProtect()
login_manager = PortalLoginManager()
migrate = Migrate()
# Storage comes from RATELIMIT_STORAGE_URI: the database ("db://", portal/ratelimit.py),
# or Redis when PORTAL_REDIS_URL is set; either way shared by every worker.
limiter = Limiter(key_func=get_remote_address, default_limits=[])

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]
