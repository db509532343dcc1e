"""Checks every request passes before its view runs, so hostile input gets a 4xx page instead
of reaching a query or a header (see docs/security.md):

- ids in paths are bounded to what the database can hold (`int` converter);
- no control character in the path or query string, none but tab and line breaks in a form
  value (a field may be multi-line; single-line fields refuse line breaks themselves);
- a body sent without Content-Length that reaches MAX_CONTENT_LENGTH is refused (413);
- no uploaded file unless the view says it takes one (`accepts_files`), no JSON body at all:
  every form here is an HTML form."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter
from werkzeug.wsgi import LimitedStream
from wtforms.validators import ValidationError

from app.operations.text import MAX_ID, column_length, text_problem

log = logging.getLogger(__name__)


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that matches ASCII digits up to MAX_ID only; anything larger is a 404."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def accepts_files(view: Callable) -> Callable:
    """Mark a view whose form has a file field (an import): it may receive uploads."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def checks_query_string(view: Callable) -> Callable:
    """Mark a GET view that refuses bad query-string text itself, with a message naming the
    field (search), instead of the generic 400 page."""
    view.checks_query_string = True  # type: ignore[attr-defined]
    return view


def _bad(values: Iterable[str], multiline: bool) -> bool:
    return any(text_problem(value, multiline=multiline) for value in values)


def refuse_hostile_input() -> None:
    """before_request: abort with 400/415 on input no view should have to handle."""
    if _bad([request.path], multiline=False):
        abort(404)
    args = request.args
    view = current_app.view_functions.get(request.endpoint or "")
    checks_own = getattr(view, "checks_query_string", False)
    if not checks_own and (_bad(args.keys(), multiline=False) or _bad(args.values(), False)):
        _refuse("query string")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    _refuse_cut_off_body()
    if request.is_json:
        _refuse("JSON body", 415)
    form = request.form
    if _bad(form.keys(), multiline=False) or _bad(form.values(), multiline=True):
        _refuse("form value")
    if request.files and not getattr(view, "accepts_files", False):
        _refuse("uploaded file")


def _refuse_cut_off_body() -> None:
    """A body without Content-Length (chunked) is read only up to MAX_CONTENT_LENGTH; one that
    filled it was cut off, so refuse it as too large rather than act on part of it."""
    if request.content_length is not None or request.max_content_length is None:
        return
    request.form  # noqa: B018  (parse now, within the limit)
    stream = request.stream
    if isinstance(stream, LimitedStream) and stream.is_exhausted:
        _refuse("body size (no Content-Length)", 413)


def _refuse(what: str, code: int = 400) -> None:
    log.info("Refused a request to %s: bad %s", request.path, what)
    abort(code)


class FitsColumn:
    """WTForms validator: the text fits model column `column` and holds no control character
    (line breaks allowed only when `multiline`)."""

    def __init__(self, column, multiline: bool = False) -> None:
        self.max_length = column_length(column)
        self.multiline = multiline

    def __call__(self, form, field) -> None:
        value = field.data
        if value is None:
            return
        if not isinstance(value, str):
            raise ValidationError("Enter text.")
        problem = text_problem(value, self.max_length, self.multiline)
        if problem:
            raise ValidationError(f"{field.label.text} {problem}.")


def init_request_checks(app: Flask) -> None:
    """Install the bounded `int` converter (before any blueprint) and the request checks."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(refuse_hostile_input)
