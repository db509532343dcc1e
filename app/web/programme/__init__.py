"""Blueprint `programme`: the programme team's case list, unassigned queue, assign and close."""

from app.web.programme.views import bp

__all__ = ["bp"]
