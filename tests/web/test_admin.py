"""User administration: only admins; every change is audited; set-password links by outbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.models import AuditEntry, OutboxMessage, User
from app.operations.outbox import send_all_due
from app.operations.users import LINK_PLACEHOLDER
from tests.factories import make_user
from tests.smtp_server import smtp_server_fixture  # noqa: F401
from tests.web.conftest import login_as, post_form
from tests.web.test_auth import PASSWORD, IsolatedClient, signed_in_as


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def admin(app):
    user = make_user("programme", email="admin@example.org", admin=True, name="Ada Admin")
    db.session.commit()
    return user


@pytest.fixture
def as_admin(client, admin):
    login_as(client, admin)
    return client


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize("role, is_admin", [("rep", False), ("programme", False)])
def test_non_admins_get_404(client, app, role, is_admin):
    login_as(client, make_user(role, admin=is_admin))
    db.session.commit()
    assert client.get("/admin/users").status_code == 404
    response = post_form(
        client, "/admin/users/new", {"email": "x@example.org", "name": "X", "role": "rep"}
    )
    assert response.status_code == 404
    assert db.session.scalar(select(User).where(User.email == "x@example.org")) is None


def table(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.index("<tbody>") : html.index("</tbody>")]


def test_user_list_is_sorted_by_name_both_ways(as_admin):
    for name in ("Zoe Zed", "bob brown", "Carl Cole"):
        make_user("rep", name=name)
    db.session.commit()
    html = table(as_admin.get("/admin/users?sort=name"))
    order = [html.index(n) for n in ("Ada Admin", "bob brown", "Carl Cole", "Zoe Zed")]
    assert order == sorted(order)
    html = table(as_admin.get("/admin/users?sort=-name"))
    order = [html.index(n) for n in ("Zoe Zed", "Carl Cole", "bob brown", "Ada Admin")]
    assert order == sorted(order)


def test_user_list_is_paginated(as_admin):
    for i in range(30):
        make_user("rep", name=f"Rep {i:02d}")
    db.session.commit()
    first = as_admin.get("/admin/users").get_data(as_text=True)
    second = as_admin.get("/admin/users?page=2").get_data(as_text=True)
    assert "Rep 00" in first and "Rep 29" not in first
    assert "Rep 29" in second and "Rep 00" not in second
    assert "31 accounts" in first


def create(client, **data):
    form = {"email": "new@example.org", "name": "Nina New", "role": "rep", "region": "North"}
    form.update(data)
    return post_form(client, "/admin/users/new", form)


def test_creating_a_user_queues_a_set_password_email_without_the_link(as_admin, admin, app):
    response = create(as_admin)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@example.org"))
    assert (user.name, user.role, user.region, user.is_admin) == ("Nina New", "rep", "North", False)
    assert user.password_hash is None
    message = db.session.scalar(select(OutboxMessage))
    assert message.kind == "set_password"
    assert message.recipient == "new@example.org"
    assert message.key.startswith(f"setpw:{user.id}:")
    assert message.status == "queued"
    # The stored mail (what the Outbox pages show) never holds a working link.
    assert "/set-password/" not in message.body_text + message.body_html
    assert LINK_PLACEHOLDER in message.body_text
    entries = audit("user_created")
    assert [(e.actor_id, e.target_id) for e in entries] == [(admin.id, user.id)]


def link_in(html: str) -> str | None:
    match = re.search(r"https?://[^\s\"<]+/set-password/[^\s\"<]+", html)
    return match.group(0) if match else None


def test_without_smtp_the_creating_admin_sees_the_link_once(as_admin, app):
    response = create(as_admin)
    page = as_admin.get(response.headers["Location"]).get_data(as_text=True)
    link = link_in(page)
    assert link is not None and link.startswith(app.config["BASE_URL"])
    again = as_admin.get(response.headers["Location"]).get_data(as_text=True)
    assert link_in(again) is None  # a refresh does not show it again


def test_other_programme_members_never_see_the_link(as_admin, app):
    create(as_admin)
    colleague = app.test_client()
    login_as(colleague, make_user("programme", email="colleague@example.org"))
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    for url in ("/outbox", f"/outbox/{message.id}", f"/outbox/{message.id}/html"):
        page = colleague.get(url)
        assert page.status_code == 200, url
        assert "/set-password/" not in page.get_data(as_text=True), url


def test_with_smtp_the_link_goes_only_by_mail(as_admin, app, smtp_server):
    smtp_server.configure(app)
    response = create(as_admin)
    page = as_admin.get(response.headers["Location"]).get_data(as_text=True)
    assert link_in(page) is None
    assert "on its way by email to new@example.org" in page
    send_all_due(clock.now(), worker="test")
    (received,) = smtp_server.messages
    body = received.message.get_body(("plain",)).get_content()
    path = re.search(r"/set-password/\S+", body).group(0)
    newcomer = app.test_client()
    response = post_form(
        newcomer, path, {"new_password": "newcomer password", "confirm": "newcomer password"}
    )
    assert response.status_code == 302
    from app.operations.users import password_matches

    assert password_matches(
        db.session.scalar(select(User).filter_by(email="new@example.org")), "newcomer password"
    )


def test_duplicate_email_is_refused_with_a_form_error(as_admin):
    make_user("rep", email="new@example.org")
    db.session.commit()
    response = create(as_admin, email="NEW@example.org")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already exists" in html and 'href="#email"' in html
    assert db.session.scalar(select(OutboxMessage)) is None


def test_missing_name_is_shown_next_to_the_field(as_admin):
    html = create(as_admin, name="").get_data(as_text=True)
    assert "Enter the person&#39;s name." in html
    assert 'href="#name"' in html and 'id="name-error"' in html


def test_rep_cannot_be_made_admin(as_admin):
    html = create(as_admin, is_admin="y").get_data(as_text=True)
    assert "Only programme-team members can be administrators." in html
    assert db.session.scalar(select(User).filter_by(email="new@example.org")) is None


def test_deactivation_needs_confirmation_then_signs_the_user_out(as_admin, app):
    rep = make_user("rep", password=PASSWORD)
    db.session.commit()
    rep_client = app.test_client()
    login_as(rep_client, rep)
    page = as_admin.get(f"/admin/users/{rep.id}/deactivate")
    assert "will be signed out on every device" in page.get_data(as_text=True)
    assert fresh(rep).active  # a GET changes nothing
    response = post_form(as_admin, f"/admin/users/{rep.id}/deactivate")
    assert response.status_code == 302
    rep = fresh(rep)
    assert not rep.active and rep.session_version == 2
    assert signed_in_as(rep_client) is None
    assert len(audit("user_deactivated")) == 1


def test_admin_cannot_deactivate_themselves(as_admin, admin):
    response = post_form(as_admin, f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
    assert "You can&#39;t deactivate your own account." in response.get_data(as_text=True)
    assert fresh(admin).active
    assert audit("user_deactivated") == []


def test_reactivation_lets_the_user_sign_in_again(as_admin, app):
    rep = make_user("rep", email="back@example.org", password=PASSWORD)
    rep.active = False
    db.session.commit()
    post_form(as_admin, f"/admin/users/{rep.id}/reactivate")
    assert fresh(rep).active
    assert len(audit("user_reactivated")) == 1
    other = app.test_client()
    response = post_form(other, "/sign-in", {"email": "back@example.org", "password": PASSWORD})
    assert response.status_code == 302


def test_changing_role_and_admin_flag_is_audited(as_admin, admin):
    rep = make_user("rep", name="Pat")
    db.session.commit()
    post_form(
        as_admin,
        f"/admin/users/{rep.id}",
        {"name": "Pat Smith", "role": "programme", "is_admin": "y", "region": ""},
    )
    rep = fresh(rep)
    assert (rep.name, rep.role, rep.is_admin) == ("Pat Smith", "programme", True)
    (entry,) = audit("user_updated")
    assert entry.actor_id == admin.id
    assert entry.data["role"] == {"from": "rep", "to": "programme"}


def test_admin_cannot_remove_their_own_admin_flag(as_admin, admin):
    response = post_form(
        as_admin, f"/admin/users/{admin.id}", {"name": "Ada Admin", "role": "programme"}
    )
    assert "You can&#39;t remove your own administrator access." in response.get_data(as_text=True)
    assert fresh(admin).is_admin
    assert audit("user_updated") == []


def test_sending_a_new_link_queues_another_email(as_admin, admin):
    rep = make_user("rep", email="again@example.org")
    db.session.commit()
    response = post_form(as_admin, f"/admin/users/{rep.id}/set-password-link")
    assert response.status_code == 302
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert [m.recipient for m in messages] == ["again@example.org"]
    assert len(audit("set_password_link_sent")) == 1


def test_unknown_user_is_404(as_admin):
    assert as_admin.get("/admin/users/999999").status_code == 404


def test_deactivating_a_rep_with_work_hands_it_all_to_a_successor(as_admin, app):
    from sqlalchemy import select

    from app.models import Area, Case, CaseEvent
    from tests.factories import add_snapshot, make_area

    leaving = make_user("rep", name="Lee Leaving")
    successor = make_user("rep", name="Sue Successor")
    areas = [make_area(rep=leaving) for _ in range(3)]
    for area in areas[:2]:
        add_snapshot(area, 6, 4, year=2025)  # two open cases
    db.session.commit()
    page = as_admin.get(f"/admin/users/{leaving.id}/deactivate").get_data(as_text=True)
    assert "is the rep of 3 areas and has 2 open cases" in page
    picker = page.split('id="successor"', 1)[1].split("</select>", 1)[0]
    assert "Sue Successor" in picker and "Lee Leaving" not in picker

    refused = post_form(as_admin, f"/admin/users/{leaving.id}/deactivate")
    assert refused.status_code == 400
    assert "Choose who takes over" in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, leaving.id).active

    done = post_form(
        as_admin,
        f"/admin/users/{leaving.id}/deactivate",
        {"successor": str(successor.id)},
        follow_redirects=True,
    )
    assert "3 areas and 2 open cases moved to Sue Successor." in done.get_data(as_text=True)
    db.session.rollback()
    assert not db.session.get(User, leaving.id).active
    assert {a.rep_id for a in db.session.scalars(select(Area))} == {successor.id}
    cases = list(db.session.scalars(select(Case)))
    assert {c.rep_id for c in cases} == {successor.id}
    for case in cases:
        assigned = sorted((e for e in case.events if e.kind == "assigned"), key=lambda e: e.id)
        assert assigned[-1].message == "Case reassigned from Lee Leaving to Sue Successor."
    assert len(db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "assigned")).all()) == 4


def test_deactivating_to_the_queue_leaves_cases_needing_a_rep(as_admin, app):
    from sqlalchemy import select

    from app.models import Case
    from tests.factories import add_snapshot, make_area

    leaving = make_user("rep", name="Lee Leaving")
    area = make_area(rep=leaving)
    add_snapshot(area, 6, 4, year=2025)
    db.session.commit()
    post_form(as_admin, f"/admin/users/{leaving.id}/deactivate", {"successor": "none"})
    db.session.rollback()
    case = db.session.scalar(select(Case))
    assert case.rep_id is None and db.session.get(type(area), area.id).rep_id is None
    queue = as_admin.get("/cases/unassigned").get_data(as_text=True)
    assert f"Case #{case.id}" in queue or f"#{case.id}" in queue


def test_cases_of_an_inactive_rep_count_as_needing_a_rep(as_admin, app):
    from tests.factories import add_snapshot, make_area

    gone = make_user("rep", name="Gus Gone")
    area = make_area(rep=gone)
    add_snapshot(area, 6, 4, year=2025)
    gone.active = False
    db.session.commit()
    queue = as_admin.get("/cases/unassigned").get_data(as_text=True)
    assert area.code in queue and "1 open case has no rep" in queue
    case_id = re.search(r"/cases/(\d+)", queue.split("<tbody>", 1)[1]).group(1)
    page = as_admin.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Gus Gone" in page and ">inactive</span>" in page
