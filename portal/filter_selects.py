"""The selects of GET filter forms (queues, clients, staff lists): ``filter_select``, a
Jinja global. Written in Python, not as a macro: a queue page's five selects hold ~110
options (the categories' ``Parent › Child`` names among them), and as a macro they were a
tenth of its template time (a filter, two ``|string`` and two escapes per option).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from portal.i18n import request_translations


class FilterOptions(list):
    """Options built already (``options``): (value as compared, value, text), escaped;
    pages keep lists of them (``portal.refdata.cached``) instead of building them again."""


def options(pairs: Iterable[tuple[Any, Any]]) -> FilterOptions:
    """``(value, text)`` pairs as options (each escaped once)."""
    return FilterOptions((str(value), str(escape(value)), str(escape(text)))
                         for value, text in pairs)


def filter_select(id: str, name: str, label: str, choices: Iterable[Any], selected: Any,
                  all_label: Any = None) -> Markup:
    """A labelled select of ``choices`` (``(value, text)`` pairs or ``options``): "All"
    first unless ``all_label`` is false, the option whose value reads as ``selected``
    chosen."""
    if not isinstance(choices, FilterOptions):
        choices = options(choices)
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
