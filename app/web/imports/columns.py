"""What each import file holds: its columns explained, and the template CSV to start from."""

from __future__ import annotations

from app.operations.imports import AREA_COLUMNS, REVIEW_COLUMNS, UPDATE_COLUMNS
from app.rules.vocabulary import MEMBER_ROLES

_RESIDENT = "yes or no (also y/n, true/false, 1/0)"
_ROLE = "one of: " + ", ".join(MEMBER_ROLES) + " (workers and LTO reps are not counted)"

COLUMN_HELP: dict[str, list[tuple[str, str]]] = {
    "areas": [
        ("area_code", "required: the area's code, e.g. BL001"),
        ("area_name", "required: the area's name"),
        ("rep_email", "optional: the rep's email; blank leaves the area unassigned"),
        ("contact_name", "optional: a partnership contact's name (one row per contact)"),
        ("contact_email", "optional: that contact's email address"),
    ],
    "reviews": [
        ("area_code", "required: an area already imported"),
        ("review_year", "required: the review year, e.g. 2021"),
        ("person_id", "required: the person's id, stable across years and areas"),
        ("member_name", "required: the member's name"),
        ("resident", "required: " + _RESIDENT),
        ("role", "required: " + _ROLE),
        ("review_date", "optional: YYYY-MM-DD; default 30 September of the review year"),
    ],
    "updates": [
        ("area_code", "required: an area already imported"),
        ("as_of", "required: the date of the roster, YYYY-MM-DD"),
        ("person_id", "required: the person's id, stable across years and areas"),
        ("member_name", "required: the member's name"),
        ("resident", "required: " + _RESIDENT),
        ("role", "required: " + _ROLE),
    ],
}

TEMPLATE_ROWS: dict[str, tuple[tuple[str, ...], list[tuple[str, ...]]]] = {
    "areas": (
        AREA_COLUMNS,
        [
            ("BL001", "Example Big Local", "rep@example.org", "Sam Chair", "sam@example.org"),
            ("BL001", "Example Big Local", "rep@example.org", "Jo Contact", "jo@example.org"),
        ],
    ),
    "reviews": (
        (*REVIEW_COLUMNS, "review_date"),
        [
            ("BL001", "2021", "P0001", "Sam Chair", "yes", "chair", "2021-09-30"),
            ("BL001", "2021", "P0002", "Alex Member", "no", "member", "2021-09-30"),
        ],
    ),
    "updates": (
        UPDATE_COLUMNS,
        [
            ("BL001", "2022-03-01", "P0001", "Sam Chair", "yes", "chair"),
            ("BL001", "2022-03-01", "P0003", "Kim Resident", "yes", "member"),
        ],
    ),
}
