"""Forms for signing in and setting passwords."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.operations.users import MIN_PASSWORD_LENGTH

_NEW_LENGTH = Length(
    min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
)


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Keep me signed in on this device for 14 days")


def _new_password() -> PasswordField:
    return PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), _NEW_LENGTH]
    )


def _confirm() -> PasswordField:
    return PasswordField(
        "Confirm the new password",
        validators=[
            DataRequired("Enter the new password again."),
            EqualTo("new_password", "The two new passwords are not the same."),
        ],
    )


class NewPasswordForm(FlaskForm):
    new_password = _new_password()
    confirm = _confirm()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    new_password = _new_password()
    confirm = _confirm()


class SignOutEverywhereForm(FlaskForm):
    """No fields: the CSRF token is what matters."""


# Long enough for a recovery code typed with spaces; anything longer is not a code.
_CODE_LENGTH = Length(max=40, message="A code is 6 digits, a recovery code 10 letters and digits.")


class CodeForm(FlaskForm):
    """The second sign-in step: a code from the app, or a recovery code."""

    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the 6-digit code from your authenticator app."),
            _CODE_LENGTH,
        ],
    )


class SetUpForm(FlaskForm):
    code = StringField(
        "Code from the app",
        validators=[DataRequired("Enter the 6-digit code your app shows."), _CODE_LENGTH],
    )


class TurnOffForm(FlaskForm):
    proof = PasswordField(
        "Your password, or a code from your app",
        validators=[
            DataRequired("Enter your password or a code from your app."),
            Length(max=200, message="That is longer than any password here."),
        ],
    )
