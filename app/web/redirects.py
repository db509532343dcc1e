"""Where a form may send the user back to: only a path on this site (no open redirects)."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None.

    Refused: empty, anything not starting with a single '/', scheme-relative ('//host') and
    absolute URLs, backslashes (browsers read '/\\host' as '//host'), and any control character
    (CR/LF, NUL, tab...), which could split headers or be dropped by a browser into '//'."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
