"""Template helpers of the casework pages: form error lists."""

from __future__ import annotations

from wtforms import Form


def form_errors(form: Form, anchor: str) -> list[tuple[str, str]]:
    """(field id, message) for every error of the form, nested rows included; errors of the
    whole form point at `anchor`."""
    found = [(anchor, message) for message in getattr(form, "form_errors", [])]
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


def attach_errors(form: Form, errors: dict[str, str]) -> None:
    """Put an operation's field errors on the form's fields (unknown names: on the form)."""
    for name, message in errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*field.errors, message]
