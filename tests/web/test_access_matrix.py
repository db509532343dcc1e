"""Who may reach which route: every rule of the URL map, so new routes are covered automatically.

Each view carries `.access` ('public' | 'programme' | 'admin', set by app/web/access.py) or
none: then it is login_required ('login'). The checks:
- an anonymous visitor is sent to sign-in (or gets 401/404) on every non-public route;
- a rep gets 404 on programme and admin routes, a programme non-admin on admin routes;
- rep B gets 404 (GET and POST) on login routes that take rep A's case, area, action...;
- every POST without a CSRF token is refused with 400.
A route with an argument this file has no value for fails with a message saying what to add."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app import clock
from app.extensions import csrf, db
from app.models import (
    Action,
    ActionPlan,
    Case,
    CaseEvent,
    ImportRun,
    OutboxMessage,
    PartnershipAnswer,
)
from app.operations.users import make_set_password_token
from tests.factories import add_snapshot, make_area, make_user
from tests.web.conftest import csrf_token, login_as
from tests.web.test_auth import IsolatedClient

SKIPPED_ENDPOINTS = {"static", "bootstrap.static"}


def _module_value(endpoint: str, name: str, pick=lambda values: sorted(values)[0]):
    """A value from the view's own module (e.g. one of its chart names)."""

    def value(app):
        view = inspect.unwrap(app.view_functions[endpoint])
        return pick(view.__globals__[name])

    return value


# Values for an argument of one endpoint only, when the name alone says too little.
ENDPOINT_VALUES = {
    ("insights.chart_svg", "name"): _module_value("insights.chart_svg", "CHART_NAMES"),
    ("imports.template", "kind"): _module_value("imports.template", "TEMPLATE_ROWS"),
}
METHODS = ("GET", "POST")
SIGN_IN = "/sign-in"


@dataclass
class World:
    """Rep A's and rep B's areas and cases, a programme user, an admin, and one of everything."""

    users: dict
    values: dict  # argument name -> value
    owned_by_a: set  # argument names whose value belongs to rep A


@pytest.fixture
def world(app) -> World:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    rep_a = make_user("rep", email="rep.a@example.org")
    rep_b = make_user("rep", email="rep.b@example.org")
    programme = make_user("programme", email="programme@example.org")
    admin = make_user("programme", email="admin@example.org", admin=True)
    area_a = make_area("BLA01", rep=rep_a)
    make_area("BLB01", rep=rep_b)
    add_snapshot(area_a, 6, 4, year=2021, now=now)  # opens an under-criteria case
    case_a = db.session.scalar(select(Case).where(Case.area_id == area_a.id))
    plan = ActionPlan(case=case_a, barriers=["recruitment"], support=[])
    action = Action(plan=plan, description="Recruit two residents", owner="partnership")
    db.session.add_all([plan, action])
    message = OutboxMessage(
        key="test:matrix",
        kind="check_in",
        recipient=area_a.contacts[0].email,
        subject="Check-in",
        body_text="Hello",
        body_html="<p>Hello</p>",
        case_id=case_a.id,
        contact_id=area_a.contacts[0].id,
        not_before=now,
    )
    run = ImportRun(
        kind="areas",
        filename="areas.csv",
        sha256="0" * 64,
        data=b"area_code,area_name\n",
        size=20,
        rows=0,
        status="previewed",
        uploaded_by=programme,
        created_at=now,
        updated_at=now,
        warnings=[],
        preview={},
        outcome={},
    )
    answer = PartnershipAnswer(
        case=case_a,
        contact_id=area_a.contacts[0].id,
        contact_name=area_a.contacts[0].name,
        contact_email=area_a.contacts[0].email,
        kind="membership",
        status="pending",
        form_key="matrix-answer-key-0001",
        submitted_at=now,
        rows=[{"person_id": "", "name": "Nia New", "resident": True, "role": "member"}],
        comment="",
        decision_message="",
    )
    db.session.add_all([message, run, answer])
    db.session.flush()
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_a.id))
    values = {
        "case_id": case_a.id,
        "previous_case_id": case_a.id,
        "code": area_a.code,
        "area_code": area_a.code,
        "area_id": area_a.id,
        "plan_id": plan.id,
        "action_id": action.id,
        "contact_id": area_a.contacts[0].id,
        "event_id": event.id,
        "user_id": rep_b.id,
        "message_id": message.id,
        "id": message.id,
        "token": make_set_password_token(rep_b, clock.now()),
        "year": 2021,
        "review_year": 2021,
        "run_id": run.id,
        "answer_id": answer.id,
    }
    owned = {"case_id", "previous_case_id", "code", "area_code", "area_id", "plan_id"}
    owned |= {"action_id", "contact_id", "event_id", "answer_id"}
    db.session.commit()
    users = {"rep_a": rep_a, "rep_b": rep_b, "programme": programme, "admin": admin}
    return World(users=users, values=values, owned_by_a=owned)


