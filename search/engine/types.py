"""The engine's vocabulary: documents, requests, results and the backend interface.

A backend is small on purpose (``SearchBackend``): index documents, delete them, answer a
``SearchRequest``, list what it holds (for ``verify``), clear. Adding Elasticsearch or
OpenSearch for a large city means one more class with these five methods (the query tree
of ``search.engine.query`` compiles to its query DSL); no caller changes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l

from portal.errors import DomainError

# Filter values are plain strings or ints (enum values, ids); dates are UTC datetimes.
FilterValue = str | int


@dataclass(frozen=True)
class Document:
    """One searchable thing (a case, a client, an answer), as a source built it.

    ``text``: analysed full-text fields (``title``, ``body``, ``replies``, ``notes``...),
    searched by words; ``exact``: keyword fields matched whole (tracking number with and
    without the dash, keyed hashes of phone tails and ID numbers...); ``filters``: values
    to filter and count facets on (``status``, ``department_id``...; a list for several);
    ``dates``: UTC datetimes to filter by range and sort on (``created_at``...);
    ``access``: the keys of those who may find it (``search.sources`` derive them from
    the rooms' visibility rules; a request matches a document sharing any key).
    """

    kind: str
    id: int
    text: Mapping[str, str] = field(default_factory=dict)
    exact: Mapping[str, list[str]] = field(default_factory=dict)
    filters: Mapping[str, FilterValue | list[FilterValue] | None] = field(default_factory=dict)
    dates: Mapping[str, datetime | None] = field(default_factory=dict)
    access: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    def fingerprint(self) -> str:
        """A digest of everything indexed: ``verify`` compares it to find stale documents."""
        payload = {
            "text": dict(sorted(self.text.items())),
            "exact": {k: sorted(v) for k, v in sorted(self.exact.items())},
            "filters": {k: v for k, v in sorted(self.filters.items())},
            "dates": {k: v.isoformat() if v else None for k, v in sorted(self.dates.items())},
            "access": sorted(self.access),
        }
        raw = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class SearchRequest:
    """What to look for, for whom.

    ``query`` is the user's text in the query language (``search.engine.query``); empty
    means every document the viewer may find. ``access``: the viewer's keys (never empty
    for a real user; an empty tuple finds nothing). ``fields``: the text fields searched
    (None: every field of the kind that ``public_fields`` allows — a client never searches
    staff-only fields such as ``notes``). ``filters``: field -> allowed values (any of);
    ``date_ranges``: field -> (from, to), either end open. ``sort``: ``relevance``,
    ``newest`` or ``oldest`` (by ``sort_date``). ``facets``: filter fields to count.
    """

    kind: str
    query: str = ""
    access: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    filters: Mapping[str, tuple[FilterValue, ...]] = field(default_factory=dict)
    date_ranges: Mapping[str, tuple[datetime | None, datetime | None]] = field(
        default_factory=dict
    )
    sort: str = "relevance"
    sort_date: str = "created_at"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()  # text fields to return highlighted snippets of
    # False: the caller takes the hits as a set (candidates it scores itself), so when every
    # match fits the page a backend may hand them over unranked instead of scoring them.
    ranked: bool = True


@dataclass(frozen=True)
class Hit:
    kind: str
    id: int
    score: float
    # field -> snippet as safe HTML: the text escaped, the matched words in <mark>.
    highlights: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResponse:
    """``total`` matches (at most the backend's window when ``exact`` is false: then there
    are more, and the facets count the window)."""

    total: int
    hits: list[Hit]
    facets: Mapping[str, Mapping[FilterValue, int]] = field(default_factory=dict)
    exact: bool = True


class QuerySyntaxError(DomainError):
    """The query cannot be read (an unclosed quote, a dangling operator, an unknown field):
    the search page answers 400 with this localised message, never a 500."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or str(_l("The search query cannot be read.")))


class SearchBackend(Protocol):
    """What every engine does. Methods may be called from several processes at once."""

    name: str

    def index(self, documents: Iterable[Document]) -> None:
        """Add or replace these documents (by ``kind`` and ``id``)."""

    def delete(self, kind: str, ids: Iterable[int]) -> None:
        """Remove these documents if present."""

    def search(self, request: SearchRequest) -> SearchResponse:
        """Answer ``request``: only documents sharing an access key, filtered, counted."""

    def fingerprints(self, kind: str) -> dict[int, str]:
        """Every indexed document of ``kind``: id -> ``Document.fingerprint()``."""

    def clear(self, kind: str | None = None) -> None:
        """Remove every document (of ``kind``)."""


class Source(Protocol):
    """A room's rows as documents of one ``kind`` (registered in ``search.engine``)."""

    kind: str

    def affected(self, entity: str, ids: list[int]) -> Iterable[int]:
        """The ids of this kind's documents that changes of the change feed's ``entity``
        rows ``ids`` touch (a ``case_reply`` touches its case); empty if none."""

    def documents(self, ids: Iterable[int]) -> list[Document]:
        """The documents of these ids that should be searchable (missing ones are
        deleted from the index: gone, merged away, anonymised...)."""

    def all_ids(self) -> Iterable[int]:
        """Every id that should be searchable (for reindex and verify), in batches."""
