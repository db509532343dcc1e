"""The programme team's forms (WTForms; CSRF through Flask-WTF): assign a case, close a case,
change many cases at once, and the rep picker the areas pages share."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import HiddenInput

from app.extensions import db
from app.models import User
from app.operations.text import parse_count

MAX_REASON = 1000
NO_VERSION = "The form was incomplete (no case version). Reload the page and try again."
CHOOSE_REP = "Choose a rep from the list."


class RepField(Field):
    """A chosen user by id, or None for 'no rep' (an empty value or 'none'). An id that is no
    user is the user's error; which users may be chosen is the operation's to say."""

    widget = HiddenInput()

    data: User | None

    def process_formdata(self, valuelist: list) -> None:
        self.raw = (valuelist[0] if valuelist else "").strip()
        self.data = None

    def pre_validate(self, form) -> None:
        if self.raw in ("", "none"):
            return
        user_id = parse_count(self.raw)
        self.data = db.session.get(User, user_id) if user_id is not None else None
        if self.data is None:
            raise ValidationError(CHOOSE_REP)

    raw = ""


class CaseChoices(Field):
    """The ticked cases of a list: checkboxes named `case`, each 'id:version'. Values that are
    not two numbers are left out (a checkbox cannot send anything else)."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list) -> None:
        self.data = []
        for raw in valuelist:
            case_id, _, version = str(raw).partition(":")
            if case_id.isdigit() and version.isdigit():
                self.data.append((int(case_id), int(version)))


def version_field() -> IntegerField:
    return IntegerField(
        widget=HiddenInput(),
        validators=[InputRequired(message=NO_VERSION), NumberRange(min=0, message=NO_VERSION)],
    )


class AssignForm(FlaskForm):
    version = version_field()
    rep_id = RepField()


class CloseForm(FlaskForm):
    version = version_field()
    reason = TextAreaField(
        "Reason for closing",
        description="For example: the area has left the programme.",
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(message="Give a reason for closing the case."),
            Length(max=MAX_REASON, message=f"Keep the reason under {MAX_REASON} characters."),
        ],
    )


class BulkForm(FlaskForm):
    action = StringField()
    rep_id = RepField()
    reason = StringField(filters=[lambda value: (value or "").strip()[:MAX_REASON]])
    filters = HiddenField()
    all_matching = HiddenField()
    case = CaseChoices()


class AreaRepForm(FlaskForm):
    rep_id = RepField()
    also_open_case = StringField()


def first_error(form: FlaskForm) -> str:
    """The first message of a small form that is answered with a flash, not re-rendered."""
    for field in form:
        if field.errors:
            return str(field.errors[0])
    return "The form could not be read. Reload the page and try again."
