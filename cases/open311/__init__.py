"""Open311 GeoReport v2 under ``/open311/v2/``: discovery, services, requests, tokens and the
``servicerequestupdates`` extension, in XML and JSON; the keys admins issue to its clients.

Two blueprints: ``open311`` (the standard's endpoints, CSRF-exempt: a key is the
credential) and ``api_keys`` (the admin pages under ``/admin/api-keys``, listed on the
admin overview). ``flask api-key create NAME`` issues a key from the command line.
The views load in ``init_app``: importing this package imports no view.
See ``docs/OPEN311.md``.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_babel import lazy_gettext as _l

bp = Blueprint("open311", __name__)
keys_bp = Blueprint("api_keys", __name__)


def init_app(app: Flask) -> None:
    """Serve Open311 and the key admin pages; add the ``api-key`` command."""
    from cases.open311 import admin_views, views  # noqa: F401  (routes register on import)
    from cases.open311.cli import api_key_cli
    from portal.admin import add_section
    from portal.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp, url_prefix="/open311/v2")
    app.register_blueprint(keys_bp, url_prefix="/admin")
    add_section(app, "api_keys.index", _l("Open311 keys"),
                _l("Keys for Open311 apps and systems: issue, limit, revoke, see their use."))
    app.cli.add_command(api_key_cli)
