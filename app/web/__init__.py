"""Blueprints of the web interface: each module in BLUEPRINTS has a blueprint `bp`."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

from app.rules.vocabulary import template_globals
from app.web.filters import register_filters
from app.web.form_errors import form_errors
from app.web.options import rep_options, select_options
from app.web.page_cache import init_page_cache

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
    "partnership",
    "imports",
    "due",
    "search",
    "health",
)


def register_web(app: Flask) -> None:
    from app.web import access  # noqa: F401  (registers the user loader)

    for name in BLUEPRINTS:
        module = import_module(f"app.web.{name}")
        app.register_blueprint(module.bp)
    app.jinja_env.globals.update(template_globals())
    register_filters(app)
    app.jinja_env.globals["distance_words"] = distance_words
    app.jinja_env.globals["form_errors"] = form_errors
    app.jinja_env.globals["rep_options"] = rep_options
    app.jinja_env.globals["select_options"] = select_options
    init_page_cache(app)


def distance_words(members: int | None, residents: int | None, subject: str = "it") -> str:
    """'needs 2 more members, at least one of them a resident' for a roster's counts, against
    the configured criteria ('' when the counts are not known)."""
    from app.rules.distance import describe_distance, distance_to_criteria
    from app.settings import criteria_thresholds

    if members is None or residents is None:
        return ""
    distance = distance_to_criteria(members, residents, criteria_thresholds())
    return describe_distance(distance, subject=subject)
