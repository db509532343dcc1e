"""Access control in one place: who may see and change what.

A rep sees only the cases and areas assigned to them; anything else is a 404 so existence does
not leak. The programme team sees everything; only admins manage users."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from app import clock
from app.connections import statement_outside_transaction
from app.extensions import db, login_manager
from app.models import Area, Case, User
from app.operations.sessions import live_session_params, live_session_user
from app.queries import freshness
from app.queries.areas import seen_by_rep
from app.rules.vocabulary import UserRole

__all__ = [
    "admin_required",
    "area_or_404",
    "case_or_404",
    "login_required",
    "programme_required",
    "public",
    "visible_areas",
    "visible_cases",
]


def public(view: Callable) -> Callable:
    """Mark a view as open to anonymous visitors (sign-in, set-password, opt-out)."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def _role_required(access: str, allowed: Callable[[Any], bool]) -> Callable[[Callable], Callable]:
    """A decorator: signed in, and `allowed(current_user)`, else 404 (nothing says the page
    exists). The view is marked with `access` for the access matrix test."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if not allowed(current_user):
                abort(404)
            return view(*args, **kwargs)

        wrapped.access = access  # type: ignore[attr-defined]
        return wrapped

    return decorate


# Programme team only; a rep gets 404.
programme_required = _role_required(UserRole.PROGRAMME, lambda user: user.is_programme)
# Admins (programme team with the admin flag) only; anyone else gets 404.
admin_required = _role_required("admin", lambda user: user.is_programme and user.is_admin)


def visible_cases(user: User) -> Select:
    """A select of the cases `user` may see."""
    query = select(Case)
    if not user.is_programme:
        query = query.where(Case.rep_id == user.id)
    return query


def visible_areas(user: User) -> Select:
    """A select of the areas `user` may see."""
    query = select(Area)
    if not user.is_programme:
        query = query.where(seen_by_rep(user.id))
    return query


def case_or_404(case_id: int, user: User | None = None) -> Case:
    """The case if `user` (default: the signed-in user) may see it, else 404."""
    return _one_or_404(visible_cases(user or current_user).where(Case.id == case_id))


def area_or_404(code: str, user: User | None = None) -> Area:
    """The area if `user` (default: the signed-in user) may see it, else 404."""
    return _one_or_404(visible_areas(user or current_user).where(Area.code == code))


def _one_or_404(query: Select) -> Any:
    found = db.session.scalar(query)
    if found is None:
        abort(404)
    return found


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Session ids are 'user id:session version:token': a bumped version (password change,
    deactivation) or a revoked or expired server-side session signs the browser out."""
    user_id, version, token = (session_id.split(":") + ["", ""])[:3]
    if not (user_id.isdigit() and version.isdigit() and token):
        return None
    user = freshness.scalar_reading_version(
        live_session_user(),
        live_session_params(int(user_id), token, now=clock.now()),
        statement_outside_transaction(db.session()),
    )
    if user is None or user.session_version != int(version) or not user.active:
        return None
    user.session_token = token
    return user


login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see that page."
login_manager.login_message_category = "info"
# "basic": a changed address (a phone on mobile data) marks the session non-fresh instead
# of signing the user out.
login_manager.session_protection = "basic"
