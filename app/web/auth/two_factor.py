"""Two-factor sign-in pages: the code step of signing in, setting it up, turning it off, and
the rule that administrators set it up first when ADMIN_TWO_FACTOR_REQUIRED is on."""

from __future__ import annotations

from flask import (
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from app import clock
from app.extensions import db
from app.operations.errors import UserError
from app.operations.sign_in_limits import take_attempt
from app.operations.two_factor import (
    RECOVERY,
    WRONG_CODE,
    begin_set_up,
    check_code,
    finish_set_up,
    provisioning_uri,
    recovery_codes_left,
    turn_off,
)
from app.rules.two_factor import grouped_secret, must_set_up
from app.web.access import login_required, public
from app.web.auth import bp
from app.web.auth.forms import CodeForm, SetUpForm, TurnOffForm
from app.web.auth.qr import qr_svg
from app.web.auth.signing import complete_sign_in, pending_sign_in
from app.web.auth.views import TOO_MANY_ATTEMPTS, sign_in_address
from app.web.redirects import safe_next

# What an administrator who must set up two-factor sign-in may still reach.
OPEN_DURING_SET_UP = {
    "auth.two_factor_set_up",
    "auth.logout",
    "static",
    "bootstrap.static",
}
TOOK_TOO_LONG = (
    "Signing in took too long or was interrupted. Enter your email address and password again."
)


def held_for_set_up() -> bool:
    """Whether the signed-in user may reach only the set-up page (and sign out)."""
    if not has_request_context() or not current_user.is_authenticated:
        return False  # mail rendered by the scheduler or the CLI has no signed-in user
    return must_set_up(
        is_admin=current_user.is_admin,
        enabled=current_user.two_factor_enabled,
        required_for_admins=bool(current_app.config.get("ADMIN_TWO_FACTOR_REQUIRED")),
    )


@bp.before_app_request
def administrators_set_up_two_factor_first():
    if request.endpoint in OPEN_DURING_SET_UP or not held_for_set_up():
        return None
    flash("Administrators must turn on two-factor sign-in before going on.", "info")
    return redirect(url_for("auth.two_factor_set_up"))


@bp.app_context_processor
def two_factor_hold() -> dict[str, bool]:
    # base.html shows someone held at set-up only Sign out: every other link would bounce.
    return {"held_for_two_factor": held_for_set_up()}


@bp.route("/sign-in/code", methods=["GET", "POST"])
@public
def sign_in_code():
    pending = pending_sign_in()
    if pending is None:
        flash(TOOK_TOO_LONG, "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        address = sign_in_address()
        # Counted against the account and the address, like a password, before it is checked.
        if not take_attempt(pending.user.email, address, now=clock.now()):
            form.form_errors.append(TOO_MANY_ATTEMPTS)
            return render_template("auth/two_factor_code.html", form=form), 429
        used = check_code(pending.user, form.code.data or "", now=clock.now())
        if used is not None:
            user = pending.user
            complete_sign_in(user, remember=pending.remember, address=address)
            if used == RECOVERY:
                _flash_recovery_used(recovery_codes_left(user))
            return redirect(safe_next(pending.next_url) or url_for("home.index"))
        form.code.errors = [*form.code.errors, WRONG_CODE]
    return render_template("auth/two_factor_code.html", form=form)


def _flash_recovery_used(left: int) -> None:
    flash(
        f"You signed in with a recovery code; it can't be used again. You have {left} left: "
        "if your phone is lost, turn two-factor sign-in off and on again on your account page "
        "for a new set.",
        "warning",
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_set_up():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        flash("Two-factor sign-in is already on.", "info")
        return redirect(url_for("auth.account"))
    secret = begin_set_up(user)
    db.session.commit()
    form = SetUpForm()
    if form.validate_on_submit():
        try:
            codes = finish_set_up(user, form.code.data or "", now=clock.now())
        except UserError as exc:
            db.session.rollback()
            form.code.errors = [*form.code.errors, str(exc)]
        else:
            db.session.commit()
            # Shown in this response only: only their hashes are kept.
            return render_template("auth/recovery_codes.html", codes=codes)
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    uri = provisioning_uri(user, secret, issuer)
    return render_template(
        "auth/two_factor_set_up.html",
        form=form,
        secret=grouped_secret(secret),
        qr=qr_svg(uri, f"QR code to add {user.email} to an authenticator app"),
        issuer=issuer,
    )


@bp.route("/account/two-factor/off", methods=["GET", "POST"])
@login_required
def two_factor_off():
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        flash("Two-factor sign-in is already off.", "info")
        return redirect(url_for("auth.account"))
    form = TurnOffForm()
    if form.validate_on_submit():
        if not take_attempt(user.email, sign_in_address(), now=clock.now()):
            form.form_errors.append(TOO_MANY_ATTEMPTS)
            return render_template("auth/two_factor_off.html", form=form), 429
        try:
            turn_off(user, form.proof.data or "", now=clock.now())
        except UserError as exc:
            db.session.rollback()
            form.proof.errors = [*form.proof.errors, str(exc)]
        else:
            db.session.commit()
            flash("Two-factor sign-in is off: signing in needs only your password.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/two_factor_off.html", form=form)
