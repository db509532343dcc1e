"""The partnership contact's personal link: signed, per contact and area, expiring, revocable."""

from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from app.extensions import db
from app.operations import partnership_links as links
from app.operations.optout import make_optout_token
from tests.factories import add_snapshot, make_area, make_user


@pytest.fixture
def area(app):
    area = make_area(rep=make_user("rep"), contacts=2)
    add_snapshot(area, 6, 4, year=2026)  # under criteria: the area has an open case
    db.session.commit()
    return area


def now():
    return datetime.now(UTC)


def test_a_fresh_link_opens_its_contact_area_and_open_case(area):
    contact = area.contacts[0]
    access = links.access_for_token(links.make_link_token(contact), now())
    assert access.contact.id == contact.id
    assert access.area.id == area.id
    assert access.case is not None and access.case.area_id == area.id


def test_the_link_is_absolute_from_base_url(app, area):
    app.config["BASE_URL"] = "https://follow-up.example/"
    link = links.partnership_link(area.contacts[0])
    assert link.startswith("https://follow-up.example/partnership/")
    token = link.rsplit("/", 1)[1]
    assert links.access_for_token(token, now()).contact.id == area.contacts[0].id


def test_each_contact_gets_a_different_token(area):
    first, second = (links.make_link_token(c) for c in area.contacts)
    assert first != second
    assert links.access_for_token(second, now()).contact.id == area.contacts[1].id


def test_a_tampered_token_is_refused(area):
    token = links.make_link_token(area.contacts[0])
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(links.LinkRefused):
        links.access_for_token(flipped, now())


def test_a_token_signed_with_another_secret_or_salt_is_refused(app, area):
    contact = area.contacts[0]
    payload = {"c": contact.id, "a": area.id}
    foreign = URLSafeTimedSerializer("another-secret", salt=links.LINK_SALT).dumps(payload)
    with pytest.raises(links.LinkRefused):
        links.access_for_token(foreign, now())
    with pytest.raises(links.LinkRefused):
        links.access_for_token(make_optout_token(contact.id), now())


def test_the_link_expires_after_the_configured_days(app, area):
    token = links.make_link_token(area.contacts[0])
    days = app.config["PARTNERSHIP_LINK_DAYS"]
    assert links.access_for_token(token, now() + timedelta(days=days - 1)).area.id == area.id
    with pytest.raises(links.LinkRefused):
        links.access_for_token(token, now() + timedelta(days=days, minutes=1))


def test_a_cross_area_token_is_refused(app, area):
    other = make_area(rep=area.rep)
    db.session.commit()
    # Correctly signed, but claiming this area for the other area's contact.
    forged = links.link_serializer().dumps({"c": other.contacts[0].id, "a": area.id})
    with pytest.raises(links.LinkRefused):
        links.access_for_token(forged, now())


def test_removing_the_contact_revokes_the_link_at_once(area):
    contact = area.contacts[0]
    token = links.make_link_token(contact)
    db.session.delete(contact)
    db.session.commit()
    with pytest.raises(links.LinkRefused):
        links.access_for_token(token, now())


def test_opting_out_revokes_the_link_at_once(area):
    contact = area.contacts[0]
    token = links.make_link_token(contact)
    contact.opted_out = True
    db.session.commit()
    with pytest.raises(links.LinkRefused):
        links.access_for_token(token, now())


def test_an_area_without_an_open_case_opens_with_no_case(area):
    token = links.make_link_token(area.contacts[0])
    access = links.access_for_token(token, now())
    access.case.status = "closed"
    db.session.commit()
    assert links.access_for_token(token, now()).case is None


@pytest.mark.parametrize("payload", [[1, 2], {"c": "1", "a": 1}, {"c": 1}, "x"])
def test_a_signed_but_malformed_payload_is_refused(app, payload):
    with pytest.raises(links.LinkRefused):
        links.access_for_token(links.link_serializer().dumps(payload), now())
