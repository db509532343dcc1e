"""The partnership's personal page: what a contact sees and sends, and every link refused."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.extensions import db
from app.models import Action, Case, PartnershipAnswer
from app.operations.partnership_links import LINK_SALT, REFUSED, make_link_token
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user
from tests.querycount import count_queries
from tests.web.conftest import token_in


@pytest.fixture
def rep(app):
    return make_user("rep", name="Rita Rep", email="rita@example.org")


@pytest.fixture
def area(rep, now):
    area = make_area(rep=rep, contacts=2)
    add_snapshot(area, 7, 5, year=2026, now=now)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    agreeable_plan(case, rep, now)
    db.session.commit()
    return area


@pytest.fixture
def contact(area):
    return area.contacts[0]


def url(contact, tail=""):
    return f"/partnership/{make_link_token(contact)}{tail}"


def html(response) -> str:
    return response.get_data(as_text=True)


def form_fields(page: str) -> dict[str, str]:
    """The form's inputs as the browser would send them (checked boxes, selected options)."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if "checked" in tag:
                fields[name.group(1)] = "y"
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    for select_name, body in re.findall(
        r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S
    ):
        chosen = re.search(
            r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', body
        )
        first = re.search(r'<option[^>]*value="([^"]*)"', body)
        fields[select_name] = next(g for g in chosen.groups() if g) if chosen else first.group(1)
    return {k: v.replace("&#34;", '"').replace("&amp;", "&") for k, v in fields.items()}


# --- what the page shows ----------------------------------------------------------------------


def test_the_page_shows_area_rep_criteria_standing_roster_and_actions(client, area, contact):
    response = client.get(url(contact))
    page = html(response)
    assert response.status_code == 200
    assert f"{area.name} Big Local partnership" in page
    assert "Rita Rep" in page and "mailto:rita@example.org" in page
    assert "within criteria when it has at least 8 members" in page
    assert "7 members, 5 of them residents: under criteria (fewer than 8 members)" in page
    assert "What would bring it back" in page and "1 more member." in page
    assert "Person 0" in page and "Person 6" in page
    assert "Invite two residents" in page
    # No person ids, no ids of anything but the action links.
    assert f"{area.code}-annual" not in page


def test_a_contact_sees_nothing_of_another_area(client, area, contact, rep, now):
    other = make_area(rep=rep)
    add_snapshot(other, 6, 2, year=2026, now=now)
    other_case = db.session.scalar(select(Case).where(Case.area_id == other.id))
    agreeable_plan(other_case, rep, now)
    other_action = db.session.scalar(select(Action).where(Action.plan.has(case_id=other_case.id)))
    other_action.description = "Secret of the other area"
    db.session.commit()
    page = html(client.get(url(contact)))
    assert other.name not in page and "Secret of the other area" not in page
    # The other area's action through this contact's link: not shown, nothing changed.
    response = client.get(url(contact, f"/actions/{other_action.id}"))
    assert response.status_code == 303
    assert "Secret of the other area" not in html(client.get(response.headers["Location"]))


def test_an_area_without_an_open_case_says_so_politely_and_names_the_rep(client, area, contact):
    db.session.scalar(select(Case).where(Case.area_id == area.id)).status = "closed"
    db.session.commit()
    page = html(client.get(url(contact)))
    assert "Nothing to answer at the moment" in page and "Rita Rep" in page
    assert "Update the membership" not in page


# --- refused links ----------------------------------------------------------------------------


def _refused(response) -> bool:
    return response.status_code == 404 and REFUSED.split(".")[0] in html(response)


def test_tampered_expired_revoked_and_cross_area_links_get_the_same_clear_page(
    app, client, area, contact, rep, now
):
    token = make_link_token(contact)
    tampered = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    other = make_area(rep=rep)
    db.session.commit()
    cross = URLSafeTimedSerializer(app.secret_key, salt=LINK_SALT).dumps(
        {"c": other.contacts[0].id, "a": area.id}
    )
    pages = [client.get(f"/partnership/{t}") for t in (tampered, cross, "nonsense")]
    assert all(_refused(r) for r in pages)
    assert len({html(r) for r in pages}) == 1  # no hint which way it failed
    app.config["CLOCK_NOW"] = now + timedelta(days=app.config["PARTNERSHIP_LINK_DAYS"] + 400)
    assert _refused(client.get(f"/partnership/{token}"))
    app.config.pop("CLOCK_NOW")
    contact.opted_out = True
    db.session.commit()
    assert _refused(client.get(f"/partnership/{token}"))
    second = area.contacts[1]
    token = make_link_token(second)
    db.session.delete(second)
    db.session.commit()
    assert _refused(client.get(f"/partnership/{token}/membership"))


