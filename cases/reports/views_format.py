"""How a figure reads on a report page: the value by its kind and the change with its sign.

A change is printed with an arrow and a sign (▲ +3, ▼ −2, = 0), so it never rests on colour
alone; a rate's change is in percentage points.
"""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from cases.reports.charts import number, reads


def figure(value: float | int | None, kind: str = "count") -> str:
    """``value`` as the page prints it: 1,234 · 66.7% · 12.5 h · 85.5."""
    if value is None:
        return "—"
    if kind == "text":
        return str(value)
    if kind == "hours":
        return _("%(hours)s h", hours=number(value, "#,##0.0"))
    return reads(value, kind)


def change(value: float | int | None, kind: str = "count") -> Markup:
    """A change as arrow and signed number (rates in percentage points); — when unknown."""
    if value is None:
        return Markup('<span class="delta">—</span>')
    if kind == "rate":
        amount = _("%(points)s pp", points=number(abs(value) * 100, "#,##0.0"))
    elif kind == "count":
        amount = number(abs(value), "#,##0")
    else:
        amount = number(abs(value), "#,##0.0")
    if abs(value) < 1e-9:
        arrow, sign, name = "=", "±", "same"
    elif value > 0:
        arrow, sign, name = "▲", "+", "up"
    else:
        arrow, sign, name = "▼", "−", "down"
    return Markup(  # noqa: S704 (the amount is escaped, the rest is ours)
        f'<span class="delta delta--{name}"><span aria-hidden="true">{arrow}</span> '
        f"{escape(sign)}{escape(amount)}</span>"
    )


def percent(value: float | None) -> str:
    return "—" if value is None else number(value, "#,##0.0%", percent=True)
