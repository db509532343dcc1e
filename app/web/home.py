"""Placeholder home page until the web interface lands: says what is loaded."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from app.extensions import db
from app.models import Area, Case, Snapshot

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    counts = {
        "areas": db.session.scalar(select(func.count()).select_from(Area)),
        "snapshots": db.session.scalar(select(func.count()).select_from(Snapshot)),
        "cases": db.session.scalar(select(func.count()).select_from(Case)),
    }
    return render_template("home.html", counts=counts)
