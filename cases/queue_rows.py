"""The staff queues' table rows written in Python (``templates/cases/queue.html`` asks
``QueueRows.render`` for a page's ``<tr>``s).

As Jinja the rows were most of the queue page's CPU time: per case a ``url_for``, a macro
call, two date filters and ten translations. Here the column labels are translated once
per page, the case link is one ``url_for`` prefix, the names come from the reference
snapshots (``portal.refdata``) and each row is one string. The markup is the template's,
byte for byte, which ``tests/test_queue_rows.py`` holds it to.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from babel import dates
from flask import url_for
from flask_babel import get_babel, get_locale, get_timezone
from markupsafe import Markup, escape

from cases.models import Case, Category
from cases.services.catalogue import all_categories
from portal.db import db
from portal.i18n import request_translations
from portal.models import Department, District
from portal.refdata import all_departments, district_options
from portal.templating import deadline_left, time_left

# What a row shows: one plain row per case, no ORM instance (``QueueRows.render``).
ROW_COLUMNS = (
    Case.id, Case.number, Case.title, Case.category_id, Case.district_id, Case.priority,
    Case.status, Case.department_id, Case.due_at, Case.paused_at, Case.replied_at,
)
# Werkzeug's path segment quoting (``url_for``'s for ``<number>``).
_PATH_SAFE = "!$&'()*+,/:;=@"


class QueueRows:
    """What every row of one page shares: the translated labels, the case link's prefix,
    the names by id, the locale and time zone of the dates; ``render`` writes the rows."""

    def __init__(self, now: datetime, answered: bool, selectable: bool) -> None:
        self.now, self.answered, self.selectable = now, answered, selectable
        translations = request_translations()
        # As the template's ``_()``: the catalogue's text as it stands (marked safe there).
        text = translations.ugettext
        self.select_label = Markup(text("Select %(number)s"))  # noqa: S704 (our catalogue)
        labels = ["Tracking number", "Title", "Category", "District", "Priority", "Status",
                  "Handling department"]
        labels += ["Replied on"] if answered else ["Deadline", "Time left"]
        self.cells = [f'\n      <td data-label="{text(label)}">' for label in labels]
        self.service_centre = text("Service centre")
        self.paused = text("Paused")
        case_link = url_for("cases.show", number="0")
        self.link_prefix = case_link[: -len("0")]
        self.categories = all_categories()
        self.districts = {d.id: d for d in district_options()}
        self.departments = all_departments()
        self.labels: dict[tuple[type, Any], str] = {}
        self.locale, self.tzinfo = get_locale(), get_timezone()
        self.short = get_babel().instance.date_formats["datetime.short"] or "short"

    def render(self, rows: Iterable[Any]) -> Markup:
        """The ``<tr>``s of ``rows`` (``ROW_COLUMNS``), each with the whitespace around it
        the template's loop wrote."""
        return Markup("".join(self.row(r) for r in rows))  # noqa: S704 (escaped in row)

    def row(self, r: Any) -> str:
        c = self.cells
        number = escape(r.number)
        overdue = r.due_at is not None and r.due_at < self.now
        parts = ['\n    <tr class="row--overdue">' if overdue else "\n    <tr>", "\n      "]
        if self.selectable:
            label = self.select_label % {"number": r.number}
            parts.append(f'<td class="cell--select"><input type="checkbox" name="cases" '
                         f'value="{r.id}" id="select-{r.id}" aria-label="{label}"></td>')
        href = escape(self.link_prefix + quote(str(r.number), safe=_PATH_SAFE))
        department = (escape(self.name(self.departments, Department, r.department_id))
                      if r.department_id is not None else self.service_centre)
        parts += [
            f'{c[0]}<a href="{href}">{number}</a></td>',
            f"{c[1]}{escape(r.title)}</td>",
            f"{c[2]}{escape(self.name(self.categories, Category, r.category_id))}</td>",
            f"{c[3]}{escape(self.name(self.districts, District, r.district_id))}</td>",
            f"{c[4]}{self.label(r.priority)}</td>",
            f'{c[5]}<span class="badge badge--{escape(r.status.value)}">'
            f"{self.label(r.status)}</span></td>",
            f"{c[6]}{department}</td>",
            "\n      ",
        ]
        if self.answered:
            parts.append(f"{c[7]}{self.replied_on(r.replied_at)}</td>")
        else:
            due = r.due_at
            deadline = escape(self.short_datetime(due)) if due else "—"
            if due:
                left = escape(deadline_left(due, self.now, self.locale))
            else:
                left = self.paused if r.paused_at else "—"
            parts.append(f"{c[7]}{deadline}</td>{c[8]}{left}</td>")
        parts.append("\n      \n    </tr>\n    ")
        return "".join(parts)

    def replied_on(self, replied_at: datetime | None) -> str:
        if not replied_at:
            return "—"
        return (f'<time datetime="{escape(replied_at.isoformat())}">'
                f"{escape(self.short_datetime(replied_at))}</time> "
                f"({escape(time_left(replied_at, self.now, self.locale))})")

    def label(self, member: Any) -> str:
        """An enum member's label, escaped (translated once a page: a lazy string each)."""
        key = (type(member), member)  # string enums: equal values of two enums are equal
        text = self.labels.get(key)
        if text is None:
            text = self.labels[key] = str(escape(member.label))
        return text

    def name(self, names: dict[int, Any], model: type, key: int) -> str:
        """The row's localised name from the snapshot; from the database for a row the
        snapshot does not hold yet (changed behind the ORM's back)."""
        row = names.get(key)
        if row is None:
            row = db.session.get(model, key)
        return row.name if row is not None else ""

    # The template's date filter with the page's locale and time zone found once.

    def short_datetime(self, value: datetime) -> str:
        """As the ``datetime('short')`` filter (``flask_babel.format_datetime``)."""
        return dates.format_datetime(value, self.short, tzinfo=self.tzinfo, locale=self.locale)
