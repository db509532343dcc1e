"""Sign-in, sign-out, the account page and set-password links."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from app import clock
from app.extensions import db
from app.operations.errors import UserError
from app.operations.sessions import end_all_sessions, end_session
from app.operations.sign_in_limits import take_attempt
from app.operations.two_factor import recovery_codes_left
from app.operations.users import (
    authenticate,
    change_password,
    set_password_from_link,
    user_for_set_password_token,
)
from app.web.access import login_required, public
from app.web.auth import bp
from app.web.auth.forms import (
    ChangePasswordForm,
    NewPasswordForm,
    SignInForm,
    SignOutEverywhereForm,
)
from app.web.auth.signing import complete_sign_in, hold_for_code
from app.web.redirects import safe_next

WRONG_CREDENTIALS = "The email address or password is wrong."
TOO_MANY_ATTEMPTS = (
    "Too many failed sign-in attempts. For your security, signing in is paused: "
    "wait 15 minutes and try again, or ask the programme team for help."
)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("home.index"))
    if request.method == "POST" and request.mimetype not in FORM_TYPES:
        abort(415)  # a JSON body would reach the form without the counted email field
    form = SignInForm()
    if form.validate_on_submit():
        email, address = form.email.data or "", sign_in_address()
        # Counted (and committed) before the password is checked, so concurrent attempts
        # from any worker see each other.
        if not take_attempt(email, address, now=clock.now()):
            return _limited(next_url)
        user = authenticate(email, form.password.data or "")
        if user is not None and user.two_factor_enabled:
            # Not signed in yet, and the attempt count stands until the code is right too.
            hold_for_code(user, remember=bool(form.remember.data), next_url=next_url)
            return redirect(url_for("auth.sign_in_code"))
        if user is not None:
            complete_sign_in(user, remember=bool(form.remember.data), address=address)
            return redirect(next_url or url_for("home.index"))
        form.form_errors.append(WRONG_CREDENTIALS)
    return render_template("auth/sign_in.html", form=form, next_url=next_url)


def _limited(next_url: str | None):
    form = SignInForm(formdata=None)
    form.form_errors.append(TOO_MANY_ATTEMPTS)
    return render_template("auth/sign_in.html", form=form, next_url=next_url), 429


def sign_in_address() -> str:
    """The address sign-in attempts are counted against (the client's, behind trusted proxies)."""
    return request.remote_addr or "unknown"


@bp.post("/sign-out")
@login_required
def logout():
    end_session(current_user.session_token or "", now=clock.now())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/sign-out-everywhere")
@login_required
def logout_everywhere():
    form = SignOutEverywhereForm()
    if not form.validate_on_submit():
        abort(400)
    count = end_all_sessions(current_user._get_current_object(), now=clock.now())
    db.session.commit()
    logout_user()
    session.clear()
    flash(f"You are signed out everywhere ({count} signed-in devices).", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            change_password(
                user,
                current=form.current_password.data,
                new=form.new_password.data,
                now=clock.now(),
            )
        except UserError as exc:
            db.session.rollback()
            wrong_current = str(exc).startswith("Your current password")
            field = form.current_password if wrong_current else form.new_password
            field.errors = [*field.errors, str(exc)]
        else:
            db.session.commit()
            # The change signed every session out; this one signs straight back in.
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=remembered in request.cookies)
            flash("Your password is changed. Other devices are signed out.", "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html",
        form=form,
        everywhere_form=SignOutEverywhereForm(),
        recovery_codes_left=recovery_codes_left(current_user),
    )


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    try:
        user = user_for_set_password_token(token, now=clock.now())
    except UserError as exc:
        return render_template("auth/link_invalid.html", message=str(exc)), 400
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            set_password_from_link(user, form.new_password.data, now=clock.now())
        except UserError as exc:
            db.session.rollback()
            form.new_password.errors = [*form.new_password.errors, str(exc)]
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is set. Sign in with it now.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user, token=token)
