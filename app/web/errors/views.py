"""Blueprint `errors`: security headers on every response, and friendly error pages.

An error page never shows a traceback; a 500 rolls back the database session first so the page
itself (which may load the signed-in user) can still use the database."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from app.extensions import db
from app.operations.errors import UserError
from app.web.errors import bp

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": ("camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_ENDPOINTS = ("static", "bootstrap.static")

PAGES = {
    400: (
        "Something was wrong with that request",
        "Go back, check what you entered and try again.",
    ),
    403: ("You can't do that", "Your account does not allow this action."),
    404: (
        "Page not found",
        "If you typed the address, check it is correct. If you followed a link, the page may "
        "have moved or you may not have access to it.",
    ),
    405: ("That action isn't available here", "Go back and use the buttons on the page."),
    413: (
        "The file is too large",
        "Uploads are limited in size: split the file into smaller files and upload each.",
    ),
    415: (
        "That kind of request isn't accepted here",
        "Use the form on the page to send it.",
    ),
    429: ("Too many requests", "Please wait a few minutes, then try again."),
    500: (
        "Sorry, something went wrong on our side",
        "Nothing you did caused this. Try again in a moment; if it keeps happening, tell the "
        "programme team what you were doing.",
    ),
}


@bp.after_app_request
def security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Pages show personal data: don't keep them in shared caches or the back-forward cache.
    if request.endpoint not in STATIC_ENDPOINTS:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_page(code: int, message: str | None = None, title: str | None = None):
    default_title, default_message = PAGES.get(code, PAGES[500])
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=title or default_title,
            message=message or default_message,
        ),
        code,
    )


@bp.app_errorhandler(CSRFError)
def csrf_error(error):
    # An upload over MAX_CONTENT_LENGTH is never read, so its token looks missing: say why.
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:
        return error_page(413)
    return error_page(
        400,
        title="This form has expired",
        message="The form was open too long or was sent from another page. "
        "Go back, reload the page and try again.",
    )


@bp.app_errorhandler(UserError)
def user_error(error):
    # A safety net: views should turn UserError into a form error or flash themselves.
    db.session.rollback()
    return error_page(400, message=str(error))


def _page_above(path: str) -> str | None:
    """The nearest page (a GET route) above `path`, short of the home page:
    /cases/5/notes -> /cases/5."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    parts = path.rstrip("/").split("/")
    for end in range(len(parts) - 1, 1, -1):
        candidate = "/".join(parts[:end])
        try:
            adapter.match(candidate, method="GET")
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        return candidate
    return None


@bp.app_errorhandler(HTTPException)
def http_error(error):
    if error.code is None or error.code < 400:
        return error
    if error.code == 405 and request.method in ("GET", "HEAD"):
        # The address of a form that failed (e.g. /cases/5/notes) reloaded or bookmarked: go to
        # the page the form is on instead of a dead end.
        above = _page_above(request.path)
        if above:
            return redirect(above, 303)
    if error.code >= 500:
        return server_error(error)
    body, code = error_page(error.code if error.code in PAGES else 400)
    # Keep headers such as Allow (405) and Retry-After (429).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return body, code, headers


@bp.app_errorhandler(500)
def server_error(error):
    db.session.rollback()
    original = getattr(error, "original_exception", None)
    if original is not None:
        current_app.logger.error("Unhandled error on %s", request.path, exc_info=original)
    return error_page(500)
