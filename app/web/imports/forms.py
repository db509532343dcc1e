"""Forms of the web import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired

KIND_CHOICES = [
    ("areas", "Areas, their reps and contacts"),
    ("reviews", "Annual partnership reviews"),
    ("updates", "In-year membership updates"),
]


class UploadForm(FlaskForm):
    kind = RadioField(
        "What the file holds",
        choices=KIND_CHOICES,
        validators=[DataRequired("Choose what the file holds.")],
    )
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])


class ConfirmImportForm(FlaskForm):
    """Confirming carries the hash of the previewed file: only that file is applied."""

    sha256 = HiddenField()


class DiscardImportForm(FlaskForm):
    pass