@dataclass
class Route:
    endpoint: str
    rule: str
    methods: tuple[str, ...]
    access: str
    arguments: tuple[str, ...]
    csrf_exempt: bool

    def values(self, world: World) -> dict:
        from flask import current_app

        found = {}
        for name in self.arguments:
            special = ENDPOINT_VALUES.get((self.endpoint, name))
            if special is not None:
                found[name] = special(current_app)
            elif name in world.values:
                found[name] = world.values[name]
        return found

    def url(self, world: World) -> str:
        values = self.values(world)
        missing = [a for a in self.arguments if a not in values]
        if missing:
            pytest.fail(
                f"Route {self.rule} ({self.endpoint}) takes {', '.join(missing)}: add a value "
                "for it to `values` in the `world` fixture of tests/web/test_access_matrix.py "
                "(and to `owned_by_a` if it belongs to a rep's case or area), "
                "or to ENDPOINT_VALUES."
            )
        return _adapter().build(self.endpoint, values)

    def owned_by_a(self, world: World) -> bool:
        return any(a in world.owned_by_a for a in self.arguments)


def _adapter():
    from flask import current_app

    return current_app.url_map.bind("localhost")


def routes(app) -> list[Route]:
    exempt = getattr(csrf, "_exempt_views", set())
    exempt_blueprints = getattr(csrf, "_exempt_blueprints", set())
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        location = f"{view.__module__}.{view.__name__}"
        found.append(
            Route(
                endpoint=rule.endpoint,
                rule=rule.rule,
                methods=tuple(m for m in METHODS if m in rule.methods),
                access=getattr(view, "access", "login"),
                arguments=tuple(sorted(rule.arguments)),
                csrf_exempt=location in exempt or rule.endpoint.split(".")[0] in exempt_blueprints,
            )
        )
    return sorted(found, key=lambda r: r.rule)


def client_for(app, user=None):
    app.test_client_class = IsolatedClient
    client = app.test_client()
    if user is not None:
        login_as(client, user)
    return client


def request(client, method: str, url: str, *, with_token: bool = True):
    if method == "GET":
        return client.get(url)
    data = {"csrf_token": csrf_token(client)} if with_token else {}
    return client.post(url, data=data)


def check(problems: list[str], route: Route, method: str, who: str, response, expected: str):
    problems.append(
        f"{method} {route.rule} ({route.endpoint}) as {who}: {response.status} "
        f"— expected {expected}"
    )


def report(problems: list[str]) -> None:
    assert not problems, "Access problems:\n" + "\n".join(problems)


def test_every_route_argument_has_a_value(app, world):
    for route in routes(app):
        route.url(world)  # fails with a message naming the missing argument


def test_every_route_has_a_known_access_level(app):
    for route in routes(app):
        assert route.access in ("public", "login", "programme", "admin"), route


