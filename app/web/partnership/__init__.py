"""Blueprint `partnership`: the personal page behind the link in every partnership email,
where a contact without an account sees where the partnership stands and answers."""

from flask import Blueprint

bp = Blueprint("partnership", __name__)

from app.web.partnership import views  # noqa: E402,F401  (registers the routes)
