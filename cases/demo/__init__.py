"""Demo data across the rooms: a small city (``flask demo load``, ``flask demo logins``).

- ``catalogue``: departments, districts, the category tree, routing rules, reply templates;
- ``people``: the published demo logins, staff of every department, clients;
- ``history``: a few weeks of requests, walked through the real services.
"""

from __future__ import annotations

import random

from sqlalchemy import func, select

from cases.calendar import load_calendar, seed_calendar
from cases.demo.answers import load_answers
from cases.demo.catalogue import load_catalogue
from cases.demo.history import History
from cases.demo.people import DEMO_PASSWORD, DEMO_USERS, DemoUser, load_people, staff_specs
from cases.demo.questions import answer_demo_cases, load_questions
from cases.demo.ratings import load_ratings
from portal.db import db, utcnow
from portal.models import User

__all__ = [
    "DEMO_PASSWORD",
    "DEMO_USERS",
    "DemoUser",
    "database_is_empty",
    "load_demo_data",
    "staff_specs",
]


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo_data(case_count: int = 240, seed: int = 2026) -> None:
    """Fill an empty database with a believable city; the caller commits."""
    rng = random.Random(seed)
    catalogue = load_catalogue()
    load_questions({code: category for code, (category, _leaf) in catalogue.leaves.items()})
    now = utcnow()
    seed_calendar(range(now.year - 1, now.year + 2))
    people = load_people(catalogue.departments, catalogue.districts, rng)
    History(catalogue, people, rng, now, load_calendar()).load(case_count)
    load_answers(catalogue, people, now)
    answer_demo_cases(random.Random(seed + 1))  # its own draw: the history stays the same
    load_ratings(people, rng, now)
    db.session.flush()
