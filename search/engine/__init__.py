"""The search engine: backends, analysis, the query language, the change-feed indexer.

Imports ``portal`` only. Its public functions (filled in by issue 11): ``init_engine``,
``register_source``, ``backend``, ``search``, ``catch_up``, ``reindex``, ``verify``.
"""

from __future__ import annotations

from flask import Flask

from search.engine import models  # noqa: F401  (the tables register)


def init_engine(app: Flask) -> None:
    """Set up the configured backend for ``app`` (``SEARCH_BACKEND``)."""
