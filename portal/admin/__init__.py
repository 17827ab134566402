"""Administration: staff accounts, departments and districts.

A room keeps its own admin pages on its own blueprint under ``/admin`` (the cases room:
the catalogue) and lists them here with ``add_section``: they appear on the overview and
in the tabs. ``add_notice`` puts a room's warning on the overview. Both are kept per
application, so the core names no room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Flask, current_app
from markupsafe import Markup

bp = Blueprint("admin", __name__)


@dataclass(frozen=True)
class Section:
    """A room's admin page: its endpoint, tab label and one line for the overview."""

    endpoint: str
    label: str
    summary: str


@dataclass
class AdminParts:
    sections: list[Section] = field(default_factory=list)
    notices: list[Callable[[], Markup | str]] = field(default_factory=list)


def admin_parts(app: Flask) -> AdminParts:
    return app.extensions.setdefault("portal.admin", AdminParts())


def add_section(app: Flask, endpoint: str, label: str, summary: str) -> None:
    """List a room's admin page after the core ones (in the order rooms add them)."""
    admin_parts(app).sections.append(Section(endpoint, label, summary))


def add_notice(app: Flask, notice: Callable[[], Markup | str]) -> None:
    """Show what ``notice()`` renders (empty: nothing) at the top of the overview."""
    admin_parts(app).notices.append(notice)


@bp.app_template_global("admin_sections")
def admin_sections() -> list[Section]:
    return admin_parts(current_app).sections


from portal.admin import staff_views, views  # noqa: E402,F401  (routes register on import)
