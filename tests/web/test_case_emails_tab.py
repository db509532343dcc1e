"""The case timeline's Emails tab: the case's own mail from the outbox (queued with when it
will go, sent, failed, cancelled with the reason), newest first, in a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.extensions import db
from tests.factories import make_user
from tests.querycount import count_queries
from tests.smtp_server import queue_message
from tests.web.test_case_page import login_as, open_case

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def tab(client, case) -> str:
    html = client.get(f"/cases/{case.id}?events=emails").get_data(as_text=True)
    return html.split('id="timeline"', 1)[1]


def mail_of(case, *, n: int = 0) -> None:
    """One mail in each status, plus `n` more sent ones (older)."""
    queue_message(
        f"t:{case.id}:queued",
        now=NOW + timedelta(days=1),
        case=case,
        kind="due_soon",
        subject="Reminder: goes tomorrow",
    )
    queue_message(
        f"t:{case.id}:retrying",
        now=NOW - timedelta(hours=1),
        case=case,
        kind="checkin",
        subject="Check-in waiting",
        last_error="SMTPServerDisconnected: gone",
    )
    queue_message(
        f"t:{case.id}:sent",
        now=NOW - timedelta(days=2),
        case=case,
        kind="new_case",
        subject="New case assigned to you",
        status="sent",
        sent_at=NOW - timedelta(days=2),
    )
    queue_message(
        f"t:{case.id}:failed",
        now=NOW - timedelta(days=3),
        case=case,
        kind="overdue",
        subject="Overdue: never delivered",
        status="failed",
        last_error="550 5.1.1 no such mailbox",
    )
    queue_message(
        f"t:{case.id}:cancelled",
        now=NOW - timedelta(days=4),
        case=case,
        kind="overdue",
        subject="Overdue: called off",
        status="cancelled",
        cancelled_reason="the action is done",
        cancelled_at=NOW - timedelta(days=1, hours=12),
    )
    for i in range(n):
        queue_message(
            f"t:{case.id}:old:{i}",
            now=NOW - timedelta(days=10 + i),
            case=case,
            kind="checkin",
            subject=f"Old check-in {i}",
            status="sent",
            sent_at=NOW - timedelta(days=10 + i),
        )
    db.session.commit()


def test_the_emails_tab_lists_the_cases_mail_newest_first_with_status_and_reason(
    client, freeze_clock
):
    rep = make_user("rep", name="Asha Rep")
    case = open_case(rep)
    other = open_case(make_user("rep"))
    mail_of(case)
    queue_message("t:other", now=NOW, case=other, subject="Another case's mail")
    db.session.commit()
    freeze_clock(NOW)
    login_as(client, rep)
    html = tab(client, case)
    order = [
        "Reminder: goes tomorrow",
        "Check-in waiting",
        "Overdue: called off",  # cancelled 1.5 days ago
        "New case assigned to you",  # sent 2 days ago
        "Overdue: never delivered",  # was due 3 days ago
    ]
    positions = [html.index(subject) for subject in order]
    assert positions == sorted(positions)
    assert "Another case's mail" not in html
    assert "goes <time" in html and "26 Nov 2026" in html  # when the queued one will go
    assert "due now, waiting for the sender" in html
    assert "Last try failed, will try again: SMTPServerDisconnected: gone" in html
    assert "Not sent: the action is done" in html
    assert "Not delivered: 550 5.1.1 no such mailbox" in html
    for words in ("Queued", "Sent", "Failed", "Cancelled", "Action due soon", "Check-in"):
        assert words in html
    assert "/outbox/" not in html  # a rep has no Outbox pages: no links


def test_the_programme_team_gets_links_to_each_message_and_other_tabs_show_events(
    client, freeze_clock
):
    rep = make_user("rep")
    case = open_case(rep)
    mail_of(case)
    freeze_clock(NOW)
    login_as(client, make_user("programme"))
    html = tab(client, case)
    assert html.count('href="/outbox/') == 5
    everything = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Case opened" in everything.split('id="timeline"', 1)[1]
    assert "Case opened" not in html  # the Emails tab is the mail, not the events


def test_a_case_without_mail_says_so(client):
    rep = make_user("rep")
    case = open_case(rep)
    login_as(client, rep)
    assert "No email about this case yet." in tab(client, case)


def test_the_emails_tab_runs_a_fixed_number_of_queries(client, freeze_clock):
    rep = make_user("rep")
    small, big = open_case(rep), open_case(rep)
    mail_of(small)
    mail_of(big, n=40)
    freeze_clock(NOW)
    login_as(client, rep)
    urls = [f"/cases/{case.id}?events=emails" for case in (small, big)]
    client.get(urls[0])  # warm up: templates
    counts = []
    for url in urls:
        db.session.expire_all()
        with count_queries() as counter:
            html = client.get(url).get_data(as_text=True)
        counts.append(counter.count)
    print("emails tab queries:", counts)
    assert counts[0] == counts[1] <= 20
    assert "Old check-in 39" in html
