"""China's public holiday schedule as the ``holidays`` library knows it.

``china_public_calendar(year)`` gives the holidays and make-up working days (调休) of a
year and whether its official schedule is published there; ``cases.calendar`` seeds
``calendar_days`` from it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

import holidays

NAME_LENGTH = 100  # CalendarDay.name
_ONE_DAY = timedelta(days=1)

# Years the library checked against the State Council's notices (its docstring says 2001
# onwards); the latest year known to be final when this module was written.
FIRST_CHECKED_YEAR = 2001
LAST_KNOWN_PUBLISHED_YEAR = 2025
_SUBSTITUTED_RE = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")
_SUFFIX_RE = re.compile(r"\s*\((observed|estimated)[^)]*\)")


def _names_language() -> str | None:
    """``zh_CN`` when the library offers it, else its default (English names)."""
    supported = getattr(holidays.China, "supported_languages", ())
    if "zh_CN" in supported:
        return "zh_CN"
    return "en_US" if "en_US" in supported else None


def _first_name(name: str) -> str:
    """The first of several names the library joins with ``; `` on one date."""
    return name.split("; ")[0]


def china_public_calendar(year: int) -> tuple[dict[date, tuple[bool, str]], bool]:
    """China's exceptions to the plain week in ``year`` and whether they are published.

    Returns ``({date: (is_workday, name)}, published)``: each holiday on a weekday becomes
    ``(False, name)``; each make-up working day (调休) becomes ``(True, name)``. The library
    encodes a make-up day only inside the name of the day off it pays for — "Day off
    (substituted from 02/14/2026)" on 2026-02-20 means Saturday 2026-02-14 is worked — so
    the English names are parsed and the Chinese names (``zh_CN``, when offered) are kept.
    Neighbouring years are read too, so a make-up day in late December announced with the
    next year's schedule (e.g. 2011-12-31 for 2012-01-03) is found; only dates in ``year``
    are returned.

    ``published`` is a heuristic, since the library also computes rule-based dates for
    years the State Council has not announced yet: a year counts as published when the
    library lists at least one substituted day for it (every year 2001–2026 has some in
    ``holidays`` 0.109; 2027 and later have none), or when it lies between 2001 (the first
    year the library checked against the official notices) and 2025 (already final).
    """
    english = holidays.country_holidays("CN", years=[year - 1, year, year + 1], language="en_US")
    language = _names_language()
    local = (
        holidays.country_holidays("CN", years=[year - 1, year, year + 1], language=language)
        if language not in (None, "en_US")
        else english
    )
    substitutions: dict[date, date] = {}  # day off → the weekend day worked for it
    for day_off, name in english.items():
        match = _SUBSTITUTED_RE.search(name)
        if match:
            month, day, worked_year = (int(part) for part in match.groups())
            substitutions[day_off] = date(worked_year, month, day)
    worked_days = frozenset(substitutions.values())

    result: dict[date, tuple[bool, str]] = {}
    for day_off, name in english.items():
        if day_off.year == year and day_off.weekday() < 5:
            result[day_off] = (False, _first_name(local.get(day_off, name))[:NAME_LENGTH])
    for day_off, worked in substitutions.items():
        if worked.year == year:
            festivals = _festivals_around(day_off, english, local, worked_days)
            result[worked] = (True, _make_up_name(festivals, local is english))
    substituted = sum(1 for day_off in substitutions if day_off.year == year)
    published = substituted > 0 or FIRST_CHECKED_YEAR <= year <= LAST_KNOWN_PUBLISHED_YEAR
    return dict(sorted(result.items())), published


_EVE = "Chinese New Year's Eve"
_SPRING_FESTIVAL = "Chinese New Year (Spring Festival)"


def _festivals_around(
    day_off: date,
    english: Mapping[date, str],
    local: Mapping[date, str],
    worked_days: frozenset[date],
) -> list[str]:
    """The festivals of the run of days off that contains ``day_off``, in ``local`` names.

    The run is the consecutive holidays and weekend days (make-up working days end it),
    e.g. 2025-10-01..08 gives 国庆节 and 中秋节, as the State Council's notice names it.
    The eve of the Spring Festival is left out when the festival itself is in the run.
    """

    def off(d: date) -> bool:
        return d in english or (d.weekday() >= 5 and d not in worked_days)

    first = last = day_off
    while off(first - _ONE_DAY):
        first -= _ONE_DAY
    while off(last + _ONE_DAY):
        last += _ONE_DAY
    found: dict[str, str] = {}  # English base name → local name, in date order
    d = first
    while d <= last:
        name = english.get(d, "")
        if name and "substituted" not in name:
            local_names = local.get(d, name).split("; ")
            for i, english_name in enumerate(name.split("; ")):
                if "(observed" in english_name:
                    continue
                base = _SUFFIX_RE.sub("", english_name)
                found.setdefault(base, local_names[i] if i < len(local_names) else base)
        d += _ONE_DAY
    if _SPRING_FESTIVAL in found:
        found.pop(_EVE, None)
    return list(found.values())


def _make_up_name(festivals: list[str], english: bool) -> str:
    """The name of a make-up working day: ``国庆节、中秋节调休上班日``."""
    if english:
        name = "Make-up working day"
        return (f"{name} for {' and '.join(festivals)}" if festivals else name)[:NAME_LENGTH]
    return f"{'、'.join(festivals)}调休上班日"[:NAME_LENGTH]


def library_source() -> str:
    """What ``calendar_years.source`` says for years seeded from the library."""
    return f"holidays {holidays.__version__}"
