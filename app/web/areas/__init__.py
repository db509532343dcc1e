"""Blueprint `areas`: the areas list, an area's page and history, changing an area's rep."""

from app.web.areas.views import bp

__all__ = ["bp"]
