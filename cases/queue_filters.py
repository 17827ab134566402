"""The staff queues' filter selects written in Python: the ``filter_select`` macro of
``templates/_macros.html``, byte for byte, for the queue page (``templates/cases/queue.html``).

As the macro, the five selects (~110 options, the categories' ``Parent › Child`` names
among them) were a tenth of the page's template time once the rows were Python (a filter,
two ``|string`` and two escapes per option). Here each option is one string, and the
categories' and districts' options are kept with the reference snapshots, per language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from cases.services.catalogue import leaf_category_options
from portal.i18n import current_language, request_translations
from portal.refdata import cached, district_options

# An option as the macro writes it, before its "selected": (value as compared, value, text).
Option = tuple[str, str, str]


def options(pairs: Iterable[tuple[Any, Any]]) -> list[Option]:
    """``(value, text)`` pairs as options (each escaped once)."""
    return [(str(value), str(escape(value)), str(escape(text))) for value, text in pairs]


def category_options() -> list[Option]:
    """The leaf categories' options (``Parent › Child``) in the page's language, kept with
    the catalogue's snapshot (``portal.refdata``: dropped when a category changes)."""
    language = current_language()
    return cached(f"leaf_category_filter_options:{language}", lambda: options(
        (c.id, c.path_name) for c in leaf_category_options()))


def district_filter_options() -> list[Option]:
    """The districts' options in the page's language, kept as ``category_options``."""
    language = current_language()
    return cached(f"district_filter_options:{language}", lambda: options(
        (d.id, d.name) for d in district_options()))


def filter_select(id: str, name: str, label: str, choices: list[Option], selected: Any,
                  all_label: Any = None) -> Markup:
    """As the ``filter_select`` macro: "All" first unless ``all_label`` is false, the
    option whose value reads as ``selected`` chosen."""
    chosen = str(selected)
    head = (f'<div>\n    <label for="{escape(id)}">{escape(label)}</label>\n'
            f'    <select id="{escape(id)}" name="{escape(name)}">\n      ')
    if all_label is not False:
        everything = all_label or Markup(request_translations().ugettext("All"))  # noqa: S704
        head += f'<option value="">{escape(everything)}</option>'
    body = "".join(
        f'<option value="{value}" {"selected" if key == chosen else ""}>{text}</option>'
        for key, value, text in choices)
    return Markup(f"{head}\n      {body}\n    </select>\n  </div>")  # noqa: S704 (escaped)
