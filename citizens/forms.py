"""Forms of the 360° page: reveal a full value, record a contact, classify the client."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from citizens.models import (
    CONTACT_CHANNEL_LABELS,
    SIZE_TIER_LABELS,
    VULNERABLE_LABELS,
    ContactChannel,
    SizeTier,
    VulnerableGroup,
)
from citizens.services import (
    MAX_REASON_LENGTH,
    MAX_SUMMARY_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    parse_tags,
)
from portal.forms import PortalForm, coerce_id

REVEAL_FIELD_LABELS = {
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "id_number": _l("Resident ID number"),
    "credit_code": _l("Unified social credit code"),
}


class RevealForm(PortalForm):
    """Show one full value; the reason goes to the client's access log."""

    field = SelectField(
        _l("Show in full"),
        validators=[DataRequired(message=_l("Choose what to show."))],
    )
    reason = TextAreaField(
        _l("Why do you need it?"),
        description=_l("Recorded with your name in the client's access log."),
        validators=[
            DataRequired(message=_l("Give the reason why you need the full value.")),
            Length(
                max=MAX_REASON_LENGTH,
                message=_l("The reason may have at most %(max)d characters."),
            ),
        ],
    )


class ContactForm(PortalForm):
    """A contact recorded by hand."""

    channel = SelectField(
        _l("Channel"),
        choices=[SelectChoice(c.value, CONTACT_CHANNEL_LABELS[c]) for c in ContactChannel],
        default=ContactChannel.PHONE.value,
        validators=[DataRequired(message=_l("Choose the channel."))],
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[
            DataRequired(message=_l("Say what the contact was about.")),
            Length(
                max=MAX_SUMMARY_LENGTH,
                message=_l("The summary may have at most %(max)d characters."),
            ),
        ],
    )
    case_number = StringField(
        _l("Tracking number (optional)"),
        description=_l("One of this client's requests, e.g. 2026-000123."),
        validators=[Optional(), Length(max=20, message=_l("A tracking number is shorter."))],
    )


class ClassificationForm(PortalForm):
    """District, address, enterprise fields, vulnerable-group flags and free tags."""

    district = SelectField(_l("District"), coerce=coerce_id, validators=[Optional()])
    address = StringField(
        _l("Address"),
        validators=[
            Optional(),
            Length(max=300, message=_l("The address may have at most %(max)d characters.")),
        ],
    )
    size_tier = SelectField(
        _l("Size tier"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(t.value, SIZE_TIER_LABELS[t]) for t in SizeTier],
        validators=[Optional()],
    )
    industry = StringField(
        _l("Industry"),
        validators=[
            Optional(),
            Length(max=100, message=_l("The industry may have at most %(max)d characters.")),
        ],
    )
    flags = SelectMultipleField(
        _l("Vulnerable groups"),
        choices=[SelectChoice(g.value, VULNERABLE_LABELS[g]) for g in VulnerableGroup],
        validators=[Optional()],
    )
    tags = StringField(
        _l("Tags"),
        description=_l(
            "Separated by commas; at most %(n)d tags of %(chars)d characters each.",
            n=MAX_TAGS,
            chars=MAX_TAG_LENGTH,
        ),
        validators=[Optional()],
    )

    def validate_tags(self, field: StringField) -> None:
        tags = parse_tags(field.data)
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("Give at most %(n)d tags.", n=MAX_TAGS))
        too_long = [t for t in tags if len(t) > MAX_TAG_LENGTH]
        if too_long:
            raise ValidationError(
                _l(
                    "A tag may have at most %(n)d characters: %(tag)s",
                    n=MAX_TAG_LENGTH,
                    tag=too_long[0],
                )
            )
