"""Sign-in, sign-out, the account page and set-password links."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter import RateLimitExceeded
from flask_login import current_user, login_user, logout_user

from app import clock
from app.extensions import db, limiter
from app.operations.errors import UserError
from app.operations.users import (
    authenticate,
    change_password,
    record_sign_in,
    set_password_from_link,
    user_for_set_password_token,
)
from app.web.access import login_required, public
from app.web.auth import bp
from app.web.auth.forms import ChangePasswordForm, NewPasswordForm, SignInForm
from app.web.redirects import safe_next

WRONG_CREDENTIALS = "The email address or password is wrong."
TOO_MANY_ATTEMPTS = (
    "Too many failed sign-in attempts. For your security, signing in is paused: "
    "wait 15 minutes and try again, or ask the programme team for help."
)


# Failed sign-ins are counted per account and per address; a limited attempt is refused even
# with the right password (the limit is checked before the view runs).
def _email_key() -> str:
    return "sign-in-email:" + (request.form.get("email") or "").strip().lower()


def _address_key() -> str:
    return "sign-in-address:" + (request.remote_addr or "unknown")


def _sign_in_failed(response) -> bool:
    return bool(g.get("sign_in_failed"))


def _limit(name: str, default: str):
    return lambda: current_app.config.get(name, default)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    _limit("SIGN_IN_LIMIT_PER_EMAIL", "5 per 15 minutes"),
    key_func=_email_key,
    methods=["POST"],
    deduct_when=_sign_in_failed,
    scope="sign-in-email",
)
@limiter.limit(
    _limit("SIGN_IN_LIMIT_PER_ADDRESS", "20 per 15 minutes"),
    key_func=_address_key,
    methods=["POST"],
    deduct_when=_sign_in_failed,
    scope="sign-in-address",
)
@public
def login():
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            session.clear()  # nothing from before sign-in survives into the new session
            login_user(user, remember=form.remember.data)
            record_sign_in(user, now=clock.now())
            db.session.commit()
            return redirect(next_url or url_for("home.index"))
        g.sign_in_failed = True
        form.form_errors.append(WRONG_CREDENTIALS)
    return render_template("auth/sign_in.html", form=form, next_url=next_url)


@bp.errorhandler(RateLimitExceeded)
def sign_in_limited(error):
    form = SignInForm(formdata=None)
    form.form_errors.append(TOO_MANY_ATTEMPTS)
    next_url = safe_next(request.args.get("next"))
    return render_template("auth/sign_in.html", form=form, next_url=next_url), 429


@bp.post("/sign-out")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
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
    return render_template("auth/account.html", form=form)


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
