"""`flask users create`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app import clock
from app.extensions import db
from app.operations.errors import UserError
from app.operations.users import create_user
from app.rules.vocabulary import USER_ROLES, UserRole

users_group = AppGroup("users", help="Staff accounts.")


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in USER_ROLES]), required=True)
@click.option("--admin", is_flag=True, help="May manage user accounts (programme team only).")
@click.option("--region", default=None, help="The rep's region, for regional views.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first stdin line.")
def create(
    email: str, name: str, role: str, admin: bool, region: str | None, password_stdin: bool
) -> None:
    """Create a staff account (without a password unless --password-stdin)."""
    if admin and role != UserRole.PROGRAMME:
        raise click.BadParameter("only a programme-team user can be an admin", param_hint="--admin")
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    now = clock.now()
    try:
        user = create_user(
            email=email,
            name=name,
            role=role,
            admin=admin,
            password=password,
            region=region,
            now=now,
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role} {user.email}" + (" (admin)" if user.is_admin else ""))
    if user.password_hash is None:
        link = _set_password_link(user, now)
        if link:
            click.echo(f"Set-password link (valid for a limited time): {link}")
        else:
            click.echo("No password set: send a set-password link from the Users page.")


def _set_password_link(user, now) -> str | None:
    try:
        from app.operations.users import make_set_password_link
    except ImportError:
        return None
    return make_set_password_link(user, now)


commands = [users_group]
