"""The opt-out link in partnership emails: confirm, opt out, refuse anything not ours."""

from __future__ import annotations

from datetime import date

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from app.extensions import db
from app.models import Action, ActionPlan, AuditEntry, Case, Contact, OutboxMessage
from app.operations.errors import UserError
from app.operations.optout import OPTOUT_SALT, make_optout_token, opt_out
from app.operations.sweep import run_sweep
from app.operations.users import make_set_password_token
from tests.factories import add_snapshot, make_area, make_user
from tests.web.conftest import post_form, token_in


@pytest.fixture
def contact(app):
    area = make_area(contacts=2)
    db.session.commit()
    return area.contacts[0]


def reload(contact: Contact) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact.id)


def test_get_shows_a_confirmation_and_changes_nothing(client, contact):
    response = client.get(f"/optout/{make_optout_token(contact.id)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert contact.area.name in html and contact.email in html
    assert '<form method="post"' in html and token_in(html)
    assert reload(contact).opted_out is False


def test_post_opts_the_contact_out_and_records_an_audit_entry(client, contact):
    url = f"/optout/{make_optout_token(contact.id)}"
    response = post_form(client, url)
    assert response.status_code == 303 and response.headers["Location"].endswith(url)
    contact = reload(contact)
    assert contact.opted_out is True and contact.opted_out_at is not None
    (entry,) = db.session.scalars(select(AuditEntry)).all()
    assert (entry.action, entry.target_type, entry.target_id) == (
        "contact_opted_out",
        "contact",
        contact.id,
    )
    page = client.get(url).get_data(as_text=True)
    assert f"You will get no more automatic mail for {contact.area.name}" in page
    assert '<form method="post"' not in page


def test_other_contacts_of_the_area_stay_opted_in(client, contact):
    post_form(client, f"/optout/{make_optout_token(contact.id)}")
    other = contact.area.contacts[1]
    assert reload(other).opted_out is False


def test_post_without_csrf_token_is_refused(client, contact):
    response = client.post(f"/optout/{make_optout_token(contact.id)}")
    assert response.status_code == 400
    assert reload(contact).opted_out is False


def test_opting_out_twice_writes_one_audit_entry(app, contact, now):
    token = make_optout_token(contact.id)
    opt_out(token, now)
    opt_out(token, now)
    db.session.commit()
    assert len(db.session.scalars(select(AuditEntry)).all()) == 1
    assert reload(contact).opted_out_at == now


def bad_tokens(app, contact, now) -> dict[str, str]:
    good = make_optout_token(contact.id)
    secret = app.config["SECRET_KEY"]
    user = make_user("rep")
    db.session.commit()
    return {
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "payload swapped": URLSafeSerializer("x", salt=OPTOUT_SALT).dumps({"c": contact.id}),
        "another salt": URLSafeSerializer(secret, salt="set-password").dumps({"c": contact.id}),
        "set-password link": make_set_password_token(user, now),
        "unknown contact": URLSafeSerializer(secret, salt=OPTOUT_SALT).dumps({"c": 999999}),
        "not a dict": URLSafeSerializer(secret, salt=OPTOUT_SALT).dumps(contact.id),
        "garbage": "not-a-token",
    }


@pytest.mark.parametrize(
    "which",
    [
        "tampered",
        "payload swapped",
        "another salt",
        "set-password link",
        "unknown contact",
        "not a dict",
        "garbage",
    ],
)
def test_forged_or_foreign_tokens_get_a_clear_error_page_and_change_nothing(
    app, client, contact, now, which
):
    token = bad_tokens(app, contact, now)[which]
    for response in (client.get(f"/optout/{token}"), post_form(client, f"/optout/{token}")):
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert "This opt-out link is not valid" in html
        assert "Traceback" not in html
    assert reload(contact).opted_out is False
    assert db.session.scalars(select(AuditEntry)).all() == []


def test_opt_out_refuses_a_forged_token_with_a_user_error(app, contact, now):
    with pytest.raises(UserError):
        opt_out(bad_tokens(app, contact, now)["another salt"], now)


def test_an_opted_out_contact_gets_no_further_mail_from_the_sweep(client, app, now):
    area = make_area(rep=make_user("rep"), contacts=2)
    add_snapshot(area, 6, 4, on=date(2026, 11, 20), now=now)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    plan = ActionPlan(case=case, support=[], barriers=[])
    db.session.add(
        Action(plan=plan, description="Recruit", owner="partnership", due_on=date(2026, 11, 30))
    )
    db.session.commit()
    gone, staying = area.contacts
    post_form(client, f"/optout/{make_optout_token(gone.id)}")
    run_sweep(now)
    recipients = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.contact_id.is_not(None))
    ).all()
    assert recipients == [staying.email]
