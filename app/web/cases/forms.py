"""Forms of the casework pages. Every form carries a CSRF token (FlaskForm)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.models.snapshots import RosterEntry
from app.operations.case_actions import MAX_DESCRIPTION, MAX_NAME, MAX_NOTE, MAX_TARGET_MEMBERS
from app.operations.reminder_pause import MAX_PAUSE_REASON
from app.operations.text import parse_count
from app.rules.vocabulary import (
    BARRIER_WORDS,
    CONTACT_METHODS,
    MEMBER_ROLE_WORDS,
    OWNER_WORDS,
    SUPPORT_WORDS,
    ContactMethod,
    MemberRole,
    Owner,
)
from app.web.request_checks import FitsColumn

BLANK_ROWS = 3


def _choices(words: dict[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in words.items()]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _version_field() -> HiddenField:
    return HiddenField(validators=[InputRequired()])


class VersionedForm(FlaskForm):
    version = _version_field()

    def version_number(self) -> int | None:
        return parse_count(str(self.version.data or ""), minimum=0)

    def validate_version(self, field) -> None:
        if self.version_number() is None:
            raise ValidationError("The form is missing its version; reload the page.")


class StatusForm(VersionedForm):
    target = HiddenField("New status", validators=[InputRequired()])


class ContactForm(FlaskForm):
    on = DateField(
        "Date of the contact", validators=[InputRequired("Enter the date of the contact.")]
    )
    method = SelectField("How", choices=_choices(CONTACT_METHODS), default=ContactMethod.PHONE)
    with_whom = StringField(
        "With whom",
        validators=[DataRequired("Say who you were in contact with."), Length(max=MAX_NAME)],
        description="One of the partnership's contacts, or another name.",
        render_kw={"list": "area-contacts", "autocomplete": "off"},
    )
    outcome = TextAreaField(
        "Outcome",
        validators=[DataRequired("Write what came of it."), Length(max=MAX_NOTE)],
        description="What was said or agreed. The partnership's contacts do not see this.",
    )


class NoteForm(FlaskForm):
    note = TextAreaField(
        "Note",
        validators=[DataRequired("Write the note."), Length(max=MAX_NOTE)],
        description="Only staff see notes.",
    )


class PlanForm(VersionedForm):
    barriers = MultiCheckboxField("Barriers", choices=_choices(BARRIER_WORDS))
    barriers_text = TextAreaField(
        "Barriers in the partnership's words",
        validators=[Length(max=MAX_NOTE)],
        description="Required when you tick “Other”.",
    )
    target_members = IntegerField(
        "Target number of members",
        validators=[
            Optional(),
            NumberRange(1, MAX_TARGET_MEMBERS, "Enter a number between 1 and %(max)s."),
        ],
    )
    target_on = DateField("Target date", validators=[Optional()])
    support = MultiCheckboxField("Support offered", choices=_choices(SUPPORT_WORDS))


class ActionForm(FlaskForm):
    description = TextAreaField(
        "What needs doing",
        validators=[DataRequired("Describe the action."), Length(max=MAX_DESCRIPTION)],
    )
    owner = SelectField("Owner", choices=_choices(OWNER_WORDS), default=Owner.PARTNERSHIP)
    due_on = DateField("Due date", validators=[InputRequired("Give a due date.")])


class EditActionForm(ActionForm, VersionedForm):
    pass


class ActionStateForm(VersionedForm):
    reason = StringField("Reason (optional)", validators=[Length(max=500)])


class PauseForm(VersionedForm):
    paused_until = DateField(
        "Start the reminders again on",
        validators=[InputRequired("Enter the date the reminders start again.")],
        description="Due-soon, overdue and check-in emails to the partnership stop until then.",
    )
    pause_reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired("Say why the reminders are paused."),
            Length(max=MAX_PAUSE_REASON),
        ],
        description="For example: the partnership asked for a break over the summer.",
    )


class ResumeForm(VersionedForm):
    pass


class RosterRowForm(Form):
    """One person on the roster (a plain Form: the CSRF token is on the outer form)."""

    person_id = HiddenField()
    name = StringField("Name", validators=[FitsColumn(RosterEntry.name)])
    resident = BooleanField("Resident")
    role = SelectField("Role", choices=_choices(MEMBER_ROLE_WORDS), default=MemberRole.MEMBER)
    remove = BooleanField("Remove")


class MembershipForm(VersionedForm):
    rows = FieldList(FormField(RosterRowForm), min_entries=0)


class AnswerDecisionForm(FlaskForm):
    """The rep's yes or no on a partnership's answer; a no (or a reopen) needs a message."""

    message = TextAreaField(
        "Message to the partnership",
        validators=[Length(max=2000)],
        description="Mailed to the contact who sent it. Needed when you decline or reopen.",
    )


class RequestUpdateForm(FlaskForm):
    message = TextAreaField(
        "Message (optional)",
        validators=[Length(max=2000)],
        description="Added to the email; each contact gets their own personal link.",
    )
