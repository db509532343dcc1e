"""User administration: list, create, edit, deactivate, reactivate, send set-password links."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app import clock
from app.extensions import db
from app.models import AuditEntry, User
from app.operations.errors import UserError
from app.operations.handover import deactivate_with_handover, workload
from app.operations.outbox import mail_configured
from app.operations.text import parse_count
from app.operations.two_factor import reset as reset_two_factor
from app.operations.users import (
    create_user,
    reactivate_user,
    send_set_password_link,
    update_user,
)
from app.queries.case_list import assignable_users
from app.web.access import admin_required
from app.web.admin import bp
from app.web.admin.forms import ConfirmForm, NewUserForm, UserDetailsForm
from app.web.form_errors import attach_user_error
from app.web.saving import REFUSED, commit_or_flash

PER_PAGE = 25
SORTS = {
    "name": (func.lower(User.name).asc(), User.id.asc()),
    "-name": (func.lower(User.name).desc(), User.id.desc()),
    "email": (User.email.asc(),),
    "-email": (User.email.desc(),),
}


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def _me() -> User:
    return current_user._get_current_object()


@bp.get("/users")
@admin_required
def users():
    sort = request.args.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    page = db.paginate(
        select(User).order_by(*SORTS[sort]),
        page=parse_count(request.args.get("page", "1")) or 1,
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template("admin/users.html", page=page, sort=sort)


@bp.route("/users/new", methods=["GET", "POST"])
@admin_required
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        now = clock.now()
        try:
            user = create_user(
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                admin=form.is_admin.data,
                region=(form.region.data or "").strip() or None,
                actor_id=current_user.id,
                now=now,
            )
            link = send_set_password_link(user, actor_id=current_user.id, now=now)
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc)
        else:
            db.session.commit()
            _flash_link(f"Account created for {user.name}.", user, link)
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/new_user.html", form=form)


def _flash_link(intro: str, user: User, link: str) -> None:
    """With a mail server the link goes only by mail; without one, this admin sees it once."""
    if mail_configured():
        flash(f"{intro} A set-password link is on its way by email to {user.email}.", "success")
        return
    flash(
        Markup(
            "{} No mail server is set up, so give {} this set-password link yourself (it works "
            "once, for 72 hours; it is shown only now, to you): "
            '<a href="{}" class="text-break">{}</a>'
        ).format(intro, user.email, link, link),
        "success",
    )


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@admin_required
def user(user_id: int):
    user = _user_or_404(user_id)
    form = UserDetailsForm(obj=user)
    if form.validate_on_submit():
        try:
            update_user(
                user,
                actor=_me(),
                name=form.name.data,
                role=form.role.data,
                admin=form.is_admin.data,
                region=form.region.data,
                now=clock.now(),
            )
        except UserError as exc:
            db.session.rollback()
            attach_user_error(form, exc)
        else:
            db.session.commit()
            flash(f"Saved the changes to {user.name}.", "success")
            return redirect(url_for("admin.user", user_id=user.id))
    history = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
        .options(selectinload(AuditEntry.actor))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/user.html", user=user, form=form, history=history, confirm=ConfirmForm()
    )


@bp.post("/users/<int:user_id>/set-password-link")
@admin_required
def send_link(user_id: int):
    user = _user_or_404(user_id)  # CSRFProtect has checked the token already
    if not user.active:
        flash(f"{user.name}'s account is deactivated: reactivate it first.", "error")
        return redirect(url_for("admin.user", user_id=user.id))
    link = send_set_password_link(user, actor_id=current_user.id, now=clock.now())
    db.session.commit()
    _flash_link(f"New link for {user.name}.", user, link)
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/users/<int:user_id>/two-factor-reset")
@admin_required
def two_factor_reset(user_id: int):
    user = _user_or_404(user_id)  # CSRFProtect has checked the token already
    if commit_or_flash(lambda: reset_two_factor(user, actor=_me(), now=clock.now())) is not REFUSED:
        flash(
            f"Two-factor sign-in of {user.name} is reset: they sign in with their password"
            " alone, and can set it up again from their account page.",
            "success",
        )
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@admin_required
def deactivate(user_id: int):
    user = _user_or_404(user_id)
    form = ConfirmForm()
    work = workload(user)
    error = None
    if form.validate_on_submit():
        try:
            successor = _successor(work)
            done = deactivate_with_handover(user, successor, actor=_me(), now=clock.now())
        except UserError as exc:
            db.session.rollback()
            if not work.any or user.id == current_user.id:
                flash(str(exc), "error")
                return redirect(url_for("admin.user", user_id=user.id))
            error = str(exc)  # shown next to the successor picker
        else:
            db.session.commit()
            flash(_handover_words(user, done), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    successors = [u for u in assignable_users() if u.id != user.id] if work.any else []
    return render_template(
        "admin/confirm.html",
        user=user,
        form=form,
        action="deactivate",
        work=work,
        open_cases=work.open_cases,
        successors=successors,
        chosen=request.form.get("successor", ""),
        error=error,
        is_self=user.id == current_user.id,
    ), (400 if error else 200)


def _successor(work) -> User | None:
    """The chosen successor: a rep's id, 'none' for the unassigned queue."""
    raw = (request.form.get("successor") or "").strip()
    if not work.any or raw == "none":
        return None
    user_id = parse_count(raw)
    user = db.session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise UserError("Choose who takes over the areas and open cases.")
    return user


def _handover_words(user: User, done) -> str:
    words = f"{user.name} is deactivated and signed out everywhere."
    if done.areas or done.cases:
        to = done.successor.name if done.successor else "the unassigned queue"
        words += (
            f" {done.areas} area{'s' if done.areas != 1 else ''} and {done.cases} open"
            f" case{'s' if done.cases != 1 else ''} moved to {to}."
        )
    if done.notified:
        words += f" {done.successor.name} gets one email listing them."
    return words


@bp.route("/users/<int:user_id>/reactivate", methods=["GET", "POST"])
@admin_required
def reactivate(user_id: int):
    user = _user_or_404(user_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        if (
            commit_or_flash(lambda: reactivate_user(user, actor=_me(), now=clock.now()))
            is not REFUSED
        ):
            flash(f"{user.name} is active again and can sign in.", "success")
        return redirect(url_for("admin.user", user_id=user.id))
    return render_template(
        "admin/confirm.html", user=user, form=form, action="reactivate", work=None
    )
