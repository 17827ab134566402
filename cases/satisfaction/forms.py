"""The rating form: ``level`` (1–5), ``solved``, one field per active dimension, ``comment``.

The same form serves the link ``/rate/<token>`` and the signed-in owner's case page; the
dimensions are the admins' (``settings.active_dimensions``), so the form class is built
per request. The service (``services.check_input``) checks the values again.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from cases.satisfaction.models import RatingDimension
from cases.satisfaction.services import MAX_COMMENT, RatingInput
from cases.satisfaction.settings import DEFAULT_DIMENSIONS
from cases.satisfaction.vocabulary import LEVELS, SOLVED_LABELS, Solved, level_label
from portal.db import db
from portal.forms import PortalForm
from portal.i18n import current_language

# Names the form uses itself: a dimension with one of these keys is not asked.
RESERVED = frozenset({"level", "solved", "comment", "rating", "csrf_token", "submit"})


def level_choices() -> list[SelectChoice]:
    """★5 非常满意 first, down to ★1."""
    return [SelectChoice(level, level_label(level)) for level in sorted(LEVELS, reverse=True)]


class RatingForm(PortalForm):
    """The fixed fields; ``rating_form`` adds one per dimension."""

    # The case page names the rating the form is for: a newer answer published while the
    # form was open is not rated by mistake.
    rating = HiddenField()
    level = RadioField(
        _l("How satisfied are you with the answer?"),
        coerce=int,
        validators=[InputRequired(message=_l("Choose how satisfied you are, from 1 to 5 stars."))],
    )
    solved = RadioField(
        _l("Was your problem solved?"),
        choices=[SelectChoice(s.value, SOLVED_LABELS[s]) for s in Solved],
        validators=[Optional()],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), Length(max=MAX_COMMENT)],
        render_kw={"rows": 4, "maxlength": MAX_COMMENT},
    )

    dimension_keys: tuple[str, ...] = ()

    def dimension_fields(self) -> list:
        return [self[key] for key in self.dimension_keys]

    def rating_input(self) -> RatingInput:
        """What the person said, for ``give_rating``."""
        return RatingInput(
            level=self.level.data,
            solved=self.solved.data or None,
            dimensions={
                key: self[key].data for key in self.dimension_keys if self[key].data is not None
            },
            comment=self.comment.data,
        )


def stored_dimensions() -> list[RatingDimension]:
    """Every dimension in order, read only: a page that merely shows the form writes
    nothing (the defaults, unsaved, stand in for an empty table; rating saves them)."""
    rows = list(db.session.scalars(
        select(RatingDimension).order_by(RatingDimension.position, RatingDimension.id)
    ))
    return rows or [
        RatingDimension(key=key, name_zh=zh, name_en=en, position=i, is_active=True)
        for i, (key, zh, en) in enumerate(DEFAULT_DIMENSIONS, start=1)
    ]


def _dimension_field(dimension: RatingDimension, locale: str) -> RadioField:
    return RadioField(
        dimension.name(locale),
        coerce=int,
        choices=[SelectChoice(level, f"★{level}") for level in sorted(LEVELS, reverse=True)],
        validators=[Optional()],
    )


def rating_form(dimensions: list[RatingDimension] | None = None, **kwargs) -> RatingForm:
    """A rating form asking the active dimensions (bound to the request's form data)."""
    if dimensions is None:
        dimensions = [d for d in stored_dimensions() if d.is_active]
    locale = current_language()
    asked = [d for d in dimensions if d.key not in RESERVED and d.key.isidentifier()]
    form_class = type(
        "DimensionRatingForm",
        (RatingForm,),
        {
            "dimension_keys": tuple(d.key for d in asked),
            **{d.key: _dimension_field(d, locale) for d in asked},
        },
    )
    form = form_class(**kwargs)
    form.level.choices = level_choices()
    return form
