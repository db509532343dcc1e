"""List pages' URLs as people expect: a filter form submits every field, so a request with
empty parameters is redirected to the same list without them (shareable, readable links)."""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from werkzeug.wrappers import Response


def without_empty_parameters() -> Response | None:
    """A redirect to this GET without its empty parameters, or None when there are none."""
    if request.method != "GET" or not any(v == "" for v in request.args.values()):
        return None
    kept = [(k, v) for k, v in request.args.items(multi=True) if v != ""]
    args: dict[str, Any] = {}
    for key, value in kept:
        args.setdefault(key, []).append(value)
    assert request.endpoint is not None  # a matched GET route
    return redirect(url_for(request.endpoint, **(request.view_args or {}), **args))
