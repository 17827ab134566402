"""The upload form of the history import page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice

from portal.forms import PortalForm


class UploadForm(PortalForm):
    file = FileField(_l("File (CSV or Excel .xlsx)"), validators=[FileRequired()])
    kind = RadioField(
        _l("What the file holds"),
        choices=[SelectChoice("cases", _l("Cases")),
                 SelectChoice("categories", _l("A category tree"))],
        default="cases",
    )
    create_categories = BooleanField(_l("Make the categories the catalogue lacks"))
