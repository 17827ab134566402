"""The staff queues' category and district filter options, kept with the reference
snapshots per language (``portal.refdata.cached``: dropped when a category or district
changes); the selects themselves are ``portal.filter_selects.filter_select``.
"""

from __future__ import annotations

from cases.services.catalogue import leaf_category_options
from portal.filter_selects import FilterOptions, options
from portal.i18n import current_language
from portal.refdata import cached, district_options


def category_options() -> FilterOptions:
    """The leaf categories' options (``Parent › Child``) in the page's language, kept with
    the catalogue's snapshot (``portal.refdata``: dropped when a category changes)."""
    language = current_language()
    return cached(f"leaf_category_filter_options:{language}", lambda: options(
        (c.id, c.path_name) for c in leaf_category_options()))


def district_filter_options() -> FilterOptions:
    """The districts' options in the page's language, kept as ``category_options``."""
    language = current_language()
    return cached(f"district_filter_options:{language}", lambda: options(
        (d.id, d.name) for d in district_options()))
