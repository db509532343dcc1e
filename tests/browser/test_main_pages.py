"""Every main page over the demo programme: what it shows, axe (no serious or critical
violations) and a screenshot under test-output/screenshots/ (desktop 1280 wide; My cases and
a case page also at phone width, 390).

The demo takes a few seconds to load, so it is loaded once for this module into the live
server's database, with its own app context, and the tables are emptied at the end. These tests
therefore do not use the function-scoped `app`/`page` fixtures (their teardown empties the
tables); `page` is redefined here with the same console-error check."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app import clock, create_app
from app.demo.loader import ADMIN_EMAIL, DEMO_PASSWORD, PROGRAMME_EMAIL, load_demo
from app.extensions import db
from app.models import ActionPlan, Area, Case, OutboxMessage, User
from app.rules.vocabulary import OPEN_STATUSES
from tests.browser.conftest import check_accessibility, screenshot, sign_in
from tests.conftest import _config_for, demo_once, empty_all_tables

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Demo:
    rep_email: str
    rep_name: str
    rep_open_cases: int
    case_id: int  # an open case of that rep with a plan and actions
    case_area: str  # "BL012 Name"
    open_cases: int
    unassigned_open_cases: int
    areas: int
    area_code: str
    area_name: str
    users: int
    outbox: int


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _load_and_commit():
    logins = load_demo(now=clock.now())
    db.session.commit()
    return logins


@pytest.fixture(scope="module")
def demo(migrated, live_server):
    app = create_app(_config_for(migrated))
    with app.app_context():
        empty_all_tables()
        logins = demo_once("direct", _load_and_commit)
        rep = db.session.scalar(select(User).where(User.email == logins.rep))
        open_cases = select(Case.id).where(Case.status.in_(OPEN_STATUSES))
        case = db.session.scalar(
            select(Case)
            .join(ActionPlan, ActionPlan.case_id == Case.id)
            .where(Case.rep_id == rep.id, Case.status.in_(OPEN_STATUSES))
            .order_by(Case.id)
        )
        area = db.session.scalar(select(Area).order_by(Area.code))
        info = Demo(
            rep_email=rep.email,
            rep_name=rep.name,
            rep_open_cases=_count(open_cases.where(Case.rep_id == rep.id)),
            case_id=case.id,
            case_area=f"{case.area.code} {case.area.name}",
            open_cases=_count(open_cases),
            unassigned_open_cases=_count(open_cases.where(Case.rep_id.is_(None))),
            areas=_count(select(Area.id)),
            area_code=area.code,
            area_name=area.name,
            users=_count(select(User.id)),
            outbox=_count(select(OutboxMessage.id)),
        )
        db.session.commit()
        db.session.remove()
    yield info
    with app.app_context():
        empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def open_page(browser, live_server, demo):
    """open_page(email=None, viewport=DESKTOP): a fresh context, signed in when `email` is
    given. Fails the test on any console error (e.g. a Content-Security-Policy violation)."""
    contexts, errors = [], []

    def make(email: str | None = None, viewport: dict = DESKTOP):
        context = browser.new_context(
            base_url=live_server.url, viewport=viewport, locale="en-GB", timezone_id="Europe/London"
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        if email:
            sign_in(page, email, DEMO_PASSWORD)
            expect(page.get_by_role("navigation", name="Main")).to_contain_text("Sign out")
        return page

    yield make
    for context in contexts:
        context.close()
    if errors:
        pytest.fail("Browser console errors:\n" + "\n".join(errors))


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


def h1(page):
    return page.get_by_role("heading", level=1)


def test_sign_in_page(open_page):
    page = open_page()
    page.goto("/sign-in")
    expect(h1(page)).to_have_text("Sign in")
    expect(page.get_by_label("Email address")).to_be_editable()
    check_accessibility(page)
    screenshot(page, "main-sign-in")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_my_cases_of_the_busiest_rep(open_page, demo, viewport):
    page = open_page(demo.rep_email, viewport)
    main_nav(page).get_by_role("link", name="My cases").click()
    expect(h1(page)).to_have_text("My cases")
    n = demo.rep_open_cases
    caption = f"{n} open case{'s' if n != 1 else ''}, most urgent first"
    table = page.get_by_role("table", name=caption)
    expect(table.locator("tbody tr")).to_have_count(n)
    expect(table.get_by_role("link", name=demo.case_area)).to_be_visible()
    check_accessibility(page)
    screenshot(page, f"main-my-cases-{'phone' if viewport is PHONE else 'desktop'}")


@pytest.mark.parametrize(
    "viewport",
    [DESKTOP, PHONE],
    ids=["desktop", "phone"],
)
def test_case_page(open_page, demo, viewport):
    page = open_page(demo.rep_email, viewport)
    page.goto(f"/cases/{demo.case_id}")
    expect(h1(page)).to_contain_text(demo.case_area)
    summary = page.get_by_role("region", name="Summary")
    expect(summary).to_contain_text(demo.rep_name)
    plan = page.get_by_role("region", name="Action plan")
    actions = plan.get_by_role("table", name="Actions of this plan, open first")
    expect(actions.locator("tbody tr")).to_have_count(3)  # the demo gives each plan 3 actions
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("Status changed")
    screenshot(page, f"main-case-{'phone' if viewport is PHONE else 'desktop'}")
    check_accessibility(page)


def test_dashboard(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Dashboard").click()
    expect(h1(page)).to_have_text("Recovery dashboard")
    table = page.get_by_role("table", name=re.compile("^Open cases by flag"))
    expect(table).to_be_visible()
    expect(table.locator("caption")).to_contain_text(f"{demo.open_cases:,} open in all")
    # The "All flags / All open" corner links to the list of every open case.
    total = table.locator("tfoot td").last.get_by_role("link")
    expect(total).to_have_text(f"{demo.open_cases:,}")
    expect(page.get_by_role("table", name=re.compile("^Each rep's open cases"))).to_contain_text(
        demo.rep_name
    )
    check_accessibility(page)
    screenshot(page, "main-dashboard")


def test_programme_case_list(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Cases", exact=True).click()
    expect(h1(page)).to_have_text("All cases")
    expect(page.locator("#case-count")).to_contain_text(f"{demo.open_cases} cases match")
    table = page.get_by_role("table", name=re.compile("^Cases matching the filters"))
    expect(table.locator("tbody tr")).to_have_count(min(demo.open_cases, 50))
    check_accessibility(page)
    screenshot(page, "main-programme-cases")


def test_unassigned_queue(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Unassigned").click()
    expect(h1(page)).to_have_text("Unassigned cases")
    if demo.unassigned_open_cases:
        table = page.get_by_role("table", name=re.compile("no rep$"))
        expect(table.locator("tbody tr")).to_have_count(demo.unassigned_open_cases)
    else:
        expect(page.get_by_text("Every open case has a rep.")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "main-unassigned")


def test_areas_list(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Areas").click()
    expect(h1(page)).to_have_text("Areas")
    expect(page.get_by_role("status").filter(has_text="areas")).to_contain_text(
        f"{demo.areas} areas"
    )
    table = page.get_by_role("table", name=re.compile("^Areas, in order"))
    expect(table.locator("tbody tr")).to_have_count(min(demo.areas, 50))
    check_accessibility(page)
    screenshot(page, "main-areas")


def test_area_page(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    page.goto(f"/areas/{demo.area_code}")
    expect(h1(page)).to_have_text(f"{demo.area_code} {demo.area_name}")
    history = page.get_by_role("table", name=re.compile("over the years"))
    for year in range(2015, 2022):  # the demo's seven annual reviews
        expect(history.get_by_role("rowheader", name=str(year)).first).to_be_visible()
    check_accessibility(page)
    screenshot(page, "main-area")


def test_insights(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Insights").click()
    expect(h1(page)).to_have_text("Programme insights")
    # The 2021 summary's span: review years 2015 to 2021, the 2021 review shown.
    page.get_by_label("From review year").select_option("2015")
    page.get_by_label("To review year").select_option("2021")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_label("Review year", exact=True)).to_have_value("2021")
    # The 2021 summary: 1,506 counted members in 2021, 1,455 in 2020.
    year = page.get_by_role("table", name=re.compile("^The 2021 review's figures"))
    expect(year).to_contain_text("1,506")
    expect(year).to_contain_text("1,455")
    page.wait_for_load_state("load")  # the charts are <img> SVGs
    charts = page.locator("img[src*='/insights/chart/']")
    assert charts.count() >= 1
    for chart in charts.all():
        assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), chart
    check_accessibility(page)
    screenshot(page, "main-insights")


def test_outbox(open_page, demo):
    page = open_page(PROGRAMME_EMAIL)
    main_nav(page).get_by_role("link", name="Outbox").click()
    expect(h1(page)).to_have_text("Outbox")
    expect(
        page.get_by_role("navigation", name="Filter by status").get_by_role("link", name="All")
    ).to_contain_text(str(demo.outbox))
    if demo.outbox:
        expect(page.locator("table tbody tr")).to_have_count(min(demo.outbox, 50))
    else:
        expect(page.get_by_text("The outbox is empty")).to_be_visible()
    check_accessibility(page)
    screenshot(page, "main-outbox")


def test_admin_users(open_page, demo):
    page = open_page(ADMIN_EMAIL)
    main_nav(page).get_by_role("link", name="Users").click()
    expect(h1(page)).to_have_text("Users")
    expect(page.get_by_text(f"{demo.users} accounts.")).to_be_visible()
    table = page.get_by_role("table", name=re.compile("^User accounts"))
    expect(table.get_by_role("link", name=demo.rep_name)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "main-admin-users")


def test_account(open_page, demo):
    page = open_page(ADMIN_EMAIL)
    main_nav(page).get_by_role("link", name=re.compile("Your account")).click()
    expect(h1(page)).to_have_text("Your account")
    expect(page.get_by_text("Programme team (administrator)")).to_be_visible()
    expect(page.get_by_text(ADMIN_EMAIL)).to_be_visible()
    check_accessibility(page)
    screenshot(page, "main-account")
