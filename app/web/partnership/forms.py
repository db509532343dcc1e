"""Forms of the partnership's personal page. Every form carries a CSRF token (FlaskForm) and a
random key, so the same form sent twice makes one answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from app.models.snapshots import RosterEntry
from app.operations.partnership_answers import MAX_COMMENT
from app.rules.vocabulary import MEMBER_ROLE_WORDS, MemberRole
from app.web.request_checks import FitsColumn

BLANK_ROWS = 3
MORE_ROWS = 3
MAX_FORM_ROWS = 200
ROLE_CHOICES = [SelectChoice(value, label) for value, label in MEMBER_ROLE_WORDS.items()]


class KeyedForm(FlaskForm):
    form_key = HiddenField(validators=[InputRequired("The form is incomplete: open it again.")])


class PersonForm(Form):
    """One person (a plain Form: the CSRF token is on the outer form). `ref` is the person's
    position on the recorded roster ("r3"), or empty for someone new: no person id is sent to
    the browser."""

    ref = HiddenField()
    name = StringField("Name", validators=[FitsColumn(RosterEntry.name)])
    resident = BooleanField("Lives in the area")
    role = SelectField("Role", choices=ROLE_CHOICES, default=MemberRole.MEMBER)
    left = BooleanField("Has left")


class RosterForm(KeyedForm):
    seen = HiddenField()  # the newest undecided update the page showed
    basis = HiddenField()  # the recorded roster the rows refer to
    rows = FieldList(FormField(PersonForm), min_entries=0, max_entries=MAX_FORM_ROWS)


class DoneForm(KeyedForm):
    comment = TextAreaField(
        "What was done",
        validators=[DataRequired("Say what was done."), Length(max=MAX_COMMENT)],
        description="Your rep reads this, for example who joined or when the event was.",
    )


class MoreTimeForm(KeyedForm):
    due_on = DateField(
        "The date you propose", validators=[InputRequired("Enter the date you propose.")]
    )
    why = TextAreaField(
        "Why you need more time",
        validators=[DataRequired("Say why you need more time."), Length(max=MAX_COMMENT)],
    )
