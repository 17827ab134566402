"""The rooms' rows as search documents: cases, clients, knowledge-base answers.

Each module holds one ``Source`` (``search.engine.types.Source``) named ``source``;
importing this package registers them with the engine (``search.engine.register_source``).
"""

from __future__ import annotations

from search.engine import register_source
from search.sources import cases, clients, knowledge

SOURCES = (cases.source, clients.source, knowledge.source)

for _source in SOURCES:
    register_source(_source)
