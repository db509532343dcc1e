"""Forms for managing user accounts."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional

from app.models import User
from app.rules.vocabulary import UserRole
from app.web.request_checks import FitsColumn

ROLE_CHOICES = [(UserRole.REP.value, "Rep"), (UserRole.PROGRAMME.value, "Programme team")]


class UserDetailsForm(FlaskForm):
    name = StringField(
        "Full name", validators=[DataRequired("Enter the person's name."), FitsColumn(User.name)]
    )
    role = RadioField(
        "Role",
        choices=[SelectChoice(value, label) for value, label in ROLE_CHOICES],
        validators=[DataRequired("Choose a role.")],
        default="rep",
    )
    is_admin = BooleanField("Administrator (can manage user accounts)")
    region = StringField("Region (optional)", validators=[Optional(), FitsColumn(User.region)])


class NewUserForm(UserDetailsForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter an email address."), FitsColumn(User.email)],
    )

    def __iter__(self):
        # Email first: it identifies the account.
        fields = list(super().__iter__())
        return iter(sorted(fields, key=lambda f: f.name != "email"))


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token: the confirmation button of a POST."""
