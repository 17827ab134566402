"""Full-text search over cases, clients and the knowledge base (Whoosh + jieba, or PostgreSQL).

The room every text search of the portal goes through (issue 11). Its layers:

- ``search.engine`` knows nothing of cases or clients: documents, the query language,
  Chinese text analysis, the backends (``whoosh``, ``postgresql``; chosen by
  ``SEARCH_BACKEND``), the indexer that follows the change feed. It imports ``portal`` only,
  so any room may call it (``cases`` asks it for duplicate and answer suggestions).
- ``search.sources`` turn the rooms' rows into documents (what is searchable, and who may
  find it, from the rooms' visibility rules) and register them with the engine.
- ``search.views`` is the search page ``/search`` (HTML, and JSON for staff tools);
  ``search.cli`` the ``flask search reindex|verify|catch-up`` commands.
"""

from flask import Blueprint, Flask

bp = Blueprint("search", __name__)


def init_app(app: Flask) -> None:
    """Register the search room on ``app`` (called once per application by the factory)."""
    from search import (
        sources,  # noqa: F401  (the rooms' documents register)
        views,  # noqa: F401  (routes register on import)
    )
    from search.cli import search_cli
    from search.engine import init_engine

    app.register_blueprint(bp)
    app.cli.add_command(search_cli)
    init_engine(app)
