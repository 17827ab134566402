"""The rooms' rows as search documents: cases, clients, knowledge-base answers.

Each module holds one ``Source`` (``search.engine.types.Source``) named ``source``;
importing this package registers them with the engine (``search.engine.register_source``)
and records renames of the catalogue names documents carry in the change feed
(``renames``).
"""

from __future__ import annotations

from search.engine import register_source
from search.sources import cases, clients, knowledge, renames  # noqa: F401  (renames listens)

SOURCES = (cases.source, clients.source, knowledge.source)

for _source in SOURCES:
    register_source(_source)
