"""The Outbox page: programme team only; list, filter, read a message, send a failed one again."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, OutboxMessage
from tests.factories import make_user
from tests.querycount import count_queries
from tests.smtp_server import queue_message
from tests.web.conftest import post_form


@pytest.fixture
def programme(signed_in):
    user = make_user("programme")
    db.session.commit()
    return signed_in(user), user


def rows(html: str) -> list[str]:
    """The subjects listed in the table, in order."""
    return re.findall(r'<th scope="row" class="fw-normal"><a href="/outbox/\d+">([^<]+)</a>', html)


def test_a_rep_gets_404_on_every_outbox_page(client, signed_in, now):
    message = queue_message("k", now=now, status="failed", attempts=5, last_error="boom")
    rep = make_user("rep")
    db.session.commit()
    signed_in(rep)

    for url in ("/outbox", f"/outbox/{message.id}", f"/outbox/{message.id}/html"):
        assert client.get(url).status_code == 404
    assert post_form(client, f"/outbox/{message.id}/retry").status_code == 404
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "failed"


def test_a_visitor_who_is_not_signed_in_is_sent_away(client):
    response = client.get("/outbox")
    assert response.status_code in (302, 401)


def test_the_list_shows_newest_first_with_counts_per_status(programme, now):
    client, _ = programme
    queue_message("a", now=now, subject="Oldest", created_at=now - timedelta(days=2))
    queue_message("b", now=now, subject="Middle", status="sent", created_at=now - timedelta(days=1))
    queue_message("c", now=now, subject="Newest", status="failed", created_at=now, attempts=5)
    db.session.commit()

    html = client.get("/outbox").get_data(as_text=True)

    assert rows(html) == ["Newest", "Middle", "Oldest"]
    assert re.search(r"All <span[^>]*>3</span>", html)
    assert re.search(r"Queued <span[^>]*>1</span>", html)
    assert re.search(r"Failed <span[^>]*>1</span>", html)
    assert re.search(r"Sending <span[^>]*>0</span>", html)


def test_filtering_by_status_lists_only_that_status(programme, now):
    client, _ = programme
    queue_message("a", now=now, subject="Waiting")
    queue_message("b", now=now, subject="Broken", status="failed", last_error="550 no such user")
    db.session.commit()

    html = client.get("/outbox?status=failed").get_data(as_text=True)

    assert rows(html) == ["Broken"]
    assert "550 no such user" in html
    assert 'aria-current="page">Failed' in html
    # An unknown status is no filter at all.
    assert sorted(rows(client.get("/outbox?status=nonsense").get_data(as_text=True))) == [
        "Broken",
        "Waiting",
    ]


def test_an_empty_outbox_and_an_empty_filter_say_so(programme, now):
    client, _ = programme
    assert "The outbox is empty" in client.get("/outbox").get_data(as_text=True)
    queue_message("a", now=now)
    db.session.commit()
    html = client.get("/outbox?status=failed").get_data(as_text=True)
    assert "No failed messages." in html and rows(html) == []


def test_without_a_mail_server_the_page_says_mail_is_kept(programme):
    client, _ = programme
    assert "No mail server is configured" in client.get("/outbox").get_data(as_text=True)


def test_fifty_messages_a_page(programme, now):
    client, _ = programme
    for i in range(51):
        queue_message(f"k{i}", now=now, subject=f"Mail {i:02d}", created_at=now + timedelta(i))
    db.session.commit()

    first = rows(client.get("/outbox").get_data(as_text=True))
    second = rows(client.get("/outbox?page=2").get_data(as_text=True))

    assert len(first) == 50 and first[0] == "Mail 50"
    assert second == ["Mail 00"]


@pytest.mark.parametrize("count", [3, 60])
def test_the_list_takes_the_same_number_of_queries_however_many_messages(programme, now, count):
    client, _ = programme
    for i in range(count):
        queue_message(f"k{i}", now=now, status="failed" if i % 2 else "sent")
    db.session.commit()
    client.get("/outbox")  # warm up (session user load etc. counted alike below)

    with count_queries() as counter:
        response = client.get("/outbox")

    assert response.status_code == 200
    outbox_reads = [q for q in counter.statements if "FROM outbox" in q]
    # counts per status, then one page of messages (no body columns, no query per row), then
    # the health panel's two (due mail, failures of the last 24 hours)
    assert len(outbox_reads) == 4, outbox_reads
    assert "body_html" not in outbox_reads[1] and "LIMIT" in outbox_reads[1]


def test_a_message_shows_its_headers_text_and_html_as_inert_source(programme, now):
    client, _ = programme
    message = queue_message(
        "action:4:overdue:1",
        now=now,
        recipient="chair@example.org",
        reply_to="rep@example.org",
        subject="Your action is overdue",
        body_text="Dear chair,\nplease hold the meeting.",
        body_html='<p>Dear chair</p><script>alert("x")</script><img src=x onerror=alert(1)>',
    )
    db.session.commit()

    html = client.get(f"/outbox/{message.id}").get_data(as_text=True)

    assert "chair@example.org" in html and "rep@example.org" in html
    assert "Dear chair,\nplease hold the meeting." in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>" not in html and "<img" not in html
    assert "action:4:overdue:1" in html
    assert html.count("<h1") == 1


def test_the_html_version_is_served_sandboxed(programme, now):
    client, _ = programme
    message = queue_message("k", now=now, body_html="<p>Hello <b>chair</b></p>")
    db.session.commit()

    response = client.get(f"/outbox/{message.id}/html")

    assert response.get_data(as_text=True) == "<p>Hello <b>chair</b></p>"
    policy = response.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox") and "default-src 'none'" in policy
    assert "script-src" not in policy


def test_unknown_message_is_404(programme):
    client, _ = programme
    assert client.get("/outbox/999").status_code == 404
    assert post_form(client, "/outbox/999/retry").status_code == 404


def test_sending_a_failed_message_again_queues_it_and_is_audited(programme, now):
    client, user = programme
    message = queue_message(
        "k", now=now, status="failed", attempts=5, last_error="Connection refused"
    )
    db.session.commit()
    page = client.get(f"/outbox/{message.id}").get_data(as_text=True)
    assert "Send again" in page and "Connection refused" in page

    response = post_form(client, f"/outbox/{message.id}/retry", follow_redirects=True)

    assert "queued to be sent again" in response.get_data(as_text=True)
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert (message.status, message.attempts, message.next_attempt_at) == ("queued", 0, None)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "outbox_retry"))
    assert (audit.actor_id, audit.target_id) == (user.id, message.id)


def test_sending_again_needs_the_csrf_token(programme, now):
    client, _ = programme
    message = queue_message("k", now=now, status="failed", attempts=5)
    db.session.commit()

    response = client.post(f"/outbox/{message.id}/retry")

    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "failed"


def test_a_message_that_has_not_failed_cannot_be_sent_again(programme, now):
    client, _ = programme
    message = queue_message("k", now=now, status="sent", sent_at=now, attempts=1)
    db.session.commit()

    response = post_form(client, f"/outbox/{message.id}/retry", follow_redirects=True)

    assert "Only a failed message can be sent again" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "sent"
    assert db.session.scalar(select(AuditEntry)) is None
