"""Blueprints of the web interface."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from app.web.home import bp as home_bp

    app.register_blueprint(home_bp)
