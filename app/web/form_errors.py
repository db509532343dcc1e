"""Form errors for the one error summary macro (templates/macros/forms.html): every error of a
WTForms form as (field id, message), and an operation's errors put on the form's fields."""

from __future__ import annotations

from wtforms import Form

from app.operations.errors import UserError

EXPIRED = "This form has expired. Please try again."


def form_errors(form: Form, anchor: str | None = None) -> list[tuple[str, str]]:
    """(field id, message) for every error of the form, nested rows included; errors of the
    whole form point at `anchor` (or at nothing)."""
    found = [(anchor or "", message) for message in form.form_errors]
    csrf = form._fields.get("csrf_token")
    if csrf is not None and csrf.errors:
        found.append((anchor or "", EXPIRED))
    for field in form:
        found.extend(_field_errors(field))
    return found


def _field_errors(field) -> list[tuple[str, str]]:
    if field.type == "FieldList":
        return [e for entry in field for e in _field_errors(entry)]
    if field.type == "FormField":
        return [e for sub in field.form for e in _field_errors(sub)]
    if field.type == "CSRFTokenField":
        return []
    label = field.label.text if field.label else field.name
    return [(field.id, f"{label}: {message}") for message in field.errors]


def attach_user_error(form: Form, error: UserError) -> None:
    """Put an operation's refusal on the field it names (no field: on the whole form)."""
    attach_errors(form, {error.field or "": str(error)})


def attach_errors(form: Form, errors: dict[str, str]) -> None:
    """Put an operation's field errors on the form's fields (unknown names: on the form)."""
    for name, message in errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
