"""The one safe-redirect rule (`app.web.redirects.safe_next`), shared by sign-in and the
programme forms: only a path on this site survives."""

import pytest

from app.web.redirects import safe_next

HOSTILE = [
    None,
    "",
    "https://evil.example/",
    "http://evil.example/cases",
    "//evil.example/cases",
    "/\\evil.example",
    "\\\\evil.example",
    "/cases\r\nSet-Cookie: x=1",
    "/cases\nLocation: //evil.example",
    "/cases\x00",
    "/\t/evil.example",
    "/cases\x7f",
    "javascript:alert(1)",
    "cases",
    "evil.example/cases",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_hostile_targets_are_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", ["/", "/cases", "/programme/cases?flag=at_risk&page=2#top"])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target


def test_sign_in_and_programme_pages_use_the_one_rule():
    # Both users of the rule import this very function: no private copy can drift.
    from app.web.auth import views as auth_views
    from app.web.programme import views as programme_views

    assert auth_views.safe_next is safe_next
    assert programme_views.safe_next is safe_next
