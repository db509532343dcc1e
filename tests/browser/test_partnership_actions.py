"""A partnership contact answers about actions through the personal link (more time asked for,
an action reported done), and the rep says yes to the date and reopens the action — in a real
browser, with axe on each page, the 422 error page included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Action, Case
from app.operations import case_actions as ops
from app.operations.partnership_links import make_link_token
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.browser.helpers import error_response_page, flash, shown
from tests.factories import add_snapshot, agreeable_plan, make_area, make_user

PASSWORD = "correct horse battery"


def seed():
    rep = make_user("rep", email="rita@example.org", password=PASSWORD, name="Rita Rep")
    area = make_area("BL015", rep=rep, contacts=1)
    add_snapshot(area, 7, 5, year=2025)
    case = db.session.scalar(select(Case).where(Case.area_id == area.id))
    now = datetime.now(UTC)
    agreeable_plan(case, rep, now)  # "Invite two residents", due in 14 days
    ops.add_action(
        case,
        description="Hold an open meeting",
        owner="partnership",
        due_on=now.date() + timedelta(days=30),
        actor=rep,
        now=now,
    )
    db.session.commit()
    return area, case


def test_a_contact_asks_for_more_time_and_reports_an_action_done(page, browser, live_server):
    area, case = seed()
    contact = area.contacts[0]
    invite = db.session.scalar(select(Action).where(Action.description == "Invite two residents"))
    link = f"{live_server.url}/partnership/{make_link_token(contact)}"
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(link)
    actions = page.get_by_role("region", name="Your partnership's actions")
    actions.get_by_role("listitem").filter(has_text="Invite two residents").get_by_role(
        "link"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invite two residents")
    check_accessibility(page)
    screenshot(page, "partnership-action-390")
    action_url = page.url

    # A date before the current due date: the form comes back with a clear error (422).
    with error_response_page(page) as other:
        other.set_viewport_size({"width": 390, "height": 844})
        other.goto(action_url)
        more = other.get_by_role("region", name="You need more time")
        more.get_by_label("The date you propose").fill(invite.due_on.isoformat())
        more.get_by_label("Why you need more time").fill("The hall is closed in December.")
        more.get_by_role("button", name="Ask for more time").click()
        expect(other.get_by_role("alert")).to_contain_text("after the current due date")
        expect(more.get_by_label("Why you need more time")).to_have_value(
            "The hall is closed in December."
        )
        check_accessibility(other)

    new_due = invite.due_on + timedelta(days=28)
    more = page.get_by_role("region", name="You need more time")
    more.get_by_label("The date you propose").fill(new_due.isoformat())
    more.get_by_label("Why you need more time").fill("The hall is closed in December.")
    more.get_by_role("button", name="Ask for more time").click()
    expect(flash(page, "Thank you")).to_be_visible()
    expect(page.get_by_role("region", name="Waiting for your rep")).to_contain_text(
        f"More time for “Invite two residents”, until {shown(new_due)}"
    )

    # The other action is done: it leaves the list at once.
    actions = page.get_by_role("region", name="Your partnership's actions")
    actions.get_by_role("listitem").filter(has_text="Hold an open meeting").get_by_role(
        "link"
    ).click()
    done = page.get_by_role("region", name="It is done")
    done.get_by_label("What was done").fill("Thirty people came; two will join.")
    done.get_by_role("button", name="Tell your rep it is done").click()
    expect(flash(page, "Thank you")).to_be_visible()
    expect(page.get_by_role("region", name="Your partnership's actions")).not_to_contain_text(
        "Hold an open meeting"
    )

    # The rep says yes to the date and reopens the action reported done.
    rep_context = browser.new_context(base_url=live_server.url)
    rep_page = rep_context.new_page()
    try:
        sign_in(rep_page, "rita@example.org", PASSWORD)
        rep_page.goto(f"/cases/{case.id}")
        answers = rep_page.get_by_role("region", name="From the partnership")
        expect(answers).to_contain_text("The hall is closed in December.")
        expect(answers).to_contain_text("Thirty people came; two will join.")
        check_accessibility(rep_page)
        answers.get_by_role("button", name="Yes, move the date").click()
        expect(flash(rep_page, "More time accepted")).to_be_visible()
        plan = rep_page.get_by_role("region", name="Action plan")
        expect(plan.get_by_role("row").filter(has_text="Invite two residents")).to_contain_text(
            shown(new_due)
        )
        answers = rep_page.get_by_role("region", name="From the partnership")
        answers.get_by_text("Reopen the action").click()
        answers.get_by_label(f"Message to {contact.name}").fill("Please tell me when they join.")
        answers.get_by_role("button", name="Send and reopen").click()
        expect(flash(rep_page, "Action reopened")).to_be_visible()
        timeline = rep_page.get_by_role("region", name="Timeline")
        expect(timeline).to_contain_text("Action reopened: “Hold an open meeting”")
        expect(timeline).to_contain_text(f"from {contact.name}")
    finally:
        rep_context.close()
