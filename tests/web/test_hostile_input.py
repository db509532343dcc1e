"""No input reaches a server error: hostile values in every parameter of every route.

The routes come from the URL map (as in test_access_matrix.py); the parameters are each
route's path arguments, every query argument the views and queries read, and every form field
of every form. Each example sends one hostile value (huge or unicode-digit numbers, NUL, CRLF,
control characters, very long text, several values, a file, a JSON body) as one kind of user,
and checks the answer is not a 5xx and shows no traceback."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import current_app
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from app.queries import case_filters
from tests.web.conftest import csrf_token
from tests.web.test_access_matrix import client_for, routes, world  # noqa: F401  (fixture)

APP = Path(__file__).resolve().parents[2] / "app"
ROLES = ("anonymous", "rep_a", "programme", "admin")
_READS = re.compile(r"""(?:args|form|values)\.get\(\s*["']([a-z_]+)["']""")


def query_names() -> list[str]:
    """Every query or form key a view or query reads by name, plus the filter fields."""
    found = set()
    for path in APP.rglob("*.py"):
        found |= set(_READS.findall(path.read_text()))
    found |= set(case_filters._DATE_FIELDS) | set(case_filters._BOOL_FIELDS)
    return sorted(found | {"cohort", "area", "page"})


def form_field_names() -> list[str]:
    """The field names of every FlaskForm in the app (sub-form rows as `rows-0-name`)."""
    import pkgutil
    from importlib import import_module

    import app.web

    for module in pkgutil.walk_packages(app.web.__path__, "app.web."):
        import_module(module.name)
    names: set[str] = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending.extend(form.__subclasses__())
        for name, unbound in _fields(form):
            names.add(name)
            inner = unbound.args[0] if unbound.args else None  # FieldList(FormField(Row))
            if isinstance(inner, UnboundField) and inner.args and isinstance(inner.args[0], type):
                names |= {f"{name}-0-{sub}" for sub, _ in _fields(inner.args[0])}
    return sorted(names - {"csrf_token"})


def _fields(form_class) -> list[tuple[str, UnboundField]]:
    return [
        (n, v) for n in dir(form_class) if isinstance(v := getattr(form_class, n), UnboundField)
    ]


HUGE_INTS = st.integers(min_value=2**31 - 1, max_value=2**80).map(str)
UNICODE_DIGITS = st.text(alphabet="²³¹٣۴߅௫０１\u0660", min_size=1, max_size=4)
CONTROL = st.text(alphabet="a\x00\r\n\x1b\x7f\x85\u2028", min_size=1, max_size=8)
LONG = st.integers(min_value=201, max_value=6000).map(lambda n: "x" * n)
ODD = st.sampled_from(["-1", "0", "1e9", " 1", "1.5", "NaN", "../../etc", "//evil.example", ""])
VALUES = st.one_of(HUGE_INTS, UNICODE_DIGITS, CONTROL, LONG, ODD, st.text(max_size=20))
# Where the value goes: a path argument, a query argument, a form field (once, twice, as a
# file), or the whole body as JSON.
PLACES = ("path", "query", "form", "form-list", "form-file", "json")


def _path_with(route, world, argument: str, value: str) -> str:  # noqa: F811  (not the fixture)
    """The route's URL with `argument` replaced by `value`, bypassing the converters."""
    values = route.values(world)
    marker = "999000999"
    values[argument] = int(marker) if isinstance(values[argument], int) else marker
    url = current_app.url_map.bind("localhost").build(route.endpoint, values)
    return url.replace(marker, quote(value, safe=""))


def send(app, world, route, method: str, who: str, place: str, name: str, value: str):  # noqa: F811
    client = client_for(app, None if who == "anonymous" else world.users[who])
    url = route.url(world)
    if place == "path":
        if not route.arguments:
            place = "query"
        else:
            url = _path_with(route, world, sorted(route.arguments)[0], value)
    if method == "GET" or place == "query":
        separator = "&" if "?" in url else "?"
        url = f"{url}{separator}{quote(name)}={quote(value, safe='')}"
    if method == "GET":
        return client.get(url)
    token = csrf_token(client)
    if place == "json":
        return client.post(url, json={name: [value, {"x": value}], "csrf_token": token})
    data: dict = {"csrf_token": token}
    if place == "form":
        data[name] = value
    elif place == "form-list":
        data[name] = [value, value]
    elif place == "form-file":
        data[name] = (io.BytesIO(value.encode("utf-8", "replace")), "hostile.csv")
    return client.post(url, data=data)


def assert_no_server_error(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status}"
    assert b"Traceback" not in response.get_data(), f"{what}: a traceback in the page"


@pytest.fixture
def targets(app, world):  # noqa: F811
    """(route, method) pairs, and the parameter names to aim at."""
    pairs = [(r, m) for r in routes(app) for m in r.methods]
    return pairs, query_names(), form_field_names()


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_hostile_value_in_any_parameter_gets_a_server_error(app, world, targets, data):  # noqa: F811
    pairs, queries, fields = targets
    route, method = data.draw(st.sampled_from(pairs), label="route")
    who = data.draw(st.sampled_from(ROLES), label="who")
    place = data.draw(st.sampled_from(PLACES), label="place")
    names = queries if place in ("path", "query") else fields + queries
    name = data.draw(st.sampled_from(names), label="name")
    value = data.draw(VALUES, label="value")
    response = send(app, world, route, method, who, place, name, value)
    assert_no_server_error(response, f"{method} {route.rule} as {who}, {place} {name}={value!r}")


# The probe's findings, each sent to every route as every user (not left to chance).
KNOWN = [
    ("query", "page", "²"),
    ("query", "page", "9" * 30),
    ("path", "", "2147483648"),
    ("path", "", "9223372036854775808"),
    ("path", "", "a\x00b"),
    ("query", "q", "\x00"),
    ("query", "next", "/cases\r\nSet-Cookie: x=1"),
    ("form", "next", "/cases\r\nSet-Cookie: x=1"),
    ("form", "note", "a\x00b"),
    ("form", "email", "a\x00@example.org"),
    ("form", "name", "x" * 5000),
    ("form", "region", "x" * 5000),
    ("form", "rows-0-name", "x" * 5000),
    ("form", "rows-0-person_id", "x" * 5000),
    ("form", "version", "9" * 30),
    ("form", "rep_id", "9" * 30),
    ("form-file", "note", "file"),
    ("form-file", "email", "file"),
    ("json", "email", "x"),
]


@pytest.mark.slow
@pytest.mark.parametrize("place, name, value", KNOWN, ids=[f"{p}-{n}" for p, n, _ in KNOWN])
def test_known_hostile_values_get_no_server_error_anywhere(app, world, place, name, value):  # noqa: F811
    problems = []
    for route in routes(app):
        for method in route.methods:
            for who in ROLES:
                response = send(app, world, route, method, who, place, name, value)
                if response.status_code >= 500 or b"Traceback" in response.get_data():
                    problems.append(f"{method} {route.rule} as {who}: {response.status}")
    assert not problems, "\n".join(problems)


def test_the_parameter_lists_see_what_they_should():
    """Guards the test itself: if discovery broke, the checks above would pass vacuously."""
    assert {"page", "next", "q", "status", "rep_id", "year"} <= set(query_names())
    assert {"email", "password", "note", "version", "rows-0-person_id"} <= set(form_field_names())
