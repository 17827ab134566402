"""``flask search``: reindex, verify [--repair], catch-up."""

from flask.cli import AppGroup

search_cli = AppGroup("search", help="Build and check the search index.")
