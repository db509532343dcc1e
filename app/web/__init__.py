"""Blueprints of the web interface: each module in BLUEPRINTS has a blueprint `bp`."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from app.rules.vocabulary import template_globals

BLUEPRINTS = (
    "home",
    "errors",
    "auth",
    "cases",
    "programme",
    "areas",
    "admin",
    "dashboard",
    "insights",
    "outbox",
    "optout",
    "imports",
    "due",
)


def register_web(app: Flask) -> None:
    from app.web import access  # noqa: F401  (registers the user loader)

    for name in BLUEPRINTS:
        module = import_module(f"app.web.{name}")
        app.register_blueprint(module.bp)
    app.jinja_env.globals["nav_url"] = _nav_url
    app.jinja_env.globals.update(template_globals())


def _nav_url(endpoint: str, **values) -> str | None:
    """url_for that yields None for endpoints not (yet) registered, so the nav degrades."""
    from flask import current_app, url_for

    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)