def test_posts_without_a_csrf_token_are_refused(client, contact):
    response = client.post(url(contact, "/membership"), data={"step": "check"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 0


def test_requests_are_limited_per_link(app, client, contact):
    app.config["PARTNERSHIP_LIMIT_PER_TOKEN"] = "3 per 15 minutes"
    link = url(contact)
    statuses = [client.get(link).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Please wait a few minutes" in html(client.get(link))
    assert client.get(url(contact.area.contacts[1])).status_code == 200  # another link


def test_requests_are_limited_per_address(app, client, contact):
    app.config["PARTNERSHIP_LIMIT_PER_ADDRESS"] = "2 per 15 minutes"
    assert client.get("/partnership/bad-one").status_code == 404
    assert client.get("/partnership/bad-two").status_code == 404
    assert client.get(url(contact)).status_code == 429


# --- answering --------------------------------------------------------------------------------


def _membership_form(client, contact):
    link = url(contact, "/membership")
    page = html(client.get(link))
    return link, form_fields(page)


def test_the_check_step_shows_the_evaluation_and_stores_nothing(client, contact):
    link, fields = _membership_form(client, contact)
    fields.update({"rows-7-name": "Nia New", "rows-7-resident": "y", "step": "check"})
    page = html(client.post(link, data=fields))
    assert "Check before you send" in page
    assert "8 members, 6 of them residents: within criteria" in page
    assert "back within criteria, at the minimum" in page
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 0


def test_sending_twice_makes_one_proposal_and_thanks_the_contact(client, contact):
    link, fields = _membership_form(client, contact)
    fields.update({"rows-7-name": "Nia New", "rows-8-name": "Sam New", "step": "send"})
    fields.pop("rows-0-left", None)
    first = client.post(link, data=fields)
    second = client.post(link, data=fields)
    assert first.status_code == second.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 1
    landing = html(client.get(first.headers["Location"]))
    assert "We already have this answer" in landing
    assert "Waiting for your rep" in landing and "A membership update" in landing


def test_marking_someone_left_and_emptying_a_name_is_explained(client, contact):
    link, fields = _membership_form(client, contact)
    fields.update({"rows-0-left": "y", "rows-1-name": " ", "step": "check"})
    response = client.post(link, data=fields)
    assert response.status_code == 422
    assert "Give the person&#39;s name, or tick Has left." in html(response)


def test_a_name_with_a_line_break_is_refused_with_a_message(client, contact):
    link, fields = _membership_form(client, contact)
    fields.update({"rows-7-name": "Two\nlines", "step": "send"})
    response = client.post(link, data=fields)
    assert response.status_code == 422 and "control character" in html(response)
    assert db.session.scalar(select(func.count()).select_from(PartnershipAnswer)) == 0


def test_an_action_reported_done_needs_a_comment_then_is_done(client, contact):
    action = db.session.scalar(select(Action))
    page = html(client.get(url(contact, f"/actions/{action.id}")))
    token = token_in(page)
    key = re.findall(r'name="form_key"[^>]*value="([^"]+)"', page)[0]
    done = url(contact, f"/actions/{action.id}/done")
    empty = client.post(done, data={"csrf_token": token, "form_key": key, "comment": ""})
    assert empty.status_code == 422 and "Say what was done." in html(empty)
    sent = client.post(done, data={"csrf_token": token, "form_key": key, "comment": "Both came."})
    assert sent.status_code == 303
    db.session.expire_all()
    assert db.session.get(Action, action.id).status == "done"


def test_more_time_with_a_date_before_the_due_date_is_refused(client, contact):
    action = db.session.scalar(select(Action))
    page = html(client.get(url(contact, f"/actions/{action.id}")))
    key = re.findall(r'name="form_key"[^>]*value="([^"]+)"', page)[1]
    response = client.post(
        url(contact, f"/actions/{action.id}/more-time"),
        data={
            "csrf_token": token_in(page),
            "form_key": key,
            "due_on": (action.due_on - timedelta(days=1)).isoformat(),
            "why": "Busy",
        },
    )
    assert response.status_code == 422 and "after the current due date" in html(response)


# --- query counts -----------------------------------------------------------------------------


def _queries(client, link) -> int:
    with count_queries() as counter:
        assert client.get(link).status_code == 200
    return counter.count


def test_the_pages_run_a_fixed_number_of_queries(client, area, contact, rep, now):
    from app.operations import case_actions as ops

    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    action = db.session.scalar(select(Action))
    links = [url(contact), url(contact, "/membership"), url(contact, f"/actions/{action.id}")]
    before = [_queries(client, link) for link in links]
    add_snapshot(area, 20, 6, on=now.date(), now=now)  # a longer roster, still under criteria
    for i in range(4):
        ops.add_action(
            case,
            description=f"More work {i}",
            owner="partnership",
            due_on=now.date() + timedelta(days=20 + i),
            actor=rep,
            now=now,
        )
    db.session.commit()
    assert case.status == "new"
    after = [_queries(client, link) for link in links]
    assert after == before