def test_anonymous_visitors_are_sent_to_sign_in(app, world):
    problems: list[str] = []
    anonymous = client_for(app)
    for route in routes(app):
        if route.access == "public":
            continue
        for method in route.methods:
            response = request(anonymous, method, route.url(world))
            location = response.headers.get("Location", "")
            to_sign_in = response.status_code in (302, 303) and location.startswith(SIGN_IN)
            if not (to_sign_in or response.status_code in (401, 404)):
                check(problems, route, method, "anonymous", response, "redirect to sign-in")
    report(problems)


def test_public_routes_do_not_fail_for_anonymous_visitors(app, world):
    problems: list[str] = []
    anonymous = client_for(app)
    for route in routes(app):
        if route.access == "public" and "GET" in route.methods:
            response = anonymous.get(route.url(world))
            if response.status_code >= 500:
                check(problems, route, "GET", "anonymous", response, "no server error")
    report(problems)


@pytest.mark.parametrize(
    "who, denied",
    [("rep_a", ("programme", "admin")), ("programme", ("admin",))],
    ids=["rep", "programme-non-admin"],
)
def test_routes_above_a_users_level_are_404(app, world, who, denied):
    problems: list[str] = []
    client = client_for(app, world.users[who])
    for route in routes(app):
        if route.access not in denied:
            continue
        for method in route.methods:
            response = request(client, method, route.url(world))
            if response.status_code != 404:
                check(problems, route, method, who, response, "404")
    report(problems)


def test_rep_b_gets_404_on_rep_a_cases_and_areas(app, world):
    problems: list[str] = []
    rep_b = client_for(app, world.users["rep_b"])
    for route in routes(app):
        if route.access != "login" or not route.owned_by_a(world):
            continue
        for method in route.methods:
            response = request(rep_b, method, route.url(world))
            if response.status_code != 404:
                check(problems, route, method, "rep B", response, "404")
    report(problems)


def test_rep_a_can_open_their_own_cases_and_areas(app, world):
    """Makes the 404s above mean something: the same URLs work for the owner."""
    problems: list[str] = []
    rep_a = client_for(app, world.users["rep_a"])
    for route in routes(app):
        if route.access != "login" or not route.owned_by_a(world) or "GET" not in route.methods:
            continue
        response = rep_a.get(route.url(world))
        if response.status_code == 404 or response.status_code >= 500:
            check(problems, route, "GET", "rep A", response, "the page")
    report(problems)


def test_allowed_users_get_no_server_error(app, world):
    problems: list[str] = []
    clients = {
        "login": ("rep A", client_for(app, world.users["rep_a"])),
        "programme": ("programme", client_for(app, world.users["programme"])),
        "admin": ("admin", client_for(app, world.users["admin"])),
    }
    for route in routes(app):
        if route.access == "public" or "GET" not in route.methods:
            continue
        who, client = clients[route.access]
        response = client.get(route.url(world))
        if response.status_code >= 500:
            check(problems, route, "GET", who, response, "no server error")
    report(problems)


def test_every_post_without_a_csrf_token_is_refused(app, world):
    problems: list[str] = []
    admin = client_for(app, world.users["admin"])
    anonymous = client_for(app)
    for route in routes(app):
        if "POST" not in route.methods:
            continue
        if route.csrf_exempt:
            if route.access != "public":
                problems.append(f"{route.rule} ({route.endpoint}) is CSRF-exempt but not public")
            continue
        client = anonymous if route.access == "public" else admin
        response = request(client, "POST", route.url(world), with_token=False)
        if response.status_code != 400:
            check(problems, route, "POST", "a user without a token", response, "400")
    report(problems)


def test_the_matrix_sees_the_routes_it_should(app):
    """Guards the test itself: if rule discovery broke, every check above would pass vacuously."""
    endpoints = {r.endpoint for r in routes(app)}
    assert {"auth.login", "auth.account", "admin.users", "admin.user"} <= endpoints
    by_endpoint = {r.endpoint: r for r in routes(app)}
    assert by_endpoint["auth.login"].access == "public"
    assert by_endpoint["auth.account"].access == "login"
    assert by_endpoint["admin.users"].access == "admin"
