"""Cases: filing, the staff queues, the case page and its timeline, the catalogue.

The blueprint's routes live in the ``*views`` modules; the factory calls ``init_app``,
which loads them and registers everything of the room on the application: the
blueprints (``cases``, and ``catalogue`` under ``/admin``), template globals, commands,
the case messages and the inbox's links to cases. Importing this package imports no
view: services and models of other rooms import ``cases`` modules, and the views
import theirs.
"""

import logging

from flask import Blueprint, Flask

bp = Blueprint("cases", __name__)
log = logging.getLogger(__name__)


def load_views() -> None:
    from cases import (  # noqa: F401  (routes register on import)
        attachment_views,
        goto_views,
        intake_views,
        queue_views,
        reply_template_views,
        supervision_views,
        track_views,
        views,
    )


def init_app(app: Flask) -> None:
    """Register the cases room on ``app`` (called once per application by the factory)."""
    from cases import (  # noqa: F401
        api,
        catalogue,
        knowledge,
        notification_texts,
        reports,
        satisfaction,
    )
    from cases.cli import cases_cli, demo_cli
    from cases.imports import init_app as init_imports
    from cases.imports import models as _imports  # noqa: F401  (the tables register)
    from cases.knowledge import models as _knowledge  # noqa: F401  (the tables register)
    from cases.notifications import inbox_case_links
    from cases.open311 import init_app as init_open311
    from cases.open311 import models as _open311  # noqa: F401  (the tables register)
    from cases.smart_intake import init_app as init_smart_intake
    from cases.smart_intake import models as _smart  # noqa: F401  (the tables register)
    from cases.workflow import event_label
    from portal.notifications.queries import set_case_links

    load_views()
    app.register_blueprint(bp)
    catalogue.init_app(app)
    knowledge.init_app(app)
    satisfaction.init_app(app)
    reports.init_app(app)
    init_open311(app)
    api.init_app(app)
    init_imports(app)
    init_smart_intake(app)
    app.add_template_global(event_label, "event_label")
    app.cli.add_command(cases_cli)
    app.cli.add_command(demo_cli)
    set_case_links(app, inbox_case_links)
