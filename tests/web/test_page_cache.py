"""The rendered-page cache (app/web/page_cache.py), turned on: a repeat of a page is served
from it; the user's own change shows at once, through the form, on whichever page; another
user's recorded change shows at once; a change that moves no data version shows within
PAGE_CACHE_SECONDS; its forms' CSRF tokens validate; it never crosses users or sessions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.models import Area
from app.operations import case_actions as ops
from app.queries import freshness
from app.web import page_cache
from tests.factories import make_user
from tests.querycount import count_queries
from tests.web.conftest import post_form, token_in
from tests.web.test_case_page import login_as, open_case

SECONDS = 60
DUE = date(2026, 12, 5)  # within Due soon's 14 days of the frozen now


@pytest.fixture
def app_config() -> dict:
    return {"PAGE_CACHE_SECONDS": SECONDS}


@pytest.fixture(autouse=True)
def fresh_cache(freeze_clock, now):
    freeze_clock(now)
    page_cache.clear()
    freshness.clear()
    yield
    page_cache.clear()
    freshness.clear()


@pytest.fixture
def rep(app):
    user = make_user("rep", name="Asha Rep")
    db.session.commit()
    return user


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def warm(client, url: str) -> str:
    """Request `url` until its entry is stored (the first page of a session makes its CSRF
    token, which changes the session, so it is not kept); the cached HTML."""
    page(client, url)
    return page(client, url)


PAGES = ("/my-cases", "/due-soon")


@pytest.mark.parametrize("url", PAGES)
def test_a_repeat_is_served_from_the_cache_with_the_same_html(client, rep, url):
    open_case(rep)
    login_as(client, rep)
    first = warm(client, url)
    with count_queries() as counter:
        again = page(client, url)
    assert again == first
    # One statement: the signed-in user, their live session and the data version together.
    assert counter.count == 1


def test_a_note_added_by_the_user_shows_at_once(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    html = warm(client, f"/cases/{case.id}")
    assert "Called the chair." not in html
    response = post_form(client, f"/cases/{case.id}/notes", {"note": "Called the chair."})
    assert response.status_code == 302
    after = page(client, f"/cases/{case.id}")  # the flash is pending: never from the cache
    assert "Note added." in after and "Called the chair." in after
    again = page(client, f"/cases/{case.id}")
    assert "Called the chair." in again and "Note added." not in again


def test_the_users_own_change_shows_at_once_even_without_a_new_data_version(client, rep, now):
    """Every successful POST moves the session's writes counter, so the user's next page is a
    new entry whatever the POST wrote (here: an action saved unchanged, which records no
    event, while a change no data version sees was made meanwhile)."""
    case = open_case(rep)
    action = ops.add_action(
        case, description="Book the hall", owner="rep", due_on=DUE, actor=rep, now=now
    )
    db.session.commit()
    login_as(client, rep)
    url = f"/cases/{case.id}"
    warm(client, url)
    db.session.execute(update(Area).where(Area.id == case.area_id).values(name="Renamed Area"))
    db.session.commit()
    assert "Renamed Area" not in page(client, url)  # from the cache
    refused = post_form(client, f"/cases/{case.id}/notes", {"note": "  "})
    assert refused.status_code == 422  # a refused POST changed nothing: the entry stands
    assert "Renamed Area" not in page(client, url)
    version = freshness.data_version()
    saved = post_form(
        client,
        f"/cases/{case.id}/actions/{action.id}/edit",
        {
            "description": "Book the hall",
            "owner": "rep",
            "due_on": DUE.isoformat(),
            "version": case.version,
        },
    )
    assert saved.status_code == 302
    assert freshness.data_version() == version  # nothing recorded
    assert "No changes to the action." in page(client, url)  # the flash: never from the cache
    assert "Renamed Area" in page(client, url)


def test_another_users_recorded_change_shows_at_once(app, client, rep, now):
    case = open_case(rep)
    programme = make_user("programme", name="Pat Programme")
    db.session.commit()
    login_as(client, rep)
    assert "Seen by the programme team." not in warm(client, f"/cases/{case.id}")
    ops.add_note(case, "Seen by the programme team.", programme, now)
    db.session.commit()
    assert "Seen by the programme team." in page(client, f"/cases/{case.id}")


def test_an_unrecorded_change_shows_within_the_stated_bound(app, client, rep, now, freeze_clock):
    case = open_case(rep)
    login_as(client, rep)
    warm(client, f"/cases/{case.id}")
    db.session.execute(update(Area).where(Area.id == case.area_id).values(name="Renamed Area"))
    db.session.commit()  # as an outbox delivery status would change: no event, no new id
    freeze_clock(now + timedelta(seconds=SECONDS - 1))
    assert "Renamed Area" not in page(client, f"/cases/{case.id}")
    freeze_clock(now + timedelta(seconds=SECONDS))
    assert "Renamed Area" in page(client, f"/cases/{case.id}")


def test_the_csrf_token_of_a_cached_form_is_accepted(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    warm(client, f"/cases/{case.id}")
    with count_queries() as counter:
        cached = page(client, f"/cases/{case.id}")
    assert counter.count == 1  # served from the cache
    token = token_in(cached)
    assert token
    response = client.post(
        f"/cases/{case.id}/notes", data={"note": "From a cached form.", "csrf_token": token}
    )
    assert response.status_code == 302
    assert "From a cached form." in page(client, f"/cases/{case.id}")


def test_entries_are_never_shared_between_users_or_sessions(app, client, rep):
    case = open_case(rep)
    programme = make_user("programme", name="Pat Programme")
    db.session.commit()
    # `client` made the app's test clients load their user afresh on every request
    asha, pat, asha_again = client, app.test_client(), app.test_client()
    login_as(asha, rep)
    login_as(pat, programme)
    url = f"/cases/{case.id}"
    assert "Asha Rep" in warm(asha, url)
    login_as(asha_again, rep)  # the same user in a second session
    with count_queries() as counter:
        second_session = page(asha_again, url)
    assert counter.count > 1  # not the first session's entry
    assert "Asha Rep" in second_session
    pat_html = warm(pat, url)
    assert "Pat Programme" in pat_html and "Asha Rep</a></li>" not in pat_html


def test_a_signed_out_session_never_reaches_an_entry(client, rep):
    case = open_case(rep)
    login_as(client, rep)
    warm(client, f"/cases/{case.id}")
    with client.session_transaction() as sess:
        kept = dict(sess)  # the cookie as it was, to replay after signing out
    post_form(client, "/sign-out")
    with client.session_transaction() as sess:
        sess.update(kept)
    response = client.get(f"/cases/{case.id}")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_due_soon_counts_follow_a_new_action_at_once(client, rep, now):
    """Due soon's counts are kept per worker too (app/queries/due_soon.py): a new action
    moves the data version, so both the page and its counts are made afresh."""
    case = open_case(rep)
    ops.add_action(case, description="Book the hall", owner="rep", due_on=DUE, actor=rep, now=now)
    db.session.commit()
    login_as(client, rep)
    assert "<title>Due soon (1)" in warm(client, "/due-soon")
    ops.add_action(case, description="Send minutes", owner="rep", due_on=DUE, actor=rep, now=now)
    db.session.commit()
    html = page(client, "/due-soon")
    assert "<title>Due soon (2)" in html and "Send minutes" in html
