"""Forms of the area's contact page. Every form carries a CSRF token (FlaskForm)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, ValidationError

from app.models import Contact
from app.operations.contacts import MAX_CONSENT_NOTE
from app.operations.text import text_problem
from app.web.request_checks import FitsColumn


class ContactEmailForm(FlaskForm):
    email = StringField(
        "New email address",
        validators=[
            DataRequired("Enter the contact's new email address."),
            FitsColumn(Contact.email),
        ],
    )


class OptInForm(FlaskForm):
    consent = TextAreaField(
        "How the contact agreed to the reminders again",
        validators=[DataRequired("Write how the contact agreed to receive the reminders again.")],
        description="For example: asked by phone on 3 December to get the reminders again.",
    )

    def validate_consent(self, field) -> None:
        problem = text_problem(field.data or "", MAX_CONSENT_NOTE, multiline=True)
        if problem:
            raise ValidationError(f"The note {problem}.")
