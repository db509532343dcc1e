"""Blueprint `imports`: the programme team's web imports (upload, preview, confirm, history)."""

from app.web.imports.views import bp

__all__ = ["bp"]
