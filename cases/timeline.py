"""The case page's timeline: each event says once what happened, in the reader's language.

An event stores what changed as data (``CaseEvent.details``: ids and enum values, see
``cases.services.records`` and ``lifecycle``); this module words it when the page is read:
categories and departments by id (one query each for the whole timeline), enum values by
their labels, joined with the locale's separators. Old events (a note, no details) read as
they were stored. What an audience may read of an event is ``cases.public``'s to say; this
module only words what the face hands it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from cases.models import CaseEvent, CaseType, Priority
from cases.public import Face
from cases.satisfaction.vocabulary import OUTCOMES, RESOLUTIONS, RatingSource, level_label
from cases.services.catalogue import all_categories
from cases.workflow import ESCALATION_REASONS, LABEL_SAYS_STATUS, event_label
from portal.i18n import LabelledEnum, current_language
from portal.refdata import all_departments
from portal.templating import local_datetime


@dataclass(frozen=True)
class TimelineLine:
    """One event as the reader reads it."""

    event: CaseEvent
    label: str
    target: str | None = None  # the state it led to, when the label does not say it
    details: str | None = None  # what changed, worded for the reader
    note: str | None = None  # what a person wrote, if the reader may read it


@dataclass
class Names:
    """Localised names of the rows the timeline's details point at, by id."""

    departments: dict[int, str] = field(default_factory=dict)
    categories: dict[int, str] = field(default_factory=dict)

    def department(self, value: object) -> str:
        return self.departments.get(value, f"#{value}") if isinstance(value, int) else str(value)

    def category(self, value: object) -> str:
        return self.categories.get(value, f"#{value}") if isinstance(value, int) else str(value)


def separators() -> tuple[str, str]:
    """(between items, between clauses): ``、``/``；`` in Chinese, ``, ``/``; `` in English."""
    return (", ", "; ") if current_language() == "en" else ("、", "；")


def load_names(all_details: Iterable[dict]) -> Names:
    """The names every department and category id in ``all_details`` needs."""
    department_ids: set[int] = set()
    category_ids: set[int] = set()
    for details in all_details:
        department_ids.update(_ids([details.get("department")]))
        department_ids.update(_ids(details.get("departments") or []))
        category_ids.update(_ids(details.get("category") or []))
    names = Names()
    if department_ids:  # from the per-process snapshots: no query once they are warm
        known = all_departments()
        names.departments = {i: known[i].name for i in department_ids if i in known}
    if category_ids:
        categories = all_categories()
        names.categories = {i: categories[i].name for i in category_ids if i in categories}
    return names


def _ids(values: Iterable[object]) -> set[int]:
    return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


def _label(enum_cls: type[LabelledEnum], value: object) -> str:
    try:
        return enum_cls(value).label
    except ValueError:
        return str(value)


def _change(name: str, pair: object, word) -> str | None:
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        return None
    return _("%(field)s: %(old)s → %(new)s", field=name, old=word(pair[0]), new=word(pair[1]))


def _value(name: str, value: str) -> str:
    return _("%(field)s: %(value)s", field=name, value=value)


def _level(value: object) -> str:
    """``★2 不满意``; no level: the answer was left unrated (no default configured)."""
    if value is None:
        return _("Left unrated (no default level)")
    return level_label(value) if isinstance(value, int) else str(value)


def _moment(value: object) -> str:
    try:
        return local_datetime(datetime.fromisoformat(str(value)), "short")
    except ValueError:
        return str(value)


def describe(details: dict, names: Names) -> str | None:
    """``details`` worded for the reader, clauses joined by the locale's separator."""
    if not details:
        return None
    items, clauses = separators()
    parts = [
        _change(_("Type"), details.get("type"), lambda v: _label(CaseType, v))
        if "type" in details else None,
        _change(_("Category"), details.get("category"), names.category)
        if "category" in details else None,
        _change(_("Priority"), details.get("priority"), lambda v: _label(Priority, v))
        if "priority" in details else None,
        _value(_("Handling department"), names.department(details["department"]))
        if "department" in details else None,
        _value(
            _("Assisting departments"),
            items.join(names.department(d) for d in details["departments"]),
        )
        if isinstance(details.get("departments"), list) else None,
        ngettext("%(num)d working day", "%(num)d working days", details["days"])
        if isinstance(details.get("days"), int) else None,
        _value(_("Master case"), str(details["master"])) if "master" in details else None,
        _value(_("Duplicate"), str(details["duplicate"])) if "duplicate" in details else None,
        _value(_("Related case"), str(details["case"])) if "case" in details else None,
        _value(_("Reason"), str(ESCALATION_REASONS.get(details["reason"], details["reason"])))
        if "reason" in details else None,
        # Satisfaction: a rating's level and where it came from, a 差评's steps.
        _level(details["level"]) if "level" in details else None,
        _value(_("Source"), _label(RatingSource, details["source"]))
        if "source" in details else None,
        _value(_("How it is handled"), str(RESOLUTIONS.get(details["resolution"],
                                                            details["resolution"])))
        if "resolution" in details else None,
        _value(_("Outcome"), str(OUTCOMES.get(details["outcome"], details["outcome"])))
        if "outcome" in details else None,
        _value(_("Due"), _moment(details["due"])) if details.get("due") else None,
        # Smart intake's auto-routing: the suggestion's score and the model that scored.
        _value(_("Suggestion score"), f"{float(details['score']) * 100:.0f}%")
        if isinstance(details.get("score"), int | float) else None,
        _value(_("Model version"), str(details["model_version"]) if details["model_version"]
               is not None else _("catalogue words"))
        if "model_version" in details else None,
    ]
    text = clauses.join(p for p in parts if p)
    return text or None


def _target(event: CaseEvent) -> str | None:
    """The state the event led to, unless its label already says it (or nothing moved)."""
    if event.to_status is None or event.to_status == event.from_status:
        return None
    if event.action in LABEL_SAYS_STATUS:
        return None
    return event.to_status.label


def timeline_lines(face: Face) -> list[TimelineLine]:
    """The face's events, each worded once in the reader's language."""
    shown = [(event, face.details(event)) for event in face.events]
    names = load_names(details for _event, details in shown if details)
    lines = []
    for event, details in shown:
        note = event.note if face.shows_note(event) else None
        if event.action == "claim" and event.actor and note == event.actor.display_name:
            note = None  # old rows stored the claimer's name, which the actor shows already
        if event.action == "escalate" and note in ESCALATION_REASONS and not details:
            details, note = {"reason": note}, None  # old rows stored the reason's code
        lines.append(
            TimelineLine(
                event=event,
                label=event_label(event.action),
                target=_target(event),
                details=describe(details, names),
                note=note,
            )
        )
    return lines
